import base64
import io
import json
import re
import time

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp.oath import totp

from borough.core import second_factor
from borough.core.models import User
from borough.core.roles import ROLES
from borough.places.models import Property

pytestmark = pytest.mark.django_db(transaction=True)

# Big enough that the year's activity uses every payment method (fewer residents may have no
# tenant who pays by Direct Debit), small enough to link in seconds.
DEMO_TEST_RESIDENTS = 500


#: Days of activity the test plays (the demo plays a year): enough for every chart of the last
#: twelve months to have rows, a third of the time in CI.
DEMO_TEST_DAYS = 120


def test_demo_sets_up_a_borough_and_running_it_again_reuses_it(
    settings, tmp_path, capsys, monkeypatch
):
    settings.DATA_DIR = tmp_path
    monkeypatch.setattr("borough.synth.activity.DAYS", DEMO_TEST_DAYS)
    # This borough's few Direct Debit payers have a couple of dozen collections in the days
    # played: return a share that is sure to give some, to prove the ARUDD path.
    monkeypatch.setattr("borough.synth.rent_activity.UNPAID_SHARE", 0.3)
    # Every holder whose renewal window opens in the days played renews (the demo: most).
    monkeypatch.setattr("borough.synth.renewals.RENEW_SHARE", 1.0)
    call_command("demo", "--no-serve", residents=DEMO_TEST_RESIDENTS)
    first = capsys.readouterr().out
    _the_log_is_sealed_and_its_checkpoint_and_key_are_served(first)

    manifest = tmp_path / "synth" / "manifest.json"
    assert manifest.exists()
    properties = Property.objects.count()
    assert properties > 50
    staff = User.objects.staff()
    assert {g for u in staff for g in u.groups.values_list("name", flat=True)} == {
        r.group for r in ROLES
    }
    accounts = json.loads((tmp_path / "demo-staff.json").read_text())
    for username, entry in accounts.items():
        assert entry["password"] in first
        user = User.objects.get(username=username)
        assert user.check_password(entry["password"])
        # Each has an authenticator app set up, its secret printed: a new user can sign in.
        device = second_factor.confirmed_device(user)
        assert device is not None and second_factor.secret_text(device) in first
    assert "from django_otp.oath import totp" in first
    # What a new user does with the printed line: the password, then the app's code.
    line = next(row for row in first.splitlines() if row.strip().startswith("records "))
    password = accounts["records"]["password"]
    secret = line.split(password, 1)[1].split("Resident data officer")[0].replace(" ", "")
    client = Client()
    client.post("/staff/sign-in", {"username": "records", "password": password})
    # The demo's activity signed this officer in with a code; a code is good once, so wait
    # for the next 30-second step if the demo finished within the same one.
    device = second_factor.confirmed_device(User.objects.get(username="records"))
    while device.last_t >= int(time.time()) // device.step:
        time.sleep(1)
    code = f"{totp(base64.b32decode(secret)):06d}"
    assert client.post("/staff/sign-in/code", {"code": code})["Location"] == "/staff/"
    assert client.get("/staff/residents/").status_code == 200
    from borough.residents.models import SourceRecord

    records = SourceRecord.objects.count()
    assert records > 300
    # Some Direct Debits came back unpaid, through the bank's ARUDD report and the product's
    # own reader: each is an unpaid collection whose ledger entry was reversed.
    from borough.housing.models import Collection

    returned = int(re.search(r"\((\d+) returned unpaid\)", first).group(1))
    unpaid = Collection.objects.filter(status=Collection.Status.UNPAID)
    assert returned > 0 and unpaid.count() == returned
    assert (tmp_path / "linkage" / "residents.parquet").exists()
    assert "Pairs:    precision" in first
    from borough.parking.models import PropertyZone, Zone

    assert Zone.objects.count() > 0 and PropertyZone.objects.count() > 50
    assert "Residents who can apply for a parking permit" in first
    applicants = first.split("Residents who can apply for a parking permit")[1]
    assert applicants.count("/sign-in/link?token=") >= 1
    assert "/api/v1/parking/check?vrm=" in first
    from borough.housing.models import LedgerEntry, RentAccount

    assert RentAccount.objects.count() >= 1 and LedgerEntry.objects.count() >= 8
    # The Insight warehouse is built, so the dashboards have data at once.
    from borough.insights import warehouse

    with warehouse.connect() as con:
        built = con.execute("SELECT count(*) FROM fact_rent_ledger").fetchone()[0]
        journeys = dict(
            con.execute(
                "SELECT journey, count(*) FROM fact_permit_application GROUP BY journey"
            ).fetchall()
        )
    assert built == LedgerEntry.objects.count()
    # Holders renewed through the renewal journey's rules: each renewal application renews a
    # permit of the same holder, and the warehouse counts them as renewals.
    from borough.parking.models import PermitApplication

    renewals = PermitApplication.objects.filter(renews__isnull=False)
    renewed = int(re.search(r"(\d+) renewed", first).group(1))
    assert renewed > 0 and renewals.filter(status="issued").count() == renewed
    assert all(a.applicant_id == a.renews.holder_id for a in renewals)
    assert journeys.get("renewal") == renewals.count() and journeys.get("new", 0) > 0
    # Open data is published from it, or the demo says why not.
    from borough.insights.opendata import current_release

    assert current_release() is not None or "Open data was not published" in first
    statement = tmp_path / "synth" / "rent_statement.xml"
    assert statement.exists()
    out = io.StringIO()
    call_command("housing", "import-statement", str(statement), stdout=out)
    assert "posted to rent accounts automatically" in out.getvalue()
    # Every resident printed with a sign-in link comes with their name, date of birth in words
    # and home address, so a new user knows whose account they are trying.
    postcode = re.compile(r"[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}")
    people = first.split("Demo residents")[1].split("Or sign in at")[0]
    entries = people.split("/sign-in/link?token=")[:-1]
    assert len(entries) == 5
    for section in (entries, applicants.split("/sign-in/link?token=")[:-1]):
        for entry in section:
            last = entry.strip().splitlines()
            assert any(postcode.search(line) for line in last[-3:]), entry
            assert re.search(r"born \d{1,2} [A-Z][a-z]+ \d{4}", entry), entry
    tenants = first.split("Council tenants")[1].split("A bank statement")[0]
    for entry in tenants.split("/sign-in/link?token=")[:-1]:
        assert re.search(r"born \d{1,2} [A-Z][a-z]+ \d{4}, .+ E\d", entry), entry
    assert "/account" in first
    residents = User.objects.residents().count()
    assert residents >= 5
    assert first.count("/sign-in/link?token=") >= 5 + applicants.count("/sign-in/link?token=")

    _a_printed_resident_sees_their_timeline_at_once(first)
    _every_dashboard_and_the_public_page_have_figures()

    stamp = manifest.stat().st_mtime_ns
    call_command("demo", "--no-serve", residents=DEMO_TEST_RESIDENTS)
    second = capsys.readouterr().out
    assert "Reusing the synthetic borough" in second
    assert "Reusing the resident index" in second
    assert manifest.stat().st_mtime_ns == stamp
    assert Property.objects.count() == properties
    assert SourceRecord.objects.count() == records
    assert RentAccount.objects.count() == RentAccount.objects.count()
    assert User.objects.residents().count() == residents
    assert json.loads((tmp_path / "demo-staff.json").read_text()) == accounts


