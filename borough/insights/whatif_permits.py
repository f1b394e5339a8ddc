"""The permit what-if: other emission bands, band prices or diesel surcharge, and what the live
permits would pay in a year.

Read from the parking models in bulk, not the warehouse: the warehouse's permit fact holds the
band but not the vehicle's CO2 figure, fuel type or engine size, which a change of band
boundaries needs. Each live permit (active, proof needed, or a renewal paid for ahead) is priced
for 12 months by ``parking.pricing.quote`` under the current rules and under the changed ones:
the same code that prices a permit when a resident buys one, so the current rules give what the
council charges. The additional-vehicle surcharge is left out: it does not depend on the vehicle.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from django.conf import settings
from pydantic import ValidationError

from borough.core.profile import Parking
from borough.insights.disclosure import Rule
from borough.insights.whatif_common import grouped_rows, protected_counts

OTHER_WARDS = "Other wards (fewer permits each)"
OTHER_BANDS = "Other bands (fewer permits each)"
NO_WARD = "Ward not known"


class RulesError(ValueError):
    """The changed rules are not valid (the message says why, naming the band)."""


@dataclass(frozen=True)
class PermitRules:
    """The rules a permit what-if changes: band boundaries (CO2 g/km, the last band has none),
    a 12-month price for each band, and the diesel surcharge for 12 months."""

    permit_type: str
    max_co2: tuple[int | None, ...]
    prices_pence: tuple[int, ...]
    diesel_surcharge_pence: int

    @classmethod
    def current(cls, permit_type: str, cfg: Parking | None = None) -> PermitRules:
        cfg = cfg or settings.COUNCIL.parking
        permit = cfg.permit_type(permit_type)
        return cls(
            permit_type,
            tuple(b.max_co2 for b in cfg.bands),
            tuple(permit.band_prices_pence[b.name] for b in cfg.bands),
            cfg.diesel_surcharge_pence,
        )

    def as_dict(self, cfg: Parking | None = None) -> dict:
        cfg = cfg or settings.COUNCIL.parking
        return {
            "permit_type": self.permit_type,
            "bands": [
                {"band": b.name, "max_co2": m, "price_pence": p}
                for b, m, p in zip(cfg.bands, self.max_co2, self.prices_pence, strict=True)
            ],
            "diesel_surcharge_pence": self.diesel_surcharge_pence,
        }

    def parking(self, cfg: Parking | None = None) -> Parking:
        """The council's parking rules with these changes; ``RulesError`` if they do not hold."""
        cfg = cfg or settings.COUNCIL.parking
        data = cfg.model_dump()
        data["bands"] = [
            {"name": b.name, "max_co2": m} for b, m in zip(cfg.bands, self.max_co2, strict=True)
        ]
        data["diesel_surcharge_pence"] = self.diesel_surcharge_pence
        for permit in data["permit_types"]:
            if permit["code"] == self.permit_type:
                permit["band_prices_pence"] = {
                    b.name: p for b, p in zip(cfg.bands, self.prices_pence, strict=True)
                }
        try:
            return Parking.model_validate(data)
        except ValidationError as error:
            raise RulesError(
                "; ".join(e["msg"].removeprefix("Value error, ") for e in error.errors())
            ) from None


def priced_types(cfg: Parking | None = None) -> list:
    cfg = cfg or settings.COUNCIL.parking
    return [t for t in cfg.permit_types if t.priced_by_emissions]


def live_permits(permit_type: str) -> pd.DataFrame:
    """One row a live permit of the type: its ward and the DVLA data it was last priced on
    (the latest applied change of vehicle, else the application's). Two queries in all."""
    from borough.parking.models import Permit, VehicleChange

    rows = list(
        Permit.objects.filter(
            permit_type=permit_type,
            status__in=[*Permit.LIVE, Permit.Status.SCHEDULED],
        ).values("id", "property__ward_name", "application__vehicle_snapshot")
    )
    changed = {}
    for change in (
        VehicleChange.objects.filter(status="applied", permit_id__in=[r["id"] for r in rows])
        .order_by("applied_at", "pk")
        .values("permit_id", "vehicle_snapshot")
    ):
        changed[change["permit_id"]] = change["vehicle_snapshot"]  # the latest wins
    return pd.DataFrame(
        [
            {
                "ward": r["property__ward_name"] or NO_WARD,
                "snapshot": changed.get(r["id"], r["application__vehicle_snapshot"]) or {},
            }
            for r in rows
        ],
        columns=["ward", "snapshot"],
    )


