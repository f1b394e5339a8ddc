"""Staff pages to find a resident and see every record the council's datasets hold about them.

Showing records is a use of residents' data, so each search that lists residents and each view of
a resident's records writes one data-use event call (``record_data_use``, purpose
``staff_view_records``, service ``residents``): the resident IDs shown, the officer, the datasets
read and the officer's reason as a code. Never the names, dates or addresses looked for or shown.

A search or a view needs the officer's reason first. Nothing here logs personal data; the search
is a GET form (the site's request logs drop query strings), and a resident's page is addressed by
resident ID only.
"""

from datetime import date, datetime

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from borough.core.access import staff_area
from borough.core.govuk_forms import DateOfBirthMixin
from borough.places.forms import OptionalPostcodeField
from borough.residents import index
from borough.residents import standardise as std
from borough.residents.models import SourceRecord, UprnMethod
from borough.residents.reasons import (
    FRAUD_INVESTIGATION,
    REASON_TITLES,
    case_reference_field,
    clean_case_reference,
    reason_field,
)
from borough.residents.record_queries import (
    SEARCH_LIMIT,
    group_by_resident,
    id_history,
    index_problem,
    name_as_given,
    records_by_unique_id,
    search_records,
)
from borough.transparency.coverage import RESIDENT_DATA, data_use
from borough.transparency.models import Action, ActorKind
from borough.transparency.services import RESIDENT_ID, record_data_use

PURPOSE = "staff_view_records"
#: A look-up for a fraud investigation: held back from the resident until the data protection
#: officer releases it (``/staff/data-use/held``); the hold is itself recorded.
INVESTIGATION_PURPOSE = "fraud_investigation_records"
SERVICE = "residents"


def _text(label: str, *, required: bool = False, **attrs) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=200,
        widget=forms.TextInput(attrs={"spellcheck": False, **attrs}),
        error_messages={"max_length": f"{label} must be 200 characters or fewer"},
    )


class InvestigationMixin:
    """A reason with "Investigating suspected fraud" among its choices, and the investigation's
    case reference, needed with that reason only."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = case_reference_field()
        field.label = "Fraud investigation case reference (only for a fraud investigation)"
        field.help_text = (
            "Like FR-2026-0042. A look-up for a fraud investigation is held back from the "
            "resident until the data protection officer releases it. Never a name or other "
            "personal details."
        )
        self.fields["case"] = field

    def clean_case(self) -> str:
        return clean_case_reference(self.cleaned_data.get("case", ""))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("reason") == FRAUD_INVESTIGATION and not cleaned.get("case"):
            if "case" not in self.errors:
                self.add_error("case", "Enter the case reference of the fraud investigation")
        return cleaned


class FindResidentForm(InvestigationMixin, DateOfBirthMixin, forms.Form):
    surname = _text("Surname", required=True)
    first_name = _text("First name")
    dob_day = forms.CharField(label="Day", required=False)
    dob_month = forms.CharField(label="Month", required=False)
    dob_year = forms.CharField(label="Year", required=False)
    postcode = OptionalPostcodeField(help_text="Finds only the records at this postcode")
    reason = reason_field(investigation=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["surname"].error_messages["required"] = "Enter the resident's surname"
        self.date_of_birth: date | None = None
        #: The parts of the date of birth to highlight as wrong.
        self.date_error_parts: set[str] = set()

    def clean_surname(self) -> str:
        surname = self.cleaned_data["surname"].strip()
        if not std.standardise_name(surname):
            raise forms.ValidationError("Enter a surname using letters", code="invalid")
        return surname


class ReasonForm(InvestigationMixin, forms.Form):
    reason = reason_field(investigation=True)


def _record_view(
    request: HttpRequest, resident_ids: list[str], datasets, reason: str, outcome, case: str = ""
):
    """One data-use call for the residents shown. An ordinary look-up's reference is the reason's
    code; a fraud investigation's is its case reference, and its events are held back."""
    investigation = reason == FRAUD_INVESTIGATION
    record_data_use(
        subject_resident_ids=resident_ids,
        actor=request.user,
        actor_kind=ActorKind.STAFF,
        purpose=INVESTIGATION_PURPOSE if investigation else PURPOSE,
        service=SERVICE,
        action=Action.VIEWED_RECORDS,
        datasets=sorted(set(datasets)),
        reference=case if investigation else reason,
        outcome=outcome,
        restriction_reason_code=FRAUD_INVESTIGATION if investigation else "",
    )


