"""Retention of rent tenancies, Direct Debit mandates, verifications and visitor sessions
(``transparency.service_retention``): ``borough transparency purge`` blanks the person's details
once past ``[retention.records]``, keeps everything one day inside it, never touches money (the
ledger balances as before), records one event per batch, changes nothing on a second run, and
the export, staff pages and the resident's pages then show none of the removed details."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from borough.core.models import User
from borough.core.profile import Retention
from borough.housing import bank_details, direct_debit, services
from borough.housing.models import LedgerEntry, LinkCode, Mandate, RentAccount, Tenancy, Tenant
from borough.housing.tests.test_ledger import make_account
from borough.parking.models import VisitorSession
from borough.parking.tests.test_permits import home, zone  # noqa: F401
from borough.residents.models import Verification
from borough.transparency.export import collect
from borough.transparency.models import DataUseEvent, PurgeRun
from borough.transparency.retention import purge
from borough.transparency.tests.conftest import LONDON, purge_twice_at_once

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=LONDON)
# 6 years before NOW: ended before 7 December 2020 (a tenancy through 5 December ended at the
# start of the 6th); 2 years: before 7 December 2024.
DUE_DAY, KEPT_DAY = dt.date(2020, 12, 5), dt.date(2020, 12, 6)
RESIDENT = "R-OLDTENANT"


@pytest.fixture(autouse=True)
def schedule(settings):
    retention = Retention(
        records={
            "rent_tenancies": "6 years",
            "direct_debit_mandates": "6 years",
            "verifications": "6 years",
            "visitor_sessions": "2 years",
        }
    )
    settings.COUNCIL = settings.COUNCIL.model_copy(update={"retention": retention})


def _tenancy(n: int, surname: str, *, ended: dt.date | None, closed: dt.date | None, user=None):
    """A rent account with a tenant, two entries and a Direct Debit cancelled in November 2020."""
    account = make_account(n, opened=dt.date(2018, 4, 2))
    tenant = Tenant.objects.create(
        tenancy=account.tenancy,
        first_name="Zoe",
        surname=surname,
        date_of_birth=dt.date(1970, 5, 4),
        email=f"{surname.lower()}@example.org",
        resident_id=RESIDENT if user else f"R-{n}",
        lead=True,
        account=user,
    )
    LinkCode.objects.create(
        tenant=tenant,
        requested_by=user or User.objects.create_resident(f"asker{n}@example.org"),
        code_hash="0" * 64,
        letter_reference=f"L-{n}",
        created_at=NOW.replace(year=2020),
        expires_at=NOW.replace(year=2020),
    )
    for pence, key in ((11000, "charge"), (-7500, "paid")):
        services.post_entry(
            account,
            kind=LedgerEntry.Kind.CHARGE if pence > 0 else LedgerEntry.Kind.STANDING_ORDER,
            type_code="DBR" if pence > 0 else "RSO",
            amount_pence=pence,
            posted_on=dt.date(2020, 11, 2),
            description="Rent" if pence > 0 else "Standing order",
            source_key=f"t{n}:{key}",
        )
    mandate = direct_debit.set_up_mandate(
        account,
        account_holder=f"Zoe {surname}",
        sort_code="20-29-59",
        account_number="63748472",
        frequency="monthly",
        collection_day=15,
        today=dt.date(2020, 10, 1),
    )
    Mandate.objects.filter(pk=mandate.pk).update(
        status=Mandate.Status.CANCELLED, ended_at=dt.datetime(2020, 11, 1, 12, tzinfo=LONDON)
    )
    Tenancy.objects.filter(pk=account.tenancy_id).update(end_date=ended)
    RentAccount.objects.filter(pk=account.pk).update(closed_on=closed)
    return account


def _check(requested_at: dt.datetime, user=None, **fields) -> Verification:
    """A check with the details as given; with ``user``, the old tenant's own."""
    return Verification.objects.create(
        purpose="parking_permit_residency",
        requested_at=requested_at,
        actor_kind="resident",
        actor_user=user,
        applicant={"first_name": "Zoe", "surname": "Quennell", "postcode": "E8 1DY"},
        decision=fields.pop("decision", "verified"),
        resident_id=RESIDENT if user else "R-SOMEONE-ELSE",
        match_probability=0.99,
        reasons=["surname agrees: Quennell"],
        evidence=[{"unique_id": "council_tax:CT-1"}],
        index_linked_at="test",
        seconds=0.1,
        review_note=fields.pop("review_note", ""),
        **fields,
    )


