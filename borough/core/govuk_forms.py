"""One adapter from a Django bound field to GOV.UK Frontend macro parameters.

Templates render every field through ``components/field.html``'s ``field`` macro, which calls
``govuk_field`` and picks the matching GOV.UK macro. Radio and checkbox item ids come from the
bound field's ``auto_id`` so the error summary's links land on the first option.
"""

from datetime import date
from typing import Any

from django import forms
from django.utils import timezone


def _merge(base: dict, overrides: dict) -> dict:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _component(widget: forms.Widget) -> str:
    if isinstance(widget, forms.RadioSelect):
        return "radios"
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return "checkboxes"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, forms.Select):
        return "select"
    if isinstance(widget, forms.Textarea):
        return "textarea"
    if isinstance(widget, forms.FileInput):
        return "file"
    if isinstance(widget, forms.PasswordInput):
        return "password"
    return "input"


def _choice_items(field: forms.BoundField, checked_key: str) -> list[dict]:
    return [
        {
            "value": sub.data["value"],
            "text": str(sub.choice_label),
            "id": sub.id_for_label,
            checked_key: bool(sub.data["selected"]),
        }
        for sub in field.subwidgets
    ]


def as_page_heading(component: str, text: str) -> dict:
    """The parameters that make a question the page's heading, for a page that asks only that
    question: the legend (a fieldset's) or the label becomes the ``<h1>``, so the page does not
    say the same thing twice in a heading and a legend."""
    if component in {"radios", "checkboxes", "date"}:
        legend = {"text": text, "isPageHeading": True, "classes": "govuk-fieldset__legend--l"}
        return {"fieldset": {"legend": legend}}
    return {"label": {"text": text, "isPageHeading": True, "classes": "govuk-label--l"}}


def govuk_field(
    field: forms.BoundField,
    page_heading: str | bool = False,
    reveal: dict[str, str] | None = None,
    **overrides: Any,
) -> dict:
    """Parameters for the GOV.UK macro that renders ``field``, plus ``component``: its name.

    ``page_heading``: the page asks only this question, so its label or legend is the page's
    ``<h1>`` (True: the field's label; a string: that text). The template then has no ``<h1>``
    of its own.

    ``reveal``: for radios and checkboxes, HTML (more questions) shown under the option of each
    value when it is chosen: GOV.UK's conditional reveal, e.g. "Between two dates" revealing
    the two dates. Without JavaScript the questions are always shown."""
    widget = field.field.widget
    component = _component(widget)
    params: dict[str, Any] = {"component": component, "name": field.html_name}
    text = str(field.label)
    if field.help_text:
        params["hint"] = {"text": str(field.help_text)}
    if field.errors:
        params["errorMessage"] = {"text": field.errors[0]}
    attrs = {k: v for k, v in widget.attrs.items() if k not in {"class", "id"}}
    for key in ("autocomplete", "inputmode", "spellcheck"):
        if key in attrs:
            params[key] = attrs.pop(key)
    if attrs:
        params["attributes"] = attrs

    if component in {"radios", "checkboxes"}:
        params["idPrefix"] = field.auto_id
        params["fieldset"] = {"legend": {"text": text, "classes": "govuk-fieldset__legend--m"}}
        params["items"] = _choice_items(field, "checked")
        for item in params["items"]:
            if reveal and str(item["value"]) in reveal:
                item["conditional"] = {"html": reveal[str(item["value"])]}
    elif component == "checkbox":
        params.update(
            component="checkboxes",
            idPrefix=field.auto_id,
            items=[
                {
                    "value": "on",
                    "text": text,
                    "id": field.auto_id,
                    "checked": bool(field.value()),
                }
            ],
        )
    elif component == "select":
        params.update(id=field.auto_id, label={"text": text})
        params["items"] = _choice_items(field, "selected")
    else:
        params.update(id=field.auto_id, label={"text": text})
        value = field.value()
        if component not in {"file", "password"} and value not in (None, ""):
            params["value"] = str(value)
        if component == "input":
            input_type = getattr(widget, "input_type", "text")
            if input_type != "text":
                params["type"] = input_type
        if component == "textarea":
            params["rows"] = widget.attrs.get("rows", 5)
            params.get("attributes", {}).pop("rows", None)
            params.get("attributes", {}).pop("cols", None)
    if page_heading:
        text = str(field.label) if page_heading is True else str(page_heading)
        params = _merge(params, as_page_heading(params["component"], text))
    return _merge(params, overrides)


def error_summary(form: forms.Form) -> dict | None:
    """The GOV.UK error summary for ``form``: each error links to its field."""
    if not form.is_bound or not form.errors:
        return None
    items = [{"text": str(error), "href": "#main-content"} for error in form.non_field_errors()]
    for name, errors in form.errors.items():
        if name == "__all__":
            continue
        bound = form[name]
        anchor = bound.auto_id
        if bound.field.widget.__class__ in (forms.RadioSelect, forms.CheckboxSelectMultiple):
            anchor = bound.subwidgets[0].id_for_label if bound.subwidgets else anchor
        items.append({"text": str(errors[0]), "href": f"#{anchor}"})
    return {"titleText": "There is a problem", "errorList": items}


