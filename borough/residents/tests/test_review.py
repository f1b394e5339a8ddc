"""The clerical review queue: queueing uncertain pairs, decisions, the staff pages, and the
contract with the linkage pipeline (a decision changes the next link)."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from django.urls import reverse
from django.utils import timezone

from borough.core.tools import tools_for
from borough.residents import review
from borough.residents.linkage import pipeline
from borough.residents.linkage.clerical import ClericalDecision
from borough.residents.linkage.synth_input import records_from_synth
from borough.residents.models import DatasetLoad, ReviewCase, SourceDataset, SourceRecord
from borough.synth import generate
from borough.transparency.queries import events

OFFICER = "Resident data officer"
LINKED_AT = "2026-03-01T10:00:00+00:00"
COMPARISONS = (
    "first_name",
    "date_of_birth",
    "surname_address",
    "middle_names",
    "email",
    "national_id",
)
PRIOR_BITS = -10.0


# -- a predictions.parquet as link writes it ------------------------------------------------


def _pair(left: str, right: str, probability: float, decision: str | None = None) -> dict:
    """A row of predictions.parquet: the comparisons' bits add up to the weight with the prior."""
    if decision is not None:
        probability = 1.0 if decision == "same" else 0.0
    weight = (
        math.inf
        if probability >= 1
        else -math.inf
        if probability <= 0
        else math.log2(probability / (1 - probability))
    )
    bits = {
        "first_name": 6.0,
        "date_of_birth": 0.0,
        "middle_names": 0.0,
        "email": 0.0,
        "national_id": 0.0,
    }
    household, periods = -0.5, 1.5
    if math.isfinite(weight):
        bits["surname_address"] = weight - PRIOR_BITS - sum(bits.values()) - household - periods
    else:
        bits["surname_address"] = 0.0
    return {
        "unique_id_l": left,
        "unique_id_r": right,
        "match_weight": weight,
        "match_probability": probability,
        **{f"mw_{name}": bits[name] for name in COMPARISONS},
        "match_key": "0",
        "mw_household_move": household,
        "mw_periods_meet": periods,
        "clerical_decision": decision,
    }


def _predictions(folder: Path, rows: list[dict], name: str = "predictions.parquet") -> Path:
    path = folder / name
    pd.DataFrame(rows).to_parquet(path, index=False)
    return path


BAND = [
    _pair("council_tax:1#1", "electoral_register:A-1", 0.50),
    _pair("council_tax:2#1", "electoral_register:A-2", 0.80),
    _pair("council_tax:3#1", "electoral_register:A-3", 0.949),
]
OUTSIDE = [
    _pair("council_tax:4#1", "electoral_register:A-4", 0.95),
    _pair("council_tax:5#1", "electoral_register:A-5", 0.999),
    _pair("council_tax:6#1", "electoral_register:A-6", 0.49),
    _pair("council_tax:7#1", "electoral_register:A-7", 0.7, decision="different"),
    _pair("council_tax:8#1", "electoral_register:A-8", 0.7, decision="same"),
]


def _open_pairs() -> set[tuple[str, str]]:
    return set(ReviewCase.objects.filter(status="open").values_list("unique_id_l", "unique_id_r"))


def _keys(rows) -> set[tuple[str, str]]:
    return {(r["unique_id_l"], r["unique_id_r"]) for r in rows}


# -- queueing -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_queue_opens_a_case_for_each_undecided_pair_in_the_band(tmp_path):
    counts = review.queue_uncertain_pairs(_predictions(tmp_path, BAND + OUTSIDE), LINKED_AT)

    assert counts == review.QueueCounts(
        in_band=3, opened=3, kept_open=0, closed=0, already_decided=0
    )
    assert _open_pairs() == _keys(BAND)
    case = ReviewCase.objects.get(unique_id_l="council_tax:2#1")
    assert case.kind == "pair"
    assert case.match_probability == pytest.approx(0.8)
    assert case.linked_at == dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)
    assert [part["comparison"] for part in case.breakdown] == [
        *COMPARISONS,
        "household_move",
        "periods_meet",
    ]
    assert case.prior_bits == pytest.approx(PRIOR_BITS)


