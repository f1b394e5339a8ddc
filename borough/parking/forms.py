"""The resident journey's questions, one a page, with GOV.UK error messages."""

from __future__ import annotations

from django import forms

from borough.core.documents import DocumentProblem, check_document
from borough.core.govuk_forms import NameAndDateOfBirthForm
from borough.parking.services import ProofAllowance, megabytes
from borough.parking.vehicles import InvalidRegistration, parse_vrm


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
    vrm = forms.CharField(
        label="Visitor's vehicle registration number",
        max_length=20,
        help_text="For example, AB12 CDE",
        widget=forms.TextInput(attrs={"spellcheck": False, "autocomplete": "off"}),
        error_messages=VehicleForm.base_fields["vrm"].error_messages,
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

    def clean_vrm(self):
        return VehicleForm.clean_vrm(self)


# -- the resident manages their permit ----------------------------------------------------


class ProofForm(forms.Form):
    """A document sent as proof. The file is what Pillow or pypdf can open it as, checked whole
    (``borough.core.documents``), never what its name, content type or first bytes say; and it
    must fit the permit's allowance (``services.proof_allowance``: how many documents, how big
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
