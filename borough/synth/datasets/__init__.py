"""The council's source datasets, each in its own system's shape, with its errors.

``SOURCES`` lists them in output order: file stem, columns, and the function that builds a
chunk's rows and ground truth.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import council_tax, electoral_register, freedom_pass, housing, parking, school_admissions


@dataclass(frozen=True)
class Source:
    name: str
    columns: list[str]
    record_id: str  # the column holding the record id (ground truth's record_id)
    build: Callable  # (chunk, context) -> (rows, truth)


SOURCES = [
    Source(
        council_tax.NAME,
        council_tax.COLUMNS,
        "ACCOUNT_REF#n",
        lambda ck, ctx: council_tax.build(ck),
    ),
    Source(
        electoral_register.NAME,
        electoral_register.COLUMNS,
        "ELECTOR_NUMBER",
        lambda ck, ctx: electoral_register.build(ck),
    ),
    Source(
        housing.TENANCIES,
        housing.TENANCY_COLUMNS,
        "TENANT_REF",
        lambda ck, ctx: housing.tenancies(ck),
    ),
    Source(
        housing.BENEFIT, housing.BENEFIT_COLUMNS, "CLAIM_REF#n", lambda ck, ctx: housing.benefit(ck)
    ),
    Source(
        school_admissions.NAME,
        school_admissions.COLUMNS,
        "ADMISSION_ID",
        lambda ck, ctx: school_admissions.build(ck, ctx["schools"]),
    ),
    Source(
        freedom_pass.NAME,
        freedom_pass.COLUMNS,
        "PASS_NUMBER",
        lambda ck, ctx: freedom_pass.build(ck),
    ),
    Source(
        parking.NAME,
        parking.COLUMNS,
        "PERMIT_REF",
        lambda ck, ctx: parking.build(ck, ctx["vehicles"], ctx["wards"]),
    ),
]
