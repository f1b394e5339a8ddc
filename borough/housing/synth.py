"""Rent accounts for the synthetic borough loaded into the database: its housing tenancies
export and ``rent_accounts.csv`` (``borough.synth.rents``) go through the same loader as a
council's own exports (``loading.load_housing``), then some weeks of charges are posted. The
borough's statement of tenants' payments is ``rent_statement.xml`` beside them. Used by
``borough demo`` and tests."""

from __future__ import annotations

import datetime as dt
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


def load_rent_accounts(synth_dir: Path, *, today: dt.date, weeks: int = 8) -> RentSynthResult:
    """Tenancies, tenants and rent accounts from the borough's exports, and ``weeks`` weeks of
    charges up to ``today``. Loading again adds nothing that is there already."""
    from borough.synth import rents

    loaded = load_housing(synth_dir / "housing_tenancies.csv", synth_dir / rents.ACCOUNTS_FILE)
    first = monday_of(today) - dt.timedelta(weeks=weeks - 1)
    posted = sum(
        services.post_weekly_charges(first + dt.timedelta(weeks=k)).posted for k in range(weeks)
    )
    return RentSynthResult(
        loaded.tenancies_created + loaded.unchanged, loaded.tenancies_created, posted
    )
