"""Staff pages to try the verification service and to decide referred verifications.

- "Check a resident's details" (``residents:verify``): an officer enters an applicant's details
  and a purpose; the address is a postcode, then the address chosen from the gazetteer (or a
  UPRN typed in). ``verify`` stores the verification and writes its data-use event; the page
  redirects to the verification.
- A verification (``residents:verification``): the decision, the reasons and the evidence. An
  officer whose role the purpose's policy allows also sees the records' values, and that view is
  recorded (``api.verification_out``). An open referral has the decision form
  (``verification/review.py``).
- "Referred verifications" (``residents:referrals``): open referrals, oldest first. The list
  holds no personal data, so browsing it is not recorded.

Everything is a POST form or a page addressed by the verification's reference: no personal data
in a URL. The forms are in ``verification_forms.py``.
"""

from __future__ import annotations

import re
from datetime import date

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from borough.core.access import staff_area
from borough.core.dates import date_in_words, time_in_words
from borough.places.queries import addresses_at
from borough.residents.api import verification_out
from borough.residents.reasons import REASON_TITLES
from borough.residents.record_queries import index_problem
from borough.residents.verification.engine import Applicant, ApplicantError
from borough.residents.verification.models import Verification
from borough.residents.verification.policies import PolicyError, policies
from borough.residents.verification.review import (
    CONFIRMED,
    AlreadyReviewed,
    ReviewError,
    open_referrals,
    review_referral,
)
from borough.residents.verification.service import (
    VerificationUnavailable,
    may_see_fields,
    verify,
)
from borough.residents.verification_forms import (
    NOT_LISTED,
    TITLE_ADDRESS,
    AddressForm,
    ReferralForm,
    VerifyForm,
)
from borough.transparency.coverage import RESIDENT_DATA, data_use
from borough.transparency.models import ActorKind
from borough.transparency.purposes import PURPOSES

PAGE_SIZE = 50
REFERENCE = re.compile(r"V-[0-9A-Z]{10}")
TITLE_CHECK = "Check a resident's details"
TITLE_QUEUE = "Referred verifications"

#: The fields in the order the page shows them, as they appear in the decision's evidence.
FIELD_NAMES = [
    ("first_name", "First name"),
    ("middle_names", "Middle names"),
    ("surname", "Surname"),
    ("date_of_birth", "Date of birth"),
    ("address", "Address"),
    ("email", "Email address"),
]
#: ``ApplicantError.field`` → the form field that shows the message.
_ERROR_FIELDS = {
    "purpose": "purpose",
    "first_name": "first_name",
    "middle_names": "middle_names",
    "surname": "surname",
    "date_of_birth": "dob_day",
    "postcode": "postcode",
    "uprn": "uprn",
    "email": "email",
}


# -- helpers ---------------------------------------------------------------------------------


def _percent(probability: float | None) -> str:
    # As the decision's reasons give it (``engine._PERCENT``).
    return "" if probability is None else f"{probability:.2%}"


def _long_date(value) -> str:
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    if hasattr(value, "hour"):
        return f"{date_in_words(value)} at {time_in_words(value)}"
    return date_in_words(value)


def _purpose_title(code: str) -> str:
    try:
        policy = policies().get(code)
    except PolicyError:
        policy = None
    if policy is not None:
        return policy.title
    purpose = PURPOSES.get(code)
    return purpose.title if purpose else code


def _who(user, label: str = "") -> str:
    if user is not None:
        return user.get_full_name() or user.username
    return label or "Unknown"


def _reason_given(verification: Verification) -> str:
    """The officer's reason for a check made on "Check a resident's details", from the label
    the data-use log holds ("Council officer: checking a service application (case X)")."""
    if verification.actor_kind != ActorKind.STAFF:
        return ""
    label = verification.actor_label.removeprefix("Council officer: ").partition(" (case ")[0]
    titles = {title.lower(): title for title in REASON_TITLES.values()}
    return titles.get(label.lower(), "")


def _unavailable(request: HttpRequest, problem: str, title: str, status: int = 200) -> HttpResponse:
    return render(
        request,
        "residents/staff/verification_unavailable.html",
        {"problem": problem, "page_title": title},
        status=status,
    )


# -- check a resident's details ----------------------------------------------------------------


