"""The decision rules on hand-made records, scored with a model trained on a synthetic borough."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from borough.residents.verification.candidates import CandidateIndex
from borough.residents.verification.engine import Applicant, decide, field_agreements

from .test_same_as_splink import POLICY

TODAY = dt.date(2026, 11, 25)
HOME, ELSEWHERE = 100090000001, 100090000999


def _record(uid, resident, first, surname, dob=None, uprn=HOME, postcode="E21 0AA", **extra):
    return {
        "unique_id": uid,
        "source_dataset": uid.split(":")[0],
        "first_name": first,
        "first_name_canonical": first,
        "middle_names": extra.get("middle_names"),
        "surname": surname,
        "date_of_birth": dob,
        "postcode": postcode,
        "uprn": uprn,
        "address_text": "flat 1 lansbury house carlton close",
        "email": None,
        "phone": None,
        "valid_from": extra.get("valid_from"),
        "valid_to": extra.get("valid_to"),
        "resident_id": resident,
    }


def _index(indexed, records):
    # the synthetic borough's records give the term frequencies a realistic base
    base = indexed.frame.copy()
    base["resident_id"] = "RBASE" + base.index.astype(str)
    frame = pd.concat([base, pd.DataFrame(records)], ignore_index=True)
    frame["uprn"] = frame["uprn"].astype("Int64")
    return CandidateIndex.from_frame(frame, indexed.trained)


JOANNA = Applicant(
    first_name="Joanna",
    surname="O'Brien",
    date_of_birth=dt.date(1958, 4, 8),
    uprn=HOME,
    postcode="E21 0AA",
    address="Flat 1 Lansbury House, Carlton Close",
)


def test_a_relatives_record_merged_into_the_resident_is_not_proof(indexed):
    index = _index(
        indexed,
        [
            _record(
                "freedom_pass:F1", "R1", "joanna", "obrien", "1958-04-08", uprn=None, postcode=None
            ),
            _record("electoral_register:E1", "R1", "joanna", "obrien"),
            _record("council_tax:C1#2", "R1", "joanna", "hill"),
        ],
    )
    outcome = decide(index, POLICY, JOANNA, today=TODAY)
    assert outcome.decision == "verified" and outcome.resident_id == "R1"
    by_id = {e.unique_id: e for e in outcome.evidence}
    assert by_id["electoral_register:E1"].counts
    assert not by_id["council_tax:C1#2"].matches and not by_id["council_tax:C1#2"].counts
    assert [r for r in outcome.reasons if r.startswith("Proof")] == [
        "Proof: a current electoral_register record at this address."
    ]


def test_only_a_relatives_record_at_the_address_is_referred_with_the_reason(indexed):
    index = _index(
        indexed,
        [
            _record(
                "freedom_pass:F1", "R1", "joanna", "obrien", "1958-04-08", uprn=None, postcode=None
            ),
            _record("council_tax:C1#2", "R1", "joanna", "hill"),
        ],
    )
    outcome = decide(index, POLICY, JOANNA, today=TODAY)
    assert outcome.decision == "refer"
    assert any("may be a relative's" in r for r in outcome.reasons), outcome.reasons


def test_an_ended_record_is_not_proof_and_the_reason_says_when(indexed):
    index = _index(
        indexed,
        [
            _record("freedom_pass:F1", "R1", "joanna", "obrien", "1958-04-08"),
            _record(
                "council_tax:C1#1",
                "R1",
                "joanna",
                "obrien",
                valid_from="2015-01-01",
                valid_to="2025-05-03",
            ),
        ],
    )
    outcome = decide(index, POLICY, JOANNA, today=TODAY)
    assert outcome.decision == "refer"
    assert "A council_tax record ended on 3 May 2025." in outcome.reasons


def test_a_current_record_elsewhere_is_not_proof_of_this_address(indexed):
    index = _index(
        indexed,
        [
            _record(
                "freedom_pass:F1", "R1", "joanna", "obrien", "1958-04-08", uprn=None, postcode=None
            ),
            _record(
                "council_tax:C9#1",
                "R1",
                "joanna",
                "obrien",
                "1958-04-08",
                uprn=ELSEWHERE,
                postcode="E21 9ZZ",
            ),
        ],
    )
    outcome = decide(index, POLICY, JOANNA, today=TODAY)
    assert outcome.decision == "refer"
    assert "A current council_tax record is at a different address." in outcome.reasons


def test_two_residents_matching_alike_are_referred(indexed):
    index = _index(
        indexed,
        [
            _record("electoral_register:E1", "R1", "joanna", "obrien"),
            _record("council_tax:C1#1", "R2", "joanna", "obrien"),
        ],
    )
    outcome = decide(
        index, POLICY, Applicant(first_name="Joanna", surname="O'Brien", uprn=HOME), today=TODAY
    )
    assert outcome.decision == "refer"
    assert any("Another resident" in r for r in outcome.reasons)


def test_field_agreements_read_the_levels(indexed):
    index = _index(
        indexed, [_record("electoral_register:E1", "R1", "joanna", "obrien", "1958-04-08")]
    )
    outcome = decide(index, POLICY, JOANNA, today=TODAY)
    fields = {f.field: f.agreement for f in outcome.evidence[0].fields}
    assert fields == {
        "first_name": "agrees",
        "date_of_birth": "agrees",
        "surname": "agrees",
        "address": "agrees",
        "middle_names": "missing",
        "email": "missing",
        "national_id": "missing",
    }
    assert field_agreements(()) == ()


def test_two_equal_records_of_one_dataset_at_one_home_are_referred(indexed):
    """A link merged a father and son of one name (no dates of birth): which entry is whose?"""
    index = _index(
        indexed,
        [
            _record("electoral_register:E1", "R1", "adam", "ellis"),
            _record("electoral_register:E2", "R1", "adam", "ellis"),
        ],
    )
    outcome = decide(
        index, POLICY, Applicant(first_name="Adam", surname="Ellis", uprn=HOME), today=TODAY
    )
    assert outcome.decision == "refer"
    assert any("Two current electoral_register records" in r for r in outcome.reasons)
    assert not any(e.counts for e in outcome.evidence)


def test_of_two_records_of_one_dataset_at_one_home_the_better_match_is_the_proof(indexed):
    index = _index(
        indexed,
        [
            _record("electoral_register:E1", "R1", "darren", "tyler", middle_names="ashley"),
            _record("electoral_register:E2", "R1", "darren", "tyler"),
        ],
    )
    outcome = decide(
        index,
        POLICY,
        Applicant(first_name="Darren", middle_names="Ashley", surname="Tyler", uprn=HOME),
        today=TODAY,
    )
    assert outcome.decision == "verified"
    assert [e.unique_id for e in outcome.evidence if e.counts] == ["electoral_register:E1"]
    assert any("It is not counted as proof" in r for r in outcome.reasons)
