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
        return None, f"The {which} date must include a year with 4 numbers", {"year"}
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


def add_dates(form: forms.Form, *prefixes: str) -> None:
    """Give ``form`` the three part fields of each date, and ``form.dates`` (each date once
    read) and ``form.wrong_parts`` (the parts to highlight). Call in the form's ``__init__``."""
    for prefix in prefixes:
        for part in PARTS:
            form.fields[f"{prefix}_{part}"] = part_field(part)
    form.dates = dict.fromkeys(prefixes)
    form.wrong_parts = {prefix: set() for prefix in prefixes}


def clean_dates(form: forms.Form, data: dict, names: dict[str, tuple[str, str]]) -> None:
    """Read each date of ``names`` (prefix: (how messages name it, the message when it is left
    blank, or "" if it may be)) into ``form.dates``; errors go on the date's first wrong part."""
    for prefix, (which, blank) in names.items():
        typed = typed_parts(data, prefix)
        day, error, wrong = read_date(typed, which)
        if blank and not any(typed.values()):
            error, wrong = blank, set(PARTS)
        form.dates[prefix] = day
        if error:
            form.wrong_parts[prefix] = wrong
            form.add_error(f"{prefix}_{next(p for p in PARTS if p in wrong)}", error)


def check_order(form: forms.Form, first: str, last: str, message: str) -> None:
    """The ``last`` date may not be before the ``first``."""
    start, end = form.dates[first], form.dates[last]
    if start and end and end < start:
        form.wrong_parts[last] = set(PARTS)
        form.add_error(f"{last}_day", message)