def _a_printed_resident_sees_their_timeline_at_once(out: str) -> None:
    """A resident printed as having proved who they are signs in with their link and finds
    entries on "How we used your data" at once: their identity check, and officers' uses."""
    from borough.transparency.queries import events_for_resident
    from borough.transparency.resident_queries import resident_ids_of

    section = out.split("Residents who have already proved who they are")[1]
    section = section.split("Their timeline shows")[0]
    links = re.findall(r"http://127\.0\.0\.1:\d+(/sign-in/link\?token=\S+)", section)
    assert links, section
    client = Client()
    token = links[0].split("token=", 1)[1]
    client.post("/sign-in/link", {"token": token})  # the link's page has a button to press
    user = User.objects.get(pk=client.session["_auth_user_id"])
    ids = resident_ids_of(user)
    assert ids, "the printed resident has no passed identity check of their own"
    events = events_for_resident(ids)
    actions = set(events.values_list("action", flat=True))
    assert {"verification", "enforcement_check", "viewed_records"} <= actions, actions
    page = client.get("/how-we-use-your-data/timeline")
    assert page.status_code == 200
    text = page.content.decode()
    assert "we do not know" not in text.lower()
    shown = [e for e in events if f'/how-we-use-your-data/timeline/{e.pk}"' in text]
    assert len(shown) >= 3, text
    assert client.get("/your-data").status_code == 200
    _a_held_look_up_waits_for_the_data_protection_officer(out, client, links[1:])


