"""Restricted events: held back from the resident until a date or a release, recorded, and
sealed as salted commitments that reveal nothing until the salt is given out."""

import base64
import datetime as dt
import hashlib
import json

import pytest
from django.db import connection

from borough.transparency import merkle
from borough.transparency.checkpoint import Signer
from borough.transparency.log_verify import verify_log
from borough.transparency.models import Action, DataUseEvent, EventDisclosure, EventSalt, SealedLeaf
from borough.transparency.sealing import body_bytes, event_rows, leaf_bytes, seal_all
from borough.transparency.tests.test_sealing import tamper
from borough.transparency.visibility import (
    ReleaseError,
    held_events,
    release_event,
    visible_to_resident,
)

pytestmark = pytest.mark.django_db

ORIGIN = "test.example/borough/data-use-log"


@pytest.fixture(autouse=True)
def signing_key(settings):
    signer = Signer.generate(ORIGIN)
    settings.TRANSPARENCY_LOG_SIGNING_KEY = signer.private_key_text()
    settings.TRANSPARENCY_LOG_VERIFIER_KEY = ""
    settings.TRANSPARENCY_LOG_ORIGIN = ORIGIN
    return signer


@pytest.fixture
def check(verification, at):
    """Record a parking enforcement check about R-1 on 1 March 2026, held back as asked."""
    at(2026, 3, 1, 10, 0)

    def record(resident="R-1", **restriction):
        restriction.setdefault("restriction_reason_code", "enforcement_investigation")
        (event,) = verification(
            resident,
            purpose="parking_enforcement_check",
            action="enforcement_check",
            datasets=["parking_permits"],
            actor_label="Enforcement device API key 'van-7'",
            **restriction,
        )
        return event

    return record


def _visible(resident: str, now: dt.datetime) -> list[str]:
    events = DataUseEvent.objects.filter(subject_resident_id=resident)
    return sorted(visible_to_resident(events, now).values_list("purpose", flat=True))


def _day(*parts) -> dt.datetime:
    return dt.datetime(*parts, 12, 0, tzinfo=dt.UTC)


def test_a_hold_is_written_at_insert_with_a_salt_and_its_own_held_record(check):
    event = check(hidden_until=dt.date(2026, 6, 1))
    hold = DataUseEvent.objects.get(action=Action.HELD_BACK)
    assert (hold.subject_resident_id, hold.purpose) == ("R-1", "data_use_restriction")
    assert hold.actor_kind == "system" and hold.reference == f"action:{event.action_id}"
    assert hold.hidden_until == event.hidden_until == dt.date(2026, 6, 1)
    assert hold.restriction_reason_code == "enforcement_investigation"
    salts = dict(EventSalt.objects.values_list("event_id", "salt"))
    assert set(salts) == {event.pk, hold.pk}
    assert all(len(bytes(s)) == 32 for s in salts.values())
    assert bytes(salts[event.pk]) != bytes(salts[hold.pk])


def test_held_events_never_reach_the_resident_before_their_date(check, verification):
    verification("R-1")  # an ordinary event, always visible
    check(hidden_until=dt.date(2026, 6, 1))
    assert _visible("R-1", _day(2026, 3, 1)) == ["parking_permit_residency_check"]
    # The last moment of 31 May in London is still before the date.
    last_moment = dt.datetime(2026, 5, 31, 22, 59, 59, tzinfo=dt.UTC)
    assert _visible("R-1", last_moment) == ["parking_permit_residency_check"]
    assert _visible("R-1", dt.datetime(2026, 5, 31, 23, 0, tzinfo=dt.UTC)) == [
        "data_use_restriction",
        "parking_enforcement_check",
        "parking_permit_residency_check",
    ]


def test_held_without_a_date_until_the_officer_releases_it(check, dpo):
    event = check()
    years_later = _day(2036, 1, 1)
    assert _visible("R-1", years_later) == []
    assert list(held_events(years_later)) == [event]
    release_event(
        event.pk, officer=dpo, reason="The investigation is closed.", now=_day(2026, 4, 1)
    )
    assert _visible("R-1", _day(2026, 4, 1)) == [
        "data_use_disclosure",
        "data_use_restriction",
        "parking_enforcement_check",
    ]
    assert not held_events(_day(2026, 4, 1)).exists()
    released = DataUseEvent.objects.get(purpose="data_use_disclosure")
    assert released.actor_user == dpo and released.reference == f"event:{event.pk}"
    assert released.subject_resident_id == "R-1" and not released.restriction_reason_code


def test_a_release_of_one_resident_shows_nothing_of_anothers_held_event(check, dpo):
    mine, theirs = check("R-1"), check("R-2")
    release_event(mine.pk, officer=dpo, reason="Closed.")
    assert "parking_enforcement_check" in _visible("R-1", _day(2026, 4, 1))
    assert _visible("R-2", _day(2026, 4, 1)) == []
    assert list(held_events(_day(2026, 4, 1))) == [theirs]


