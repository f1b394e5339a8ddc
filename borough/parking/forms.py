"""The resident journey's questions, one a page, with GOV.UK error messages."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from borough.core.documents import DocumentProblem, check_document
from borough.core.govuk_forms import NameAndDateOfBirthForm
from borough.parking.controlled_hours import read_time
from borough.parking.permit_changes import ProofAllowance, megabytes
from borough.parking.registrations import InvalidRegistration, parse_vrm


class WhoForm(NameAndDateOfBirthForm):
    date_hint = "For example, 27 3 1980. We use it to find your council records."


class VehicleForm(forms.Form):
    vrm = forms.CharField(
        label="What is your vehicle's registration number?",
        max_length=20,
        help_text="For example, AB12 CDE",
        widget=forms.TextInput(
            attrs={"spellcheck": False, "autocomplete": "off", "class": "govuk-input--width-10"}
        ),
        error_messages={
            "required": "Enter your vehicle registration number, like AB12 CDE",
            "max_length": "A vehicle registration number is 7 characters or fewer, like AB12 CDE",
        },
    )

    def clean_vrm(self):
        try:
            return parse_vrm(self.cleaned_data["vrm"])
        except InvalidRegistration as error:
            raise forms.ValidationError(error.message, code="invalid") from None


class ConfirmVehicleForm(forms.Form):
    confirm = forms.ChoiceField(
        label="Is this your vehicle?",
        choices=[("yes", "Yes"), ("no", "No, enter the registration again")],
        widget=forms.RadioSelect,
        error_messages={"required": "Select yes if this is your vehicle"},
    )


class DurationForm(forms.Form):
    months = forms.TypedChoiceField(
        label="How long do you want the permit for?",
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select how long you want the permit for",
            "invalid_choice": "Select how long you want the permit for",
        },
    )

    def __init__(self, options: list[tuple[int, str]], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["months"].choices = options


class EnforcementForm(forms.Form):
    vrm = VehicleForm.base_fields["vrm"]
    zone = forms.ChoiceField(
        label="Zone",
        error_messages={"required": "Select the zone", "invalid_choice": "Select the zone"},
    )

    def __init__(self, zones: list[tuple[str, str]], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vrm"] = VehicleForm.base_fields["vrm"].__class__(
            label="Registration number",
            max_length=20,
            widget=forms.TextInput(attrs={"spellcheck": False, "autocomplete": "off"}),
            error_messages=VehicleForm.base_fields["vrm"].error_messages,
        )
        # Setting ``choices`` fills the field's widget too: never replace the widget after it
        # (the list would render empty while the field still validated).
        self.fields["zone"].choices = [("", "Choose a zone"), *zones]

    def clean_vrm(self):
        return VehicleForm.clean_vrm(self)


class VisitorForm(forms.Form):
    """A visitor session: the registration, when it starts (now, or a day and time ahead) and
    for how many hours. ``starts_at`` is the aware start once the form is valid."""

    vrm = forms.CharField(
        label="Visitor's vehicle registration number",
        max_length=20,
        help_text="For example, AB12 CDE",
        widget=forms.TextInput(attrs={"spellcheck": False, "autocomplete": "off"}),
        error_messages=VehicleForm.base_fields["vrm"].error_messages,
    )
    when = forms.ChoiceField(
        label="When does your visitor arrive?",
        choices=[("now", "Now"), ("later", "Another day or time")],
        widget=forms.RadioSelect,
        initial="now",
        error_messages={
            "required": "Select when your visitor arrives",
            "invalid_choice": "Select when your visitor arrives",
        },
    )
    day = forms.CharField(label="Day", required=False, max_length=2)
    month = forms.CharField(label="Month", required=False, max_length=2)
    year = forms.CharField(label="Year", required=False, max_length=4)
    time = forms.CharField(
        label="Time",
        required=False,
        max_length=10,
        help_text="For example, 9:30am or 2pm",
        widget=forms.TextInput(attrs={"class": "govuk-input--width-5", "autocomplete": "off"}),
    )
    hours = forms.IntegerField(
        label="How many hours?",
        min_value=1,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "govuk-input--width-3"}),
        error_messages={
            "required": "Enter how many hours your visitor needs",
            "invalid": "Hours must be a whole number, like 3",
            "min_value": "Hours must be 1 or more",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.starts_at: dt.datetime | None = None
        self.date_error = False

    def clean_vrm(self):
        return VehicleForm.clean_vrm(self)

    def clean(self):
        data = super().clean()
        now = timezone.now()
        if data.get("when") == "now":
            self.starts_at = now
        elif data.get("when") == "later":
            self.starts_at = self._later(data, now)
        return data

    def _later(self, data: dict, now: dt.datetime) -> dt.datetime | None:
        parts = [data.get(name, "").strip() for name in ("day", "month", "year")]
        day = None
        if not any(parts):
            self._date_problem("Enter the day your visitor arrives")
        elif not all(part.isdigit() for part in parts):
            self._date_problem("The day your visitor arrives must be a real date, like 24 12 2026")
        else:
            try:
                day = dt.date(int(parts[2]), int(parts[1]), int(parts[0]))
            except ValueError:
                self._date_problem(
                    "The day your visitor arrives must be a real date, like 24 12 2026"
                )
        text = data.get("time", "").strip()
        time = read_time(text) if text else None
        if not text:
            self.add_error("time", "Enter the time your visitor arrives, like 9:30am or 2pm")
        elif time is None:
            self.add_error("time", "Enter a real time, like 9:30am or 2pm")
        if day is None or time is None:
            return None
        starts = timezone.make_aware(dt.datetime.combine(day, time))
        if starts < now - dt.timedelta(minutes=1):
            self.add_error(
                "time" if day == timezone.localdate(now) else "day",
                "The time your visitor arrives must be now or later",
            )
            return None
        return starts

    def _date_problem(self, message: str) -> None:
        self.add_error("day", message)
        self.date_error = True

    def date_input(self) -> dict:
        """The GOV.UK date input's parameters for the day the visitor arrives."""
        items = []
        for name in ("day", "month", "year"):
            bound = self[name]
            width = "govuk-input--width-4" if name == "year" else "govuk-input--width-2"
            items.append(
                {
                    "id": bound.auto_id,
                    "name": bound.html_name,
                    "label": name.capitalize(),
                    "classes": width + (" govuk-input--error" if self.date_error else ""),
                    "value": bound.value() or "",
                    "inputmode": "numeric",
                }
            )
        params = {
            "id": "visit-date",
            "fieldset": {"legend": {"text": "Date", "classes": "govuk-fieldset__legend--s"}},
            "hint": {"text": "For example, 24 12 2026"},
            "items": items,
        }
        if "day" in self.errors:
            params["errorMessage"] = {"text": self.errors["day"][0]}
        return params


