"""The local provider's card details form, checked the way GOV.UK Pay's payment pages check it."""

from django import forms
from django.utils import timezone

from borough.payments.providers import MOCK_CARDS, MockCard

_NUMERIC = {"inputmode": "numeric", "spellcheck": False}


def luhn_valid(number: str) -> bool:
    """The Luhn check digit is right (every card number has one)."""
    total = 0
    for position, digit in enumerate(int(d) for d in reversed(number)):
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


class CardDetailsForm(forms.Form):
    card_number = forms.CharField(
        label="Card number",
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "cc-number", **_NUMERIC}),
        error_messages={
            "required": "Enter your card number",
            "max_length": "Card number is not the correct length",
        },
    )
    expiry_month = forms.CharField(
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "cc-exp-month", **_NUMERIC}),
    )
    expiry_year = forms.CharField(
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "cc-exp-year", **_NUMERIC}),
    )
    cardholder_name = forms.CharField(
        label="Name on card",
        max_length=255,
        widget=forms.TextInput(attrs={"autocomplete": "cc-name", "spellcheck": False}),
        error_messages={
            "required": "Enter the name as it appears on the card",
            "max_length": "Name on card must be 255 characters or fewer",
        },
    )
    cvc = forms.CharField(
        label="Card security code",
        help_text="The last 3 digits on the back of the card. American Express: the 4 digits on the front.",
        max_length=4,
        widget=forms.TextInput(attrs={"autocomplete": "cc-csc", **_NUMERIC}),
        error_messages={
            "required": "Enter the card security code",
            "max_length": "Enter a valid card security code",
        },
    )

    card: MockCard | None = None
    expiry_error_parts: frozenset[str] = frozenset()

    def clean_card_number(self) -> str:
        number = "".join(self.cleaned_data["card_number"].split()).replace("-", "")
        if not number.isdigit():
            raise forms.ValidationError(
                "Card number must only include numbers 0 to 9", code="non_numeric"
            )
        if not 12 <= len(number) <= 19:
            raise forms.ValidationError("Card number is not the correct length", code="length")
        if not luhn_valid(number):
            raise forms.ValidationError(
                "Enter a valid card number – check you have typed it correctly", code="luhn"
            )
        card = MOCK_CARDS.get(number)
        if card is None:
            raise forms.ValidationError(
                "This is a test payment page: enter one of the test card numbers, "
                "never a real card",
                code="not_a_test_card",
            )
        if card.outcome == "not_accepted":
            raise forms.ValidationError(f"{card.brand} is not supported", code="not_accepted")
        self.card = card
        return number

    def clean_expiry_year(self) -> str:
        # Runs after the month is cleaned, so the error sits on the month, the first part.
        month = self.cleaned_data.get("expiry_month", "").strip()
        year = self.cleaned_data.get("expiry_year", "").strip()
        if not month and not year:
            self._expiry_error("Enter the expiry date", {"month", "year"})
        elif not month:
            self._expiry_error("Expiry date must include a month", {"month"})
        elif not year:
            self._expiry_error("Expiry date must include a year", {"year"})
        elif (
            not (month.isdigit() and year.isdigit()) or len(month) > 2 or not 1 <= int(month) <= 12
        ):
            self._expiry_error("Enter a real expiry date, like 04 28", {"month", "year"})
        elif len(year) not in (2, 4):
            self._expiry_error("Year must include 2 numbers, like 28", {"year"})
        else:
            full_year = int(year) + 2000 if len(year) == 2 else int(year)
            today = timezone.localdate()
            if (full_year, int(month)) < (today.year, today.month):
                self._expiry_error("Enter an expiry date in the future", {"month", "year"})
        return year

    def _expiry_error(self, message: str, parts: set[str]) -> None:
        self.expiry_error_parts = frozenset(parts)
        first = "month" if "month" in parts else "year"
        self.add_error(f"expiry_{first}", forms.ValidationError(message, code="invalid"))

    def clean(self) -> dict:
        cleaned = super().clean()
        cvc = cleaned.get("cvc", "").strip()
        if cvc:
            wanted = self.card.cvc_length if self.card else None
            if not cvc.isdigit() or len(cvc) not in (3, 4) or (wanted and len(cvc) != wanted):
                message = (
                    "Card security code must be 4 digits for American Express"
                    if wanted == 4
                    else "Card security code must be 3 digits"
                )
                self.add_error("cvc", forms.ValidationError(message, code="invalid"))
        return cleaned

    @property
    def last_digits(self) -> str:
        return self.cleaned_data["card_number"][-4:]

    def expiry_input(self) -> dict:
        """Parameters for the GOV.UK date input of the expiry date."""
        error = next(
            (
                self.errors[f"expiry_{p}"][0]
                for p in ("month", "year")
                if f"expiry_{p}" in self.errors
            ),
            None,
        )
        items = []
        for part in ("month", "year"):
            bound = self[f"expiry_{part}"]
            wrong = " govuk-input--error" if part in self.expiry_error_parts else ""
            items.append(
                {
                    "id": bound.auto_id,
                    "name": bound.html_name,
                    "label": part.capitalize(),
                    "classes": (
                        "govuk-input--width-2" if part == "month" else "govuk-input--width-4"
                    )
                    + wrong,
                    "value": bound.value() or "",
                    "autocomplete": bound.field.widget.attrs["autocomplete"],
                    "inputmode": "numeric",
                }
            )
        params = {
            "id": "id_expiry",
            "fieldset": {"legend": {"text": "Expiry date", "classes": "govuk-fieldset__legend--s"}},
            "hint": {"text": "For example, 04 28"},
            "items": items,
        }
        if error:
            params["errorMessage"] = {"text": error}
        return params
