"""A small world for the resident pages' tests: residents whose identity checks passed or not, an
officer with a full name, and a few events each."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

from django.utils import timezone

from borough.core.models import User
from borough.residents.models import SourceDataset
from borough.residents.verification.models import HistoryCode, Verification
from borough.transparency.models import DataUseEvent
from borough.transparency.services import record_data_use

LONDON = ZoneInfo("Europe/London")
OFFICER_NAME = ("Olivia", "Quenby")
OFFICER_USERNAME = "oquenby"


def confirm_by_post(user, resident_id: str) -> HistoryCode:
    """``user`` entered the code posted to ``resident_id``'s home (``residents.history_codes``)."""
    now = timezone.now()
    return HistoryCode.objects.create(
        account=user,
        resident_id=resident_id,
        code_hash="0" * 64,
        letter_reference=f"history-test-{secrets.token_hex(6)}",
        created_at=now,
        expires_at=now + timedelta(days=30),
        used_at=now,
    )


def check(
    user,
    resident_id: str,
    decision: str = "verified",
    review: str = "",
    *,
    by_post: bool = True,
) -> Verification:
    """An identity check asked for by ``user`` that settled on ``resident_id`` (a resident's
    own check, or an officer's check about someone). A resident's is also confirmed with a
    code by post unless ``by_post`` is False (then the account must ask for a code)."""
    if decision == "refer" and not review:
        review = "open"
    if user.is_resident and by_post:
        confirm_by_post(user, resident_id)
    return Verification.objects.create(
        purpose="parking_permit_residency_check",
        requested_at=timezone.now(),
        actor_kind="resident" if user.is_resident else "staff",
        actor_user=user,
        applicant={},
        decision=decision,
        resident_id=resident_id,
        match_probability=0.99,
        index_linked_at="2026-01-01",
        seconds=0.01,
        review=review,
    )


def record(when: datetime, resident_ids, **arguments) -> list[DataUseEvent]:
    defaults = {
        "actor": None,
        "actor_kind": "service",
        "actor_label": "Parking permits service",
        "purpose": "parking_permit_residency_check",
        "action": "verification",
        "datasets": ["council_tax"],
        "reference": "PP-2026-000001",
        "outcome": "verified",
    }
    with mock.patch("django.utils.timezone.now", return_value=when):
        return record_data_use(subject_resident_ids=resident_ids, **{**defaults, **arguments})


def add_council_tax(*, with_texts: bool = True) -> SourceDataset:
    """The council tax dataset as its declaration syncs it; ``with_texts=False``: declared
    without the texts for residents (another council's declaration)."""
    texts = {
        "purpose": "To bill and collect council tax.",
        "kept_for": "6 years after an account closes.",
        "asset_owner": "Head of Revenues",
    }
    return SourceDataset.objects.create(
        code="council_tax",
        title="Council tax accounts",
        owner="Revenues: Council Tax team",
        description="Who is liable for council tax at each property.",
        lawful_basis="The council must collect council tax.",
        lawful_basis_reference="UK GDPR Art 6(1)(e) public task",
        config_path="council_tax.toml",
        config_sha256="0" * 64,
        synced_at=timezone.now(),
        **(texts if with_texts else {}),
    )


def record_housing_officer_view(officer, resident_id: str) -> DataUseEvent:
    """A housing officer looked at the resident's rent account on 2 April 2026 at 2:30pm; the
    caller's free-text label names the officer (it must never reach the resident)."""
    return record(
        datetime(2026, 4, 2, 14, 30, tzinfo=LONDON),
        [resident_id],
        actor=officer,
        actor_kind="staff",
        actor_label=officer.get_full_name(),
        purpose="staff_view_records",
        action="viewed_records",
        service="housing",
        datasets=["rent_accounts"],
        reference="",
        outcome="",
    )[0]


@dataclass
class World:
    ada: User
    bob: User
    officer: User
    ada_events: list[DataUseEvent]
    bob_event: DataUseEvent
    nobody_event: DataUseEvent


def build(make_staff) -> World:
    add_council_tax()
    ada = User.objects.create_resident("ada@example.org")
    bob = User.objects.create_resident("bob@example.org")
    check(ada, "R-ADA")
    check(bob, "R-BOB")
    officer = make_staff("Parking officer", username=OFFICER_USERNAME)
    officer.first_name, officer.last_name = OFFICER_NAME
    officer.save()
    ada_events = [
        record(datetime(2026, 3, 10, 9, 5, tzinfo=LONDON), ["R-ADA"])[0],
        record_housing_officer_view(officer, "R-ADA"),
    ]
    bob_event = record(
        datetime(2026, 3, 11, 10, 0, tzinfo=LONDON), ["R-BOB"], reference="PP-2026-BOBBOB"
    )[0]
    nobody_event = record(
        datetime(2026, 3, 12, 10, 0, tzinfo=LONDON), [], reference="PP-2026-NOBODY"
    )[0]
    return World(ada, bob, officer, ada_events, bob_event, nobody_event)
