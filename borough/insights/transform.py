"""From staging tables (``extract.py``) to the star schema's rows (``schema.py``), in DuckDB SQL.

Each fact is one SELECT over one staging table, joined to the snapshot sources (properties for
the ward, zones, rent accounts, mandates). Every identifier leaves through ``pseudonym(kind,
value)`` (``pseudonyms.py``); no name, contact detail, registration, reference or bank detail is
selected, so none can reach the warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass

from borough.insights import schema
from borough.transparency.purposes import SERVICES


@dataclass(frozen=True)
class FactRecipe:
    table: str  # the fact
    source: str  # the staging source it is made from
    key_kind: str  # pseudonym kind of the source's id, so changed rows can be found by key
    select: str  # SELECT … FROM {src} …: the columns of schema.table(table), in order


def _london_date(expr: str) -> str:
    return f"CAST(timezone('Europe/London', {expr}) AS DATE)"


def _parts(date_expr: str) -> str:
    return (
        f"{date_expr} AS partition_date, CAST(year({date_expr}) AS SMALLINT) AS year, "
        f"CAST(month({date_expr}) AS TINYINT) AS month"
    )


_WARD = "coalesce(pr.ward_code, '') AS ward_code"
_PROPERTY = "LEFT JOIN stg_property pr ON pr.uprn = s.property_id"
_ZONE = "LEFT JOIN stg_zone z ON z.id = s.zone_id"
_SERVICE_OF_PURPOSE = (
    "CASE WHEN s.purpose LIKE 'parking%' THEN 'parking' "
    "WHEN s.purpose LIKE 'housing%' OR s.purpose LIKE 'rent%' THEN 'housing' "
    "WHEN s.purpose LIKE 'transparency%' THEN 'transparency' ELSE 'residents' END"
)
# Contact details and registrations in free text (the feedback form's comments).
_REDACTIONS = (
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",  # email address
    r"\+?\d[\d ()-]{8,}\d",  # phone number
    r"\b[A-Za-z]{1,2}\d[A-Za-z\d]?\s*\d[A-Za-z]{2}\b",  # postcode
    r"\b[A-Za-z]{2}\d{2}\s?[A-Za-z]{3}\b",  # current-style registration
)


def _redacted(expr: str) -> str:
    for pattern in _REDACTIONS:
        expr = f"regexp_replace({expr}, '{pattern}', '[removed]', 'g')"
    # The recipe's SELECT is a str.format template ({src}): keep the patterns' braces.
    return expr.replace("{", "{{").replace("}", "}}")


RECIPES: tuple[FactRecipe, ...] = (
    FactRecipe(
        "fact_permit_application",
        "application",
        "application",
        f"""SELECT pseudonym('application', s.id), pseudonym('resident', s.resident_id),
        s.journey, s.permit_type, z.code, {_WARD}, coalesce(s.band, ''),
        s.duration_months, s.price_pence, s.vehicle_found,
        coalesce(s.verification_decision, ''), s.status,
        s.status = 'issued' AND s.decided_by_id IS NULL,
        s.created_at,
        CASE WHEN s.status = 'issued' THEN s.issued_at
             WHEN s.status = 'refused' THEN s.updated_at END,
        s.updated_at, {_parts(_london_date("s.created_at"))}
        FROM {{src}} s {_ZONE} {_PROPERTY}""",
    ),
    FactRecipe(
        "fact_verification",
        "verification",
        "verification",
        f"""SELECT pseudonym('verification', s.id), pseudonym('resident', s.resident_id),
        s.purpose, {_SERVICE_OF_PURPOSE}, s.actor_kind, s.decision, s.match_probability,
        s.seconds, coalesce(s.review, ''),
        s.decision IN ('verified', 'not_found') AND coalesce(s.review, '') = '',
        s.requested_at, s.reviewed_at, {_parts(_london_date("s.requested_at"))}
        FROM {{src}} s""",
    ),
    FactRecipe(
        "fact_permit",
        "permit",
        "permit",
        f"""SELECT pseudonym('permit', s.id), pseudonym('application', s.application_id),
        pseudonym('resident', s.resident_id), s.permit_type, z.code, {_WARD},
        coalesce(s.band, ''), s.status, s.starts_on, s.ends_on, s.paid_pence,
        s.refunded_pence, s.issued_at, s.cancelled_at, {_parts(_london_date("s.issued_at"))}
        FROM {{src}} s {_ZONE} {_PROPERTY}""",
    ),
    FactRecipe(
        "fact_permit_event",
        "permit_event",
        "permit_event",
        f"""SELECT pseudonym('permit_event', s.id), pseudonym('application', s.application_id),
        pseudonym('permit', s.permit_id), s.action, s.actor_id IS NOT NULL, s.at,
        {_parts(_london_date("s.at"))} FROM {{src}} s""",
    ),
    FactRecipe(
        "fact_visitor_session",
        "visitor",
        "visitor",
        f"""SELECT pseudonym('visitor', s.id), pseudonym('user', s.host_id), z.code, {_WARD},
        s.status, s.hours_used, s.price_pence, s.refunded_pence, s.starts_at, s.ends_at,
        s.ended_early_at, {_parts(_london_date("s.starts_at"))}
        FROM {{src}} s {_ZONE} {_PROPERTY}""",
    ),
    FactRecipe(
        "fact_enforcement_check",
        "data_use",
        "check",
        # One check may read several residents (one log row each, sharing an action ID).
        f"""SELECT pseudonym('check', s.action_id), any_value(s.actor_kind),
        bool_or(s.outcome = 'allowed'),
        CASE WHEN NOT bool_or(s.outcome = 'allowed') THEN ''
             WHEN bool_or(s.reference LIKE 'VS-%') THEN 'visitor' ELSE 'permit' END,
        CAST(count(s.subject_resident_id) AS SMALLINT), min(s.occurred_at),
        {_parts(_london_date("min(s.occurred_at)"))}
        FROM {{src}} s WHERE s.action = 'enforcement_check' GROUP BY s.action_id""",
    ),
    FactRecipe(
        "fact_payment",
        "payment",
        "payment",
        f"""SELECT pseudonym('payment', s.id), split_part(s.purpose_key, ':', 1),
        CASE WHEN s.purpose_key LIKE 'rent%' THEN 'housing' ELSE 'parking' END,
        s.provider, s.status, s.amount_pence, s.refunded_pence, s.created_at,
        s.succeeded_at, s.updated_at, {_parts(_london_date("s.created_at"))}
        FROM {{src}} s""",
    ),
    FactRecipe(
        "fact_refund",
        "refund",
        "refund",
        f"""SELECT pseudonym('refund', s.id), pseudonym('payment', s.payment_id),
        s.amount_pence, s.status, s.created_at, {_parts(_london_date("s.created_at"))}
        FROM {{src}} s""",
    ),
    FactRecipe(
        "fact_rent_ledger",
        "ledger",
        "ledger",
        # The account's key from its row in stg_account (hashed once per account, not once
        # per entry); an entry whose account is missing gets NULL, which the checks refuse.
        # The entry's key is its account's keyed number plus its place in the account's ledger
        # (ledger_before: the entries the warehouse already has), so no entry is hashed.
        f"""SELECT lower(lpad(to_hex(a.entry_base + coalesce(lb.entries, 0)
            + row_number() OVER (PARTITION BY s.account_id ORDER BY s.id)), 16, '0')),
        a.account_key, s.kind,
        s.type_code, a.tenure, coalesce(pr.ward_code, ''), s.amount_pence, s.posted_on,
        CAST(date_trunc('week', s.posted_on) AS DATE), s.reverses_id IS NOT NULL,
        s.created_at, {_parts("s.posted_on")}
        FROM {{src}} s LEFT JOIN stg_account a ON a.id = s.account_id
        LEFT JOIN ledger_before lb ON lb.account_key = a.account_key
        LEFT JOIN stg_property pr ON pr.uprn = a.property_id""",
    ),
    FactRecipe(
        "fact_statement_line",
        "bank_line",
        "bank_line",
        f"""SELECT pseudonym('bank_line', s.id), s.amount_pence, s.outcome,
        coalesce(s.method, ''), s.confidence,
        s.outcome = 'posted' AND s.resolved_by_id IS NULL, s.booking_date, s.resolved_at,
        {_parts("s.booking_date")} FROM {{src}} s""",
    ),
    FactRecipe(
        "fact_suspense",
        "bank_line",
        "bank_line",
        # In suspense now, or taken out of it by an officer.
        f"""SELECT pseudonym('bank_line', s.id), s.amount_pence, s.booking_date,
        s.outcome = 'suspense',
        CASE WHEN s.outcome = 'suspense' THEN '' ELSE s.outcome END,
        CASE WHEN s.outcome <> 'suspense' THEN {_london_date("s.resolved_at")} END,
        {_parts("s.booking_date")}
        FROM {{src}} s WHERE s.outcome = 'suspense' OR s.resolved_by_id IS NOT NULL""",
    ),
    FactRecipe(
        "fact_dd_collection",
        "collection",
        "collection",
        f"""SELECT pseudonym('collection', s.id), pseudonym('mandate', s.mandate_id),
        pseudonym('account', m.account_id), s.transaction_code, s.amount_pence, s.due_on,
        s.status, s.status = 'unpaid', {_parts("s.due_on")}
        FROM {{src}} s LEFT JOIN stg_mandate m ON m.id = s.mandate_id""",
    ),
    FactRecipe(
        "fact_dd_mandate_event",
        "mandate_event",
        "mandate_event",
        f"""SELECT pseudonym('mandate_event', s.id), pseudonym('mandate', s.mandate_id),
        pseudonym('account', m.account_id), s.action, coalesce(s.reason_code, ''), s.at,
        {_parts(_london_date("s.at"))}
        FROM {{src}} s LEFT JOIN stg_mandate m ON m.id = s.mandate_id""",
    ),
    FactRecipe(
        "fact_data_use",
        "data_use",
        "data_use",
        f"""SELECT pseudonym('data_use', s.id), pseudonym('resident', s.subject_resident_id),
        s.actor_kind, s.service, s.purpose, s.lawful_basis, s.action,
        coalesce(s.outcome, ''),
        array_to_string(CAST(json(coalesce(s.datasets_read, '[]')) AS VARCHAR[]), ','),
        s.occurred_at, {_parts(_london_date("s.occurred_at"))} FROM {{src}} s""",
    ),
    FactRecipe(
        "fact_feedback",
        "feedback",
        "feedback",
        f"""SELECT pseudonym('feedback', s.id), s.satisfaction,
        CASE WHEN split_part(s.page, '/', 2) IN ({", ".join(f"'{c}'" for c in SERVICES)})
             THEN split_part(s.page, '/', 2) ELSE '' END,
        {_redacted("coalesce(s.comments, '')")}, s.created_at,
        {_parts(_london_date("s.created_at"))} FROM {{src}} s""",
    ),
)


def add_account_keys(con) -> None:
    """Each rent account's pseudonymised key beside it in ``stg_account``, and the keyed
    number its ledger entries' keys count up from (``entry_base``: 60 bits of a keyed hash, so
    two accounts' entry keys meet only if their numbers fall within their ledgers' length of
    each other, about one chance in 10^7 for 50,000 accounts of 500 entries); and in
    ``ledger_before`` how many entries the warehouse already has of each account with new
    ones (none on a full build)."""
    con.execute("ALTER TABLE stg_account ADD COLUMN account_key VARCHAR")
    con.execute("ALTER TABLE stg_account ADD COLUMN entry_base BIGINT")
    con.execute(
        "UPDATE stg_account SET account_key = pseudonym('account', id), "
        "entry_base = CAST('0x' || left(pseudonym('ledger_entries', id), 15) AS BIGINT)"
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE ledger_before AS
        SELECT account_key, count(*) AS entries FROM fact_rent_ledger
        WHERE account_key IN (SELECT account_key FROM stg_account
                              WHERE id IN (SELECT account_id FROM stg_ledger))
        GROUP BY account_key"""
    )


