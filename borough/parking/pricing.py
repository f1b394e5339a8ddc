"""Permit prices and refunds, from the council profile's ``[parking]`` section.

Pure functions: no database, no clock. Money is integer pence throughout; where a rule divides
(pro rata for a shorter permit, the unused part of a refund) the result is rounded to the penny,
half up, by integer arithmetic. Each function takes the parking settings as ``cfg`` for tests and
otherwise reads the running council's profile (``settings.COUNCIL.parking``).

The rules, and the profile keys that set them, are described in ``docs/council-profile.md``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal, Protocol

from django.conf import settings

from borough.core.profile import Parking, PermitType
from borough.payments.money import format_pence as pounds

# Cars first registered before this date move up a band when ``pre_2001_up_one_band`` is on.
PRE_2001 = dt.date(2001, 1, 1)
RDE2 = "2"

__all__ = [
    "BandChoice",
    "PriceListRow",
    "PricingError",
    "Quote",
    "Refund",
    "add_months",
    "emission_band",
    "permit_type",
    "pounds",
    "price_list",
    "pro_rata",
    "quote",
    "quote_visitor_session",
    "refund",
]


class PricingError(ValueError):
    """A price or refund was asked for something the council's profile does not offer."""


class Vehicle(Protocol):
    """What pricing needs to know about a vehicle (DVLA VES fields, snake_case).

    Numbers may arrive as ``int`` or as text ("112", "" for unknown), as they do from DVLA
    snapshots and the synthetic data.
    """

    co2_emissions: int | str | None
    fuel_type: str | None
    engine_capacity: int | str | None
    month_of_first_registration: str | dt.date | None
    real_driving_emissions: int | str | None


@dataclass(frozen=True)
class BandChoice:
    band: str
    reason: str
    # What decided the band: the CO2 figure, an electric fuel type, the engine size, or nothing.
    source: Literal["co2", "electric", "engine", "unknown"]


@dataclass(frozen=True)
class Quote:
    permit_type: str
    duration_months: int
    lines: tuple[tuple[str, int], ...]
    band: BandChoice | None = None

    @property
    def total_pence(self) -> int:
        return sum(pence for _, pence in self.lines)

    def application_fields(self) -> dict:
        """What a permit application keeps of this quote: the band and why, the price and its
        lines (``PermitApplication``'s fields)."""
        return {
            "band": self.band.band if self.band else "",
            "band_reason": self.band.reason if self.band else "",
            "price_pence": self.total_pence,
            "price_lines": [[text, pence] for text, pence in self.lines],
        }


@dataclass(frozen=True)
class Refund:
    pence: int
    unused_months: int
    explanation: str


def _parking(cfg: Parking | None) -> Parking:
    return cfg if cfg is not None else settings.COUNCIL.parking


def _divide_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to the nearest whole number, halves up (both >= 0)."""
    return (2 * numerator + denominator) // (2 * denominator)


def pro_rata(pence_for_12_months: int, months: int) -> int:
    """The part of a 12-month amount for ``months`` months, to the penny, halves up."""
    return _divide_half_up(pence_for_12_months * months, 12)


def _whole_number(value: int | str | None) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip().replace(",", "")
    return int(text) if re.fullmatch(r"-?\d+", text) else None


def _first_registered(value: str | dt.date | None) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    match = re.fullmatch(r"(\d{4})-(\d{2})(?:-\d{2})?", (value or "").strip())
    if not match or not 1 <= int(match[2]) <= 12:
        return None
    return dt.date(int(match[1]), int(match[2]), 1)


def emission_band(
    co2: int | None,
    fuel_type: str | None,
    engine_cc: int | None,
    first_registered: dt.date | None,
    cfg: Parking | None = None,
) -> BandChoice:
    """The price band for a vehicle, and why, in the order the council's rules apply.

    1. A zero-emission fuel type (``ELECTRICITY``) is always the lowest band.
    2. Otherwise the CO2 figure (g/km) picks the first band whose ``max_co2`` it does not exceed.
    3. With no CO2 figure, the engine size picks a band from ``engine_size_bands``.
    4. With neither, ``unknown_vehicle_band`` (by default the highest band).
    With ``pre_2001_up_one_band``, a band found by CO2 or engine size moves up one for a car
    first registered before 2001.
    """
    cfg = _parking(cfg)
    names = [b.name for b in cfg.bands]
    fuel = (fuel_type or "").strip().upper()
    if fuel and fuel in cfg.zero_emission_fuel_types:
        return BandChoice(names[0], f"Electric: band {names[0]}", "electric")
    if co2 is not None and co2 < 0:
        raise PricingError(f"A CO2 figure cannot be negative ({co2} g/km)")
    if co2 is not None:
        band = next(b.name for b in cfg.bands if b.max_co2 is None or co2 <= b.max_co2)
        reason, source = f"CO2 {co2:,} g/km: band {band}", "co2"
    else:
        cc = engine_cc if engine_cc else None  # DVLA gives 0 cc when it holds no figure
        row = None
        if cc is not None:
            row = next(
                (r for r in cfg.engine_size_bands if r.max_cc is None or cc <= r.max_cc), None
            )
        if row is None:
            band = cfg.unknown_vehicle_band or cfg.worst_band
            highest = " (the highest)" if band == cfg.worst_band else ""
            what = "No CO2 or engine figure" if cc is None else f"No CO2 figure, engine {cc:,} cc"
            unlisted = "" if cc is None else " is not in the engine size table"
            return BandChoice(band, f"{what}{unlisted}: band {band}{highest}", "unknown")
        band = row.band
        reason, source = f"No CO2 figure: engine {cc:,} cc: band {band}", "engine"
    if cfg.pre_2001_up_one_band and first_registered is not None and first_registered < PRE_2001:
        position = names.index(band)
        if position + 1 < len(names):
            band = names[position + 1]
            reason += f"; first registered before 2001, so one band up: band {band}"
        else:
            reason += "; first registered before 2001, but already the highest band"
    return BandChoice(band, reason, source)


def permit_type(code: str, cfg: Parking | None = None) -> PermitType:
    """The council's permit type with this code, or ``PricingError`` if it sells none."""
    return _permit_type(code, _parking(cfg))


