"""The forms of the staff verification pages (``verification_views``): an applicant's details
as an officer enters them, with the officer's reason; the address at the postcode; the decision
on a referral."""

from __future__ import annotations

import re

from django import forms

from borough.core.govuk_forms import DateOfBirthMixin, govuk_field
from borough.places.forms import OptionalPostcodeField
from borough.places.models import Property
from borough.residents import standardise as std
from borough.residents.reasons import (
    case_reference_field,
    check_actor_label,
    clean_case_reference,
    reason_field,
)
from borough.residents.verification.engine import Applicant
from borough.residents.verification.policies import policies
from borough.residents.verification.review import CONFIRMED, NOTE_MAX, REJECTED

NOT_LISTED = "not_listed"
TITLE_ADDRESS = "Select the applicant's address"


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