@pytest.mark.django_db
def test_queueing_again_adds_no_duplicates_and_takes_the_new_scores(tmp_path):
    review.queue_uncertain_pairs(_predictions(tmp_path, BAND + OUTSIDE), LINKED_AT)

    again = review.queue_uncertain_pairs(_predictions(tmp_path, BAND + OUTSIDE), LINKED_AT)
    assert (again.opened, again.kept_open, again.closed) == (0, 3, 0)
    assert ReviewCase.objects.count() == 3

    rescored = [_pair("council_tax:1#1", "electoral_register:A-1", 0.6), *BAND[1:]]
    later = "2026-03-08T10:00:00+00:00"
    review.queue_uncertain_pairs(_predictions(tmp_path, rescored), later)
    case = ReviewCase.objects.get(unique_id_l="council_tax:1#1")
    assert case.match_probability == pytest.approx(0.6)
    assert case.prior_bits == pytest.approx(PRIOR_BITS)
    assert set(ReviewCase.objects.values_list("linked_at", flat=True)) == {
        dt.datetime(2026, 3, 8, 10, tzinfo=dt.UTC)
    }


@pytest.mark.django_db
def test_cases_whose_pair_left_the_band_are_closed_and_a_return_opens_a_new_case(tmp_path):
    review.queue_uncertain_pairs(_predictions(tmp_path, BAND), LINKED_AT)

    moved_up = [BAND[0], _pair("council_tax:2#1", "electoral_register:A-2", 0.97)]
    counts = review.queue_uncertain_pairs(_predictions(tmp_path, moved_up), LINKED_AT)

    assert (counts.opened, counts.kept_open, counts.closed) == (0, 1, 2)
    assert _open_pairs() == {("council_tax:1#1", "electoral_register:A-1")}
    closed = ReviewCase.objects.get(unique_id_l="council_tax:2#1")
    assert closed.status == "closed" and closed.closed_at is not None

    review.queue_uncertain_pairs(_predictions(tmp_path, BAND), LINKED_AT)
    assert _open_pairs() == _keys(BAND)
    assert ReviewCase.objects.filter(unique_id_l="council_tax:2#1").count() == 2


@pytest.mark.django_db
def test_decided_pairs_are_not_queued_again(tmp_path, make_staff, index_of):
    officer = make_staff(OFFICER)
    predictions = _predictions(tmp_path, BAND)
    review.queue_uncertain_pairs(predictions, LINKED_AT)
    case = ReviewCase.objects.get(unique_id_l="council_tax:1#1")
    index_of({"council_tax:1#1": "R000000AA", "electoral_register:A-1": "R000000AB"})
    review.decide(case, "same", officer, "")

    # the next link has not run yet: the file still has the pair undecided, in the band
    counts = review.queue_uncertain_pairs(predictions, LINKED_AT)

    assert counts.already_decided == 1 and counts.opened == 0
    assert ("council_tax:1#1", "electoral_register:A-1") not in _open_pairs()
    assert ReviewCase.objects.filter(unique_id_l="council_tax:1#1").count() == 1


@pytest.mark.django_db
def test_queue_order_is_nearest_the_cluster_threshold_first(tmp_path):
    rows = [
        _pair("a:1", "b:1", 0.51),
        _pair("a:2", "b:2", 0.79),
        _pair("a:3", "b:3", 0.93),
        _pair("a:4", "b:4", 0.85),
    ]
    review.queue_uncertain_pairs(_predictions(tmp_path, rows), LINKED_AT)
    assert [c.unique_id_l for c in review.queue()] == ["a:2", "a:4", "a:3", "a:1"]


# -- decisions ------------------------------------------------------------------------------


@pytest.fixture
def index_of(settings, tmp_path):
    """Write the resident index (``residents.parquet``) that ``resident_ids_of`` reads."""
    settings.DATA_DIR = tmp_path / "data"

    def write(ids: dict[str, str]) -> None:
        folder = Path(settings.DATA_DIR) / "linkage"
        folder.mkdir(parents=True, exist_ok=True)
        pd.DataFrame({"unique_id": list(ids), "resident_id": list(ids.values())}).to_parquet(
            folder / "residents.parquet", index=False
        )

    return write


