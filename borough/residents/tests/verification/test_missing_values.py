"""A value the records do not hold cannot fool a check: a blank or an initial-only first name
never counts as agreement, so twins and relatives at one address with one date of birth are
referred unless a field that tells them apart (the first name) agrees. Hand-made records,
scored with the model trained on a synthetic borough (as ``test_engine_decisions``)."""

from __future__ import annotations

import datetime as dt

import pytest

from borough.residents.verification.engine import PUBLIC, Applicant, decide

from .test_engine_decisions import HOME, TODAY, _index, _record
from .test_hard_rules import PARKING, TENANT

BORN = "1990-06-14"


def _applicant(first: str) -> Applicant:
    return Applicant(
        first_name=first, surname="Okafor", date_of_birth=dt.date(1990, 6, 14), uprn=HOME
    )


def _twins(indexed, sibling_first_name):
    """Chidi is not in the records; his twin's tenancy record holds the twin's first name
    as ``sibling_first_name`` (blank, an initial, or the twin's real name)."""
    return _index(
        indexed,
        [
            _record("housing_tenancies:T9", "R9", sibling_first_name, "okafor", BORN),
            _record("council_tax:C9#1", "R9", sibling_first_name, "okafor"),
        ],
    )


@pytest.mark.parametrize("policy", [PARKING, TENANT], ids=["parking", "tenant"])
@pytest.mark.parametrize("blank", [None, "", "A"], ids=["none", "empty", "initial"])
def test_a_twin_is_not_verified_as_the_sibling_whose_first_name_the_records_lack(
    indexed, policy, blank
):
    outcome = decide(_twins(indexed, blank), policy, _applicant("Chidi"), today=TODAY)
    assert outcome.decision != "verified", outcome.reasons
    if outcome.decision == "refer":
        assert any("first name" in reason for reason in outcome.reasons), outcome.reasons
        assert outcome.public_reasons == (PUBLIC["refer"],)


@pytest.mark.parametrize("policy", [PARKING, TENANT], ids=["parking", "tenant"])
def test_the_twin_whose_first_name_agrees_is_verified(indexed, policy):
    index = _index(
        indexed,
        [
            _record("housing_tenancies:T9", "R9", "adaeze", "okafor", BORN),
            _record("council_tax:C9#1", "R9", None, "okafor"),
            _record("housing_tenancies:T8", "R8", "chidi", "okafor", BORN),
            _record("electoral_register:E8", "R8", "chidi", "okafor"),
        ],
    )
    outcome = decide(index, policy, _applicant("Chidi"), today=TODAY)
    assert (outcome.decision, outcome.resident_id) == ("verified", "R8"), outcome.reasons
    outcome = decide(index, policy, _applicant("Adaeze"), today=TODAY)
    assert (outcome.decision, outcome.resident_id) == ("verified", "R9"), outcome.reasons


@pytest.mark.parametrize("policy", [PARKING, TENANT], ids=["parking", "tenant"])
def test_an_applicant_who_gives_only_an_initial_is_referred(indexed, policy):
    index = _twins(indexed, "adaeze")
    outcome = decide(index, policy, _applicant("A"), today=TODAY)
    assert outcome.decision != "verified", outcome.reasons
