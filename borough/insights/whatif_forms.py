"""The what-if forms: the changed rules (sent by GET, so a what-if is a link) and the decision
note (sent by POST with the same rules; the figures are worked out again on the server)."""

from __future__ import annotations

import re

from django import forms
from django.conf import settings

from borough.insights.whatif_direct_debit import CollectionDays, DaysError
from borough.insights.whatif_permits import PermitRules, RulesError

MAX_PRICE_PENCE = 10_000_000  # £100,000: a price above it is a typing mistake


#: Pounds as people type them: digits, and pence after a point (spaces, commas and £ removed
#: first). Not Python's Decimal syntax: "1e5" or "NaN" is not a price.
_POUNDS = re.compile(r"(-?)([0-9]+)(?:\.([0-9]{1,2}))?")


def _pence(text: str, what: str) -> int:
    cleaned = re.sub(r"[\s,£]", "", text or "")
    found = _POUNDS.fullmatch(cleaned)
    if found is None:
        raise forms.ValidationError(f"Enter {what} in pounds and pence, like 125.00")
    sign, pounds, pence_text = found.groups()
    if sign:
        raise forms.ValidationError(f"Enter {what} as £0 or more")
    if len(pounds) > 9:  # well past the most a price can be, before any arithmetic
        raise forms.ValidationError(f"Enter {what} as £100,000 or less")
    pence = int(pounds) * 100 + int((pence_text or "0").ljust(2, "0"))
    if pence > MAX_PRICE_PENCE:
        raise forms.ValidationError(f"Enter {what} as £100,000 or less")
    return pence


def _money(pence: int) -> str:
    return f"{pence // 100}.{pence % 100:02d}"


class PermitWhatIfForm(forms.Form):
    """One CO2 limit and one 12-month price a band, and the diesel surcharge."""

    permit_type = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, data=None, *, permit_type: str, **kwargs):
        self.parking = settings.COUNCIL.parking
        self.type_code = permit_type
        current = PermitRules.current(permit_type, self.parking)
        initial = {"permit_type": permit_type, "diesel": _money(current.diesel_surcharge_pence)}
        super().__init__(data, initial=initial, **kwargs)
        self.bands = []
        for band, limit, price in zip(
            self.parking.bands, current.max_co2, current.prices_pence, strict=True
        ):
            price_name = f"price_{band.name}"
            self.fields[price_name] = forms.CharField(
                label=f"Band {band.name}: price for 12 months, in pounds",
                max_length=20,
                widget=forms.TextInput(attrs={"inputmode": "decimal", "spellcheck": False}),
                error_messages={
                    "required": f"Enter band {band.name}'s price for 12 months, like 125.00",
                    "max_length": f"Enter band {band.name}'s price in pounds, like 125.00",
                },
            )
            self.initial[price_name] = _money(price)
            co2_name = None
            if limit is not None:
                co2_name = f"co2_{band.name}"
                self.fields[co2_name] = forms.IntegerField(
                    label=f"Band {band.name}: highest CO2, in g/km",
                    min_value=0,
                    max_value=1000,
                    widget=forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": False}),
                    error_messages={
                        "required": f"Enter band {band.name}'s highest CO2 in g/km, like 75",
                        "invalid": f"Enter band {band.name}'s highest CO2 as a whole number "
                        "of g/km, like 75",
                        "min_value": f"Band {band.name}'s highest CO2 must be 0 g/km or more",
                        "max_value": f"Band {band.name}'s highest CO2 must be 1000 g/km or less",
                    },
                )
                self.initial[co2_name] = limit
            self.bands.append((band.name, co2_name, price_name))
        self.fields["diesel"] = forms.CharField(
            label="Diesel surcharge for 12 months, in pounds",
            max_length=20,
            widget=forms.TextInput(attrs={"inputmode": "decimal", "spellcheck": False}),
            error_messages={"required": "Enter the diesel surcharge, like 200.00"},
        )
        self.order_fields(
            [n for _, c, p in self.bands for n in (c, p) if n] + ["diesel", "permit_type"]
        )

    def clean(self):
        data = super().clean()
        for name, _, price_name in self.bands:
            if price_name in data:
                try:
                    data[price_name] = _pence(data[price_name], f"band {name}'s price")
                except forms.ValidationError as error:
                    self.add_error(price_name, error)
        if "diesel" in data:
            try:
                data["diesel"] = _pence(data["diesel"], "the diesel surcharge")
            except forms.ValidationError as error:
                self.add_error("diesel", error)
        if self.errors:
            return data
        self._check_limits_rise(data)
        if self.errors:
            return data
        rules = PermitRules(
            self.type_code,
            tuple(data[c] if c else None for _, c, _ in self.bands),
            tuple(data[p] for _, _, p in self.bands),
            data["diesel"],
        )
        try:
            rules.parking(self.parking)
        except RulesError as error:
            raise forms.ValidationError(f"These bands do not work: {error}") from None
        self.rules = rules
        return data

    def _check_limits_rise(self, data: dict) -> None:
        """Each band's highest CO2 above the band before's, said in the page's words (the
        profile's own check says it in the configuration's)."""
        before = None
        for name, co2_name, _ in self.bands:
            if co2_name is None:
                continue
            limit = data[co2_name]
            if before is not None and limit <= before[1]:
                self.add_error(  # which also takes the field out of ``data``
                    co2_name,
                    f"Band {name}'s highest CO2 must be more than band {before[0]}'s "
                    f"({before[1]} g/km)",
                )
            before = (name, limit)

    def rows(self):
        """One row a band for the template: the band and its two bound fields."""
        return [(name, self[c] if c else None, self[p]) for name, c, p in self.bands]