@pytest.mark.django_db
def test_the_latest_decision_on_a_pair_wins_and_every_decision_is_kept(
    tmp_path, make_staff, index_of
):
    officer = make_staff(OFFICER)
    review.queue_uncertain_pairs(_predictions(tmp_path, BAND), LINKED_AT)
    index_of({"council_tax:1#1": "R000000AA", "electoral_register:A-1": "R000000AB"})
    case = ReviewCase.objects.get(unique_id_l="council_tax:1#1")

    first = review.decide(case, "same", officer, "Same date of birth on the tenancy file")
    second = review.decide(first, "different", officer, "")

    assert first.pk == case.pk and second.pk != first.pk
    assert review.clerical_decisions() == [
        ClericalDecision("council_tax:1#1", "electoral_register:A-1", "different")
    ]
    assert [c.decision for c in review.pair_history(case)] == ["same", "different"]
    first.refresh_from_db()
    assert first.note == "Same date of birth on the tenancy file"
    assert first.decided_by == officer


@pytest.mark.django_db
def test_a_decision_writes_a_match_review_event_naming_both_residents(
    tmp_path, make_staff, index_of
):
    officer = make_staff(OFFICER)
    review.queue_uncertain_pairs(_predictions(tmp_path, BAND), LINKED_AT)
    index_of({"council_tax:1#1": "R000000AA", "electoral_register:A-1": "R000000AB"})
    case = ReviewCase.objects.get(unique_id_l="council_tax:1#1")

    review.decide(case, "different", officer, "")

    written = list(events(purpose="residents_match_review"))
    assert sorted(e.subject_resident_id for e in written) == ["R000000AA", "R000000AB"]
    event = written[0]
    assert event.action == "match_review"
    assert event.actor_kind == "staff" and event.actor_user == officer
    assert event.datasets_read == ["council_tax", "electoral_register"]
    assert event.reference == f"review-{case.pk}"
    assert event.outcome == "different_people"


@pytest.mark.django_db
def test_a_pair_out_of_the_index_cannot_be_decided(tmp_path, make_staff, index_of):
    review.queue_uncertain_pairs(_predictions(tmp_path, BAND), LINKED_AT)
    index_of({"someone:else": "R000000ZZ"})
    case = ReviewCase.objects.get(unique_id_l="council_tax:1#1")

    with pytest.raises(review.ReviewError):
        review.decide(case, "same", make_staff(OFFICER), "")
    case.refresh_from_db()
    assert case.status == "open"
    assert not events(purpose="residents_match_review").exists()


# -- the pages --------------------------------------------------------------------------------


def _dataset(code: str, title: str) -> SourceDataset:
    now = timezone.now()
    dataset = SourceDataset.objects.create(
        code=code,
        title=title,
        owner="Test",
        lawful_basis="Test",
        lawful_basis_reference="Test",
        config_path=f"{code}.toml",
        config_sha256="0" * 64,
        synced_at=now,
    )
    load = DatasetLoad.objects.create(
        dataset=dataset,
        file_name=f"{code}.csv",
        sha256="0" * 64,
        config_sha256="0" * 64,
        status="loaded",
        started_at=now,
        finished_at=now,
        via="test",
    )
    return dataset, load


def _record(dataset_load, ref: str, **values) -> SourceRecord:
    dataset, load = dataset_load
    return SourceRecord.objects.create(
        dataset=dataset,
        record_ref=ref,
        row_number=2,
        content_hash="0" * 32,
        first_seen_load=load,
        last_seen_load=load,
        changed_at=dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
        **values,
    )


@pytest.fixture
def pair_case(db, tmp_path, index_of):
    """Two records of one Zebedee Quartermaine in two datasets, queued as an uncertain pair."""
    council_tax = _dataset("council_tax", "Council tax")
    electoral = _dataset("electoral_register", "Electoral register")
    _record(
        council_tax,
        "600000001#1",
        first_name="Zebedee",
        surname="Quartermaine",
        first_name_std="zebedee",
        first_name_canonical="zebedee",
        surname_std="quartermaine",
        date_of_birth_given="27/03/1980",
        date_of_birth=dt.date(1980, 3, 27),
        address_given="1 High Street",
        address_text="1 high street",
        postcode_given="E8 1DY",
        postcode="E8 1DY",
        uprn=100000000001,
        uprn_method="address-match",
        valid_from=dt.date(2020, 1, 1),
    )
    _record(
        electoral,
        "AA-1",
        full_name="Zebedy Quartermaine",
        first_name_std="zebedy",
        first_name_canonical="zebedy",
        surname_std="quartermaine",
        date_of_birth_given="1980-03-27",
        date_of_birth=dt.date(1980, 3, 27),
        address_given="2 Low Road",
        address_text="2 low road",
        postcode_given="E8 2AA",
        postcode="E8 2AA",
        email="zq@example.com",
        email_std="zq@example.com",
    )
    left, right = "council_tax:600000001#1", "electoral_register:AA-1"
    review.queue_uncertain_pairs(_predictions(tmp_path, [_pair(left, right, 0.75)]), LINKED_AT)
    index_of({left: "R000000AA", right: "R000000AB"})
    return ReviewCase.objects.get(unique_id_l=left)


