"""The address picker's forms, for any journey that asks "what is your address?".

A journey shows ``PostcodeForm`` ("What is your postcode?"), looks the postcode up with
``queries.addresses_at`` and shows ``AddressChoiceForm`` with the addresses found. Templates
render both with the macros in ``places/includes/address_picker.html``.
"""

from collections.abc import Sequence

from django import forms
from django.conf import settings

from borough.places.mapping import available_mappings
from borough.places.models import Property
from borough.places.postcodes import (
    EMPTY_MESSAGE,
    INVALID_MESSAGE,
    InvalidPostcode,
    normalise_postcode,
)

DEFAULT_MAPPING = "llpg"
#: Up to this many addresses are radios; more are a select, which is easier to scan.
RADIOS_UP_TO = 30


class PostcodeForm(forms.Form):
    postcode = forms.CharField(
        label="Postcode",
        help_text="For example, E8 1DY",
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "spellcheck": False}),
        error_messages={
            "required": EMPTY_MESSAGE,
            "max_length": INVALID_MESSAGE,
        },
    )

    def clean_postcode(self) -> str:
        try:
            return normalise_postcode(self.cleaned_data["postcode"])
        except InvalidPostcode as error:
            raise forms.ValidationError(error.message, code="invalid") from None


class OptionalPostcodeField(forms.CharField):
    """An optional postcode, normalised (``e81dy`` -> ``E8 1DY``); blank stays blank, anything
    that is not a UK postcode is an error with the postcode module's message."""

    def __init__(self, *, help_text: str = "", **kwargs):
        super().__init__(
            label="Postcode",
            required=False,
            max_length=16,
            help_text=help_text,
            widget=forms.TextInput(attrs={"spellcheck": False}),
            error_messages={"max_length": "Enter a real postcode, like E8 1DY"},
            **kwargs,
        )

    def clean(self, value) -> str:
        raw = super().clean(value)
        if not raw:
            return ""
        try:
            return normalise_postcode(raw)
        except InvalidPostcode as error:
            raise forms.ValidationError(error.message, code="invalid") from None


class AddressChoiceForm(forms.Form):
    """Choose one of ``addresses``; ``cleaned_data["uprn"]`` is the chosen Property."""

    uprn = forms.TypedChoiceField(
        label="Select your address",
        coerce=int,
        error_messages={
            "required": "Select your address",
            "invalid_choice": "Select your address from the list",
        },
    )

    def __init__(self, addresses: Sequence[Property], *args, label: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.addresses = {prop.uprn: prop for prop in addresses}
        field = self.fields["uprn"]
        choices = [(prop.uprn, prop.single_line(include_postcode=False)) for prop in addresses]
        if label:
            field.label = label
        if len(choices) > RADIOS_UP_TO:
            field.widget = forms.Select()
            placeholder = f"{len(choices)} addresses found"
            field.choices = [("", placeholder), *choices]
        else:
            field.widget = forms.RadioSelect()
            field.choices = choices

    def clean_uprn(self) -> Property:
        return self.addresses[self.cleaned_data["uprn"]]

    @property
    def uses_radios(self) -> bool:
        return isinstance(self.fields["uprn"].widget, forms.RadioSelect)


def upload_limit_bytes() -> int:
    return getattr(settings, "BOROUGH_GAZETTEER_UPLOAD_MAX_BYTES", 300 * 1024 * 1024)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):,.0f}MB"


class GazetteerUploadForm(forms.Form):
    file = forms.FileField(
        label="Upload a gazetteer file",
        help_text="A CSV file in UTF-8, as your LLPG or AddressBase supply writes it",
        error_messages={
            "required": "Select a gazetteer file",
            "empty": "The selected file is empty",
            "invalid": "Select a gazetteer file",
        },
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
    )
    mapping = forms.ChoiceField(
        label="Columns",
        help_text="Which export the file is, so Borough knows which column is which",
        error_messages={"required": "Select which export the file is"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        mappings = sorted(available_mappings(), key=lambda m: m.name != DEFAULT_MAPPING)
        self.fields["mapping"].choices = [(m.name, m.description or m.name) for m in mappings]
        self.fields["mapping"].initial = DEFAULT_MAPPING

    @staticmethod
    def too_big_message() -> str:
        return (
            f"The selected file must be smaller than {_megabytes(upload_limit_bytes())}. "
            "For a larger file, use the command line: borough places import FILE"
        )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > upload_limit_bytes():
            raise forms.ValidationError(self.too_big_message(), code="too_big")
        return upload
