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
in a URL.
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
from borough.core.govuk_forms import DateOfBirthMixin, govuk_field
from borough.places.forms import OptionalPostcodeField
from borough.places.models import Property
from borough.places.queries import addresses_at
from borough.residents import standardise as std
from borough.residents.api import verification_out
from borough.residents.reasons import (
    REASON_TITLES,
    case_reference_field,
    check_actor_label,
    clean_case_reference,
    reason_field,
)
from borough.residents.record_queries import index_problem
from borough.residents.verification.engine import Applicant, ApplicantError
from borough.residents.verification.models import Verification
from borough.residents.verification.policies import PolicyError, policies
from borough.residents.verification.review import (
    CONFIRMED,
    NOTE_MAX,
    REJECTED,
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
from borough.transparency.models import ActorKind
from borough.transparency.purposes import PURPOSES

PAGE_SIZE = 50
REFERENCE = re.compile(r"V-[0-9A-Z]{10}")
NOT_LISTED = "not_listed"
TITLE_CHECK = "Check a resident's details"
TITLE_ADDRESS = "Select the applicant's address"
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


def _text(label: str, *, required: bool = False, required_message: str = "", **attrs):
    messages_ = {"max_length": f"{label} must be 100 characters or fewer"}
    if required_message:
        messages_["required"] = required_message
    return forms.CharField(
        label=label,
        required=required,
        max_length=100,
        widget=forms.TextInput(attrs={"spellcheck": False, **attrs}),
        error_messages=messages_,
    )


class VerifyForm(DateOfBirthMixin, forms.Form):
    earliest_year = 1900  # as the API: no one on the records was born earlier
    """The applicant's details as an officer enters them."""

    purpose = forms.ChoiceField(
        label="What is the check for?",
        widget=forms.RadioSelect,
        help_text="The purpose's policy says which records prove it. The check is recorded in "
        "the data-use log of the resident it matches, with this purpose.",
        error_messages={
            "required": "Select what the check is for",
            "invalid_choice": "Select what the check is for",
        },
    )
    first_name = _text("First name", required=True, required_message="Enter a first name")
    middle_names = _text("Middle names (optional)")
    surname = _text("Surname", required=True, required_message="Enter a surname")
    dob_day = forms.CharField(label="Day", required=False)
    dob_month = forms.CharField(label="Month", required=False)
    dob_year = forms.CharField(label="Year", required=False)
    postcode = OptionalPostcodeField(help_text="You choose the address at this postcode next")
    uprn = forms.CharField(
        label="UPRN (optional)",
        required=False,
        max_length=20,
        help_text="The property's Unique Property Reference Number, if you know it: then you do "
        "not need to choose the address",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": False}),
        error_messages={"max_length": "A UPRN is a whole number of up to 12 digits"},
    )
    reason = reason_field(
        label="Why are you checking these details?",
        required_message="Select why you are checking these details",
        help_text="The check is recorded in the data-use log with your reason.",
    )
    case_reference = case_reference_field()
    email = forms.EmailField(
        label="Email address (optional)",
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"spellcheck": False}),
        error_messages={
            "invalid": "Enter an email address in the correct format, like name@example.com",
            "max_length": "Email address must be 254 characters or fewer",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purpose"].choices = [
            (code, policy.title) for code, policy in policies().items()
        ]
        for name in ("first_name", "middle_names", "surname", "postcode", "uprn"):
            # The server checks lengths and explains; the browser must not cut text off.
            self.fields[name].widget.attrs.pop("maxlength", None)
        self.property: Property | None = None

    def _name(self, name: str, message: str) -> str:
        value = self.cleaned_data[name].strip()
        if value and not std.standardise_name(value):
            raise forms.ValidationError(message, code="invalid")
        return value

    def clean_first_name(self) -> str:
        return self._name("first_name", "Enter a first name using letters")

    def clean_middle_names(self) -> str:
        return self._name("middle_names", "Enter middle names using letters")

    def clean_surname(self) -> str:
        return self._name("surname", "Enter a surname using letters")

    def clean_case_reference(self) -> str:
        return clean_case_reference(self.cleaned_data["case_reference"])

    def actor_label(self) -> str:
        """Who checked and why, for the data-use log (``reasons.check_actor_label``)."""
        return check_actor_label(self.cleaned_data["reason"], self.cleaned_data["case_reference"])

    def clean_uprn(self) -> int | None:
        raw = re.sub(r"\s", "", self.cleaned_data["uprn"])
        if not raw:
            return None
        if not raw.isdigit() or not 0 < int(raw) < 10**12:
            raise forms.ValidationError(
                "A UPRN is a whole number of up to 12 digits", code="invalid"
            )
        uprn = int(raw)
        gazetteer = Property.objects.all()
        if gazetteer.exists():
            self.property = gazetteer.filter(uprn=uprn).first()
            if self.property is None:
                raise forms.ValidationError(
                    "Enter a UPRN that is in the council's gazetteer", code="unknown"
                )
        return uprn

    def clean(self):
        data = super().clean()
        if (
            "postcode" not in self.errors
            and "uprn" not in self.errors
            and not data.get("postcode")
            and data.get("uprn") is None
        ):
            self.add_error(
                "postcode",
                forms.ValidationError("Enter the applicant's postcode", code="required"),
            )
        return data

    def applicant(self, address: Property | None = None, *, not_listed: bool = False) -> Applicant:
        data = self.cleaned_data
        chosen = address or self.property
        postcode = data["postcode"]
        if chosen is not None and not postcode:
            postcode = chosen.postcode or ""
        return Applicant(
            first_name=data["first_name"],
            middle_names=data["middle_names"],
            surname=data["surname"],
            date_of_birth=self.date_of_birth,
            uprn=None if not_listed else (address.uprn if address else data["uprn"]),
            postcode=postcode,
            address=address.single_line(include_postcode=False) if address else "",
            email=data["email"],
        )