def _case_url(case) -> str:
    return reverse("residents:review-case", kwargs={"case_id": case.pk})


QUEUE = "/staff/residents/review"


def test_the_queue_lists_open_cases_without_personal_data(
    client, make_staff, pair_case, sign_in_staff
):
    sign_in_staff(client, make_staff(OFFICER))
    page = client.get(QUEUE)

    assert page.status_code == 200
    html = page.content.decode()
    assert "1 open case" in html
    assert "Council tax" in html and "600000001#1" in html and "75.0%" in html
    assert _case_url(pair_case) in html
    assert "Zebedee" not in html and "Quartermaine" not in html and "1980" not in html
    assert not events(purpose="residents_match_review").exists()  # browsing is not recorded


@pytest.mark.django_db
def test_the_queue_is_paginated_and_filters_by_status(client, make_staff, tmp_path, sign_in_staff):
    rows = [_pair(f"a:{i:03}", f"b:{i:03}", 0.6) for i in range(55)]
    review.queue_uncertain_pairs(_predictions(tmp_path, rows), LINKED_AT)
    sign_in_staff(client, make_staff(OFFICER))

    first = client.get(QUEUE).content.decode()
    assert "55 open cases" in first and "Page 2 of 2" in first
    assert first.count("Review<span") == 50
    assert client.get(QUEUE + "?status=open&page=2").content.decode().count("Review<span") == 5
    assert "There are no decided cases" in client.get(QUEUE + "?status=decided").content.decode()
    assert "55 cases" in client.get(QUEUE + "?status=all").content.decode()


def test_the_case_page_shows_both_records_compared_and_records_the_view(
    client, make_staff, pair_case, sign_in_staff
):
    officer = make_staff(OFFICER)
    sign_in_staff(client, officer)
    page = client.get(_case_url(pair_case))

    assert page.status_code == 200
    html = page.content.decode()
    for text in (
        "Council tax",
        "Electoral register",
        "Zebedee",
        "Zebedy Quartermaine",
        "27/03/1980",
        "1980-03-27",
        "R000000AA",
        "R000000AB",
        "Two residents",
        "Dates of birth are exactly the same",
        "no one else moved between them",
        "one ends about when the other begins",
        "Starting point",
        "75.0%",
        "did not link",
    ):
        assert text in html, text
    assert 'govuk-tag--green">Agree' in html  # date of birth, surname
    assert 'govuk-tag--red">Differ' in html  # first name, address, postcode
    assert 'govuk-tag--grey">Missing' in html  # email on one only
    assert "the two records hold different values" in html  # not by colour alone
    viewed = list(events(purpose="residents_match_review"))
    assert sorted(e.subject_resident_id for e in viewed) == ["R000000AA", "R000000AB"]
    assert {e.action for e in viewed} == {"viewed_records"}
    assert viewed[0].actor_user == officer


def test_a_decision_without_a_choice_shows_an_error(client, make_staff, pair_case, sign_in_staff):
    sign_in_staff(client, make_staff(OFFICER))
    page = client.post(_case_url(pair_case), {"note": ""})

    assert page.status_code == 200
    html = page.content.decode()
    assert "There is a problem" in html
    assert "Select whether the records are about the same person or different people" in html
    assert html.count("Error:") >= 1
    pair_case.refresh_from_db()
    assert pair_case.status == "open"