def _price(permit_type: str, snapshot: dict, cfg: Parking) -> tuple[int, str]:
    from borough.parking import pricing
    from borough.parking.vehicles import VehicleDetails

    try:
        vehicle = VehicleDetails.from_ves_json(snapshot)
    except ValueError:
        vehicle = VehicleDetails(registration_number="UNKNOWN")  # no DVLA data: highest band
    quote = pricing.quote(permit_type, 12, vehicle, cfg=cfg)
    return quote.total_pence, quote.band.band


def _price_key(snapshot: dict) -> tuple:
    """What a permit's price can depend on (``pricing.quote``): the CO2 figure, the fuel, the RDE
    standard, the engine size unless the CO2 figure is a whole number, and the month of first
    registration unless it is plainly 2001 or later. Vehicles alike in these are priced once."""
    co2 = snapshot.get("co2Emissions")
    registered = str(snapshot.get("monthOfFirstRegistration") or "")
    plainly_modern = len(registered) >= 7 and "2001-01" <= registered[:7] <= "9999-12"
    return (
        bool(snapshot.get("registrationNumber")),
        repr(co2),
        str(snapshot.get("fuelType") or "").strip().upper(),
        str(snapshot.get("realDrivingEmissions") or "").strip(),
        ""
        if isinstance(co2, int) and not isinstance(co2, bool)
        else repr(snapshot.get("engineCapacity")),
        "" if plainly_modern else registered,
    )


def _prices(permit_type: str, snapshots, cfg: Parking) -> list[tuple[int, str]]:
    known: dict[tuple, tuple[int, str]] = {}
    prices = []
    for snapshot in snapshots:
        key = _price_key(snapshot)
        if key not in known:
            known[key] = _price(permit_type, snapshot, cfg)
        prices.append(known[key])
    return prices


def run_permit_whatif(rules: PermitRules, rule: Rule | None = None) -> dict:
    """The figures: yearly revenue now and with the changes, in all, by band and by ward, and
    how many permits would pay more, less or the same. JSON-ready (a decision note stores it).
    No row counts fewer than the disclosure threshold; small counts inside a row are ``[c]``."""
    rule = rule or Rule.from_profile()
    current_cfg = settings.COUNCIL.parking
    changed_cfg = rules.parking(current_cfg)
    permits = live_permits(rules.permit_type)
    now = _prices(rules.permit_type, permits["snapshot"], current_cfg)
    then = _prices(rules.permit_type, permits["snapshot"], changed_cfg)
    frame = pd.DataFrame(
        {
            "ward": permits["ward"],
            "band": [band for _, band in now],
            "new_band": [band for _, band in then],
            "current_pence": [p for p, _ in now],
            "new_pence": [p for p, _ in then],
        }
    )
    frame["change"] = (frame["new_pence"] - frame["current_pence"]).map(
        lambda d: "more" if d > 0 else "less" if d < 0 else "same"
    )
    band_order = [b.name for b in current_cfg.bands]
    figures = {
        "permits": len(frame),
        "current_pence": int(frame["current_pence"].sum()),
        "new_pence": int(frame["new_pence"].sum()),
        "threshold": rule.threshold,
        "by_band": _rows(frame, "band", rule, OTHER_BANDS, band_order),
        "by_ward": _rows(frame, "ward", rule, OTHER_WARDS, None),
    }
    figures["change_pence"] = figures["new_pence"] - figures["current_pence"]
    if len(frame) < rule.threshold:  # too few permits to say anything about them
        figures["by_band"] = figures["by_ward"] = []
        figures["too_few"] = True
    return figures


def _rows(frame: pd.DataFrame, by: str, rule: Rule, other: str, order: list | None) -> list:
    if frame.empty:
        return []
    frame = frame.assign(group=grouped_rows(frame, by, rule, other))
    labels = list(frame["group"].unique())
    if order is not None:
        labels = [b for b in order if b in set(labels)] + [g for g in labels if g == other]
    else:
        labels = sorted((g for g in labels if g != other), key=str) + [
            g for g in labels if g == other
        ]
    counts = (
        frame.pivot_table(index="group", columns="change", aggfunc="size", fill_value=0)
        .reindex(index=labels, columns=["more", "less", "same"], fill_value=0)
        .rename_axis(index="group", columns="change")
    )
    protected = protected_counts(counts, rule)
    money = frame.groupby("group")[["current_pence", "new_pence"]].sum()
    rows = []
    for label in labels:
        current, new = int(money.loc[label, "current_pence"]), int(money.loc[label, "new_pence"])
        cells = protected[str(label)]
        rows.append(
            {
                "label": str(label),
                "permits": int((frame["group"] == label).sum()),
                "current_pence": current,
                "new_pence": new,
                "change_pence": new - current,
                "more": cells["more"],
                "less": cells["less"],
                "same": cells["same"],
            }
        )
    return rows
