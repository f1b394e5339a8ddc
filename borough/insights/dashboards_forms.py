"""The dashboards' filters: a period (from one month to another) and a ward, sent by GET."""

from __future__ import annotations

import calendar
import datetime as dt

from django import forms

from borough.insights.dashboards_queries import Filters, month_label

ALL_WARDS = ""
#: The warehouse's ward code for "not known" is '', which a form cannot tell from "all".
WARD_NOT_KNOWN = "not-known"
#: Without a choice, a dashboard shows the warehouse's last 12 months.
DEFAULT_MONTHS = 12


def _month_value(month: dt.date) -> str:
    return month.strftime("%Y-%m")


def last_day(month: dt.date) -> dt.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


class DashboardFiltersForm(forms.Form):
    start = forms.ChoiceField(
        label="From",
        error_messages={"invalid_choice": "Select a ‘from’ month from the list"},
    )
    end = forms.ChoiceField(
        label="To",
        error_messages={"invalid_choice": "Select a ‘to’ month from the list"},
    )
    ward = forms.ChoiceField(
        label="Ward",
        required=False,
        error_messages={"invalid_choice": "Select a ward from the list"},
    )

    def __init__(self, data, *, months: list[dt.date], wards: list[tuple[str, str]]):
        self.months = months
        defaults = {}
        if months:
            defaults = {
                "start": _month_value(months[max(0, len(months) - DEFAULT_MONTHS)]),
                "end": _month_value(months[-1]),
                "ward": ALL_WARDS,
            }
        # A link without filters shows the defaults; any filter given is taken as given.
        given = {key: data.get(key) for key in ("start", "end", "ward") if key in data}
        super().__init__({**defaults, **given} if months else data)
        month_choices = [(_month_value(m), month_label(m)) for m in months]
        self.fields["start"].choices = month_choices
        self.fields["end"].choices = month_choices
        self.fields["ward"].choices = [(ALL_WARDS, "All wards")] + [
            (code or WARD_NOT_KNOWN, name) for code, name in wards
        ]
        self.fields["start"].error_messages["required"] = "Select a ‘from’ month"
        self.fields["end"].error_messages["required"] = "Select a ‘to’ month"

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", "The ‘to’ month must be the same as or after the ‘from’ month")
        return cleaned

    def filters(self) -> Filters:
        """The filters a valid form chose."""
        start = dt.date.fromisoformat(self.cleaned_data["start"] + "-01")
        end = last_day(dt.date.fromisoformat(self.cleaned_data["end"] + "-01"))
        ward = self.cleaned_data.get("ward") or ALL_WARDS
        if ward == ALL_WARDS:
            code = None
        else:
            code = "" if ward == WARD_NOT_KNOWN else ward
        return Filters(start, end, code)

    def ward_name(self) -> str:
        value = self.cleaned_data.get("ward") or ALL_WARDS
        return dict(self.fields["ward"].choices).get(value, "All wards")

    def period_in_words(self) -> str:
        filters = self.filters()
        first, last = month_label(filters.start), month_label(filters.end)
        return first if first == last else f"{first} to {last}"

    def query_string(self) -> str:
        """The chosen filters as a URL's query, for the CSV links."""
        from urllib.parse import urlencode

        return urlencode({key: self.data.get(key, "") for key in ("start", "end", "ward")})
