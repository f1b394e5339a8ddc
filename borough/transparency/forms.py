"""The data protection officer's filters for the data-use log (a GET form: every result has a URL)."""

from datetime import date

from django import forms

from borough.core.govuk_forms import govuk_field
from borough.transparency.purposes import purpose_choices, service_choices
from borough.transparency.services import RESIDENT_ID

ANY_TIME = "any"
BETWEEN = "between"
_PARTS = ("day", "month", "year")
#: Each end of the date range: its field prefix, its legend and how its errors name it.
ENDS = {"since": ("From", "‘from’"), "until": ("To", "‘to’")}


def _part_field(part: str) -> forms.CharField:
    return forms.CharField(label=part.capitalize(), required=False)


def _read_date(values: dict[str, str], which: str) -> tuple[date | None, str, set[str]]:
    """A date from its day, month and year as typed: (the date or None, the error, the parts to
    highlight). All three blank is no date and no error."""
    if not any(values.values()):
        return None, "", set()
    missing = [part for part in _PARTS if not values[part]]
    if missing:
        return None, f"The {which} date must include a {' and '.join(missing)}", set(missing)
    if not all(value.isdigit() for value in values.values()):
        return None, f"The {which} date must be a real date", set(_PARTS)
    if len(values["year"]) != 4:
        return None, "Year must include 4 numbers", {"year"}
    try:
        return date(int(values["year"]), int(values["month"]), int(values["day"])), "", set()
    except (ValueError, OverflowError):
        return None, f"The {which} date must be a real date", set(_PARTS)


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
    when = forms.ChoiceField(
        label="When",
        required=False,
        choices=[(ANY_TIME, "Any time"), (BETWEEN, "Between two dates")],
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Select any time or between two dates"},
    )
    since_day = _part_field("day")
    since_month = _part_field("month")
    since_year = _part_field("year")
    until_day = _part_field("day")
    until_month = _part_field("month")
    until_year = _part_field("year")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [("", "Any service"), *service_choices()]
        self.fields["purpose"].choices = [("", "Any purpose"), *purpose_choices()]
        self.dates: dict[str, date | None] = {"since": None, "until": None}
        #: the parts of each date to highlight as wrong
        self.wrong_parts: dict[str, set[str]] = {"since": set(), "until": set()}

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
        typed = any((data.get(f"{end}_{part}") or "").strip() for end in ENDS for part in _PARTS)
        if not data.get("when") and typed:
            data["when"] = BETWEEN  # dates typed without choosing: what they meant
        if data.get("when") != BETWEEN:
            return data
        for end, (_, which) in ENDS.items():
            values = {part: (data.get(f"{end}_{part}") or "").strip() for part in _PARTS}
            day, error, wrong = _read_date(values, which)
            self.dates[end] = day
            if error:
                self.wrong_parts[end] = wrong
                first = next(part for part in _PARTS if part in wrong)
                self.add_error(f"{end}_{first}", error)
        since, until = self.dates["since"], self.dates["until"]
        if not self.errors and since is None and until is None:
            self.wrong_parts["since"] = set(_PARTS)
            self.add_error("since_day", "Enter a ‘from’ date, a ‘to’ date or both")
        elif since and until and until < since:
            self.wrong_parts["until"] = set(_PARTS)
            self.add_error(
                "until_day", "The ‘to’ date must be the same as or after the ‘from’ date"
            )
        return data

    def when_radios(self) -> dict:
        """The GOV.UK radios for "When"; the template adds the dates as the conditional reveal
        of "Between two dates". Dates typed without a choice count as "Between two dates"; with
        no choice and no dates neither is checked (and the log is not filtered by date)."""
        chosen = self.data.get("when") or ""
        typed = any(self.data.get(f"{end}_{part}") for end in ENDS for part in _PARTS)
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

    def date_input(self, end: str) -> dict:
        """The GOV.UK date input's parameters for one end of the range (``since``, ``until``)."""
        legend, _ = ENDS[end]
        items = []
        for part in _PARTS:
            bound = self[f"{end}_{part}"]
            width = "govuk-input--width-4" if part == "year" else "govuk-input--width-2"
            wrong = " govuk-input--error" if part in self.wrong_parts[end] else ""
            items.append(
                {
                    "id": bound.auto_id,
                    "name": bound.html_name,
                    "label": part.capitalize(),
                    "classes": width + wrong,
                    "value": bound.value() or "",
                    "inputmode": "numeric",
                }
            )
        params = {
            "id": f"id_{end}",
            "fieldset": {"legend": {"text": legend, "classes": "govuk-fieldset__legend--s"}},
            "hint": {"text": "For example, 27 3 2026"},
            "items": items,
        }
        errors = [self.errors[f"{end}_{p}"][0] for p in _PARTS if f"{end}_{p}" in self.errors]
        if errors:
            params["errorMessage"] = {"text": errors[0]}
        return params

    def filters(self) -> dict:
        """The keyword arguments for ``queries.events``; call after ``is_valid``."""
        return {
            "resident_id": self.cleaned_data["resident_id"],
            "service": self.cleaned_data["service"],
            "purpose": self.cleaned_data["purpose"],
            "since": self.dates["since"],
            "until": self.dates["until"],
        }