def _details_page(request: HttpRequest, form: VerifyForm, status: int = 200) -> HttpResponse:
    return render(
        request,
        "residents/staff/verification_check.html",
        {"form": form, "date_input": form.date_input(), "page_title": TITLE_CHECK},
        status=status,
    )


def _address_page(request, details: VerifyForm, choice: AddressForm, postcode: str) -> HttpResponse:
    carried = [(name, details.data.get(name, "")) for name in VerifyForm.base_fields]
    return render(
        request,
        "residents/staff/verification_address.html",
        {
            "form": choice,
            "address_params": choice.params(),
            "uses_radios": choice.uses_radios,
            "carried": carried,
            "postcode": postcode,
            "count": len(choice.addresses),
            "page_title": TITLE_ADDRESS,
        },
    )


def _run_check(request: HttpRequest, form: VerifyForm, applicant: Applicant) -> HttpResponse:
    try:
        verification = verify(
            applicant,
            form.cleaned_data["purpose"],
            actor=request.user,
            actor_kind=ActorKind.STAFF,
            actor_label=form.actor_label(),
            caller_reference=form.cleaned_data["case_reference"],
        )
    except ApplicantError as error:
        form.add_error(_ERROR_FIELDS.get(error.field), forms.ValidationError(error.message))
        return _details_page(request, form)
    except VerificationUnavailable as error:
        return _unavailable(request, str(error), TITLE_CHECK, status=503)
    return redirect("residents:verification", reference=verification.reference)


@data_use(
    touches=RESIDENT_DATA,
    purposes=["parking_permit_residency_check", "housing_tenant_verification"],
)
@staff_area("residents")
@require_http_methods(["GET", "POST"])
@never_cache
def check(request: HttpRequest) -> HttpResponse:
    problem = index_problem()
    if problem:
        return _unavailable(request, problem, TITLE_CHECK)
    try:
        policies()
    except PolicyError as error:
        return _unavailable(request, str(error), TITLE_CHECK)
    if request.method == "GET":
        return _details_page(request, VerifyForm())

    form = VerifyForm(request.POST)
    step = request.POST.get("step", "details")
    if step == "address" and "change" in request.POST:
        return _details_page(request, form)
    if not form.is_valid():
        return _details_page(request, form)
    data = form.cleaned_data
    if data["uprn"] is not None or not data["postcode"]:
        return _run_check(request, form, form.applicant())
    addresses = addresses_at(data["postcode"])
    if not addresses:
        # The gazetteer has nothing there: check on the postcode alone.
        return _run_check(request, form, form.applicant())
    if step != "address":
        return _address_page(request, form, AddressForm(addresses), data["postcode"])
    choice = AddressForm(addresses, request.POST)
    if not choice.is_valid():
        return _address_page(request, form, choice, data["postcode"])
    picked = choice.cleaned_data["address"]
    if picked == NOT_LISTED:
        return _run_check(request, form, form.applicant(not_listed=True))
    return _run_check(request, form, form.applicant(choice.addresses[picked]))


# -- a verification ------------------------------------------------------------------------------


def _evidence_rows(evidence: list[dict]) -> list[dict]:
    rows = []
    for item in evidence:
        agreed = item.get("fields") or {}
        rows.append(
            {
                **item,
                "valid_from_text": _long_date(item.get("valid_from")),
                "valid_to_text": _long_date(item.get("valid_to")),
                "probability_text": _percent(item.get("match_probability")),
                "field_list": [
                    (label, agreed[name]) for name, label in FIELD_NAMES if name in agreed
                ],
                "record_text": _record_text(item.get("record")),
            }
        )
    return rows


def _record_text(record: dict | None) -> list[tuple[str, str]] | None:
    if record is None:
        return None
    return [
        ("Name", record.get("name") or ""),
        ("Date of birth", _long_date(record.get("date_of_birth"))),
        ("Address", record.get("address") or ""),
        ("Postcode", record.get("postcode") or ""),
        ("UPRN", str(record["uprn"]) if record.get("uprn") else ""),
    ]


