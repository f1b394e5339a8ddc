"""The data protection officer's filters for the data-use log (a GET form: every result has a URL)."""

from datetime import date

from django import forms

from borough.transparency.purposes import purpose_choices, service_choices
from borough.transparency.services import RESIDENT_ID

DATE_FORMATS = ["%d/%m/%Y", "%d %m %Y", "%d-%m-%Y", "%Y-%m-%d"]


def _date_field(label: str, which: str) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        input_formats=DATE_FORMATS,
        help_text="For example, 27/3/2026",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": False}),
        error_messages={"invalid": f"Enter the {which} date as day/month/year, like 27/3/2026"},
    )


class DataUseFilterForm(forms.Form):
    resident_id = forms.CharField(
        label="Resident ID",
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"spellcheck": False}),
        error_messages={
            "max_length": "A resident ID is at most 40 characters",
        },
    )
    service = forms.ChoiceField(
        label="Service",
        required=False,
        error_messages={"invalid_choice": "Select a service from the list"},
    )
    purpose = forms.ChoiceField(
        label="Purpose",
        required=False,
        error_messages={"invalid_choice": "Select a purpose from the list"},
    )
    since = _date_field("From", "‘from’")
    until = _date_field("To", "‘to’")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [("", "Any service"), *service_choices()]
        self.fields["purpose"].choices = [("", "Any purpose"), *purpose_choices()]

    def clean_resident_id(self) -> str:
        value = self.cleaned_data["resident_id"].strip()
        if value and not RESIDENT_ID.fullmatch(value):
            raise forms.ValidationError(
                "Enter a resident ID using only letters, numbers, hyphens, underscores, dots "
                "and colons",
                code="invalid",
            )
        return value

    def clean(self) -> dict:
        data = super().clean()
        since: date | None = data.get("since")
        until: date | None = data.get("until")
        if since and until and until < since:
            self.add_error("until", "The ‘to’ date must be the same as or after the ‘from’ date")
        return data

    def filters(self) -> dict:
        """The keyword arguments for ``queries.events``; call after ``is_valid``."""
        return {
            "resident_id": self.cleaned_data["resident_id"],
            "service": self.cleaned_data["service"],
            "purpose": self.cleaned_data["purpose"],
            "since": self.cleaned_data["since"],
            "until": self.cleaned_data["until"],
        }
