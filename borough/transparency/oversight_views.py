"""The data protection officer's "Unusual access" page (``oversight.py`` computes the flags).

Officers are named here: this page is for the data protection officer. Reading it is a use of
the log, so when it lists residents (those looked up repeatedly) it records one
``data_use_log_audit`` event naming them; its other flags name officers and counts, not
residents, so a page with no such resident records nothing (as browsing the log unfiltered
records nothing).
"""

import datetime as dt
from urllib.parse import urlencode

from django import forms
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from borough.core.access import staff_area
from borough.core.govuk_forms import govuk_field
from borough.core.roles import AREAS
from borough.transparency import oversight
from borough.transparency.coverage import RESIDENT_DATA, data_use
from borough.transparency.models import (
    Action,
    ActorKind,
    QuestionedEntry,
    SubjectAccessRequest,
)
from borough.transparency.purposes import SERVICES
from borough.transparency.services import record_data_use

PERIODS = {"7": "The last 7 days", "30": "The last 30 days", "90": "The last 90 days"}
DEFAULT_PERIOD = "7"


class PeriodForm(forms.Form):
    period = forms.ChoiceField(
        label="Period",
        choices=list(PERIODS.items()),
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select a period",
            "invalid_choice": "Select the last 7, 30 or 90 days",
        },
    )

    def radios(self) -> dict:
        params = govuk_field(
            self["period"],
            fieldset={"legend": {"text": "Period", "classes": "govuk-fieldset__legend--s"}},
        )
        chosen = self.data.get("period", DEFAULT_PERIOD)
        for item in params["items"]:
            item["checked"] = item["value"] == chosen
        return params


def log_url(since: dt.date, until: dt.date, **filters: str) -> str:
    """The data-use log filtered to these days and ``filters`` (officer, resident_id, service)."""
    query = {name: value for name, value in filters.items() if value}
    query["when"] = "between"
    for end, day in (("since", since), ("until", until)):
        query.update({f"{end}_day": day.day, f"{end}_month": day.month, f"{end}_year": day.year})
    return f"{reverse('transparency:staff-data-use')}?{urlencode(query)}"


def _officer(user, areas: list[str]) -> dict:
    full_name = user.get_full_name().strip()
    roles = [AREAS[slug].title for slug in areas]
    return {
        "name": f"{full_name} ({user.username})" if full_name else user.username,
        "username": user.username,
        "roles": ", ".join(roles) or "No role",
    }


def _questioned_entries(limit: int = 50) -> list[dict]:
    """Residents' "I don't recognise this" questions still waiting for an answer, oldest first,
    by their reference (no resident ID: the page would then be a view of that resident)."""
    waiting = QuestionedEntry.objects.filter(status=QuestionedEntry.Status.OPEN).order_by(
        "created_at", "id"
    )[:limit]
    return [
        {
            "url": reverse("transparency:staff-question", args=[q.pk]),
            "reference": q.reference,
            "raised_on": timezone.localdate(q.created_at),
            "status": q.get_status_display(),
        }
        for q in waiting
    ]


def _open_requests(limit: int = 50) -> list[dict]:
    """Open subject access requests, the soonest deadline first (an extension moves it)."""
    requests = SubjectAccessRequest.objects.filter(
        status=SubjectAccessRequest.Status.OPEN
    ).order_by(Coalesce("extended_due_on", "due_on"), "received_on")[:limit]
    return [
        {
            "url": reverse("transparency:sar", args=[r.reference]),
            "reference": r.reference,
            "received_on": r.received_on,
            "due_on": r.extended_due_on or r.due_on,
        }
        for r in requests
    ]


@data_use(touches=RESIDENT_DATA, purposes=["data_use_log_audit"])
@staff_area("transparency")
@require_GET
@never_cache
def unusual_access(request: HttpRequest) -> HttpResponse:
    form = PeriodForm(request.GET if "period" in request.GET else {"period": DEFAULT_PERIOD})
    context = {"form": form, "period_radios": form.radios(), "page_title": "Unusual access"}
    context["questioned_entries"] = _questioned_entries()
    context["open_requests"] = _open_requests()
    if not form.is_valid():
        return render(request, "transparency/staff/unusual_access.html", context, status=400)
    until = timezone.localdate()
    since = until - dt.timedelta(days=int(form.cleaned_data["period"]) - 1)
    limits = oversight.thresholds()

    def flagged(flags, extra=lambda flag: {}):
        areas = oversight.areas_by_user({flag.user.pk: flag.user for flag in flags}.values())
        return [
            {
                "flag": flag,
                "officer": _officer(flag.user, areas[flag.user.pk]),
                "url": log_url(since, until, officer=flag.user.username, **extra(flag)),
            }
            for flag in flags
        ]

    residents = oversight.looked_up_repeatedly(since, until, limits)
    claimed = oversight.claimed_by_several_accounts()
    listed = [flag.resident_id for flag in residents] + [flag.resident_id for flag in claimed]
    if listed:
        record_data_use(
            subject_resident_ids=sorted(set(listed)),
            actor=request.user,
            actor_kind=ActorKind.STAFF,
            actor_label="Data protection officer",
            purpose="data_use_log_audit",
            action=Action.VIEWED_RECORDS,
            datasets=["data_use_log"],
            reference="unusual-access",
        )
    context.update(
        since=since,
        until=until,
        limits=limits,
        many=flagged(oversight.many_residents_without_case(since, until, limits)),
        outside=[
            {**row, "service": SERVICES.get(row["flag"].detail, row["flag"].detail)}
            for row in flagged(
                oversight.outside_own_service(since, until),
                extra=lambda flag: {"service": flag.detail},
            )
        ],
        odd=flagged(oversight.odd_hours(since, until, limits)),
        residents=[
            {"flag": flag, "url": log_url(since, until, resident_id=flag.resident_id)}
            for flag in residents
        ],
        claimed=[
            {
                "flag": flag,
                "url": log_url(timezone.localdate(flag.last), until, resident_id=flag.resident_id),
            }
            for flag in claimed
        ],
    )
    return render(request, "transparency/staff/unusual_access.html", context)