class AddressForm(forms.Form):
    """One of the gazetteer's addresses at the postcode, or "not in the list"."""

    address = forms.ChoiceField(
        label=TITLE_ADDRESS,
        error_messages={
            "required": "Select the applicant's address",
            "invalid_choice": "Select the applicant's address from the list",
        },
    )

    def __init__(self, addresses: list[Property], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.addresses = {str(prop.uprn): prop for prop in addresses}
        choices = [
            (uprn, prop.single_line(include_postcode=False))
            for uprn, prop in self.addresses.items()
        ]
        field = self.fields["address"]
        last = (NOT_LISTED, "The address is not in the list")
        if len(choices) > 30:
            field.widget = forms.Select()
            field.choices = [("", f"{len(choices)} addresses found"), *choices, last]
        else:
            field.widget = forms.RadioSelect()
            field.choices = [*choices, last]

    @property
    def uses_radios(self) -> bool:
        return isinstance(self.fields["address"].widget, forms.RadioSelect)

    def params(self) -> dict:
        """The GOV.UK radios or select, with an "or" before "not in the list"."""
        bound = self["address"]
        if self.uses_radios:
            params = govuk_field(
                bound,
                fieldset={
                    "legend": {
                        "text": TITLE_ADDRESS,
                        "isPageHeading": True,
                        "classes": "govuk-fieldset__legend--l",
                    }
                },
            )
            items = params["items"]
            params["items"] = [*items[:-1], {"divider": "or"}, items[-1]]
        else:
            params = govuk_field(
                bound,
                label={"text": TITLE_ADDRESS, "isPageHeading": True, "classes": "govuk-label--l"},
            )
        return params


class ReferralForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Your decision",
        widget=forms.RadioSelect,
        choices=[
            (CONFIRMED, "Confirm: the applicant is this resident and the proof is enough"),
            (REJECTED, "Cannot confirm"),
        ],
        error_messages={
            "required": "Select whether you can confirm the check",
            "invalid_choice": "Select whether you can confirm the check",
        },
    )
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=NOTE_MAX,
        help_text="Why you decided, for the officers after you. Needed if you cannot confirm. "
        f"Up to {NOTE_MAX} characters. Do not repeat the applicant's details.",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": f"Note must be {NOTE_MAX} characters or fewer"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["note"].widget.attrs.pop("maxlength", None)

    def clean(self):
        data = super().clean()
        if data.get("outcome") == REJECTED and not (data.get("note") or "").strip():
            self.add_error(
                "note", forms.ValidationError("Enter why you cannot confirm it", code="required")
            )
        return data


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
