"""The clerical review queue: staff pages to decide whether two records are the same person.

The queue lists open cases with no personal data (dataset, record reference, probability), so
browsing it is not recorded. Opening a case shows the two records: that is a use of the residents'
data, recorded as a data-use event (purpose ``residents_match_review``) each time the records are
shown; a decision writes its own event (``review.decide``). See ``review.py`` for the rules.
"""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from borough.core.access import staff_area
from borough.core.dates import date_in_words, time_in_words
from borough.residents import review, review_evidence
from borough.residents.index import resident_ids_of
from borough.residents.linkage.pipeline import CLUSTER_THRESHOLD
from borough.residents.models import ReviewCase, SourceDataset
from borough.transparency.coverage import RESIDENT_DATA, data_use

PAGE_SIZE = 50
SAVED = "Decision saved. It will be used the next time the records are linked."
_DECISION_REQUIRED = "Select whether the records are about the same person or different people"


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Show cases",
        required=False,
        choices=[
            ("open", "Open"),
            ("decided", "Decided"),
            ("closed", "Closed"),
            ("all", "All"),
        ],
        error_messages={"invalid_choice": "Select which cases to show from the list"},
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Are these records about the same person?",
        choices=ReviewCase.Decision.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _DECISION_REQUIRED, "invalid_choice": _DECISION_REQUIRED},
    )
    note = forms.CharField(
        label="Note (optional)",
        required=False,
        max_length=500,
        help_text="Why you decided, for the officers after you. Up to 500 characters.",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": "Note must be 500 characters or fewer"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The limit is checked on the server and explained; the browser must not cut text off.
        self.fields["note"].widget.attrs.pop("maxlength", None)


def _percent(probability: float | None) -> str:
    if probability is None:
        return ""
    return f"{probability * 100:.1f}%"


def _long_date(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "hour"):
        return f"{date_in_words(value)} at {time_in_words(value)}"
    return date_in_words(value)


def _officer(user) -> str:
    """An officer as a decision names them: full name, else username."""
    if user is None:
        return "Unknown"
    return user.get_full_name().strip() or user.username


def precise_percent(probability: float, threshold: float = CLUSTER_THRESHOLD) -> str:
    """The probability as a percentage with enough decimals to be on the same side of the
    threshold as the probability itself: 0.79996 is "79.996%", never a rounded "80.0%"."""
    for places in range(1, 6):
        text = f"{probability * 100:.{places}f}"
        if (float(text) >= threshold * 100) == (probability >= threshold):
            return f"{text}%"
    return f"{probability * 100:.6f}%"


def link_explanation(probability: float | None, one_resident: bool) -> str:
    """Why the link did or did not join the two records, in a sentence or two."""
    if probability is None:
        return ""
    threshold = f"{CLUSTER_THRESHOLD:.0%}"
    shown = precise_percent(probability)
    if probability >= CLUSTER_THRESHOLD:
        text = (
            f"The probability, {shown}, is at or above the {threshold} at which records are "
            "linked, so the link joined them as one resident through this pair."
        )
        if not one_resident:
            text += (
                " They are two residents now: a later link or an officer's decision separated them."
            )
        return text
    near = " just" if probability * 100 >= CLUSTER_THRESHOLD * 100 - 0.05 else ""
    text = (
        f"The probability, {shown}, is{near} below the {threshold} at which records are "
        "linked, so the link did not link them through this pair."
    )
    if one_resident:
        text += (
            " They are one resident all the same, because each record matches other records "
            "of that resident closely enough."
        )
    return text


def _record_status(record) -> tuple[str, str]:
    """(status, note) of a record: ended if the dataset no longer holds it, or if the dataset
    gives an end date that has passed; otherwise current."""
    if record.ended_at is not None:
        return f"Ended {_long_date(record.ended_at)}", "No longer in the dataset's latest export"
    if record.valid_to is not None and record.valid_to < timezone.localdate():
        return f"Ended {_long_date(record.valid_to)}", "The dataset gives this end date"
    return "Current", ""


def _dataset_titles(codes) -> dict[str, str]:
    return dict(SourceDataset.objects.filter(code__in=set(codes)).values_list("code", "title"))


@data_use(
    none="Case numbers, dataset titles, record references and match scores; opening a case "
    "records it"
)
@staff_area("residents")
@require_GET
@never_cache
def review_queue(request: HttpRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET if "status" in request.GET else None)
    status = "open"
    if form.is_bound and form.is_valid():
        status = form.cleaned_data["status"] or "open"
    page = Paginator(review.queue("" if status == "all" else status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    cases = list(page.object_list)
    titles = _dataset_titles(
        review.dataset_code(uid) for case in cases for uid in (case.unique_id_l, case.unique_id_r)
    )
    rows = [
        {
            "case": case,
            "records": [
                {
                    "dataset": titles.get(review.dataset_code(uid), review.dataset_code(uid)),
                    "ref": review.record_ref(uid),
                }
                for uid in (case.unique_id_l, case.unique_id_r)
            ],
            "probability": _percent(case.match_probability),
        }
        for case in cases
    ]
    return render(
        request,
        "residents/staff/review_queue.html",
        {
            "form": form,
            "status": status,
            "page_obj": page,
            "rows": rows,
            "page_query": f"status={status}&",
            "notices": list(messages.get_messages(request)),
            "threshold": f"{CLUSTER_THRESHOLD:.0%}",
            "page_title": "Review uncertain matches",
        },
    )


def _record_panel(record, unique_id: str, resident_id: str) -> dict:
    if record is None:
        return {"missing": True, "ref": review.record_ref(unique_id), "resident_id": resident_id}
    status, status_note = _record_status(record)
    return {
        "missing": False,
        "dataset": record.dataset.title,
        "ref": record.record_ref,
        "valid_from": _long_date(record.valid_from),
        "valid_to": _long_date(record.valid_to),
        "status": status,
        "status_note": status_note,
        "resident_id": resident_id,
        "name_as_given": record.full_name.strip(),
    }


@data_use(touches=RESIDENT_DATA, purposes=["residents_match_review"])
@staff_area("residents")
@require_http_methods(["GET", "POST"])
@never_cache
def review_case(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404(ReviewCase, pk=case_id)
    if case.kind != ReviewCase.Kind.PAIR:
        # Referred verifications get their own page when they join the queue.
        raise Http404("No such case")
    left, right = review_evidence.case_records(case)
    try:
        resident_ids = resident_ids_of([case.unique_id_l, case.unique_id_r])
    except ValueError:
        resident_ids = {}
    if not resident_ids:
        # Showing the records must be recorded against the residents they belong to: without
        # the index there is no one to record it against, so nothing is shown.
        return render(
            request,
            "residents/staff/review_unavailable.html",
            {"case": case, "page_title": "Records not in the resident index"},
        )

    decided = case.status == ReviewCase.Status.DECIDED
    changing = request.GET.get("change") == "1" or request.POST.get("change") == "1"
    form = None
    conflict = False
    status = 200
    if request.method == "POST":
        form = DecisionForm(request.POST)
        if decided and not changing:
            # Another officer decided it while this one had the form open.
            conflict = True
            form = None
            status = 409
        elif form.is_valid():
            try:
                review.decide(
                    case,
                    form.cleaned_data["decision"],
                    request.user,
                    form.cleaned_data["note"],
                )
            except review.ReviewError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, SAVED)
                return redirect("residents:review-queue")
    elif not decided or changing:
        form = DecisionForm()

    review.record_case_view(case, request.user, resident_ids.values())
    levels = review_evidence.comparison_levels(left, right) if left and right else {}
    prior_bits = case.prior_bits
    linked_at = case.linked_at
    left_id = resident_ids.get(case.unique_id_l, "")
    one_resident = bool(left_id) and left_id == resident_ids.get(case.unique_id_r)
    return render(
        request,
        "residents/staff/review_case.html",
        {
            "case": case,
            "form": form,
            "conflict": conflict,
            "changing": changing and decided,
            "decided": decided,
            "history": review.pair_history(case),
            "left": _record_panel(left, case.unique_id_l, resident_ids.get(case.unique_id_l, "")),
            "right": _record_panel(right, case.unique_id_r, resident_ids.get(case.unique_id_r, "")),
            "fields": review_evidence.compare_fields(left, right) if left and right else [],
            "parts": review_evidence.explain(case, levels),
            "prior_bits": prior_bits,
            "prior_odds": review_evidence.prior_odds_text(prior_bits)
            if prior_bits is not None
            else "",
            "probability": _percent(case.match_probability),
            "one_resident": left_id if one_resident else "",
            "link_explanation": link_explanation(case.match_probability, one_resident),
            "officer": _officer,
            "changed_since_link": bool(
                linked_at and any(r is not None and r.changed_at > linked_at for r in (left, right))
            ),
            "signed_bits": review_evidence.signed_bits,
            "long_date": _long_date,
            "page_title": f"Review case {case.pk}",
        },
        status=status,
    )


urlpatterns = [
    path("staff/residents/review", review_queue, name="review-queue"),
    path("staff/residents/review/<int:case_id>", review_case, name="review-case"),
]