def _visit(user, zone, home, vrm: str, ends_at: dt.datetime, **fields) -> VisitorSession:  # noqa: F811
    return VisitorSession.objects.create(
        host=user,
        property=home,
        zone=zone,
        vrm=vrm,
        starts_at=ends_at - dt.timedelta(hours=2),
        ends_at=ends_at,
        hours_used=2,
        price_pence=300,
        payment_reference=f"pay-{vrm}",
        **fields,
    )


@pytest.fixture
def world(zone, home):  # noqa: F811
    user = User.objects.create_resident("zoe@example.org")
    due_check = _check(dt.datetime(2020, 12, 6, 23, 0, tzinfo=LONDON), user)
    return {
        "user": user,
        "due": _tenancy(11, "Quennell", ended=DUE_DAY, closed=DUE_DAY, user=user),
        "kept": _tenancy(12, "Keeping", ended=DUE_DAY, closed=KEPT_DAY),
        "open": _tenancy(13, "Owing", ended=dt.date(2019, 1, 6), closed=None),
        "due_check": due_check,
        "kept_check": _check(dt.datetime(2020, 12, 7, 0, 30, tzinfo=LONDON)),
        "open_check": _check(
            dt.datetime(2019, 1, 1, tzinfo=LONDON), decision="refer", review="open"
        ),
        "reviewed_check": _check(
            dt.datetime(2019, 1, 1, tzinfo=LONDON),
            decision="refer",
            review="confirmed",
            reviewed_at=dt.datetime(2020, 12, 7, 10, tzinfo=LONDON),
            review_note="Saw a tenancy agreement for Zoe Quennell",
        ),
        "due_visit": _visit(
            user, zone, home, "QU11NNL", dt.datetime(2024, 12, 6, 12, tzinfo=LONDON)
        ),
        "early_visit": _visit(
            user,
            zone,
            home,
            "QU22NNL",
            dt.datetime(2024, 12, 8, 12, tzinfo=LONDON),
            ended_early_at=dt.datetime(2024, 12, 6, 11, tzinfo=LONDON),
        ),
        "kept_visit": _visit(
            user, zone, home, "KE33PNG", dt.datetime(2024, 12, 7, 1, tzinfo=LONDON)
        ),
    }


def _personal() -> dict:
    """Every personal value the four kinds hold, by row."""
    return {
        "tenants": list(
            Tenant.objects.order_by("pk").values_list(
                "first_name", "surname", "date_of_birth", "email", "resident_id", "account"
            )
        ),
        "link_codes": list(LinkCode.objects.order_by("pk").values_list("letter_reference")),
        "mandates": list(
            Mandate.objects.order_by("pk").values_list(
                "account_holder",
                "sort_code_encrypted",
                "account_number_encrypted",
                "sort_code_last2",
                "account_number_last4",
            )
        ),
        "checks": list(
            Verification.objects.order_by("pk").values_list(
                "applicant", "resident_id", "reasons", "evidence", "review_note"
            )
        ),
        "visits": list(VisitorSession.objects.order_by("pk").values_list("vrm")),
    }


def _money() -> dict:
    return {
        "entries": list(LedgerEntry.objects.order_by("pk").values()),
        "balances": {a.pk: services.balance_pence(a) for a in RentAccount.objects.all()},
        "visits": list(
            VisitorSession.objects.order_by("pk").values_list(
                "price_pence", "refunded_pence", "payment_reference", "hours_used"
            )
        ),
    }


