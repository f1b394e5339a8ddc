"""The forms of the Direct Debit pages: the tenant's questions (name on the account, bank
details, the account holder, how often, which day) and the finance officer's Bacs report upload.
Each checks what it can without the database; the rules are in direct_debit.py and bacs/."""

from __future__ import annotations

from django import forms

from borough.housing import accounts, direct_debit
from borough.housing.bacs import modulus
from borough.housing.models import Mandate
from borough.places.forms import upload_limit_bytes


class HolderForm(forms.Form):
    holder = forms.CharField(
        label="What is the name on the bank account?",
        max_length=60,
        help_text="As it appears on your bank statement or card",
        widget=forms.TextInput(attrs={"autocomplete": "name", "spellcheck": False}),
        error_messages={
            "required": "Enter the name on the account",
            "max_length": "The name on the account must be 60 characters or fewer",
        },
    )

    def clean_holder(self):
        value = " ".join(self.cleaned_data["holder"].split())
        problem = direct_debit.check_holder_name(value)
        if problem:
            raise forms.ValidationError(problem)
        return value


class BankForm(forms.Form):
    sort_code = forms.CharField(
        label="Sort code",
        help_text="Must be 6 digits long",
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": False}),
    )
    account_number = forms.CharField(
        label="Account number",
        help_text="Must be between 6 and 8 digits long",
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": False}),
    )
    check: modulus.BankCheck | None = None

    def clean(self):
        data = super().clean()
        check = modulus.check_bank_details(
            data.get("sort_code", ""), data.get("account_number", "")
        )
        if not check.ok:
            self.add_error(check.field or "account_number", check.message)
        self.check = check
        return data


class AuthoriseForm(forms.Form):
    authorised = forms.ChoiceField(
        label="Are you the account holder and the only person needed to authorise debits from "
        "this account?",
        choices=[("yes", "Yes"), ("no", "No")],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select yes if you are the account holder and the only person needed "
            "to authorise debits",
            "invalid_choice": "Select yes if you are the account holder and the only person "
            "needed to authorise debits",
        },
    )


def frequency_form(data, amounts: dict[str, int]):
    choices = [
        (code, f"{name}: {accounts.pounds(amounts[code])}")
        for code, name in accounts.FREQUENCY_NAMES.items()
    ]
    choices.sort(key=lambda choice: list(Mandate.Frequency.values).index(choice[0]))

    class FrequencyForm(forms.Form):
        frequency = forms.ChoiceField(
            label="How often do you want to pay?",
            choices=choices,
            widget=forms.RadioSelect,
            help_text="Choose what matches when you are paid or get Universal Credit. Each "
            "amount pays your rent and charges over the year.",
            error_messages={
                "required": "Select how often you want to pay",
                "invalid_choice": "Select how often you want to pay",
            },
        )

    return FrequencyForm(data)


class MonthDayForm(forms.Form):
    day = forms.IntegerField(
        label="Which day of the month do you want to pay?",
        help_text="Enter a day from 1 to 28, for example 15. Choose the day after you are paid "
        "or get Universal Credit",
        min_value=1,
        max_value=28,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "govuk-input--width-2"}),
        error_messages={
            "required": "Enter the day of the month you want to pay",
            "invalid": "Enter the day of the month as a number, like 15",
            "min_value": "The day of the month must be between 1 and 28",
            "max_value": "The day of the month must be between 1 and 28",
        },
    )


class WeekdayForm(forms.Form):
    day = forms.TypedChoiceField(
        label="Which day of the week do you want to pay?",
        help_text="Choose the day after you are paid or get Universal Credit",
        choices=list(enumerate(direct_debit.WEEKDAYS)),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select the day of the week you want to pay",
            "invalid_choice": "Select the day of the week you want to pay",
        },
    )


class ReportForm(forms.Form):
    file = forms.FileField(
        label="Bacs report file",
        help_text="An ARUDD, ADDACS or AUDDIS report in XML, as your bureau sends it",
        error_messages={
            "required": "Select a Bacs report file",
            "empty": "The selected file is empty",
        },
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > upload_limit_bytes():
            raise forms.ValidationError("The selected file is too big")
        return upload
