"""The resident's forms: filtering their timeline (a GET form), "I don't recognise this", and the
data protection officer's answer."""

from __future__ import annotations

from django import forms

from borough.core.date_inputs import add_dates, check_order, clean_dates
from borough.transparency.forms import ENDS, DateRangeInputs
from borough.transparency.purposes import service_choices
from borough.transparency.questions import ANSWER_MAX, QUESTION_MAX


class TimelineFilterForm(DateRangeInputs, forms.Form):
    service = forms.ChoiceField(
        label="Service",
        required=False,
        error_messages={"invalid_choice": "Select a service from the list"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [("", "All services"), *service_choices()]
        add_dates(self, *ENDS)

    def clean(self) -> dict:
        data = super().clean()
        clean_dates(self, data, {end: (which, "") for end, (_, which) in ENDS.items()})
        check_order(self, "since", "until", self.ORDER_MESSAGE)
        return data

    def filters(self) -> dict:
        """The keyword arguments for ``queries.events_for_resident``; call after ``is_valid``."""
        return {
            "service": self.cleaned_data["service"],
            "since": self.dates["since"],
            "until": self.dates["until"],
        }


class QuestionForm(forms.Form):
    question = forms.CharField(
        label="What do you think is wrong? (optional)",
        help_text="For example, you did not apply for a parking permit then. Do not include "
        "bank details or passwords.",
        required=False,
        max_length=QUESTION_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "max_length": f"What you think is wrong must be {QUESTION_MAX:,} characters or fewer"
        },
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label="Your answer to the resident",
        help_text="The resident reads this on their account. Your name is not shown to them.",
        max_length=ANSWER_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={
            "required": "Enter your answer to the resident",
            "max_length": f"Your answer must be {ANSWER_MAX:,} characters or fewer",
        },
    )
