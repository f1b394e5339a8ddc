"""Reminders before a permit ends and before proof is due, each sent once; the daily job."""

from __future__ import annotations

import datetime as dt
import io

from django.core.management import call_command

from borough.parking import reminders, services
from borough.parking.models import Permit, PermitApplication
from borough.parking.tests.test_permits import TODAY, application, home, issue, zone  # noqa: F401


def _permit(zone, home, **changes) -> Permit:  # noqa: F811
    permit = issue(application(zone, home)).permit
    Permit.objects.filter(pk=permit.pk).update(**changes)
    permit.refresh_from_db()
    return permit


def test_a_renewal_reminder_is_sent_once_at_each_milestone(zone, home, mailoutbox):  # noqa: F811
    permit = _permit(zone, home, ends_on=TODAY + dt.timedelta(days=42))
    assert reminders.send_renewal_reminders(TODAY, days_before=[42, 14]) == [f"{permit.number}:42"]
    assert reminders.send_renewal_reminders(TODAY, days_before=[42, 14]) == []
    later = TODAY + dt.timedelta(days=28)
    assert reminders.send_renewal_reminders(later, days_before=[42, 14]) == [f"{permit.number}:14"]
    assert len(mailoutbox) == 2
    assert "ends on 6 January 2027, in 42 days" in mailoutbox[0].body
    assert f"/parking/permits/{permit.number}" in mailoutbox[0].body


def test_a_missed_day_is_caught_up_with_only_the_latest_milestone(zone, home, mailoutbox):  # noqa: F811
    permit = _permit(zone, home, ends_on=TODAY + dt.timedelta(days=10))
    assert reminders.send_renewal_reminders(TODAY, days_before=[42, 14]) == [f"{permit.number}:14"]
    assert len(mailoutbox) == 1


def test_no_reminder_for_a_cancelled_permit_or_one_far_from_its_end(zone, home, mailoutbox):  # noqa: F811
    _permit(zone, home, ends_on=TODAY + dt.timedelta(days=100))
    assert reminders.send_renewal_reminders(TODAY, days_before=[42]) == []
    Permit.objects.update(ends_on=TODAY + dt.timedelta(days=5), status=Permit.Status.CANCELLED)
    assert reminders.send_renewal_reminders(TODAY, days_before=[42]) == []
    assert mailoutbox == []


def test_proof_reminder_a_week_before_it_is_due(zone, home, mailoutbox):  # noqa: F811
    permit = issue(application(zone, home), verified=False).permit  # due in 30 days
    assert reminders.send_proof_reminders(TODAY) == []
    week_before = permit.proof_due_on - dt.timedelta(days=7)
    assert reminders.send_proof_reminders(week_before) == [permit.number]
    assert reminders.send_proof_reminders(week_before + dt.timedelta(days=1)) == []
    assert "Send it by" in mailoutbox[0].body


def test_the_daily_command_runs_the_jobs(zone, home, mailoutbox, settings):  # noqa: F811
    _permit(zone, home, ends_on=dt.date.today() + dt.timedelta(days=3))
    out = io.StringIO()
    call_command("parking", "daily", stdout=out)
    assert "Sent 1 renewal and 0 proof reminders; cancelled 0 unproven permits." in out.getvalue()
    call_command("parking", "daily", stdout=out)
    assert len(mailoutbox) == 1


def test_no_renewal_reminder_once_the_permit_is_renewed(zone, home, mailoutbox):  # noqa: F811
    permit = _permit(zone, home, ends_on=TODAY + dt.timedelta(days=20))
    renewal = application(zone, home, vrm="AB12CDE")
    PermitApplication.objects.filter(pk=renewal.pk).update(renews=permit)
    services.issue_permit(
        renewal.pk,
        verified=True,
        unverified_policy="issue_then_proof",
        proof_days=30,
        max_per_household=2,
        today=TODAY,
    )
    assert Permit.objects.filter(status=Permit.Status.SCHEDULED).count() == 1
    assert reminders.send_renewal_reminders(TODAY, days_before=[42]) == []
