"""GOV.UK date inputs (day, month, year) for dates other than a date of birth: a form declares
``<prefix>_day``, ``<prefix>_month`` and ``<prefix>_year`` with ``part_field``, reads them with
``read_date`` and renders them with ``date_input_params``. (A date of birth has its own rules:
``govuk_forms.DateOfBirthMixin``.)"""

from __future__ import annotations

from datetime import date

from django import forms

PARTS = ("day", "month", "year")


def part_field(part: str) -> forms.CharField:
    """One part (``day``, ``month``, ``year``) of a date: a form declares three of them."""
    return forms.CharField(label=part.capitalize(), required=False)


def typed_parts(data, prefix: str) -> dict[str, str]:
    """What was typed in each part of the date, without spaces at either end."""
    return {part: (data.get(f"{prefix}_{part}") or "").strip() for part in PARTS}


def read_date(values: dict[str, str], which: str) -> tuple[date | None, str, set[str]]:
    """A date from its day, month and year as typed: (the date or None, the error, the parts to
    highlight). All three blank is no date and no error. ``which`` names the date in messages
    ("The ‘from’ date must include a month")."""
    if not any(values.values()):
        return None, "", set()
    missing = [part for part in PARTS if not values[part]]
    if missing:
        return None, f"The {which} date must include a {' and '.join(missing)}", set(missing)
    if not all(value.isdigit() for value in values.values()):
        return None, f"The {which} date must be a real date", set(PARTS)
    if len(values["year"]) != 4:
        return None, "Year must include 4 numbers", {"year"}
    try:
        return date(int(values["year"]), int(values["month"]), int(values["day"])), "", set()
    except (ValueError, OverflowError):
        return None, f"The {which} date must be a real date", set(PARTS)


def date_input_params(
    form: forms.Form, prefix: str, legend: str, wrong: set[str], hint: str
) -> dict:
    """The GOV.UK date input macro's parameters for ``form``'s date ``prefix``: what was typed,
    the parts in ``wrong`` highlighted, and the first error of its parts."""
    items = []
    for part in PARTS:
        bound = form[f"{prefix}_{part}"]
        width = "govuk-input--width-4" if part == "year" else "govuk-input--width-2"
        items.append(
            {
                "id": bound.auto_id,
                "name": bound.html_name,
                "label": part.capitalize(),
                "classes": width + (" govuk-input--error" if part in wrong else ""),
                "value": bound.value() or "",
                "inputmode": "numeric",
            }
        )
    params = {
        "id": f"id_{prefix}",
        "fieldset": {"legend": {"text": legend, "classes": "govuk-fieldset__legend--s"}},
        "hint": {"text": hint},
        "items": items,
    }
    errors = [form.errors[f"{prefix}_{p}"][0] for p in PARTS if f"{prefix}_{p}" in form.errors]
    if errors:
        params["errorMessage"] = {"text": errors[0]}
    return params