def recipe(table: str) -> FactRecipe:
    return next(r for r in RECIPES if r.table == table)


def insert_facts(con, r: FactRecipe, src_table: str) -> None:
    cols = ", ".join(f'"{c}"' for c in schema.table(r.table).column_names)
    con.execute(f'INSERT INTO "{r.table}" ({cols}) ' + r.select.format(src=src_table))


def values_sql(rows) -> str:
    """Rows of text, whole numbers and NULLs as a SQL ``VALUES`` list, each value a literal.

    Used instead of DuckDB's parameters for the few rows the build writes from Python: its
    Python binding imports pandas to look at any parameter or registered table, a third of a
    second of every build."""

    def literal(value) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, int):
            return str(value)
        return "'" + str(value).replace("'", "''") + "'"

    return ", ".join("(" + ", ".join(literal(v) for v in row) + ")" for row in rows)


def build_dimensions(con, bands: list[tuple[str, int | None]]) -> None:
    """(Re)make every dimension from the snapshot sources, the profile and the facts."""
    for t in schema.DIMENSIONS:
        con.execute(f'DROP TABLE IF EXISTS "{t.name}"')
        con.execute(t.ddl())
    con.execute(
        """INSERT INTO dim_ward SELECT coalesce(ward_code, ''),
        CASE WHEN coalesce(ward_code, '') = '' THEN 'Not known' ELSE max(ward_name) END,
        count(*), count(*) FILTER (WHERE is_residential)
        FROM stg_property GROUP BY 1"""
    )
    # "Not known" is always there, so facts with no ward have a row to join.
    con.execute(
        "INSERT INTO dim_ward SELECT '', 'Not known', 0, 0 "
        "WHERE NOT EXISTS (SELECT 1 FROM dim_ward WHERE ward_code = '')"
    )
    con.execute("INSERT INTO dim_zone SELECT code, name, active FROM stg_zone")
    con.execute(f"INSERT INTO dim_service VALUES {values_sql(SERVICES.items())}")
    con.execute(f"INSERT INTO dim_payment_method VALUES {values_sql(_payment_methods())}")
    con.execute(f"INSERT INTO dim_tenure VALUES {values_sql(_tenures())}")
    emission_bands = [("", None, 0)] + [(name, co2, i + 1) for i, (name, co2) in enumerate(bands)]
    con.execute(f"INSERT INTO dim_emission_band VALUES {values_sql(emission_bands)}")
    con.execute(
        """INSERT INTO dim_rent_account
        SELECT a.account_key, a.tenure, coalesce(pr.ward_code, ''), a.opened_on,
        a.closed_on, coalesce(b.balance, 0)
        FROM stg_account a LEFT JOIN stg_property pr ON pr.uprn = a.property_id
        LEFT JOIN (SELECT account_key, sum(amount_pence) AS balance FROM fact_rent_ledger
                   GROUP BY account_key) b ON b.account_key = a.account_key"""
    )
    dates = " UNION ALL ".join(
        f'SELECT min(partition_date) AS lo, max(partition_date) AS hi FROM "{t.name}"'
        for t in schema.FACTS
    )
    con.execute(
        f"""INSERT INTO dim_date
        WITH span AS (SELECT min(lo) AS lo, max(hi) AS hi FROM ({dates}))
        SELECT d, year(d), month(d), CAST(date_trunc('month', d) AS DATE),
        CAST(date_trunc('week', d) AS DATE), isoyear(d), week(d), isodow(d),
        CASE WHEN month(d) >= 4 THEN year(d) ELSE year(d) - 1 END || '-' ||
          lpad(CAST((CASE WHEN month(d) >= 4 THEN year(d) + 1 ELSE year(d) END) % 100
          AS VARCHAR), 2, '0')
        FROM span, (SELECT CAST(unnest(generate_series(
            CAST(span.lo AS TIMESTAMP), CAST(span.hi AS TIMESTAMP), INTERVAL 1 DAY)) AS DATE)
            AS d) WHERE span.lo IS NOT NULL"""
    )


def _payment_methods() -> list[tuple]:
    from borough.housing.models import LedgerEntry

    groups = {"direct_debit": "direct_debit", "standing_order": "standing_order"}
    payments = {"direct_debit", "standing_order", "bank_payment", "card", "benefit"}
    return [
        (
            code,
            str(label),
            code in payments,
            groups.get(code, "other") if code in payments else "not_payment",
        )
        for code, label in LedgerEntry.Kind.choices
    ]


def _tenures() -> list[tuple]:
    from borough.housing.models import Tenancy

    return [(code, str(label)) for code, label in Tenancy.Tenure.choices]