def test_a_long_note_is_refused(client, make_staff, pair_case, sign_in_staff):
    sign_in_staff(client, make_staff(OFFICER))
    html = client.post(_case_url(pair_case), {"decision": "same", "note": "x" * 501}).content
    assert "Note must be 500 characters or fewer" in html.decode()
    pair_case.refresh_from_db()
    assert pair_case.status == "open"


def test_deciding_saves_and_returns_to_the_queue_with_a_banner(
    client, make_staff, pair_case, sign_in_staff
):
    officer = make_staff(OFFICER)
    sign_in_staff(client, officer)
    response = client.post(_case_url(pair_case), {"decision": "different", "note": "Two people"})

    assert response.status_code == 302 and response["Location"] == QUEUE
    queue = client.get(QUEUE).content.decode()
    assert "govuk-notification-banner--success" in queue and "&lt;" not in queue
    assert "Decision saved. It will be used the next time the records are linked." in queue
    assert "There are no open cases" in queue
    pair_case.refresh_from_db()
    assert (pair_case.status, pair_case.decision, pair_case.decided_by) == (
        "decided",
        "different",
        officer,
    )
    assert events(purpose="residents_match_review").filter(action="match_review").count() == 2

    # the decided case shows who decided, and the form only behind "Change this decision"
    html = client.get(_case_url(pair_case)).content.decode()
    assert "Different people" in html and officer.username in html
    assert "Change this decision" in html and 'name="decision"' not in html
    assert 'name="decision"' in client.get(_case_url(pair_case) + "?change=1").content.decode()


def test_a_stale_form_does_not_overwrite_another_officers_decision(
    client, make_staff, pair_case, sign_in_staff
):
    review.decide(pair_case, "same", make_staff(OFFICER, username="first"), "")
    sign_in_staff(client, make_staff(OFFICER, username="second"))

    page = client.post(_case_url(pair_case), {"decision": "different"})

    assert page.status_code == 409
    assert 'heading">Your decision was not saved.' in page.content.decode()
    assert [d.decision for d in review.clerical_decisions()] == ["same"]

    changed = client.post(_case_url(pair_case), {"decision": "different", "change": "1"})
    assert changed.status_code == 302
    assert [d.decision for d in review.clerical_decisions()] == ["different"]
    assert ReviewCase.objects.filter(status="decided").count() == 2


@pytest.mark.parametrize("role", ["Parking officer", "Data protection officer", "Data analyst"])
def test_other_roles_are_refused(client, make_staff, pair_case, role, sign_in_staff):
    sign_in_staff(client, make_staff(role))
    assert client.get(QUEUE).status_code == 403
    assert client.get(_case_url(pair_case)).status_code == 403
    assert client.post(_case_url(pair_case), {"decision": "same"}).status_code == 403
    pair_case.refresh_from_db()
    assert pair_case.status == "open"


def test_residents_and_anonymous_visitors_are_refused(client, resident, pair_case):
    anonymous = client.get(_case_url(pair_case))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/staff/sign-in")
    client.force_login(resident)
    assert client.get(QUEUE).status_code == 403
    assert client.get(_case_url(pair_case)).status_code == 403
    assert not events(purpose="residents_match_review").exists()


def test_the_tool_is_listed_for_the_residents_area(db):
    assert reverse("residents:review-queue") in [url for _, url in tools_for("residents")]


# -- the contract with the pipeline -----------------------------------------------------------


@pytest.fixture(scope="module")
def linked_borough(tmp_path_factory):
    folder = tmp_path_factory.mktemp("synth")
    generate(folder, residents=200, seed=3, workers=1)
    frame = records_from_synth(folder)
    result = pipeline.link(frame, workdir=tmp_path_factory.mktemp("work"))
    return frame, result


@pytest.mark.django_db
def test_queueing_reads_the_band_of_a_real_link(linked_borough):
    _, result = linked_borough
    counts = review.queue_uncertain_pairs(result.predictions_path, LINKED_AT)

    expected = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{result.predictions_path}') "
        f"WHERE match_probability >= {review.REVIEW_LOW} "
        f"AND match_probability < {review.REVIEW_HIGH}"
    ).fetchone()[0]
    assert counts.opened == counts.in_band == expected > 0
    case = review.queue().first()
    assert {part["comparison"] for part in case.breakdown} == {
        *COMPARISONS,
        "household_move",
        "periods_meet",
    }
    assert sum(p["bits"] for p in case.breakdown) + case.prior_bits == pytest.approx(
        case.match_weight
    )
    assert case.prior_bits == pytest.approx(math.log2(result.prior / (1 - result.prior)))


