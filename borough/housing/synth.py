"""Rent accounts for the synthetic borough loaded into the database: its housing tenancies
export and ``rent_accounts.csv`` (``borough.synth.rents``) go through the same loader as a
council's own exports (``loading.load_housing``), then the charges of the weeks its statement of
tenants' payments covers (``rent_statement.xml`` beside them) are posted, so every payment on
the statement pays a week that was charged. Used by ``borough demo`` and tests."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from borough.housing import services
from borough.housing.loading import load_housing
from borough.housing.rent_weeks import monday_of


@dataclass(frozen=True)
class RentSynthResult:
    tenancies: int
    accounts: int
    charges_posted: int
    first_week: dt.date | None = None  # the Monday of the first week charged
    last_week: dt.date | None = None


def _start_date(synth_dir: Path) -> dt.date | None:
    """The borough's "today" when it was made (``manifest.json``), or None."""
    try:
        manifest = json.loads((synth_dir / "manifest.json").read_text(encoding="utf-8"))
        return dt.date.fromisoformat(manifest["start_date"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def load_rent_accounts(synth_dir: Path, *, today: dt.date, weeks: int = 8) -> RentSynthResult:
    """Tenancies, tenants and rent accounts from the borough's exports, and the charges of the
    weeks its bank statement covers (``rents.charge_mondays``); for a folder without a manifest,
    ``weeks`` weeks of charges up to ``today``. Loading again adds nothing that is there already."""
    from borough.synth import rents

    loaded = load_housing(synth_dir / "housing_tenancies.csv", synth_dir / rents.ACCOUNTS_FILE)
    start = _start_date(synth_dir)
    if start is not None:
        mondays = rents.charge_mondays(start)
    else:
        first = monday_of(today) - dt.timedelta(weeks=weeks - 1)
        mondays = [first + dt.timedelta(weeks=k) for k in range(weeks)]
    posted = sum(services.post_weekly_charges(monday).posted for monday in mondays)
    return RentSynthResult(
        loaded.tenancies_created + loaded.unchanged,
        loaded.tenancies_created,
        posted,
        mondays[0],
        mondays[-1],
    )