def _a_held_look_up_waits_for_the_data_protection_officer(
    out: str, signed_in: Client, links: list[str]
) -> None:
    """The demo's one fraud-investigation look-up is held back: listed for the data protection
    officer, not on its resident's timeline until released, then there."""
    from django.utils import timezone

    from borough.synth.activity import DEMO_FRAUD_CASE
    from borough.transparency.resident_queries import resident_ids_of
    from borough.transparency.visibility import held_events, release_event

    assert "/staff/data-use/held" in out
    held = list(held_events(timezone.now()))
    assert [e.reference for e in held] == [DEMO_FRAUD_CASE], held
    event = held[0]
    clients = []
    for link in [None, *links]:  # the first resident is signed in already (a link works once)
        client = signed_in
        if link is not None:
            client = Client()
            client.post("/sign-in/link", {"token": link.split("token=", 1)[1]})
        user = User.objects.get(pk=client.session["_auth_user_id"])
        if event.subject_resident_id in resident_ids_of(user):
            clients.append(client)
    assert clients, "the held look-up is of none of the printed residents"
    mine = f'/how-we-use-your-data/timeline/{event.pk}"'
    assert mine not in clients[0].get("/how-we-use-your-data/timeline").content.decode()
    release_event(event.pk, officer=User.objects.get(username="dpo"), reason="Case closed")
    assert mine in clients[0].get("/how-we-use-your-data/timeline").content.decode()


def _every_dashboard_and_the_public_page_have_figures() -> None:
    """After the demo's build every chart of every staff dashboard has rows, both what-ifs
    answer, and the public page has headline figures."""
    import datetime as dt

    from django.conf import settings
    from django.utils import timezone

    from borough.insights import public, warehouse
    from borough.insights.dashboards import DASHBOARDS, Context

    today = timezone.localdate()
    with warehouse.connect() as con:
        filters = public.period(con)
        assert filters is not None and filters.end >= today.replace(day=1)
        ctx = Context.from_profile(today)
        # The savings charts count checks answered with no officer: a borough as small as
        # this test's may have none (its linkage refers every check), the demo's has hundreds.
        automatic = con.execute(
            "SELECT count(*) FROM fact_verification WHERE decided_automatically"
        ).fetchone()[0]
        for slug, dashboard in DASHBOARDS.items():
            if slug == "savings" and not automatic:
                continue
            for chart in dashboard.charts(con, filters, ctx):
                assert chart.rows, f"{slug}: {chart.slug} has no rows"
        _, headlines = public.headlines(con, settings.COUNCIL.open_data.threshold)
    assert headlines and all(h.figure for h in headlines)
    # Both what-ifs have permits and Direct Debit collections to work on.
    from borough.insights.whatif_direct_debit import (
        CollectionDays,
        last_full_week_end,
        run_direct_debit_whatif,
    )
    from borough.insights.whatif_permits import PermitRules, run_permit_whatif

    assert run_permit_whatif(PermitRules.current("resident"))["permits"] > 0
    moved = run_direct_debit_whatif(CollectionDays((1, 15), 8, last_full_week_end(today)))
    assert moved["accounts"] > 0
    # The months just gone have activity: the demo's dates follow the clock.
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    with warehouse.connect() as con:
        ledger = con.execute(
            "SELECT count(*) FROM fact_rent_ledger WHERE partition_date >= ?", [last_month]
        ).fetchone()[0]
    assert ledger > 0


def _the_log_is_sealed_and_its_checkpoint_and_key_are_served(out: str) -> None:
    """After the set-up every event has been sealed, the checkpoint and the verifier key are at
    the URLs the demo prints, and the key checks the checkpoint."""
    from borough.transparency.checkpoint import Verifier, open_checkpoint
    from borough.transparency.models import SealedLeaf
    from borough.transparency.sealing import seal_all

    assert "/transparency/log/checkpoint" in out and "/transparency/log/vkey" in out
    assert SealedLeaf.objects.exists()
    assert seal_all() == []  # nothing was left unsealed
    client = Client()
    note = client.get("/transparency/log/checkpoint")
    key = client.get("/transparency/log/vkey")
    assert note.status_code == 200 and key.status_code == 200
    checkpoint = open_checkpoint(note.content.decode(), Verifier.from_key(key.content.decode()))
    assert checkpoint.size == SealedLeaf.objects.count()


def test_the_served_demo_keeps_sealing_new_events(settings, tmp_path):
    import threading

    from borough.core.management.commands.demo import keep_sealing
    from borough.transparency.models import SealedLeaf
    from borough.transparency.services import record_data_use

    settings.DATA_DIR = tmp_path
    record_data_use(
        subject_resident_ids=["R-1"],
        actor=None,
        actor_kind="service",
        actor_label="Parking permits service",
        purpose="parking_permit_residency_check",
        action="verification",
        datasets=["council_tax"],
        reference="PP-2026-000123",
        outcome="verified",
    )
    stop = threading.Event()
    stop.set()  # one round, then stop
    keep_sealing(0.01, stop)
    assert SealedLeaf.objects.count() == 1
    assert Client().get("/transparency/log/checkpoint").status_code == 200
