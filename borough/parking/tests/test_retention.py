"""Retention of parking applications (``transparency.record_retention``): an application is
anonymised once the later of its decision and its permit's end is past
``[retention.records] parking_applications``; money rows stay."""

from __future__ import annotations

import datetime as dt

import pytest

from borough.core.profile import Retention
from borough.parking.models import Permit, PermitApplication, PermitEvent
from borough.parking.tests.test_permits import application, home, issue, zone  # noqa: F401
from borough.transparency.models import PurgeRun
from borough.transparency.queries import events
from borough.transparency.retention import purge
from borough.transparency.tests.conftest import LONDON

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=LONDON)
LONG_AGO = dt.datetime(2019, 3, 1, 10, 0, tzinfo=LONDON)


@pytest.fixture(autouse=True)
def six_years(settings):
    retention = Retention(records={"parking_applications": "6 years"})
    settings.COUNCIL = settings.COUNCIL.model_copy(update={"retention": retention})


def _issued(zone, home, vrm: str, ends_on: dt.date) -> PermitApplication:  # noqa: F811
    app = application(zone, home, vrm=vrm)
    permit = issue(app).permit
    Permit.objects.filter(pk=permit.pk).update(
        starts_on=ends_on.replace(year=2019), ends_on=ends_on
    )
    PermitEvent.objects.filter(application=app).update(at=LONG_AGO)
    return app


def _refused(zone, home, vrm: str, decided_at: dt.datetime) -> PermitApplication:  # noqa: F811
    app = application(zone, home, vrm=vrm)
    PermitApplication.objects.filter(pk=app.pk).update(status=PermitApplication.Status.REFUSED)
    PermitEvent.objects.create(application=app, action="refused", detail="Lives elsewhere")
    PermitEvent.objects.filter(application=app).update(at=decided_at)
    return app


def test_applications_past_their_period_are_anonymised_and_the_rest_kept(zone, home):  # noqa: F811
    ended = _issued(zone, home, "AA11AAA", dt.date(2020, 12, 5))  # ended 2020-12-06: due
    inside = _issued(zone, home, "BB22BBB", dt.date(2020, 12, 6))  # ended 2020-12-07: kept
    refused = _refused(zone, home, "CC33CCC", LONG_AGO)
    recent = _refused(zone, home, "DD44DDD", NOW - dt.timedelta(days=30))
    waiting = application(zone, home, vrm="EE55EEE")
    PermitApplication.objects.filter(pk=waiting.pk).update(created_at=LONG_AGO.replace(year=2010))

    done = purge(NOW)

    for app in (ended, refused):
        app.refresh_from_db()
        assert (app.first_name, app.surname, app.date_of_birth, app.vrm) == ("", "", None, "")
        assert (app.resident_id, app.vehicle_snapshot, app.anonymised_at) == ("", {}, NOW)
        # The application's trail and its permit's payment stay, without the officers' words.
        assert app.events.exists() and not app.events.exclude(detail="").exists()
    permit = Permit.objects.get(application=ended)
    assert permit.vrm.startswith("~") and permit.paid_pence == 15000
    assert recent.events.get().detail == "Lives elsewhere"
    for app in (inside, recent, waiting):
        app.refresh_from_db()
        assert (app.first_name, app.anonymised_at) == ("Ada", None)
        assert app.date_of_birth == dt.date(1980, 3, 27)
    assert Permit.objects.get(application=inside).vrm == "BB22BBB"
    run = PurgeRun.objects.get()
    assert run.records == [["records", "parking_applications", 2, "2019-03-01", "2020-12-06"]]
    assert done.records_total == 2
    (event,) = events().filter(purpose="records_retention_purge")
    assert event.datasets_read == ["parking_permits"]
    assert event.reference == f"purge-run:{run.pk}:parking_applications:1"
    # A second run: nothing more.
    assert purge(NOW).records == []
    assert events().filter(purpose="records_retention_purge").count() == 1


def test_without_a_period_no_application_is_purged(zone, home, settings):  # noqa: F811
    settings.COUNCIL = settings.COUNCIL.model_copy(update={"retention": Retention()})
    app = _refused(zone, home, "CC33CCC", LONG_AGO)
    assert purge(NOW).records == []
    app.refresh_from_db()
    assert app.anonymised_at is None and app.surname == "Lovelace"


def test_a_cancelled_permit_ends_when_it_was_cancelled(zone, home):  # noqa: F811
    app = _issued(zone, home, "FF66FFF", dt.date(2027, 1, 31))
    Permit.objects.filter(application=app).update(
        status=Permit.Status.CANCELLED, cancelled_at=LONG_AGO
    )
    purge(NOW)
    app.refresh_from_db()
    assert app.anonymised_at == NOW


def test_the_staff_page_of_an_anonymised_application_says_so(
    zone,  # noqa: F811
    home,  # noqa: F811
    client,
    make_staff,
    sign_in_staff,
):
    app = _refused(zone, home, "CC33CCC", LONG_AGO)
    purge(NOW)
    sign_in_staff(client, make_staff("Parking officer"))
    response = client.get(f"/staff/parking/applications/{app.reference}")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Removed at the end of its retention period, 7 December 2026" in page
    assert "Lovelace" not in page and "CC33 CCC" not in page
    assert not events().filter(purpose="staff_view_records").exists()
