"""The warehouse's star schema, as data: every table Insight reads, its columns, grain and keys.

This module is the contract between the warehouse build (``extract.py``, ``build.py``) and
everything that reads the warehouse (dashboards, what-ifs, open data, a bigger engine). Names
here are stable: add tables and columns, never rename or drop one.

Keys that identify a person or an account are pseudonymised: ``pseudonym(kind, value)`` is a
keyed HMAC-SHA256 (the key is ``BOROUGH_WAREHOUSE_KEY``, or one derived from ``SECRET_KEY``),
truncated to 16 hex characters. They join facts to each other inside one warehouse and cannot
be turned back into the resident, the account or the source row without the key. The
warehouse holds no names, contact details, addresses, postcodes, vehicle registrations, bank
details, payment or tenancy references, and no free text except feedback comments with
contact details and registrations removed.

Every fact is partitioned in Parquet by the year and month of its ``partition_date`` column:
``parquet/fact_rent_ledger/year=2026/month=11/data_0.parquet``. Dimensions are one file each:
``parquet/dim_ward/data_0.parquet``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # a DuckDB type
    meaning: str


@dataclass(frozen=True)
class Table:
    name: str
    kind: str  # "fact" or "dimension"
    grain: str  # what one row is
    key: str  # the column(s) that identify a row, comma-separated
    columns: tuple[Column, ...]
    #: Foreign key column → "table.column" it must be found in (checked on every build).
    references: dict[str, str] = field(default_factory=dict)
    #: The date column whose year and month partition the Parquet (facts only).
    partition_date: str = ""

    @property
    def partition_by(self) -> tuple[str, ...]:
        return ("year", "month") if self.partition_date else ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def ddl(self) -> str:
        cols = ", ".join(f'"{c.name}" {c.type}' for c in self.columns)
        return f'CREATE TABLE "{self.name}" ({cols})'


def _c(name: str, type_: str, meaning: str) -> Column:
    return Column(name, type_, meaning)


KEY = "VARCHAR"  # a 16-hex-character pseudonymised key

# Columns several facts share.
_YEAR = _c("year", "SMALLINT", "Partition: the year of the partition date")
_MONTH = _c("month", "TINYINT", "Partition: the month (1-12) of the partition date")
_WARD = _c("ward_code", "VARCHAR", "The ward of the property (ONS code); '' when not known")
_RESIDENT = _c(
    "resident_key", KEY, "Pseudonymised resident ID from the resident index; NULL if none"
)

_TO_DATE = {"partition_date": "dim_date.date"}
_TO_WARD = {"ward_code": "dim_ward.ward_code"}


DIMENSIONS: tuple[Table, ...] = (
    Table(
        "dim_date",
        "dimension",
        "one calendar day, from the earliest to the latest date any fact holds",
        "date",
        (
            _c("date", "DATE", "The day"),
            _c("year", "SMALLINT", "Calendar year"),
            _c("month", "TINYINT", "Calendar month, 1-12"),
            _c("month_start", "DATE", "The first day of the month"),
            _c("week_starting", "DATE", "The Monday of the week (rent weeks start on Monday)"),
            _c("iso_year", "SMALLINT", "ISO 8601 year of the week"),
            _c("iso_week", "TINYINT", "ISO 8601 week number"),
            _c("day_of_week", "TINYINT", "1 Monday to 7 Sunday"),
            _c("financial_year", "VARCHAR", "UK financial year from 1 April, as '2026-27'"),
        ),
    ),
    Table(
        "dim_ward",
        "dimension",
        "one electoral ward of the borough, from the gazetteer; '' stands for 'not known'",
        "ward_code",
        (
            _c("ward_code", "VARCHAR", "ONS ward code; '' for properties with none"),
            _c("ward_name", "VARCHAR", "Ward name; 'Not known' for ''"),
            _c("properties", "INTEGER", "Addresses in the gazetteer in the ward"),
            _c("residential_properties", "INTEGER", "Residential addresses in the ward"),
        ),
    ),
    Table(
        "dim_zone",
        "dimension",
        "one controlled parking zone",
        "zone_code",
        (
            _c("zone_code", "VARCHAR", 'The zone\'s code, for example "A"'),
            _c("zone_name", "VARCHAR", "The zone's name"),
            _c("active", "BOOLEAN", "False once a later zone file dropped it"),
        ),
    ),
    Table(
        "dim_service",
        "dimension",
        "one council service as the data-use log names it",
        "service_code",
        (
            _c("service_code", "VARCHAR", "parking, housing, residents, transparency"),
            _c("service_name", "VARCHAR", "The service's name"),
        ),
    ),
    Table(
        "dim_payment_method",
        "dimension",
        "one way a rent ledger entry is made (a kind of ledger entry)",
        "payment_method",
        (
            _c("payment_method", "VARCHAR", "The ledger entry kind: direct_debit, card, charge…"),
            _c("label", "VARCHAR", "The kind as officers read it"),
            _c("is_payment", "BOOLEAN", "True for money received (not charges or adjustments)"),
            _c(
                "method_group",
                "VARCHAR",
                "direct_debit, standing_order, other (payments) or not_payment",
            ),
        ),
    ),
    Table(
        "dim_emission_band",
        "dimension",
        "one vehicle emission band of the council profile, plus '' for 'no band'",
        "band",
        (
            _c("band", "VARCHAR", "DVLA CO2 band letter A-M; '' when no band applied"),
            _c("max_co2", "INTEGER", "The band's upper CO2 limit in g/km; NULL for the top band"),
            _c("sort_order", "TINYINT", "Position from the cleanest band"),
        ),
    ),
    Table(
        "dim_tenure",
        "dimension",
        "one kind of council tenancy",
        "tenure",
        (
            _c("tenure", "VARCHAR", "secure, introductory, flexible, temporary"),
            _c("label", "VARCHAR", "The tenure as officers read it"),
        ),
    ),
    Table(
        "dim_rent_account",
        "dimension",
        "one rent account, with its balance when the warehouse was built",
        "account_key",
        (
            _c("account_key", KEY, "Pseudonymised rent account"),
            _c("tenure", "VARCHAR", "The tenancy's tenure"),
            _c("ward_code", "VARCHAR", "The ward of the tenancy's property"),
            _c("opened_on", "DATE", "The day the account opened"),
            _c("closed_on", "DATE", "The day it closed; NULL while open"),
            _c(
                "balance_pence",
                "BIGINT",
                "The account's balance from the source: positive is owed (arrears)",
            ),
        ),
        {"tenure": "dim_tenure.tenure", **_TO_WARD},
    ),
)


FACTS: tuple[Table, ...] = (
    Table(
        "fact_permit_application",
        "fact",
        "one parking permit application (created when the applicant pays or submits)",
        "application_key",
        (
            _c("application_key", KEY, "Pseudonymised application"),
            _RESIDENT,
            _c("journey", "VARCHAR", "new, or renewal (it renews an earlier permit)"),
            _c("permit_type", "VARCHAR", "The profile's permit type code"),
            _c("zone_code", "VARCHAR", "The zone applied for"),
            _WARD,
            _c("band", "VARCHAR", "Emission band used for the price; '' for none"),
            _c("duration_months", "TINYINT", "Months applied for"),
            _c("price_pence", "BIGINT", "The price fixed at application"),
            _c("vehicle_found", "BOOLEAN", "DVLA (or the local vehicle data) knew the vehicle"),
            _c("verification_decision", "VARCHAR", "verified, refer, not_found or ''"),
            _c("status", "VARCHAR", "The application's status now"),
            _c(
                "decided_automatically",
                "BOOLEAN",
                "Issued with no officer deciding (decided_by empty)",
            ),
            _c("created_at", "TIMESTAMPTZ", "When the application was made"),
            _c("decided_at", "TIMESTAMPTZ", "When the permit was issued or the refusal made"),
            _c("updated_at", "TIMESTAMPTZ", "When the source row last changed"),
            _c("partition_date", "DATE", "The London date of created_at"),
            _YEAR,
            _MONTH,
        ),
        {
            "zone_code": "dim_zone.zone_code",
            "band": "dim_emission_band.band",
            **_TO_WARD,
            **_TO_DATE,
        },
        "partition_date",
    ),
    Table(
        "fact_verification",
        "fact",
        "one verification of an applicant against the resident index, by any service",
        "verification_key",
        (
            _c("verification_key", KEY, "Pseudonymised verification"),
            _RESIDENT,
            _c("purpose", "VARCHAR", "The purpose code it ran for"),
            _c("service_code", "VARCHAR", "The service the purpose belongs to"),
            _c("actor_kind", "VARCHAR", "staff, service, system or resident"),
            _c("decision", "VARCHAR", "verified, refer or not_found"),
            _c("match_probability", "DOUBLE", "The linkage model's match probability"),
            _c("seconds", "DOUBLE", "How long the automatic decision took"),
            _c("review", "VARCHAR", "For referrals: pending, confirmed, rejected; '' if none"),
            _c(
                "decided_automatically",
                "BOOLEAN",
                "Answered verified or not found with no officer review",
            ),
            _c("requested_at", "TIMESTAMPTZ", "When it was asked"),
            _c("reviewed_at", "TIMESTAMPTZ", "When an officer reviewed it; NULL if not"),
            _c("partition_date", "DATE", "The London date of requested_at"),
            _YEAR,
            _MONTH,
        ),
        {"service_code": "dim_service.service_code", **_TO_DATE},
        "partition_date",
    ),
    Table(
        "fact_permit",
        "fact",
        "one permit as it stands now (status and refunds change: re-extracted when they do)",
        "permit_key",
        (
            _c("permit_key", KEY, "Pseudonymised permit"),
            _c("application_key", KEY, "The application it came from; NULL if none"),
            _RESIDENT,
            _c("permit_type", "VARCHAR", "The profile's permit type code"),
            _c("zone_code", "VARCHAR", "The permit's zone"),
            _WARD,
            _c("band", "VARCHAR", "Emission band of its application; '' for none"),
            _c("status", "VARCHAR", "active, proof_needed, cancelled, scheduled, ended"),
            _c("starts_on", "DATE", "First valid day"),
            _c("ends_on", "DATE", "Last valid day"),
            _c("paid_pence", "BIGINT", "Paid for the permit"),
            _c("refunded_pence", "BIGINT", "Refunded so far"),
            _c("issued_at", "TIMESTAMPTZ", "When it was issued"),
            _c("cancelled_at", "TIMESTAMPTZ", "When it was cancelled; NULL if not"),
            _c("partition_date", "DATE", "The London date of issued_at"),
            _YEAR,
            _MONTH,
        ),
        {
            "zone_code": "dim_zone.zone_code",
            "band": "dim_emission_band.band",
            **_TO_WARD,
            **_TO_DATE,
        },
        "partition_date",
    ),
    Table(
        "fact_permit_event",
        "fact",
        "one thing that happened to an application or permit (paid, issued, cancelled, …)",
        "event_key",
        (
            _c("event_key", KEY, "Pseudonymised event"),
            _c("application_key", KEY, "Its application; NULL if none"),
            _c("permit_key", KEY, "Its permit; NULL if none"),
            _c("action", "VARCHAR", "What happened"),
            _c("by_officer", "BOOLEAN", "An officer did it"),
            _c("at", "TIMESTAMPTZ", "When"),
            _c("partition_date", "DATE", "The London date of at"),
            _YEAR,
            _MONTH,
        ),
        _TO_DATE,
        "partition_date",
    ),
    Table(
        "fact_visitor_session",
        "fact",
        "one visitor parking session booked by a household",
        "session_key",
        (
            _c("session_key", KEY, "Pseudonymised session"),
            _c("host_key", KEY, "Pseudonymised resident sign-in account that booked it"),
            _c("zone_code", "VARCHAR", "The zone"),
            _WARD,
            _c("status", "VARCHAR", "awaiting_payment, booked, …"),
            _c("hours_used", "SMALLINT", "Hours taken from the allowance"),
            _c("price_pence", "BIGINT", "Paid"),
            _c("refunded_pence", "BIGINT", "Refunded for unused hours"),
            _c("starts_at", "TIMESTAMPTZ", "Start"),
            _c("ends_at", "TIMESTAMPTZ", "End as booked"),
            _c("ended_early_at", "TIMESTAMPTZ", "When it was ended early; NULL if not"),
            _c("partition_date", "DATE", "The London date of starts_at"),
            _YEAR,
            _MONTH,
        ),
        {"zone_code": "dim_zone.zone_code", **_TO_WARD, **_TO_DATE},
        "partition_date",
    ),
    Table(
        "fact_enforcement_check",
        "fact",
        "one enforcement check of a vehicle in a zone (from the data-use log)",
        "check_key",
        (
            _c("check_key", KEY, "Pseudonymised check"),
            _c("actor_kind", "VARCHAR", "staff (a page) or service (a device with an API key)"),
            _c("allowed", "BOOLEAN", "The vehicle was allowed to park"),
            _c("allowed_by", "VARCHAR", "permit, visitor or '' when not allowed"),
            _c("subjects", "SMALLINT", "Residents whose data the check read"),
            _c("checked_at", "TIMESTAMPTZ", "When"),
            _c("partition_date", "DATE", "The London date of checked_at"),
            _YEAR,
            _MONTH,
        ),
        _TO_DATE,
        "partition_date",
    ),
    Table(
        "fact_payment",
        "fact",
        "one card payment taken through the payment provider (GOV.UK Pay or local)",
        "payment_key",
        (
            _c("payment_key", KEY, "Pseudonymised payment"),
            _c("purpose_kind", "VARCHAR", "What it paid for: permit-application, rent, …"),
            _c("service_code", "VARCHAR", "parking or housing"),
            _c("provider", "VARCHAR", "govuk_pay or local"),
            _c("status", "VARCHAR", "GOV.UK Pay status: success, failed, …"),
            _c("amount_pence", "BIGINT", "Amount asked"),
            _c("refunded_pence", "BIGINT", "Refunded so far"),
            _c("created_at", "TIMESTAMPTZ", "When it started"),
            _c("succeeded_at", "TIMESTAMPTZ", "When it succeeded; NULL if not"),
            _c("updated_at", "TIMESTAMPTZ", "When the source row last changed"),
            _c("partition_date", "DATE", "The London date of created_at"),
            _YEAR,
            _MONTH,
        ),
        {"service_code": "dim_service.service_code", **_TO_DATE},
        "partition_date",
    ),
    Table(
        "fact_refund",
        "fact",
        "one refund of a card payment",
        "refund_key",
        (
            _c("refund_key", KEY, "Pseudonymised refund"),
            _c("payment_key", KEY, "The payment refunded"),
            _c("amount_pence", "BIGINT", "Amount refunded"),
            _c("status", "VARCHAR", "The provider's refund status"),
            _c("created_at", "TIMESTAMPTZ", "When"),
            _c("partition_date", "DATE", "The London date of created_at"),
            _YEAR,
            _MONTH,
        ),
        {"payment_key": "fact_payment.payment_key", **_TO_DATE},
        "partition_date",
    ),
    Table(
        "fact_rent_ledger",
        "fact",
        "one rent ledger entry: a charge, payment, benefit credit, adjustment, refund or reversal",
        "entry_key",
        (
            _c("entry_key", KEY, "Pseudonymised ledger entry"),
            _c("account_key", KEY, "The rent account"),
            _c("payment_method", "VARCHAR", "The entry's kind (see dim_payment_method)"),
            _c("type_code", "VARCHAR", "The council's transaction type code: DBR, RDD, …"),
            _c("tenure", "VARCHAR", "The tenancy's tenure"),
            _WARD,
            _c("amount_pence", "BIGINT", "Positive: owed (a charge); negative: paid"),
            _c("posted_on", "DATE", "The day it counts from"),
            _c("week_starting", "DATE", "The Monday of posted_on's rent week"),
            _c("is_reversal", "BOOLEAN", "It reverses an earlier entry"),
            _c("created_at", "TIMESTAMPTZ", "When it was written"),
            _c("partition_date", "DATE", "posted_on"),
            _YEAR,
            _MONTH,
        ),
        {
            "account_key": "dim_rent_account.account_key",
            "payment_method": "dim_payment_method.payment_method",
            "tenure": "dim_tenure.tenure",
            **_TO_WARD,
            **_TO_DATE,
        },
        "partition_date",
    ),
    Table(
        "fact_statement_line",
        "fact",
        "one line of the council's bank statement and how it was matched (as it stands now)",
        "line_key",
        (
            _c("line_key", KEY, "Pseudonymised statement line"),
            _c("amount_pence", "BIGINT", "Positive: money in"),
            _c("outcome", "VARCHAR", "posted, suspense, allocated, refunded, ignored"),
            _c("method", "VARCHAR", "How it was matched: reference, payer, … or ''"),
            _c("confidence", "DOUBLE", "The matcher's confidence, 0-1"),
            _c(
                "matched_automatically",
                "BOOLEAN",
                "Posted to an account by the matcher with no officer",
            ),
            _c("booking_date", "DATE", "The bank's booking date"),
            _c("resolved_at", "TIMESTAMPTZ", "When an officer resolved it; NULL if not"),
            _c("partition_date", "DATE", "booking_date"),
            _YEAR,
            _MONTH,
        ),
        _TO_DATE,
        "partition_date",
    ),
    Table(
        "fact_suspense",
        "fact",
        "one statement line that went to suspense (held or resolved since)",
        "line_key",
        (
            _c("line_key", KEY, "The statement line (fact_statement_line.line_key)"),
            _c("amount_pence", "BIGINT", "Amount"),
            _c("entered_on", "DATE", "The booking date: when it entered suspense"),
            _c("open", "BOOLEAN", "Still in suspense"),
            _c("resolution", "VARCHAR", "allocated, refunded, ignored; '' while open"),
            _c("resolved_on", "DATE", "London date it was resolved; NULL while open"),
            _c("partition_date", "DATE", "entered_on"),
            _YEAR,
            _MONTH,
        ),
        {"line_key": "fact_statement_line.line_key", **_TO_DATE},
        "partition_date",
    ),
    Table(
        "fact_dd_collection",
        "fact",
        "one Direct Debit collection asked of a tenant's bank, and whether it was returned",
        "collection_key",
        (
            _c("collection_key", KEY, "Pseudonymised collection"),
            _c("mandate_key", KEY, "Pseudonymised mandate"),
            _c("account_key", KEY, "The rent account"),
            _c("transaction_code", "VARCHAR", "Bacs code: 01 first, 17 regular, …"),
            _c("amount_pence", "BIGINT", "Amount asked"),
            _c("due_on", "DATE", "The day the money moves"),
            _c("status", "VARCHAR", "submitted or unpaid (returned by ARUDD)"),
            _c("returned", "BOOLEAN", "The bank returned it unpaid"),
            _c("partition_date", "DATE", "due_on"),
            _YEAR,
            _MONTH,
        ),
        {"account_key": "dim_rent_account.account_key", **_TO_DATE},
        "partition_date",
    ),
    Table(
        "fact_dd_mandate_event",
        "fact",
        "one thing that happened to a Direct Debit mandate (lodged, cancelled, ADDACS, …)",
        "event_key",
        (
            _c("event_key", KEY, "Pseudonymised event"),
            _c("mandate_key", KEY, "Pseudonymised mandate"),
            _c("account_key", KEY, "The rent account"),
            _c("action", "VARCHAR", "What happened"),
            _c("reason_code", "VARCHAR", "Bacs reason code, or ''"),
            _c("at", "TIMESTAMPTZ", "When"),
            _c("partition_date", "DATE", "The London date of at"),
            _YEAR,
            _MONTH,
        ),
        {"account_key": "dim_rent_account.account_key", **_TO_DATE},
        "partition_date",
    ),
    Table(
        "fact_data_use",
        "fact",
        "one use of one resident's data, from the data-use log",
        "event_key",
        (
            _c("event_key", KEY, "Pseudonymised event"),
            _c("subject_key", KEY, "Pseudonymised resident whose data was used"),
            _c("actor_kind", "VARCHAR", "staff, service, system or resident"),
            _c("service_code", "VARCHAR", "The service that used it"),
            _c("purpose", "VARCHAR", "Purpose code"),
            _c("lawful_basis", "VARCHAR", "Lawful basis code"),
            _c("action", "VARCHAR", "verification, viewed_records, enforcement_check, …"),
            _c("outcome", "VARCHAR", "A short code, or ''"),
            _c("datasets_read", "VARCHAR", "Dataset codes, comma-separated"),
            _c("occurred_at", "TIMESTAMPTZ", "When"),
            _c("partition_date", "DATE", "The London date of occurred_at"),
            _YEAR,
            _MONTH,
        ),
        {"service_code": "dim_service.service_code", **_TO_DATE},
        "partition_date",
    ),
    Table(
        "fact_feedback",
        "fact",
        "one feedback form sent through the phase banner",
        "feedback_key",
        (
            _c("feedback_key", KEY, "Pseudonymised feedback"),
            _c("satisfaction", "TINYINT", "5 very satisfied to 1 very dissatisfied"),
            _c("service_code", "VARCHAR", "The service of the page it came from, or ''"),
            _c(
                "comments",
                "VARCHAR",
                "The comments with email addresses, phone numbers, postcodes and vehicle "
                "registrations replaced by [removed]",
            ),
            _c("created_at", "TIMESTAMPTZ", "When"),
            _c("partition_date", "DATE", "The London date of created_at"),
            _YEAR,
            _MONTH,
        ),
        _TO_DATE,
        "partition_date",
    ),
)


TABLES: dict[str, Table] = {t.name: t for t in (*DIMENSIONS, *FACTS)}


def table(name: str) -> Table:
    return TABLES[name]


def tables_markdown() -> str:
    """The "Tables" section of docs/insights.md (``tests`` check the file matches)."""
    out = []
    for t in (*FACTS, *DIMENSIONS):
        out.append(f"### `{t.name}`\n")
        out.append(f"One row: {t.grain}. Key: `{t.key}`.")
        if t.partition_date:
            out.append(f" Parquet: `parquet/{t.name}/year=YYYY/month=M/*.parquet`.")
        else:
            out.append(f" Parquet: `parquet/{t.name}/*.parquet`.")
        out.append("\n\n| column | type | meaning |\n| --- | --- | --- |\n")
        for c in t.columns:
            ref = t.references.get(c.name)
            meaning = c.meaning + (f" (in `{ref}`)" if ref else "")
            out.append(f"| `{c.name}` | {c.type} | {meaning} |\n")
        out.append("\n")
    return "".join(out).rstrip() + "\n"


if __name__ == "__main__":
    print(tables_markdown(), end="")
