"""Forms for subject access: a correction a resident asks for, an officer's subject access
request, its extension, and the owning team's answer to a correction."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from borough.core.date_inputs import add_dates, clean_dates, date_input_params
from borough.transparency.export_models import RectificationRequest, SubjectAccessRequest
from borough.transparency.services import RESIDENT_ID


def _text(label: str, blank: str, *, max_length: int, hint: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=hint,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": blank,
            "max_length": f"{label} must be {max_length:,} characters or fewer",
        },
    )


class RectificationForm(forms.Form):
    what_is_wrong = _text(
        "What is wrong",
        "Enter what is wrong with this record",
        max_length=2000,
        hint="For example, “My surname is spelt wrongly”",
    )
    should_be = _text(
        "What it should be",
        "Enter what the record should say",
        max_length=2000,
        hint="For example, “Smyth, not Smith”",
    )


DATE_PARTS = ["received_day", "received_month", "received_year"]


class SubjectAccessRequestForm(forms.Form):
    requester_name = forms.CharField(
        label="Requester's name",
        help_text="As the request gives it",
        max_length=200,
        error_messages={
            "required": "Enter the name the request gives",
            "max_length": "The name must be 200 characters or fewer",
        },
    )
    requester_contact = forms.CharField(
        label="Where to send the answer",
        help_text="The email or postal address the request gives",
        max_length=300,
        error_messages={
            "required": "Enter where to send the answer",
            "max_length": "Where to send the answer must be 300 characters or fewer",
        },
    )
    identity_check = forms.ChoiceField(
        label="How did you check who they are?",
        choices=SubjectAccessRequest.IdentityCheck.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how you checked who they are"},
    )
    identity_note = forms.CharField(
        label="What you checked (optional)",
        help_text="For example, “Passport seen; council tax account number matched”",
        required=False,
        max_length=500,
        error_messages={"max_length": "What you checked must be 500 characters or fewer"},
    )
    resident_id = forms.CharField(
        label="Resident ID",
        help_text="Find it with “Find a resident” in Resident records",
        max_length=40,
        widget=forms.TextInput(attrs={"spellcheck": False}),
        error_messages={
            "required": "Enter the resident ID you found for them",
            "max_length": "A resident ID is at most 40 characters",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        add_dates(self, "received")
        # The date's parts after the contact, so that its errors come in the page's order.
        self.order_fields(["requester_name", "requester_contact", *DATE_PARTS])

    def clean_resident_id(self) -> str:
        value = self.cleaned_data["resident_id"].strip()
        if not RESIDENT_ID.fullmatch(value):
            raise forms.ValidationError(
                "Enter a resident ID using only letters, numbers, hyphens, underscores, dots "
                "and colons"
            )
        return value

    def clean_received_year(self) -> str:
        # Runs once the day and month are cleaned: the date's error sits in field order.
        clean_dates(
            self, self.data, {"received": ("received", "Enter the date the request arrived")}
        )
        received = self.dates["received"]
        if received and received > timezone.localdate():
            self.wrong_parts["received"] = {"day", "month", "year"}
            self.add_error("received_day", "The date the request arrived must be today or earlier")
        return self.cleaned_data.get("received_year", "")

    def received_input(self) -> dict:
        return date_input_params(
            self,
            "received",
            "When did the request arrive?",
            self.wrong_parts["received"],
            "For example, 27 11 2026",
        )

    def details(self) -> dict:
        data = self.cleaned_data
        return {
            "requester_name": data["requester_name"].strip(),
            "requester_contact": data["requester_contact"].strip(),
            "received_on": self.dates["received"],
            "identity_check": data["identity_check"],
            "identity_note": data["identity_note"].strip(),
            "resident_id": data["resident_id"],
        }


class ExtensionForm(forms.Form):
    reason = _text(
        "Why is this request complex?", "Enter why this request needs more time", max_length=500
    )


class AnswerForm(forms.Form):
    status = forms.ChoiceField(
        label="What did you do?",
        choices=[
            (RectificationRequest.Status.CORRECTED, "Corrected the record"),
            (RectificationRequest.Status.NOT_CHANGED, "Did not change the record"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether you corrected the record"},
    )
    answer = _text(
        "Your answer to the resident",
        "Enter your answer to the resident",
        max_length=2000,
        hint="They will read this. Say what you changed, or why you did not.",
    )