class DirectDebitWhatIfForm(forms.Form):
    days = forms.CharField(
        label="Collection days of the month",
        help_text="Days from 1 to 28, separated by commas, like 1 or 1, 15. Each monthly "
        "Direct Debit moves to the nearest of them.",
        max_length=100,
        error_messages={"required": "Enter the collection days, like 1 or 1, 15"},
    )
    weeks = forms.IntegerField(
        label="Weeks to replay",
        help_text="The weeks up to last Sunday, from 1 to 26",
        min_value=1,
        max_value=26,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": False}),
        error_messages={
            "required": "Enter how many weeks to replay, like 13",
            "invalid": "Enter the weeks as a whole number, like 13",
            "min_value": "Weeks must be from 1 to 26",
            "max_value": "Weeks must be from 1 to 26",
        },
    )

    def __init__(self, data=None, *, last_sunday, **kwargs):
        self.last_sunday = last_sunday
        super().__init__(data, initial={"days": "1", "weeks": 13}, **kwargs)

    def clean_days(self) -> tuple[int, ...]:
        parts = [p for p in re.split(r"[\s,]+", self.cleaned_data["days"]) if p]
        if not parts or not all(p.isdigit() for p in parts):
            raise forms.ValidationError("Enter the collection days as numbers, like 1 or 1, 15")
        days = tuple(sorted({int(p) for p in parts}))
        if any(not 1 <= d <= 28 for d in days):
            raise forms.ValidationError("Collection days must be from 1 to 28")
        return days

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                self.choice = CollectionDays(data["days"], data["weeks"], self.last_sunday)
            except DaysError as error:
                raise forms.ValidationError(str(error)) from None
        return data


class DecisionNoteForm(forms.Form):
    title = forms.CharField(
        label="Title",
        help_text="What the note is about, like Permit prices 2027-28 or Collection days from April",
        max_length=120,
        error_messages={
            "required": "Enter a title for the decision note",
            "max_length": "The title must be 120 characters or fewer",
        },
    )
    decision = forms.CharField(
        label="Decision",
        help_text="What was decided on these figures, and why",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "required": "Enter the decision",
            "max_length": "The decision must be 5,000 characters or fewer",
        },
    )