def test_the_dry_run_lists_each_kind_and_changes_nothing(world, capsys, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    before = _personal()
    call_command("transparency", "purge", "--dry-run")
    out = capsys.readouterr().out
    assert "records rent_tenancies: kept 6 years after they end, so ended before 2020-12-07" in out
    assert (
        "records visitor_sessions: kept 2 years after they end, so ended before 2024-12-07" in out
    )
    assert "records rent_tenancies: 1 (2020-12-06 to 2020-12-06)" in out
    assert "records direct_debit_mandates: 1 (2020-12-06 to 2020-12-06)" in out
    assert "records verifications: 1 (2020-12-06 to 2020-12-06)" in out
    assert "records visitor_sessions: 2 (2024-12-06 to 2024-12-06)" in out
    assert "Dry run: 0 event(s) would be purged and 5 record(s) anonymised." in out
    assert _personal() == before
    assert not PurgeRun.objects.exists()
    assert not DataUseEvent.objects.filter(purpose="records_retention_purge").exists()


def test_the_purge_blanks_exactly_what_is_past_its_period(world):
    purge(NOW)
    due = Tenant.objects.get(tenancy=world["due"].tenancy)
    assert (due.first_name, due.surname, due.date_of_birth, due.email) == ("", "", None, "")
    assert (due.resident_id, due.account) == ("", None)
    assert not LinkCode.objects.filter(tenant=due).exists()
    assert Tenancy.objects.get(pk=world["due"].tenancy_id).anonymised_at == NOW
    # One day inside the period, and an account still open, are kept whole.
    for key in ("kept", "open"):
        kept = Tenant.objects.get(tenancy=world[key].tenancy)
        assert kept.first_name == "Zoe" and kept.email and kept.date_of_birth
        assert LinkCode.objects.filter(tenant=kept).exists()
        assert Tenancy.objects.get(pk=world[key].tenancy_id).anonymised_at is None

    gone = Mandate.objects.get(account=world["due"])
    assert gone.account_holder == gone.sort_code_encrypted == gone.account_number_encrypted == ""
    assert gone.sort_code_last2 == gone.account_number_last4 == ""
    assert (gone.reference, gone.status) != ("", "")  # the instruction's history stays
    for key in ("kept", "open"):
        mandate = Mandate.objects.get(account=world[key])
        assert bank_details.details_of(mandate) == ("202959", "63748472")
        assert mandate.account_holder.startswith("Zoe ")

    check = Verification.objects.get(pk=world["due_check"].pk)
    assert (check.applicant, check.resident_id, check.reasons, check.evidence) == ({}, "", [], [])
    assert check.decision == "verified" and check.public_reasons == []
    for key in ("kept_check", "open_check", "reviewed_check"):
        assert Verification.objects.get(pk=world[key].pk).applicant["surname"] == "Quennell"
    assert Verification.objects.get(pk=world["reviewed_check"].pk).review_note

    assert VisitorSession.objects.get(pk=world["due_visit"].pk).vrm == ""
    assert VisitorSession.objects.get(pk=world["early_visit"].pk).vrm == ""
    assert VisitorSession.objects.get(pk=world["kept_visit"].pk).vrm == "KE33PNG"
    assert PurgeRun.objects.get().records == [
        ["records", "rent_tenancies", 1, "2020-12-06", "2020-12-06"],
        ["records", "direct_debit_mandates", 1, "2020-12-06", "2020-12-06"],
        ["records", "verifications", 1, "2020-12-06", "2020-12-06"],
        ["records", "visitor_sessions", 2, "2024-12-06", "2024-12-06"],
    ]


def test_money_rows_are_unchanged_and_every_account_still_balances(world):
    before = _money()
    purge(NOW)
    after = _money()
    assert after == before
    for account in RentAccount.objects.all():
        entries = LedgerEntry.objects.filter(account=account)
        assert services.balance_pence(account) == sum(e.amount_pence for e in entries) == 3500


def test_each_batch_is_recorded_once_and_a_second_run_changes_nothing(world):
    purge(NOW)
    recorded = DataUseEvent.objects.filter(purpose="records_retention_purge").order_by("pk")
    run = PurgeRun.objects.get()
    assert [(e.datasets_read, e.reference, e.action, e.actor_kind) for e in recorded] == [
        (["rent_accounts"], f"purge-run:{run.pk}:rent_tenancies:1", "purged", "system"),
        (
            ["direct_debit_mandates"],
            f"purge-run:{run.pk}:direct_debit_mandates:1",
            "purged",
            "system",
        ),
        (["verifications"], f"purge-run:{run.pk}:verifications:1", "purged", "system"),
        (["parking_permits"], f"purge-run:{run.pk}:visitor_sessions:1", "purged", "system"),
    ]
    assert all(not e.subject_resident_id for e in recorded)
    once = _personal()
    again = purge(NOW + dt.timedelta(hours=1))
    assert again.records == [] and _personal() == once
    assert recorded.count() == 4


def test_without_periods_nothing_is_purged_however_old(world, settings):
    settings.COUNCIL = settings.COUNCIL.model_copy(update={"retention": Retention()})
    before = _personal()
    purge(NOW.replace(year=2090))
    assert _personal() == before


def test_a_rotation_of_the_bank_key_skips_anonymised_mandates(world):
    purge(NOW)
    assert bank_details.rotate_all() == 2


def _texts(document: dict) -> str:
    return repr(document)


def test_the_export_no_longer_shows_the_removed_details(world):
    before = _texts(collect([RESIDENT], [world["user"]]))
    assert "Quennell" in before and "QU11NNL" in before and "E8 1DY" in before
    purge(NOW)
    after = _texts(collect([RESIDENT], [world["user"]]))
    for removed in ("Quennell", "quennell@example.org", "QU11NNL", "QU22NNL", "E8 1DY", "8472"):
        assert removed not in after
    assert "KE33PNG" in after  # a visit inside its period stays


def test_the_staff_pages_no_longer_show_the_removed_details(
    world, client, make_staff, sign_in_staff
):
    purge(NOW)
    sign_in_staff(client, make_staff("Housing officer", "Finance officer", "Resident data officer"))
    account = client.get(f"/staff/housing/accounts/{world['due'].payment_reference}")
    page = account.content.decode()
    assert account.status_code == 200
    assert "Removed at the end of the retention period, 7 December 2026" in page
    assert "Quennell" not in page
    kept = client.get(f"/staff/housing/accounts/{world['kept'].payment_reference}")
    assert "Keeping" in kept.content.decode()

    mandates = client.get("/staff/finance/direct-debit/mandates").content.decode()
    assert "Zoe Quennell" not in mandates and "Zoe Keeping" in mandates
    assert "Removed at the end of the retention period" in mandates

    check = client.get(f"/staff/residents/verifications/{world['due_check'].reference}")
    text = check.content.decode()
    assert check.status_code == 200
    assert "Removed at the end of their retention period" in text
    assert "Which records agreed was removed" in text and "No records were used" not in text
    assert "Quennell" not in text and "E8 1DY" not in text


def test_the_resident_pages_say_what_is_removed_and_when(client, settings):
    from django.urls import reverse

    def page(code: str) -> str:
        return client.get(reverse("transparency:dataset", args=[code])).content.decode()

    rent = page("rent_accounts")
    assert "When we remove your details" in rent
    assert "6 years after a tenancy ends and its rent account is closed" in rent
    assert "6 years after a Direct Debit is cancelled" in page("direct_debit_mandates")
    assert "6 years after a check is made" in page("verifications")
    assert "2 years after a visitor session ends" in page("parking_permits")
    settings.COUNCIL = settings.COUNCIL.model_copy(update={"retention": Retention()})
    assert "When we remove your details" not in page("verifications")
    privacy = client.get("/privacy").content.decode()
    assert "tenants&#39; names and contact details 6 years after a tenancy ends" in privacy


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_purges_at_once_blank_each_check_once(monkeypatch):
    """Two processes purge at the same moment, a check a batch: each check is blanked by one of
    them, with its one event (rows locked, then the condition checked again)."""
    from django.db import connection

    from borough.transparency import record_retention

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent writers")
    monkeypatch.setattr(record_retention, "BATCH", 1)
    due = [_check(dt.datetime(2019, 1, n + 1, tzinfo=LONDON)) for n in range(6)]
    assert purge_twice_at_once(NOW) == []
    blanked = Verification.objects.filter(pk__in=[c.pk for c in due], anonymised_at=NOW)
    assert blanked.count() == 6 and all(c.applicant == {} for c in blanked)
    assert DataUseEvent.objects.filter(purpose="records_retention_purge").count() == 6