def _render(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    helpers = {"name_as_given": name_as_given, "long_date": _long_date, "reasons": REASON_TITLES}
    return render(request, f"residents/staff/{template}", {**helpers, **context})


def _not_linked(request: HttpRequest, problem: str, title: str) -> HttpResponse:
    return _render(request, "records_not_linked.html", {"problem": problem, "page_title": title})


@data_use(touches=RESIDENT_DATA, purposes=[PURPOSE, INVESTIGATION_PURPOSE])
@staff_area("residents")
@require_GET
@never_cache
def find_resident(request: HttpRequest) -> HttpResponse:
    problem = index_problem()
    if problem:
        return _not_linked(request, problem, "Find a resident")
    submitted = any(name in request.GET for name in FindResidentForm.base_fields)
    form = FindResidentForm(request.GET if submitted else None)
    context = {"form": form, "page_title": "Find a resident", "limit": SEARCH_LIMIT}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        records, more = search_records(
            surname=data["surname"],
            first_name=data["first_name"],
            date_of_birth=form.date_of_birth,
            postcode=data["postcode"],
        )
        try:
            groups = group_by_resident(records)
        except ValueError as error:  # the index went between the check and now
            return _not_linked(request, str(error), "Find a resident")
        linked = [group for group in groups if group.resident_id]
        if linked:
            _record_view(
                request,
                [group.resident_id for group in linked],
                (record.dataset.code for group in linked for record in group.records),
                data["reason"],
                "listed_in_search",
                data["case"],
            )
        context.update(
            searched=True,
            groups=groups,
            record_count=len(records),
            linked_count=len(linked),
            unlinked_count=len(groups) - len(linked),
            more=more,
            reason=data["reason"],
            case=data["case"],
        )
    context["date_input"] = form.date_input()
    return _render(request, "records_find.html", context)


def _long_date(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "hour"):
        value = timezone.localtime(value)
    return f"{value.day} {value:%B %Y}"


def _records(count: int) -> str:
    return f"{count} record{'' if count == 1 else 's'}"


def _history(resident_id: str) -> list[tuple[str, str]]:
    """(when, what happened) for each event of the index's log that involved ``resident_id``."""
    rows = []
    for event in id_history(resident_id):
        others = ", ".join(event.others)
        mine = event.resident_id == resident_id
        if event.kind == "new":
            text = f"New resident ID, with {_records(event.records)}"
        elif event.kind == "merge" and mine:
            text = f"The records of {others} joined this resident; now {_records(event.records)}"
        elif event.kind == "merge":
            text = f"Merged into {event.resident_id}: this ID was retired"
        elif event.kind == "split" and mine and event.records:
            text = f"Split: some records moved to {others}; {_records(event.records)} stayed"
        elif event.kind == "split" and mine:
            text = f"Split: every record moved to {others}; this ID was retired"
        elif event.kind == "split":
            text = f"Split from {event.resident_id}: some of its records now have this ID"
        elif event.kind == "removed":
            text = "Removed: none of its records remained"
        else:
            text = event.kind
        try:
            when = _long_date(datetime.fromisoformat(event.at))
        except ValueError:
            when = event.at
        rows.append((when, text))
    return rows


@data_use(touches=RESIDENT_DATA, purposes=[PURPOSE, INVESTIGATION_PURPOSE])
@staff_area("residents")
@require_GET
@never_cache
def resident_records(request: HttpRequest, resident_id: str) -> HttpResponse:
    if not RESIDENT_ID.fullmatch(resident_id):
        raise Http404("No such resident")
    title = f"Resident {resident_id}"
    try:
        unique_ids = index.unique_ids_of_resident(resident_id)
    except ValueError as error:
        return _not_linked(request, str(error), title)
    if not unique_ids:
        raise Http404("No such resident")
    form = ReasonForm(request.GET if "reason" in request.GET else None)
    context = {"resident_id": resident_id, "page_title": title, "form": form}
    if not (form.is_bound and form.is_valid()):
        return _render(request, "records_reason.html", context)
    records = records_by_unique_id(unique_ids)
    if not records:
        raise Http404("No such resident")
    reason = form.cleaned_data["reason"]
    _record_view(
        request,
        [resident_id],
        (record.dataset.code for record in records),
        reason,
        "viewed_all_records",
        form.cleaned_data["case"],
    )
    by_dataset: dict[str, list[SourceRecord]] = {}
    for record in records:
        by_dataset.setdefault(record.dataset.code, []).append(record)
    context.update(
        reason=reason,
        case=form.cleaned_data["case"],
        reason_title=REASON_TITLES[reason],
        by_dataset=[(group[0].dataset, group) for group in by_dataset.values()],
        record_count=len(records),
        history=_history(resident_id),
        uprn_methods=dict(UprnMethod.choices),
    )
    return _render(request, "records_resident.html", context)


urlpatterns = [
    path("staff/residents/find", find_resident, name="find"),
    path("staff/residents/records/<str:resident_id>", resident_records, name="resident"),
]