def _permit_type(code: str, cfg: Parking) -> PermitType:
    permit = cfg.permit_type(code)
    if permit is None:
        offered = ", ".join(t.code for t in cfg.permit_types) or "none"
        raise PricingError(f"There is no permit type {code!r} (offered: {offered})")
    return permit


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _months(n: int) -> str:
    return f"{n} month" if n == 1 else f"{n} months"


def quote(
    permit_type: str,
    duration_months: int,
    vehicle: Vehicle | None = None,
    household_permits_already: int = 0,
    cfg: Parking | None = None,
) -> Quote:
    """The price of a permit, line by line.

    ``household_permits_already`` counts the household's current permits that this one joins:
    for a resident permit (``counts_as_resident_permit``), all its resident permits; for any other
    type, its permits of that type. The household may not go over ``max_per_household`` or, for
    resident permits, ``max_resident_permits_per_household``.
    """
    cfg = _parking(cfg)
    permit = _permit_type(permit_type, cfg)
    if duration_months not in permit.durations_months:
        offered = ", ".join(map(str, permit.durations_months))
        raise PricingError(
            f"A {permit.name.lower()} is not sold for {_months(duration_months)} "
            f"(choose {offered} months)"
        )
    if household_permits_already < 0:
        raise PricingError("household_permits_already cannot be negative")
    limits = [permit.max_per_household] if permit.max_per_household else []
    if permit.counts_as_resident_permit:
        limits.append(cfg.max_resident_permits_per_household)
    if limits and household_permits_already >= min(limits):
        kind = "resident permits" if permit.counts_as_resident_permit else "of these permits"
        raise PricingError(
            f"The household already has {household_permits_already} {kind}, "
            f"and {min(limits)} is the most allowed"
        )
    if permit.needs_vehicle and vehicle is None:
        raise PricingError(f"A {permit.name.lower()} is for a vehicle: give the vehicle")

    lines: list[tuple[str, int]] = []
    band = None
    length = _months(duration_months)
    if permit.priced_by_emissions:
        band = emission_band(
            _whole_number(vehicle.co2_emissions),
            vehicle.fuel_type,
            _whole_number(vehicle.engine_capacity),
            _first_registered(vehicle.month_of_first_registration),
            cfg,
        )
        price = pro_rata(permit.band_prices_pence[band.band], duration_months)
        lines.append((f"{permit.name}, {length}, band {band.band}", price))
    else:
        lines.append((f"{permit.name}, {length}", permit.prices_pence[duration_months]))

    if permit.diesel_surcharge and cfg.diesel_surcharge_pence:
        fuel = (vehicle.fuel_type or "").strip().upper()
        if fuel in cfg.diesel_fuel_types:
            rde = str(vehicle.real_driving_emissions or "").strip()
            if cfg.rde2_exempt and rde == RDE2:
                lines.append(("Diesel surcharge: not charged, the vehicle meets RDE2", 0))
            else:
                surcharge = pro_rata(cfg.diesel_surcharge_pence, duration_months)
                lines.append((f"Diesel surcharge, {length}", surcharge))

    if (
        permit.counts_as_resident_permit
        and household_permits_already >= 1
        and cfg.additional_vehicle_surcharge_pence
    ):
        nth = _ordinal(household_permits_already + 1)
        surcharge = pro_rata(cfg.additional_vehicle_surcharge_pence, duration_months)
        lines.append(
            (f"Additional vehicle surcharge ({nth} permit in the household), {length}", surcharge)
        )
    return Quote(permit.code, duration_months, tuple(lines), band)


