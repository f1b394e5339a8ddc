"""The data protection officer's view of the data-use log: a filterable table and a CSV export.

Looking at one resident's events, and every export, is itself a use of residents' data, so both
are recorded (purpose ``data_use_log_audit``). Browsing without a resident filter is not: it would
fill the log with records of reading the log.
"""

import csv
from collections.abc import Iterator
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from borough.core.access import staff_area
from borough.transparency.coverage import RESIDENT_DATA, data_use
from borough.transparency.forms import DataUseFilterForm
from borough.transparency.models import Action, ActorKind, DataUseEvent
from borough.transparency.purposes import PURPOSES, SERVICES
from borough.transparency.queries import dataset_titles, events
from borough.transparency.services import record_data_use
from borough.transparency.staff_view import in_words, who_for_staff

PAGE_SIZE = 50

CSV_COLUMNS = [
    "occurred_at",
    "action_id",
    "subject_resident_id",
    "actor_kind",
    "actor_account",
    "actor_label",
    "service",
    "purpose",
    "purpose_text",
    "lawful_basis",
    "lawful_basis_text",
    "datasets_read",
    "action",
    "reference",
    "outcome",
]


def _record_audit(request: HttpRequest, resident_id: str, action: str) -> None:
    record_data_use(
        subject_resident_ids=[resident_id] if resident_id else [],
        actor=request.user,
        actor_kind=ActorKind.STAFF,
        actor_label="Data protection officer",
        purpose="data_use_log_audit",
        action=action,
        datasets=["data_use_log"],
    )


def _filter_query(request: HttpRequest) -> str:
    """The filters in the request, as a query string (no page number)."""
    return urlencode(
        {name: request.GET[name] for name in DataUseFilterForm().fields if request.GET.get(name)}
    )


@data_use(touches=RESIDENT_DATA, purposes=["data_use_log_audit"])
@staff_area("transparency")
@require_GET
@never_cache
def staff_data_use(request: HttpRequest) -> HttpResponse:
    form = DataUseFilterForm(request.GET)
    page = None
    if form.is_valid():
        filters = form.filters()
        if filters["resident_id"]:
            _record_audit(request, filters["resident_id"], Action.VIEWED_RECORDS)
        page = Paginator(events(**filters), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = _rows(page.object_list) if page is not None else []
    query = _filter_query(request)
    return render(
        request,
        "transparency/staff/data_use.html",
        {
            "form": form,
            "page_obj": page,
            "rows": rows,
            "when_radios": form.when_radios(),
            "since_input": form.date_input("since"),
            "until_input": form.date_input("until"),
            "filtered": bool(query),
            "page_query": f"{query}&" if query else "",
            "export_url": reverse("transparency:staff-data-use-export")
            + (f"?{query}" if query else ""),
            "page_title": "Data-use log",
        },
    )


def _rows(events_shown) -> list[dict]:
    """The page's events as officers read them: titles for codes, and who without personal
    data or residents' wording (``staff_view``)."""
    shown = list(events_shown)
    titles = dataset_titles(code for event in shown for code in event.datasets_read)
    rows = []
    for event in shown:
        purpose = PURPOSES.get(event.purpose)
        rows.append(
            {
                "event": event,
                "who": who_for_staff(event),
                "service": SERVICES.get(event.service, event.service),
                "purpose": purpose.title if purpose else event.purpose,
                "datasets": [titles[code] for code in event.datasets_read],
                "reference": in_words(event.reference),
                "outcome": in_words(event.outcome),
            }
        )
    return rows


class _Echo:
    """A file-like object whose ``write`` hands the line back, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    # A cell starting like a formula is run by spreadsheet programs: make it plain text.
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def _csv_row(event: DataUseEvent) -> list[str]:
    who = who_for_staff(event)
    return [
        timezone.localtime(event.occurred_at).isoformat(timespec="seconds"),
        str(event.action_id),
        event.subject_resident_id,
        event.actor_kind,
        who.account,
        who.name if event.actor_kind == ActorKind.RESIDENT else event.actor_label,
        event.service,
        event.purpose,
        event.purpose_text,
        event.lawful_basis,
        event.lawful_basis_text,
        " ".join(event.datasets_read),
        event.action,
        event.reference,
        event.outcome,
    ]


def _csv_lines(query) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for event in query.iterator(chunk_size=2000):
        yield writer.writerow([_cell(value) for value in _csv_row(event)])


@data_use(touches=RESIDENT_DATA, purposes=["data_use_log_audit"])
@staff_area("transparency")
@require_GET
@never_cache
def staff_data_use_export(request: HttpRequest) -> HttpResponse:
    """The filtered events as CSV, streamed. The export is recorded before it is sent."""
    form = DataUseFilterForm(request.GET)
    if not form.is_valid():
        url = reverse("transparency:staff-data-use")
        query = _filter_query(request)
        return redirect(f"{url}?{query}" if query else url)
    filters = form.filters()
    _record_audit(request, filters["resident_id"], Action.EXPORT)
    response = StreamingHttpResponse(
        _csv_lines(events(**filters)), content_type="text/csv; charset=utf-8"
    )
    name = f"data-use-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