def test_only_the_data_protection_officer_releases_with_a_reason_and_once(check, dpo, officer):
    event = check()
    with pytest.raises(ReleaseError, match="Only the data protection officer"):
        release_event(event.pk, officer=officer, reason="I want to")
    with pytest.raises(ReleaseError, match="Enter why"):
        release_event(event.pk, officer=dpo, reason="   ")
    with pytest.raises(ReleaseError, match="1000 characters"):
        release_event(event.pk, officer=dpo, reason="x" * 1001)
    assert not EventDisclosure.objects.exists()
    release_event(event.pk, officer=dpo, reason="Closed.")
    with pytest.raises(ReleaseError, match="not held back"):
        release_event(event.pk, officer=dpo, reason="Again.")
    assert DataUseEvent.objects.filter(purpose="data_use_disclosure").count() == 1


def test_an_ordinary_event_or_a_hold_record_or_a_guessed_id_cannot_be_released(
    check, verification, dpo
):
    (ordinary,) = verification("R-1")
    check()
    hold = DataUseEvent.objects.get(action=Action.HELD_BACK)
    for guessed in (ordinary.pk, hold.pk, 999_999):
        with pytest.raises(ReleaseError, match="not held back"):
            release_event(guessed, officer=dpo, reason="Closed.")
    assert not EventDisclosure.objects.exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"purpose": "parking_permit_residency_check"}, "may not be held back"),
        ({"restriction_reason_code": "because"}, "Unknown restriction_reason_code"),
        ({"hidden_until": dt.date(2026, 3, 1)}, "after today"),
        ({"restriction_reason_code": "", "hidden_until": dt.date(2027, 1, 1)}, "needs a"),
    ],
)
def test_a_bad_restriction_is_refused_and_writes_nothing(verification, at, arguments, message):
    at(2026, 3, 1, 10, 0)
    given = {
        "purpose": "parking_enforcement_check",
        "restriction_reason_code": "fraud_investigation",
        **arguments,
    }
    with pytest.raises(ValueError, match=message):
        verification("R-1", **given)
    assert not DataUseEvent.objects.exists() and not EventSalt.objects.exists()


def test_a_time_is_not_a_date(verification, at):
    at(2026, 3, 1, 10, 0)
    with pytest.raises(TypeError, match="must be a date"):
        verification(
            "R-1",
            purpose="parking_enforcement_check",
            restriction_reason_code="fraud_investigation",
            hidden_until=dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
        )


def _row(pk):
    (row,) = event_rows("e.id = %s", [pk], 1)
    return row


def test_a_restricted_leaf_is_a_salted_commitment_that_reveals_nothing(check):
    event = check(hidden_until=dt.date(2026, 6, 1))
    seal_all()
    sealed = SealedLeaf.objects.get(event_id=event.pk)
    row = _row(event.pk)
    leaf = leaf_bytes(sealed.position, row)
    assert b"R-1" not in leaf and b"enforcement" not in leaf
    assert json.loads(leaf)["v"] == 2
    # With the salt (given out on release) anyone can check the leaf from the body.
    salt = bytes(EventSalt.objects.get(event_id=event.pk).salt)
    body = body_bytes(sealed.position, row)
    assert json.loads(body)["hidden_until"] == "2026-06-01"
    assert json.loads(body)["subject_resident_id"] == "R-1"
    commitment = base64.b64encode(hashlib.sha256(salt + body).digest()).decode()
    assert json.loads(leaf)["commitment"] == commitment
    assert merkle.leaf_hash(leaf) == bytes(sealed.leaf_hash)


def test_verify_checks_restricted_leaves_and_a_verifier_without_salts_the_rest(check, verification):
    verification("R-0")
    event = check(hidden_until=dt.date(2026, 6, 1))
    verification("R-2")
    seal_all()
    assert verify_log().ok
    report = verify_log(salts=False)
    assert report.ok and report.unchecked_restricted == 2  # the event and its hold record
    table = DataUseEvent._meta.db_table
    # Lifting the hold early (un-restricting the row) is an alteration.
    tamper(f"UPDATE {table} SET hidden_until = NULL WHERE id = %s", [event.pk])
    (problem,) = verify_log().problems
    assert (problem.kind, problem.event_id) == ("altered", event.pk)
    # A verifier without salts still catches an ordinary event altered.
    tamper(f"UPDATE {table} SET subject_resident_id = 'R-9' WHERE subject_resident_id = 'R-2'")
    (problem,) = verify_log(salts=False).problems
    assert problem.kind == "altered" and problem.event_id != event.pk


def test_verify_reports_a_restricted_event_whose_salt_was_removed(check):
    event = check()
    seal_all()
    tamper(f"DELETE FROM {EventSalt._meta.db_table} WHERE event_id = %s", [event.pk])
    (problem,) = verify_log().problems
    assert (problem.kind, problem.event_id) == ("altered", event.pk)
    assert connection.vendor in {"sqlite", "postgresql"}


def test_the_verify_command_without_salts_says_what_it_left_unchecked(check, capsys):
    from django.core.management import call_command

    check()
    seal_all()
    call_command("transparency", "verify", "--without-salts")
    out = capsys.readouterr().out
    assert "The data-use log verifies" in out
    assert "2 restricted event(s) not recomputed (no salts)" in out