# -- the resident manages their permit ----------------------------------------------------


class ProofForm(forms.Form):
    """A document sent as proof. The file is what Pillow or pypdf can open it as, checked whole
    (``borough.core.documents``), never what its name, content type or first bytes say; and it
    must fit the permit's allowance (``permit_changes.proof_allowance``: how many documents, how big
    each and all of them together), which the page states."""

    kind = forms.ChoiceField(
        label="What is the document?",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select what the document is",
            "invalid_choice": "Select what the document is",
        },
    )
    file = forms.FileField(
        label="Upload the document",
        error_messages={
            "required": "Select a file",
            "empty": "The selected file is empty",
            "missing": "Select a file",
            "invalid": "Select a file",
        },
    )

    def __init__(self, kinds: dict[str, str], allowance: ProofAllowance, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = list(kinds.items())
        largest = megabytes(allowance.max_file_bytes)
        self.fields["file"].help_text = f"A PDF, JPG or PNG, smaller than {largest}"
        self.allowance = allowance
        self.content_type = ""
        self.extension = ""

    def clean_file(self):
        upload = self.cleaned_data["file"]
        refusal = self.allowance.refusal(upload.size)
        if refusal:
            raise forms.ValidationError(refusal, "size")
        try:
            document = check_document(upload)
        except DocumentProblem as problem:
            raise forms.ValidationError(problem.message, problem.code) from None
        self.content_type, self.extension = document.content_type, document.extension
        return upload


class RecordWrongForm(forms.Form):
    message = forms.CharField(
        label="What is wrong with the record?",
        help_text="For example, the dates you lived at the address, or a name spelt wrongly",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": "Enter what is wrong with the record",
            "max_length": "What is wrong must be 500 characters or fewer",
        },
    )
