"""Why an officer uses a resident's data on the staff pages ("Find a resident", a resident's
records, "Check a resident's details"): a reason from a short list, recorded in the data-use log,
and on the check an optional case reference."""

from django import forms

from borough.transparency.services import REFERENCE

#: The code is stored in the event (``reference`` of a records view; the check's actor label).
REASONS = [
    ("resident_request", "Dealing with a resident's request"),
    ("service_application", "Checking a service application"),
    ("correcting_records", "Correcting records"),
]
#: Only where the page records it as held back from the resident ("Find a resident" and a
#: resident's records): the event's purpose is ``fraud_investigation_records``, it needs a case
#: reference, and the resident sees it only once the data protection officer releases it.
FRAUD_INVESTIGATION = "fraud_investigation"
INVESTIGATION_REASONS = [(FRAUD_INVESTIGATION, "Investigating suspected fraud")]
REASON_TITLES = dict(REASONS + INVESTIGATION_REASONS)

_REASON_LABEL = "Why are you looking at these records?"
_REASON_REQUIRED = "Select why you are looking at these records"


def reason_field(
    label: str = _REASON_LABEL,
    required_message: str = _REASON_REQUIRED,
    help_text: str = "Looking at a resident's records is recorded in the data-use log, with your "
    "reason.",
    *,
    investigation: bool = False,
) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=REASONS + (INVESTIGATION_REASONS if investigation else []),
        widget=forms.RadioSelect,
        help_text=help_text,
        error_messages={"required": required_message, "invalid_choice": required_message},
    )


CASE_REFERENCE_MAX = 40


def case_reference_field() -> forms.CharField:
    return forms.CharField(
        label="Case or application reference (optional)",
        required=False,
        help_text="The reference of the request or application you are dealing with, like "
        "PP-2026-000123. Never a name or other personal details.",
        widget=forms.TextInput(attrs={"spellcheck": False, "autocomplete": "off"}),
    )


def clean_case_reference(value: str) -> str:
    """The case reference as typed, without spaces at either end; refused unless it looks like
    a reference (it is stored in the data-use log, which holds no personal data)."""
    value = value.strip()
    if len(value) > CASE_REFERENCE_MAX:
        raise forms.ValidationError(
            f"Case reference must be {CASE_REFERENCE_MAX} characters or fewer", code="max_length"
        )
    if value and not REFERENCE.fullmatch(value):
        raise forms.ValidationError(
            "Enter the case reference using only letters, numbers, hyphens, slashes, dots, "
            "colons and underscores, like PP-2026-000123",
            code="invalid",
        )
    return value


def check_actor_label(reason: str, case_reference: str) -> str:
    """Who checked, and why, as the data-use log says it: "Council officer: checking a service
    application (case PP-2026-000123)"."""
    text = f"Council officer: {REASON_TITLES[reason][0].lower()}{REASON_TITLES[reason][1:]}"
    return f"{text} (case {case_reference})" if case_reference else text
