"""Who in a synthetic borough can apply for a resident permit end to end: adults living there
now, at a home in a controlled parking zone that may have permits, who keep a vehicle that
has no live permit. Used by ``borough demo`` and the browser journey."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from borough.parking.models import Permit
from borough.parking.zones import eligibility_for_resident_permit
from borough.places.models import Property


def permit_ready_people(synth_dir: Path, *, limit: int = 5, adults_born_before=None) -> list[dict]:
    """Rows of ``people.csv`` (with ``vrm`` and ``zone`` added) who can apply at once."""
    born_before = (adults_born_before or dt.date(2006, 1, 1)).isoformat()
    vehicles: dict[str, str] = {}
    with (synth_dir / "vehicles.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            vehicles.setdefault(row["keeper_person_id"], row["registration"])
    taken = set(Permit.objects.filter(status__in=Permit.LIVE).values_list("vrm", flat=True))
    chosen = []
    with (synth_dir / "people.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            vrm = vehicles.get(row["person_id"])
            if not vrm or vrm in taken or row["date_of_death"] or not row["email"]:
                continue
            if not row["current_uprn"] or row["date_of_birth"] >= born_before:
                continue
            home = Property.objects.filter(pk=int(row["current_uprn"])).first()
            if home is None:
                continue
            eligibility = eligibility_for_resident_permit(home)
            if not eligibility.eligible:
                continue
            chosen.append({**row, "vrm": vrm, "zone": eligibility.zone.code})
            if len(chosen) == limit:
                break
    return chosen
