"""Every use, by construction: every page, API operation, management command and background task
declares what it does with residents' personal data, and each that reads or changes it writes a
data-use event.

1. The walk (``data_use_entry_points.py``) finds every entry point and fails on one that declares
   nothing, naming it and saying how to declare it.
2. Each entry point that declares it touches residents' data is either exercised below with a
   small fixture, asserting its events, or listed in ``CHECKED_STATICALLY`` with the reason; for
   those, a static call graph must find a path from its code to ``record_data_use``.
3. Batch jobs (loads, re-links, Bacs runs and reports, statement matching, daily jobs) record one
   action per batch, ``MAX_SUBJECTS`` residents to a call.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.http import HttpResponse
from django.urls import include, path
from django_tasks import task

from borough.housing import direct_debit_runs
from borough.housing.tests.test_direct_debit import (
    COLLECTION_RUN,
    FIRST_RUN,
    _addacs,
    _advice,
    _arudd,
    _mandate,
)
from borough.housing.tests.test_direct_debit import tenant as tenant_fixture
from borough.housing.tests.test_ledger import make_account
from borough.parking.models import Permit
from borough.parking.tests.test_permits import application, home, issue, zone  # noqa: F401
from borough.residents.data_use import record_link
from borough.residents.tests.conftest import gazetteer, synth, write_csv  # noqa: F401
from borough.transparency import batches
from borough.transparency.batches import record_batch_use
from borough.transparency.coverage import RESIDENT_DATA, data_use
from borough.transparency.queries import events, events_for_resident

from .data_use_entry_points import (
    HOW_TO_DECLARE,
    all_entries,
    command_entries,
    records_statically,
    task_entries,
    url_entries,
)

# -- 1. every entry point declares -------------------------------------------------------------


def test_every_page_api_operation_command_and_task_declares_its_data_use():
    problems = [entry.problem() for entry in all_entries() if entry.declaration is None]
    assert problems == [], "\n".join(problems)


def test_the_walk_reaches_api_operations_subcommands_tasks_and_the_admin():
    """A walk that found nothing would pass the test above: check it reaches every kind."""
    names = {entry.name for entry in all_entries()}
    for expected in (
        "/staff/data-use",
        "POST /api/v1/verifications",
        "GET /api/v1/parking/check",
        "/admin/residents/sourcerecord/",
        "borough residents link",
        "borough transparency verify",
        "borough housing bacs-run",
        "borough flush",
        "borough.housing.tasks.daily_housing_jobs",
        "borough.parking.tasks.daily_permit_jobs",
    ):
        assert expected in names


def _fake_view(request):
    return HttpResponse("hello")


#: The whole URLconf plus a page someone forgot to declare (``pytest.mark.urls`` below).
urlpatterns = [
    path("", include("borough.urls")),
    path("staff/fake/undeclared", _fake_view),
    path("staff/fake/declared", data_use(none="Says hello")(lambda request: None)),
]


@pytest.mark.urls(__name__)
def test_a_new_undeclared_page_fails_naming_its_address_and_how_to_declare():
    problems = [entry.problem() for entry in url_entries() if entry.declaration is None]
    assert len(problems) == 1, problems
    (message,) = problems
    assert message.startswith("The page /staff/fake/undeclared (tests.test_data_use_coverage.")
    assert "_fake_view" in message
    assert HOW_TO_DECLARE in message and "@data_use(touches=RESIDENT_DATA" in message


class _FakeCommand(BaseCommand):
    data_use_by_subcommand = {"tidy": data_use(none="Tidies nothing")}

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        subcommands.add_parser("tidy")
        subcommands.add_parser("export-everyone")


def test_a_new_undeclared_command_or_subcommand_fails_naming_it():
    found = {entry.name: entry for entry in command_entries({"fake": _FakeCommand()})}
    assert found["borough fake tidy"].declaration is not None
    problem = found["borough fake export-everyone"].problem()
    assert problem.startswith("The command borough fake export-everyone ")
    assert "data_use_by_subcommand" in problem


@task()
def _undeclared_task(resident_id: str) -> None:
    return None


def test_a_new_undeclared_task_fails_naming_it():
    (entry,) = task_entries([__name__])
    assert entry.name == f"{__name__}._undeclared_task" and entry.declaration is None
    assert "declares no data use" in entry.problem()


def test_a_declaration_must_give_purposes_or_a_reason():
    with pytest.raises(ValueError, match="names its purposes"):
        data_use(touches=RESIDENT_DATA)
    with pytest.raises(ValueError, match="Unknown data-use purpose"):
        data_use(touches=RESIDENT_DATA, purpose="curiosity")
    with pytest.raises(ValueError, match="none= a reason"):
        data_use(none="  ")


# -- 2. each that touches residents' data records it ------------------------------------------

#: Entry points exercised by the tests below, which assert the events they write.
EXERCISED = {
    "borough housing bacs-run",
    "borough housing import-bacs-report",
    "/staff/finance/direct-debit/runs",
    "/staff/finance/direct-debit/runs/<int:run_id>/file",
    "/staff/finance/direct-debit/reports",
    "/staff/finance/direct-debit/mandates",
    "/staff/housing/accounts",
    "/staff/housing/accounts/<str:reference>",
    "/staff/housing/accounts/<str:reference>/tenants/<int:tenant_id>/unlink",
    "borough housing daily",
    "borough housing post-charges",
    "borough.housing.tasks.daily_housing_jobs",
    "borough parking cancel-unproven",
    "borough parking daily",
    "borough.parking.tasks.daily_permit_jobs",
    "/staff/parking/permits",
    "borough residents load",
    "/admin/residents/sourcerecord/",
    "/admin/residents/sourcerecord/<path:object_id>/change/",
    "/staff/data-use",
    "/staff/data-use.csv",
}

_VERIFY = (
    "runs a verification against the linked resident index (a trained Splink model and "
    "its candidate index), which verify() records; exercised with that index in "
    "borough/residents/tests/verification and the journeys' tests"
)
_RESIDENT_JOURNEY = (
    "needs a tenant linked through the resident index and a signed-in session; the reads go "
    "through housing.accounts (summary, statement, _log), which record"
)
#: Entry points whose recording is checked statically (their code reaches record_data_use),
#: with why they are not exercised here.
_EXPORT = "exercised in borough/transparency/tests/test_subject_access_export.py"
_SAR = "exercised in borough/transparency/tests/test_subject_access_requests.py"
_PURGE = "exercised in borough/transparency/tests/test_retention.py"
_BUILD = "exercised in borough/insights/tests/test_build.py"
_WHAT_IF = "exercised in borough/insights/tests/test_whatif.py"

CHECKED_STATICALLY = {
    "POST /api/v1/verifications": _VERIFY,
    "/staff/residents/verifications/check": _VERIFY,
    "/staff/residents/verifications/<str:reference>": _VERIFY,
    "/parking/apply/you": _VERIFY,
    "/parking/permits/<str:number>/renew/you": _VERIFY,
    "/parking/permits/<str:number>/move/check": _VERIFY,
    "/rent/find/you": _VERIFY,
    "/staff/data-use/unusual": "exercised in borough/transparency/tests/test_oversight.py",
    "GET /api/v1/parking/check": "exercised in borough/parking/tests/test_enforcement.py",
    "/staff/enforcement/check": "exercised in borough/parking/tests/test_enforcement.py",
    "/staff/residents/find": "needs a linked index; exercised in test_record_views.py",
    "/staff/residents/records/<str:resident_id>": "needs a linked index; test_record_views.py",
    "/staff/residents/review/<int:case_id>": "needs clerical review cases from a real link",
    "/staff/parking/applications/<str:reference>": "the same _logged_view as the permit page",
    "/staff/parking/permits/<str:number>": "the same _logged_view as the application page",
    "/staff/parking/proofs/<int:proof_id>": "needs an uploaded proof document",
    "/rent/find/letter": "needs a tenant the records alone could not verify (a referral)",
    "/rent/find/code": "needs the code from a posted letter",
    "/how-we-use-your-data/confirm": "exercised in borough/transparency/tests/"
    "test_history_by_post.py (posting the letter records subject_access_identity_by_post)",
    "/how-we-use-your-data/code": "exercised in borough/transparency/tests/"
    "test_history_by_post.py (a right code records subject_access_identity_by_post)",
    "/rent/account/<str:reference>": _RESIDENT_JOURNEY,
    "/rent/account/<str:reference>/statement": _RESIDENT_JOURNEY,
    "/rent/account/<str:reference>/pay": _RESIDENT_JOURNEY,
    "/rent/account/<str:reference>/pay/paid": _RESIDENT_JOURNEY,
    "/staff/finance/suspense/<int:line_id>": "needs a bank line in suspense from an import",
    "borough housing import-statement": "needs a bank statement file; the matching records "
    "through accounts.record_tenants_use, as the Bacs tests below show",
    "borough.housing.tasks.import_uploaded_statement": "the same import as the command",
    "borough housing load": "needs the housing system's two exports; records through "
    "accounts.record_tenants_use",
    "borough residents link": "trains a Splink model (seconds to minutes); record_link is "
    "exercised below",
    "borough residents load-synth": "loads a whole synthetic borough through the same "
    "load_dataset as borough residents load, exercised below",
    "/your-data/export": _EXPORT,
    "/your-data/exports/<str:reference>/data.json": _EXPORT,
    "/your-data/exports/<str:reference>/data.pdf": _EXPORT,
    "/your-data/exports/<str:reference>/read": _EXPORT,
    "borough.transparency.tasks.prepare_data_export": _EXPORT,
    "/staff/subject-access/<str:reference>": _SAR,
    "/staff/subject-access/<str:reference>/data.json": _SAR,
    "/staff/subject-access/<str:reference>/data.pdf": _SAR,
    "/staff/corrections/<str:reference>": _SAR,
    "/staff/data-use/questions/<int:case_id>": "exercised in "
    "borough/transparency/tests/test_questions.py (answering records data_use_log_audit)",
    "/staff/data-use/held/<int:event_id>/release": "exercised in "
    "borough/transparency/tests/test_restriction_pages.py",
    "borough transparency purge": _PURGE,
    "borough.transparency.tasks.daily_retention_purge": _PURGE,
    "borough insights build": _BUILD,
    "borough.insights.tasks.build_warehouse": _BUILD,
    "/staff/insights/what-ifs/permits": _WHAT_IF,
    "/staff/insights/what-ifs/permits/save": _WHAT_IF,
    "/staff/insights/what-ifs/direct-debit": _WHAT_IF,
    "/staff/insights/what-ifs/direct-debit/save": _WHAT_IF,
}


def _touching():
    return {
        entry.name: entry
        for entry in all_entries()
        if entry.declaration is not None and entry.declaration.touches_resident_data
    }


def test_every_entry_that_touches_residents_data_is_exercised_or_checked_statically():
    touching = _touching()
    unaccounted = sorted(set(touching) - EXERCISED - set(CHECKED_STATICALLY))
    assert unaccounted == [], (
        "These touch residents' data: exercise each in tests/test_data_use_coverage.py (assert "
        "its data-use events) or list it in CHECKED_STATICALLY with a reason: "
        + ", ".join(unaccounted)
    )
    stale = sorted((EXERCISED | set(CHECKED_STATICALLY)) - set(touching))
    assert stale == [], f"Listed but not declared as touching residents' data: {stale}"


def test_every_entry_that_touches_residents_data_reaches_record_data_use():
    silent = [
        f"{entry.kind} {entry.name}"
        for name, entry in sorted(_touching().items())
        if not records_statically(entry.target)
    ]
    assert silent == [], (
        "These declare they touch residents' data, but nothing in their code reaches "
        f"record_data_use: {silent}"
    )


def test_the_static_check_is_not_fooled_by_a_view_that_records_nothing():
    @data_use(touches=RESIDENT_DATA, purpose="staff_view_records")
    def reads_quietly(request):
        return HttpResponse("records")

    assert not records_statically(reads_quietly)


# -- 3. exercised: each writes its events ------------------------------------------------------


def _ours(resident_id: str, purpose: str, **filters):
    return list(events_for_resident(resident_id).filter(purpose=purpose, **filters))


tenant = tenant_fixture  # the Direct Debit tests' tenant: one rent account, resident RTEST0001


@pytest.fixture
def finance(make_staff, sign_in_staff, client):
    officer = make_staff("Finance officer", "Housing officer", username="finance")
    sign_in_staff(client, officer)
    return officer


@pytest.mark.django_db
def test_bacs_runs_their_files_and_the_banks_reports_record_each_payer(
    client, finance, tenant, tmp_path, django_capture_on_commit_callbacks
):
    account, user = tenant
    mandate = _mandate(account, user=user)
    purpose = "housing_direct_debit_collection"

    lodged = direct_debit_runs.bacs_run(FIRST_RUN, created_by=finance)  # what the page calls
    (event,) = _ours("RTEST0001", purpose, reference=f"bacs-run-{lodged.pk}")
    assert (event.actor_user, event.action) == (finance, "updated_records")

    call_command("housing", "bacs-run", "--input-date", COLLECTION_RUN.isoformat())
    collected = direct_debit_runs.BacsRun.objects.latest("pk")
    (event,) = _ours("RTEST0001", purpose, reference=f"bacs-run-{collected.pk}")
    assert (event.actor_kind, event.actor_label) == ("system", "Borough Direct Debit run")

    assert client.get(f"/staff/finance/direct-debit/runs/{collected.pk}/file").status_code == 200
    assert _ours("RTEST0001", purpose, action="export", actor_user=finance)

    collection = direct_debit_runs.Collection.objects.get(run=collected)
    report = tmp_path / "arudd.xml"
    report.write_bytes(
        _arudd(mandate.reference, collection.amount_pence, collected.processing_date)
    )
    with report.open("rb") as upload, django_capture_on_commit_callbacks(execute=True):
        page = client.post("/staff/finance/direct-debit/reports", {"file": upload})
    assert page.status_code == 200
    (event,) = _ours("RTEST0001", purpose, reference__startswith="bacs-report-arudd-")
    assert event.actor_user == finance

    cancelled = tmp_path / "addacs.xml"
    cancelled.write_bytes(_addacs(_advice(mandate.reference, "1")))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("housing", "import-bacs-report", str(cancelled))
    assert _ours("RTEST0001", purpose, reference__startswith="bacs-report-addacs-")

    assert client.get("/staff/finance/direct-debit/mandates").status_code == 200
    assert _ours("RTEST0001", "staff_view_records", reference="direct-debit-mandates")


@pytest.mark.django_db
def test_a_bacs_run_that_finds_nothing_to_send_records_nobody(client, finance, tenant):
    before = events().count()
    page = client.post("/staff/finance/direct-debit/runs")
    assert page.status_code == 200 and events().count() == before


@pytest.mark.django_db
def test_officers_searching_rent_accounts_and_removing_an_online_account_are_recorded(
    client, finance, tenant
):
    account, _user = tenant
    assert client.get("/staff/housing/accounts", {"q": "O'Brien"}).status_code == 200
    assert _ours("RTEST0001", "staff_view_records", reference="rent-account-search")

    other = make_account(2)  # another tenancy, whose tenant nobody searched for
    other_tenant = other.tenancy.tenants.create(first_name="Ann", surname="Other", lead=True)
    other_tenant.resident_id = "RTEST0002"
    other_tenant.save()
    client.get("/staff/housing/accounts", {"q": "O'Brien"})
    assert not events_for_resident("RTEST0002").exists()

    ref = account.payment_reference
    assert client.get(f"/staff/housing/accounts/{ref}").status_code == 200
    tenant_row = account.tenancy.tenants.get()
    assert client.get(f"/staff/housing/accounts/{ref}/tenants/{tenant_row.pk}/unlink").status_code
    assert len(_ours("RTEST0001", "staff_view_records", reference=ref)) == 2


@pytest.mark.django_db
def test_the_daily_housing_jobs_and_post_charges_record_the_charges_they_post(tenant):
    from borough.housing.tasks import daily_housing_jobs

    monday = dt.date(2026, 11, 30)
    result = daily_housing_jobs.enqueue(monday.isoformat())
    assert result.return_value["charges_posted"] == 2
    (event,) = _ours("RTEST0001", "housing_rent_account_administration")
    assert (event.reference, event.actor_label) == (
        "weekly-charges-2026-11-30",
        "Borough weekly rent charges",
    )
    daily_housing_jobs.enqueue(monday.isoformat())  # posts nothing more: records nothing more
    assert len(_ours("RTEST0001", "housing_rent_account_administration")) == 1

    call_command("housing", "post-charges", "--week", "2026-11-23")
    assert _ours("RTEST0001", "housing_rent_account_administration", reference__contains="11-23")
    call_command("housing", "daily")


@pytest.fixture
def unproven(zone, home):  # noqa: F811
    permit = issue(application(zone, home, resident_id="R00000042")).permit
    Permit.objects.filter(pk=permit.pk).update(
        status=Permit.Status.PROOF_NEEDED, proof_due_on=dt.date(2026, 1, 1)
    )
    return permit


@pytest.mark.django_db
def test_the_daily_permit_jobs_record_the_permits_they_cancel(unproven):
    call_command("parking", "cancel-unproven")
    (event,) = _ours("R00000042", "parking_permit_administration")
    assert (event.reference, event.action) == ("cancel-unproven", "updated_records")
    call_command("parking", "daily")  # nothing left to cancel: nothing more recorded
    assert len(_ours("R00000042", "parking_permit_administration")) == 1


@pytest.mark.django_db
def test_the_daily_permit_task_records_per_job(unproven):
    from borough.parking.tasks import daily_permit_jobs

    result = daily_permit_jobs.enqueue(dt.date.today().isoformat())
    assert result.return_value["cancelled_unproven"] == 1
    (event,) = _ours("R00000042", "parking_permit_administration")
    assert event.reference.startswith("cancelled-unproven-") and event.actor_kind == "system"


@pytest.mark.django_db
def test_an_officer_searching_permits_is_recorded_for_each_holder_found(
    client, make_staff, sign_in_staff, unproven
):
    sign_in_staff(client, make_staff("Parking officer"))
    assert client.get("/staff/parking/permits", {"q": unproven.number}).status_code == 200
    assert _ours("R00000042", "staff_view_records", reference="permit-search")
    client.get("/staff/parking/permits", {"q": "NOSUCH"})
    assert len(_ours("R00000042", "staff_view_records")) == 1


CODE = "housing_tenancies"


@pytest.mark.django_db
def test_a_load_records_the_residents_whose_records_changed_and_the_admin_records_reads(
    synth,  # noqa: F811
    gazetteer,  # noqa: F811
    settings,
    tmp_path,
    client,
    make_staff,
    sign_in_staff,
):
    settings.DATA_DIR = tmp_path
    rows = [dict(row) for row in synth.rows(CODE)][:20]
    columns = synth.columns(CODE)
    call_command("residents", "load", CODE, str(write_csv(tmp_path / "a.csv", rows, columns)))
    assert not events().exists()  # not linked yet: no resident to record against

    (tmp_path / "linkage").mkdir()
    refs = [row["TENANT_REF"] for row in rows]
    pd.DataFrame(
        {
            "unique_id": [f"{CODE}:{ref}" for ref in refs],
            "resident_id": [f"R-{n}" for n in range(20)],
        }
    ).to_parquet(tmp_path / "linkage" / "residents.parquet", index=False)
    rows[3]["SURNAME"] += "-Smith"
    call_command("residents", "load", CODE, str(write_csv(tmp_path / "b.csv", rows, columns)))
    (event,) = events().filter(purpose="residents_index_maintenance")
    assert (event.subject_resident_id, event.datasets_read) == ("R-3", [CODE])
    assert event.reference.startswith("dataset-load-")

    admin = make_staff("Administrator", username="admin")
    admin.is_superuser = True
    admin.save()
    sign_in_staff(client, admin)
    assert client.get("/admin/residents/sourcerecord/").status_code == 200
    listed = events().filter(purpose="staff_view_records", reference="admin-source-records")
    assert set(listed.values_list("subject_resident_id", flat=True)) == {
        f"R-{n}" for n in range(20)
    }
    from borough.residents.models import SourceRecord

    one = SourceRecord.objects.get(record_ref=refs[5])
    assert client.get(f"/admin/residents/sourcerecord/{one.pk}/change/").status_code == 200
    assert _ours("R-5", "staff_view_records", reference="admin-source-records")


@pytest.mark.django_db
def test_a_link_records_every_resident_it_placed():
    ids = pd.DataFrame(
        {
            "unique_id": ["council_tax:1", "electoral_register:9", "council_tax:2"],
            "resident_id": ["R-1", "R-1", "R-2"],
        }
    )
    assert record_link(ids) == 2
    for resident in ("R-1", "R-2"):
        (event,) = _ours(resident, "residents_index_maintenance")
        assert event.datasets_read == ["council_tax", "electoral_register"]
        assert event.actor_kind == "system" and event.reference.startswith("resident-link-")


@pytest.mark.django_db
def test_a_batch_bigger_than_one_call_is_recorded_in_calls_of_max_subjects(monkeypatch):
    monkeypatch.setattr(batches, "MAX_SUBJECTS", 2)
    written = record_batch_use(
        ["R-1", "R-2", "", "R-3", "R-2"],
        actor_label="A test batch",
        purpose="residents_index_maintenance",
        action="updated_records",
        reference="batch-1",
    )
    assert written == 3
    recorded = events().filter(reference="batch-1")
    assert recorded.values("action_id").distinct().count() == 2
    assert sorted(recorded.values_list("subject_resident_id", flat=True)) == ["R-1", "R-2", "R-3"]
    assert (
        record_batch_use(
            [], actor_label="x", purpose="residents_index_maintenance", action="updated_records"
        )
        == 0
    )


@pytest.mark.django_db
def test_the_data_protection_officers_reads_of_the_log_are_recorded(
    client, make_staff, sign_in_staff
):
    dpo = make_staff("Data protection officer")
    sign_in_staff(client, dpo)
    assert client.get("/staff/data-use", {"resident_id": "R-9"}).status_code == 200
    assert client.get("/staff/data-use.csv", {"resident_id": "R-9"}).status_code == 200
    assert len(_ours("R-9", "data_use_log_audit", actor_user=dpo)) == 2
