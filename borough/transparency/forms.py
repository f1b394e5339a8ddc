"""The data protection officer's filters for the data-use log (a GET form: every result has a URL)."""

from django import forms

from borough.core.date_inputs import (
    PARTS,
    add_dates,
    check_order,
    clean_dates,
    date_input_params,
    typed_parts,
)
from borough.core.govuk_forms import govuk_field
from borough.transparency.purposes import purpose_choices, service_choices
from borough.transparency.services import RESIDENT_ID

ANY_TIME = "any"
BETWEEN = "between"
#: Each end of the date range: its field prefix, its legend and how its errors name it.
ENDS = {"since": ("From", "‘from’"), "until": ("To", "‘to’")}


class DateRangeInputs:
    """The From and To GOV.UK date inputs of a form filtering the log by date (``ENDS``)."""

    ORDER_MESSAGE = "The ‘to’ date must be the same as or after the ‘from’ date"

    def date_input(self, end: str) -> dict:
        """The GOV.UK date input's parameters for one end of the range (``since``, ``until``)."""
        legend, _ = ENDS[end]
        return date_input_params(self, end, legend, self.wrong_parts[end], "For example, 27 3 2026")


class DataUseFilterForm(DateRangeInputs, forms.Form):
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
    #: A staff account's username, from the links on "Unusual access"; shown, not typed.
    officer = forms.CharField(required=False, max_length=150, widget=forms.HiddenInput)
    when = forms.ChoiceField(
        label="When",
        required=False,
        choices=[(ANY_TIME, "Any time"), (BETWEEN, "Between two dates")],
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Select any time or between two dates"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [("", "Any service"), *service_choices()]
        self.fields["purpose"].choices = [("", "Any purpose"), *purpose_choices()]
        add_dates(self, *ENDS)

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
        typed = any(any(typed_parts(data, end).values()) for end in ENDS)
        if not data.get("when") and typed:
            data["when"] = BETWEEN  # dates typed without choosing: what they meant
        if data.get("when") != BETWEEN:
            return data
        clean_dates(self, data, {end: (which, "") for end, (_, which) in ENDS.items()})
        since, until = self.dates["since"], self.dates["until"]
        if not self.errors and since is None and until is None:
            self.wrong_parts["since"] = set(PARTS)
            self.add_error("since_day", "Enter a ‘from’ date, a ‘to’ date or both")
        else:
            check_order(self, "since", "until", self.ORDER_MESSAGE)
        return data

    def when_radios(self) -> dict:
        """The GOV.UK radios for "When"; the template adds the dates as the conditional reveal
        of "Between two dates". Dates typed without a choice count as "Between two dates"; with
        no choice and no dates neither is checked (and the log is not filtered by date)."""
        chosen = self.data.get("when") or ""
        typed = any(any(typed_parts(self.data, end).values()) for end in ENDS)
        if chosen not in (ANY_TIME, BETWEEN):
            # Nothing chosen is any time, but neither is checked: without JavaScript both dates
            # show, and an officer who types them without choosing means "between".
            chosen = BETWEEN if typed else ""
        params = govuk_field(
            self["when"],
            fieldset={"legend": {"text": "When", "classes": "govuk-fieldset__legend--s"}},
        )
        for item in params["items"]:
            item["checked"] = item["value"] == chosen
        return params

    def filters(self) -> dict:
        """The keyword arguments for ``queries.events``; call after ``is_valid``."""
        return {
            "resident_id": self.cleaned_data["resident_id"],
            "service": self.cleaned_data["service"],
            "purpose": self.cleaned_data["purpose"],
            "since": self.dates["since"],
            "until": self.dates["until"],
            "officer": self.cleaned_data["officer"].strip(),
        }


class ReleaseForm(forms.Form):
    """The data protection officer's reason for releasing a held-back entry."""

    reason = forms.CharField(
        label="Why are you releasing this entry?",
        help_text="For example, the investigation has ended. This is kept with the release; "
        "the resident is not shown it.",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": "Enter why you are releasing this entry",
            "max_length": "The reason must be 1000 characters or fewer",
        },
    )
