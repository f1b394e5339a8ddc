"""Data-quality checks run on every build before it is published.

- Row counts: every fact holds as many rows as its source table has.
- Money: the warehouse's totals in pence equal the source's.
- Referential integrity: every key a fact holds is found in the table it refers to.
- Rent balances: each rent account's balance in the warehouse equals the sum of its ledger
  entries in the source (on an incremental build, the accounts with new entries; a full build,
  every account).

The source side is read in the same database transaction as the extraction, so a service
writing during the build cannot make a check fail. A failure names the check, what was expected
and what was found, and up to five sample keys, which are pseudonymised.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection

from borough.insights import schema
from borough.insights.extract import _tables

SAMPLES = 5


@dataclass
class CheckResult:
    name: str
    passed: bool
    expected: object = None
    found: object = None
    samples: list[str] = field(default_factory=list)

    def line(self) -> str:
        if self.passed:
            return f"passed  {self.name}"
        text = f"FAILED  {self.name}: expected {self.expected}, found {self.found}"
        if self.samples:
            text += f" (for example {', '.join(self.samples)})"
        return text


def _source_one(sql: str, params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.fetchone()[0] or 0)


def _source_queries() -> dict[str, tuple[str, dict[str, str]]]:
    """Fact → (FROM … clause in the source, money column in the fact → source expression)."""
    t = _tables()
    return {
        "fact_permit_application": (
            f"FROM {t['application']}",
            {"price_pence": "price_pence"},
        ),
        "fact_verification": (f"FROM {t['verification']}", {}),
        "fact_permit": (
            f"FROM {t['permit']}",
            {"paid_pence": "paid_pence", "refunded_pence": "refunded_pence"},
        ),
        "fact_permit_event": (f"FROM {t['permit_event']}", {}),
        "fact_visitor_session": (
            f"FROM {t['visitor']}",
            {"price_pence": "price_pence", "refunded_pence": "refunded_pence"},
        ),
        "fact_enforcement_check": (
            f"FROM (SELECT DISTINCT action_id FROM {t['data_use']} "
            "WHERE action = 'enforcement_check') c",
            {},
        ),
        "fact_payment": (
            f"FROM {t['payment']}",
            {"amount_pence": "amount_pence", "refunded_pence": "refunded_pence"},
        ),
        "fact_refund": (f"FROM {t['refund']}", {"amount_pence": "amount_pence"}),
        "fact_rent_ledger": (f"FROM {t['ledger']}", {"amount_pence": "amount_pence"}),
        "fact_statement_line": (f"FROM {t['bank_line']}", {"amount_pence": "amount_pence"}),
        "fact_suspense": (
            f"FROM {t['bank_line']} WHERE outcome = 'suspense' OR resolved_by_id IS NOT NULL",
            {"amount_pence": "amount_pence"},
        ),
        "fact_dd_collection": (f"FROM {t['collection']}", {"amount_pence": "amount_pence"}),
        "fact_dd_mandate_event": (f"FROM {t['mandate_event']}", {}),
        "fact_data_use": (f"FROM {t['data_use']}", {}),
        "fact_feedback": (f"FROM {t['feedback']}", {}),
    }


def check_counts_and_money(con) -> list[CheckResult]:
    results = []
    for fact, (from_clause, money) in _source_queries().items():
        expected = _source_one(f"SELECT count(*) {from_clause}")
        found = con.execute(f'SELECT count(*) FROM "{fact}"').fetchone()[0]
        results.append(CheckResult(f"row count of {fact}", expected == found, expected, found))
        for column, source_expr in money.items():
            expected = _source_one(f"SELECT sum({source_expr}) {from_clause}")
            found = int(con.execute(f'SELECT sum("{column}") FROM "{fact}"').fetchone()[0] or 0)
            results.append(
                CheckResult(f"total {column} of {fact} (pence)", expected == found, expected, found)
            )
    return results


def check_references(con) -> list[CheckResult]:
    results = []
    for t in (*schema.FACTS, *schema.DIMENSIONS):
        for column, target in t.references.items():
            dim, dim_column = target.split(".")
            missing = f"""FROM "{t.name}" f WHERE f."{column}" IS NULL OR NOT EXISTS
                (SELECT 1 FROM "{dim}" d WHERE d."{dim_column}" = f."{column}")"""
            count = con.execute(f"SELECT count(*) {missing}").fetchone()[0]
            samples = []
            if count:
                key = t.key.split(",")[0]
                samples = [
                    f"{row[0]} ({column} {row[1]!r})"
                    for row in con.execute(
                        f'SELECT f."{key}", f."{column}" {missing} LIMIT {SAMPLES}'
                    ).fetchall()
                ]
            results.append(
                CheckResult(
                    f"every {t.name}.{column} is in {target}",
                    count == 0,
                    "0 rows missing",
                    f"{count} rows missing",
                    samples,
                )
            )
    return results


def check_balances(con, account_ids: list[int] | None) -> CheckResult:
    """Each account's balance in the warehouse against the sum of its source ledger entries.
    ``account_ids``: only these (an incremental build); None: every account."""
    t = _tables()
    con.execute("CREATE OR REPLACE TEMP TABLE source_balance (account_id BIGINT, pence BIGINT)")
    sql = f"SELECT account_id, sum(amount_pence) FROM {t['ledger']}"
    chunks = (
        [None]
        if account_ids is None
        else [account_ids[i : i + 500] for i in range(0, len(account_ids), 500)]
    )
    with connection.cursor() as cursor:
        for chunk in chunks:
            if chunk is None:
                cursor.execute(f"{sql} GROUP BY account_id")
            elif chunk:
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(f"{sql} WHERE account_id IN ({marks}) GROUP BY account_id", chunk)
            else:
                continue
            rows = cursor.fetchall()
            if rows:
                con.executemany("INSERT INTO source_balance VALUES (?, ?)", rows)
    wrong = """FROM source_balance s LEFT JOIN dim_rent_account d
        ON d.account_key = pseudonym('account', s.account_id)
        WHERE d.balance_pence IS DISTINCT FROM s.pence"""
    count = con.execute(f"SELECT count(*) {wrong}").fetchone()[0]
    checked = con.execute("SELECT count(*) FROM source_balance").fetchone()[0]
    samples = [
        f"{key} (source {expected}, warehouse {found})"
        for key, expected, found in con.execute(
            f"SELECT pseudonym('account', s.account_id), s.pence, d.balance_pence {wrong} "
            f"LIMIT {SAMPLES}"
        ).fetchall()
    ]
    return CheckResult(
        f"rent balances reconcile to the ledger ({checked} accounts checked)",
        count == 0,
        "0 accounts differing",
        f"{count} accounts differing",
        samples,
    )


def run_checks(con, account_ids: list[int] | None) -> list[CheckResult]:
    return [*check_counts_and_money(con), *check_references(con), check_balances(con, account_ids)]