_DATE_PARTS = ("day", "month", "year")


class DateOfBirthMixin:
    """An optional date of birth as a GOV.UK date input on a Django form that declares
    ``dob_day``, ``dob_month`` and ``dob_year`` (``date_of_birth_fields()``): checked the GOV.UK
    way (missing parts, a real date, in the past, after ``earliest_year``); the date is
    ``self.date_of_birth``; ``date_input()`` gives the macro's parameters."""

    earliest_year: int | None = None
    # The date of birth of the person filling in the form (not someone an officer looks up): the
    # browser may fill it in (autocomplete "bday-day", "bday-month", "bday-year"; WCAG 1.3.5).
    own_date_of_birth: bool = False
    date_of_birth: date | None = None
    date_error_parts: set[str] = frozenset()

    def clean_dob_year(self) -> str:
        # Runs once day, month and year are each cleaned, so the error sits in field order.
        values = {part: self.cleaned_data.get(f"dob_{part}", "").strip() for part in _DATE_PARTS}
        year = values["year"]
        self.date_of_birth = None
        if not any(values.values()):
            return year
        missing = [part for part in _DATE_PARTS if not values[part]]
        if missing:
            self._date_error(f"Date of birth must include a {' and '.join(missing)}", missing)
        elif not all(value.isdigit() for value in values.values()):
            self._date_error("Date of birth must be a real date", list(_DATE_PARTS))
        elif len(year) != 4:
            self._date_error("Year must include 4 numbers", ["year"])
        else:
            try:
                born = date(int(year), int(values["month"]), int(values["day"]))
            except ValueError:
                self._date_error("Date of birth must be a real date", list(_DATE_PARTS))
            else:
                if born > timezone.localdate():
                    self._date_error("Date of birth must be in the past", list(_DATE_PARTS))
                elif self.earliest_year and born.year < self.earliest_year:
                    self._date_error(f"Date of birth must be after {self.earliest_year}", ["year"])
                else:
                    self.date_of_birth = born
        return year

    def _date_error(self, message: str, parts: list[str]) -> None:
        self.date_error_parts = set(parts)
        self.add_error(f"dob_{parts[0]}", forms.ValidationError(message, code="invalid"))

    def date_input(self, page_heading: str | bool = False) -> dict:
        """Parameters for the GOV.UK date input of the date of birth; ``page_heading`` as
        ``govuk_field``'s, for a page that asks only for the date."""
        error = next(
            (self.errors[f"dob_{part}"][0] for part in _DATE_PARTS if f"dob_{part}" in self.errors),
            None,
        )
        items = []
        for part in _DATE_PARTS:
            bound = self[f"dob_{part}"]
            width = "govuk-input--width-4" if part == "year" else "govuk-input--width-2"
            wrong = " govuk-input--error" if part in self.date_error_parts else ""
            items.append(
                {
                    "id": bound.auto_id,
                    "name": bound.html_name,
                    "label": part.capitalize(),
                    "classes": width + wrong,
                    "value": bound.value() or "",
                    "autocomplete": f"bday-{part}" if self.own_date_of_birth else "off",
                }
            )
        params = {
            "id": "id_dob",
            "fieldset": {"legend": {"text": "Date of birth (optional)"}},
            "hint": {"text": "For example, 27 3 1980"},
            "items": items,
        }
        if error:
            params["errorMessage"] = {"text": error}
        if page_heading:
            legend = params["fieldset"]["legend"]["text"] if page_heading is True else page_heading
            params.update(as_page_heading("date", str(legend)))
        return params


def _name_field(label: str, message: str, autocomplete: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=100,
        widget=forms.TextInput(attrs={"spellcheck": False, "autocomplete": autocomplete}),
        error_messages={
            "required": message,
            "max_length": f"{label} must be 100 characters or fewer",
        },
    )


class NameAndDateOfBirthForm(DateOfBirthMixin, forms.Form):
    """ "Who you are" in a resident journey: first name, last name and a date of birth that is
    required (the resident index is searched with it). ``date_hint`` replaces the date
    input's hint."""

    earliest_year = 1900
    own_date_of_birth = True
    date_hint: str | None = None
    first_name = _name_field("First name", "Enter your first name", "given-name")
    surname = _name_field("Last name", "Enter your last name", "family-name")
    dob_day = forms.CharField(label="Day", required=False)
    dob_month = forms.CharField(label="Month", required=False)
    dob_year = forms.CharField(label="Year", required=False)

    def clean(self):
        data = super().clean()
        if not self.errors and self.date_of_birth is None:
            self.add_error("dob_day", forms.ValidationError("Enter your date of birth"))
            self.date_error_parts = {"day", "month", "year"}
        return data

    def date_input(self, page_heading: str | bool = False) -> dict:
        params = super().date_input()
        params["fieldset"] = {"legend": {"text": "Date of birth"}}
        if page_heading:
            text = "Date of birth" if page_heading is True else str(page_heading)
            params.update(as_page_heading("date", text))
        if self.date_hint:
            params["hint"] = {"text": self.date_hint}
        return params