@pytest.mark.django_db
def test_a_different_decision_separates_the_records_in_the_next_link(
    linked_borough, tmp_path, make_staff, index_of
):
    frame, result = linked_borough
    clusters = result.clusters
    sizes = clusters.groupby("cluster_id").size()
    together = sizes[sizes == 2].index[0]
    a, b = sorted(clusters.loc[clusters["cluster_id"] == together, "unique_id"])
    # an officer decides the pair on the review page; here, straight through the service
    case = ReviewCase.objects.create(
        unique_id_l=a,
        unique_id_r=b,
        match_weight=3.0,
        match_probability=0.9,
        linked_at=timezone.now(),
    )
    index_of({a: "R000000AA", b: "R000000AA"})
    review.decide(case, "different", make_staff(OFFICER), "")

    relinked = pipeline.link(
        frame,
        workdir=tmp_path,
        trained=pipeline.load_model(result.model_path),
        decisions=review.clerical_decisions(),
    )

    cluster_of = relinked.clusters.set_index("unique_id")["cluster_id"]
    assert cluster_of[a] != cluster_of[b]
    # and the next queueing does not bring the decided pair back
    review.queue_uncertain_pairs(relinked.predictions_path, LINKED_AT)
    assert not ReviewCase.objects.filter(unique_id_l=a, unique_id_r=b, status="open").exists()


# -- what the case page says about the pair ---------------------------------------------------


def test_a_record_whose_end_date_has_passed_is_not_called_current(
    client, make_staff, pair_case, sign_in_staff
):
    SourceRecord.objects.filter(record_ref="600000001#1").update(valid_to=dt.date(2021, 6, 30))
    sign_in_staff(client, make_staff(OFFICER))
    html = client.get(_case_url(pair_case)).content.decode()
    row = html[html.index("Current or ended") :].split("</tr>")[0]
    assert "Ended 30 June 2021" in row and "The dataset gives this end date" in row
    assert row.count(">Current<") == 1  # the other record only


def test_records_already_one_resident_are_said_to_be_so(
    client, make_staff, pair_case, sign_in_staff, index_of
):
    index_of({pair_case.unique_id_l: "R000000AA", pair_case.unique_id_r: "R000000AA"})
    sign_in_staff(client, make_staff(OFFICER))
    html = client.get(_case_url(pair_case)).content.decode()
    assert "These records are already one resident, <strong>R000000AA</strong>" in html
    assert "They are one resident all the same" in html


def test_a_pair_just_below_the_threshold_says_why_it_did_not_link(
    client, make_staff, tmp_path, sign_in_staff, index_of
):
    left, right = "council_tax:9#1", "electoral_register:A-9"
    review.queue_uncertain_pairs(_predictions(tmp_path, [_pair(left, right, 0.79996)]), LINKED_AT)
    index_of({left: "R000000AC", right: "R000000AD"})
    sign_in_staff(client, make_staff(OFFICER))
    case = ReviewCase.objects.get(unique_id_l=left)
    html = client.get(_case_url(case)).content.decode()
    assert (
        "The probability, 79.996%, is just below the 80% at which records are linked, so the "
        "link did not link them through this pair." in html
    )


@pytest.mark.parametrize(
    ("probability", "shown"),
    [(0.79996, "79.996%"), (0.8, "80.0%"), (0.75, "75.0%"), (0.800004, "80.0%")],
)
def test_a_probability_is_never_rounded_across_the_threshold(probability, shown):
    from borough.residents.review_views import precise_percent

    assert precise_percent(probability) == shown


def test_the_officer_who_decided_is_named_in_full(client, make_staff, pair_case, sign_in_staff):
    officer = make_staff(OFFICER, username="rosa")
    officer.first_name, officer.last_name = "Rosa", "Okonjo"
    officer.save()
    sign_in_staff(client, officer)
    client.post(_case_url(pair_case), {"decision": "same"})
    html = client.get(_case_url(pair_case)).content.decode()
    assert "Rosa Okonjo" in html