def _applicant_rows(applicant: dict) -> list[tuple[str, str]]:
    return [
        ("First name", applicant.get("first_name") or ""),
        ("Middle names", applicant.get("middle_names") or ""),
        ("Surname", applicant.get("surname") or ""),
        ("Date of birth", _long_date(applicant.get("date_of_birth"))),
        ("Address", applicant.get("address") or ""),
        ("Postcode", applicant.get("postcode") or ""),
        ("UPRN", str(applicant["uprn"]) if applicant.get("uprn") else ""),
        ("Email address", applicant.get("email") or ""),
    ]


def _verification_page(
    request: HttpRequest,
    verification: Verification,
    form: ReferralForm | None,
    *,
    conflict: bool = False,
    status: int = 200,
) -> HttpResponse:
    try:
        policy = policies().get(verification.purpose)
    except PolicyError:
        policy = None
    viewer = request.user if policy is not None and may_see_fields(request.user, policy) else None
    # staff see how each field matched; the records' values only in the policy's roles (and
    # that view is recorded)
    shown = verification_out(verification, viewer, level="staff")
    rows = _evidence_rows(shown["evidence"])
    return render(
        request,
        "residents/staff/verification_detail.html",
        {
            "v": verification,
            "form": form,
            "conflict": conflict,
            "purpose_title": _purpose_title(verification.purpose),
            "probability": _percent(verification.match_probability),
            "evidence": rows,
            "sees_values": any(row["record_text"] is not None for row in rows),
            "may_see": viewer is not None,
            "applicant_rows": _applicant_rows(verification.applicant or {}),
            "checked_by": _who(verification.actor_user, verification.actor_label),
            "reason_given": _reason_given(verification),
            "reviewed_by": _who(verification.reviewed_by) if verification.reviewed_at else "",
            "long_date": _long_date,
            "notices": list(messages.get_messages(request)),
            "page_title": f"Verification {verification.reference}",
        },
        status=status,
    )


def _verification_or_404(reference: str) -> Verification:
    if not REFERENCE.fullmatch(reference):
        raise Http404("No such verification")
    found = (
        Verification.objects.select_related("actor_user", "reviewed_by")
        .filter(reference=reference)
        .first()
    )
    if found is None:
        raise Http404("No such verification")
    return found


@data_use(
    touches=RESIDENT_DATA,
    purposes=["parking_permit_residency_check", "housing_tenant_verification"],
)
@staff_area("residents")
@require_http_methods(["GET", "POST"])
@never_cache
def verification(request: HttpRequest, reference: str) -> HttpResponse:
    found = _verification_or_404(reference)
    is_open = found.review == Verification.Review.OPEN
    if request.method == "GET":
        return _verification_page(request, found, ReferralForm() if is_open else None)
    if not is_open:
        # Decided by another officer while this one had the form open (or never referred).
        return _verification_page(request, found, None, conflict=True, status=409)
    form = ReferralForm(request.POST)
    if form.is_valid():
        try:
            review_referral(
                found, form.cleaned_data["outcome"], request.user, form.cleaned_data["note"]
            )
        except AlreadyReviewed:
            found.refresh_from_db()
            return _verification_page(request, found, None, conflict=True, status=409)
        except ReviewError as error:
            form.add_error("note", str(error))
        else:
            outcome = "confirmed" if form.cleaned_data["outcome"] == CONFIRMED else "not confirmed"
            messages.success(request, f"Decision saved: verification {found.reference} {outcome}.")
            return redirect("residents:referrals")
    return _verification_page(request, found, form)


# -- the queue -------------------------------------------------------------------------------


@data_use(none="Verification references, purposes, dates and scores; opening one records it")
@staff_area("residents")
@require_GET
@never_cache
def referrals(request: HttpRequest) -> HttpResponse:
    page = Paginator(open_referrals(), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "reference": v.reference,
            "purpose": _purpose_title(v.purpose),
            "when": _long_date(v.requested_at),
            "probability": _percent(v.match_probability),
        }
        for v in page.object_list
    ]
    return render(
        request,
        "residents/staff/verification_referrals.html",
        {
            "page_obj": page,
            "rows": rows,
            "notices": list(messages.get_messages(request)),
            "page_title": TITLE_QUEUE,
        },
    )


urlpatterns = [
    path("staff/residents/verifications/check", check, name="verify"),
    path("staff/residents/verifications/referred", referrals, name="referrals"),
    path("staff/residents/verifications/<str:reference>", verification, name="verification"),
]