@dataclass(frozen=True)
class PriceListRow:
    band: str
    emissions: str  # "0g/km (electric)", "51 to 75g/km", "more than 255g/km"
    prices_pence: tuple[int, ...]  # one for each of the permit type's durations


def price_list(permit_type: str, cfg: Parking | None = None) -> list[PriceListRow]:
    """The price of each band for each of the permit type's durations, as ``quote`` charges
    them (a shorter permit pro rata, to the penny), before any surcharge; one row a band, in
    the profile's order. For a permit type priced by emissions only."""
    cfg = _parking(cfg)
    permit = _permit_type(permit_type, cfg)
    if not permit.priced_by_emissions:
        raise PricingError(f"A {permit.name.lower()} is not priced by emissions")
    rows = []
    below = None  # the highest CO2 figure of the band before
    for band in cfg.bands:
        if band.max_co2 is None:
            emissions = f"more than {below}g/km" if below is not None else "any"
        elif below is None:
            emissions = f"up to {band.max_co2}g/km"
            if band.max_co2 == 0:
                emissions = "0g/km (electric)"
        else:
            emissions = f"{below + 1} to {band.max_co2}g/km"
        below = band.max_co2
        yearly = permit.band_prices_pence[band.name]
        prices = tuple(pro_rata(yearly, months) for months in permit.durations_months)
        rows.append(PriceListRow(band.name, emissions, prices))
    return rows


def quote_visitor_session(hours: int, cfg: Parking | None = None) -> Quote:
    """The price of one visitor session: hours times ``visitor_price_per_hour_pence``."""
    cfg = _parking(cfg)
    if not 1 <= hours <= cfg.visitor_session_max_hours:
        raise PricingError(
            f"A visitor session is 1 to {cfg.visitor_session_max_hours} hours, not {hours}"
        )
    unit = "hour" if hours == 1 else "hours"
    line = (f"Visitor session, {hours} {unit}", hours * cfg.visitor_price_per_hour_pence)
    return Quote("visitor-session", 0, (line,))


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months on; the month's last day if it is shorter."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    last_day = (following - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last_day))


def refund(
    paid_pence: int,
    starts: dt.date,
    ends: dt.date,
    cancelled_on: dt.date,
    cfg: Parking | None = None,
) -> Refund:
    """What is refunded when a permit is cancelled: whole unused months, less the admin fee.

    The permit's months run from ``starts``: the first from ``starts``, the second from the same
    day a month later, and so on up to ``ends`` (its last valid day). The permit stops at the
    start of ``cancelled_on``. A month is unused, and refunded, only if it begins on or after
    ``cancelled_on``; the month in progress counts as used, however little of it is. Each unused
    month is worth an equal share of ``paid_pence`` (to the penny, halves up). The admin fee is
    taken off; a refund at or below ``minimum_refund_pence`` is not paid. The result is never
    negative and never more than was paid.
    """
    cfg = _parking(cfg)
    if paid_pence < 0:
        raise PricingError("paid_pence cannot be negative")
    if ends < starts:
        raise PricingError(f"The permit ends ({ends}) before it starts ({starts})")
    month_starts = []
    while (first_day := add_months(starts, len(month_starts))) <= ends:
        month_starts.append(first_day)
    term = len(month_starts)
    unused = sum(1 for first_day in month_starts if first_day >= cancelled_on)
    worth = _divide_half_up(paid_pence * unused, term)
    fee = cfg.refund_admin_fee_pence
    paid = f"You paid {pounds(paid_pence)} for {_months(term)}."
    if cancelled_on > ends:
        return Refund(0, 0, f"{paid} It had already ended, so there is no refund.")
    if unused == 0:
        return Refund(0, 0, f"{paid} It was cancelled in its last month, so there is no refund.")
    if cancelled_on <= starts:
        when = "on its first day" if cancelled_on == starts else "before it started"
        unused_text = f"It was cancelled {when}, so all of it ({_months(unused)}) was unused"
    else:
        unused_text = f"{_months(unused)} {'was' if unused == 1 else 'were'} unused"
    due = min(max(worth - fee, 0), paid_pence)
    sentence = f"{paid} {unused_text}, worth {pounds(worth)}."
    if due == 0:
        why = f"The admin fee is {pounds(fee)}, so there" if fee else "There"
        return Refund(0, unused, f"{sentence} {why} is no refund.")
    if fee:
        sentence += f" Less the {pounds(fee)} admin fee, that is {pounds(due)}."
    if due <= cfg.minimum_refund_pence:
        return Refund(
            0,
            unused,
            f"{sentence} We do not pay refunds of {pounds(cfg.minimum_refund_pence)} or less, "
            "so there is no refund.",
        )
    return Refund(due, unused, f"{sentence} We will refund {pounds(due)}.")
