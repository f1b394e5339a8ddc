"""Data-quality checks run on every build before it is published.

- Row counts: every fact holds as many rows as its source table has.
- Money: the warehouse's totals in pence equal the source's. For the facts of append-only
  sources (``RUNNING``) an incremental build takes the source's totals from the last build's
  (which it checked) plus the rows added since, after looking up by the primary key's index
  that no row has appeared in the gaps of the IDs it saw (a late commit) and counting the
  retention purge's tombstones (``_source_totals``). That rows were not deleted or changed
  around the services, which refuse both, only a full build proves (it counts every source
  whole).
- Referential integrity: every key a fact holds is found in the table it refers to (on an
  incremental build, the rows it wrote, if no key the facts refer to left its dimension since
  the last build: ``check_references``).
- Rent balances: each rent account's balance in the warehouse equals the sum of its ledger
  entries in the source (on an incremental build, the accounts with new entries; a full build,
  every account).

The source side is read in the same database transaction as the extraction, so a service
writing during the build cannot make a check fail. A failure names the check, what was expected
and what was found, and up to five sample keys, which are pseudonymised.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa
from django.db import connection

from borough.insights import schema
from borough.insights.extract import _tables
from borough.insights.transform import values_sql

SAMPLES = 5
#: Up to this many source balances go to DuckDB as a SQL literal (an incremental build's
#: sample); more (a full build's every account) through Arrow, which is quicker for many rows
#: but makes DuckDB load pandas (``transform.values_sql``).
LITERAL_ROWS = 5_000


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


def _source_row(sql: str, params=()) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return tuple(int(v or 0) for v in cursor.fetchone())


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


#: Facts made one row per row of an append-only source (with an ``id``): an incremental build
#: checks them against running totals (below) instead of counting the whole source again.
RUNNING = ("fact_rent_ledger", "fact_permit_event", "fact_dd_mandate_event", "fact_data_use")
#: Of those, the facts whose source a service may delete rows from, with the table of the
#: tombstones it leaves: retention's purge of the data-use log (``transparency.PurgedEvent``).
TOMBSTONES = {"fact_data_use": "purged_event"}
#: The most gaps in a source's IDs the running totals keep (rows rolled back leave gaps): past
#: this, the next incremental build counts the rows at or below the last highest ID instead.
MAX_GAPS = 10_000


def _source_totals(fact: str, from_clause: str, money: dict, prior: dict | None) -> tuple:
    """(row count, money sums…) of the source, and what to keep for the next build's check.

    With ``prior`` (the last build's totals of an append-only source, which that build checked),
    only the rows above its highest ID are summed and added to its totals, if no row has come
    or gone at or below that ID since. Come: a transaction that took its ID before the last
    build and committed after it (or a row written behind the services' back) fills one of the
    gaps in the IDs the last build saw, which are kept and looked up by the primary key's index.
    Gone: a service's deletion (retention's purge of the data-use log) leaves a tombstone,
    which is counted. Then the whole source is summed after all, and the check fails as it must
    (the facts still hold the deleted row, or lack the late one): a full build remakes them.

    What an incremental build does not prove (a full build does, from a count of the whole
    source): that no row at or below the last build's highest ID was deleted or changed with no
    tombstone. The sources are append-only: the ledger refuses every change and deletion through
    the services (``LedgerEntry.save``/``delete`` and its queryset raise ``AppendOnlyError``),
    the data-use log in the database itself (triggers, migration transparency 0008), and
    nothing changes or deletes permit or mandate events; only SQL run by hand around the
    services can, which is what the weekly full build is for."""
    sums = ", ".join(f"sum({expr})" for expr in money.values())
    select = f"SELECT count(*){', ' + sums if sums else ''}"
    if fact not in RUNNING:
        return _source_row(f"{select} {from_clause}"), None
    high = _source_row(f"SELECT max(id) {from_clause}")[0]
    tombstones = _tombstones(fact)
    if (
        prior
        and prior.get("max_id") is not None
        and _nothing_came_or_went(fact, from_clause, prior, tombstones)
    ):
        above = _source_row(f"{select} {from_clause} WHERE id > %s", [prior["max_id"]])
        totals = tuple(a + b for a, b in zip(prior["totals"], above, strict=True))
        last = high or prior["max_id"]
        gaps = prior.get("gaps")
        if gaps is not None:
            gaps = gaps + _gaps(from_clause, prior["max_id"], last, above[0])
        return totals, _kept(last, totals, gaps, tombstones)
    totals = _source_row(f"{select} {from_clause} WHERE id <= %s", [high or 0])
    return totals, _kept(high, totals, _gaps(from_clause, 0, high or 0, totals[0]), tombstones)


def _kept(high, totals, gaps, tombstones) -> dict:
    if gaps is not None and len(gaps) > MAX_GAPS:
        gaps = None
    return {"max_id": high, "totals": list(totals), "gaps": gaps, "tombstones": tombstones}


def _tombstones(fact: str) -> int | None:
    table = TOMBSTONES.get(fact)
    return _source_row(f"SELECT count(*) FROM {_tables()[table]}")[0] if table else None


def _nothing_came_or_went(fact: str, from_clause: str, prior: dict, tombstones) -> bool:
    """Whether the source's rows at or below the last build's highest ID are the ones it saw
    (``_source_totals``). A last build that kept no gaps (too many, or an older build): they
    are counted by the primary key's index."""
    if tombstones != prior.get("tombstones", tombstones):
        return False
    gaps = prior.get("gaps")
    if gaps is None:
        below = _source_row(f"SELECT count(*) {from_clause} WHERE id <= %s", [prior["max_id"]])
        return below[0] == prior["totals"][0]
    if not gaps:
        return True
    lows, highs = zip(*gaps, strict=True)
    if connection.vendor == "postgresql":
        came = _source_row(
            f"SELECT count(*) {from_clause} JOIN unnest(%s::bigint[], %s::bigint[]) AS g(lo, hi) "
            "ON id BETWEEN g.lo AND g.hi",
            [list(lows), list(highs)],
        )
    else:
        ranges = " OR ".join(["id BETWEEN %s AND %s"] * len(gaps))
        came = _source_row(
            f"SELECT count(*) {from_clause} WHERE {ranges}",
            [v for gap in gaps for v in gap],
        )
    return came[0] == 0


def _gaps(from_clause: str, after: int, high: int, rows: int | None = None) -> list[list[int]]:
    """The ranges of IDs above ``after`` and at or below ``high`` that no row has, in the
    source (``rows``: how many rows there are, if known: none are missing if it is all)."""
    if high <= after:
        return []
    if rows is not None and rows == high - after:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT prev + 1, id - 1 FROM (SELECT id, lag(id, 1, %s) OVER (ORDER BY id) AS prev "
            f"{from_clause} WHERE id > %s) ids WHERE id > prev + 1 LIMIT %s",
            [after, after, MAX_GAPS + 1],
        )
        return [[int(lo), int(hi)] for lo, hi in cursor.fetchall()]


def check_counts_and_money(
    con, prior: dict | None = None, kept: dict | None = None
) -> list[CheckResult]:
    """``prior``: the last build's running totals (an incremental build); ``kept``: filled with
    this build's, for the next."""
    results = []
    for fact, (from_clause, money) in _source_queries().items():
        expected, keep = _source_totals(fact, from_clause, money, (prior or {}).get(fact))
        if keep is not None and kept is not None:
            kept[fact] = keep
        sums = "".join(f', sum("{column}")' for column in money)
        found = tuple(
            int(v or 0) for v in con.execute(f'SELECT count(*){sums} FROM "{fact}"').fetchone()
        )
        results.append(
            CheckResult(f"row count of {fact}", expected[0] == found[0], expected[0], found[0])
        )
        for i, column in enumerate(money, start=1):
            results.append(
                CheckResult(
                    f"total {column} of {fact} (pence)",
                    expected[i] == found[i],
                    expected[i],
                    found[i],
                )
            )
    return results


def _targets() -> set[tuple[str, str]]:
    return {tuple(target.split(".")) for t in schema.FACTS for target in t.references.values()}


def keep_dimension_keys(con) -> None:
    """Before an incremental build remakes the dimensions: the keys the facts refer to, as the
    last build's dimensions had them (``check_references``)."""
    for dim, column in _targets():
        con.execute(
            f'CREATE OR REPLACE TEMP TABLE "kept_{dim}_{column}" AS '
            f'SELECT DISTINCT "{column}" AS k FROM "{dim}"'
        )


def _all_kept(con, dim: str, column: str) -> bool:
    """Whether every key of the last build's ``dim`` is in this build's."""
    gone = con.execute(
        f'SELECT count(*) FROM "kept_{dim}_{column}" k '
        f'WHERE NOT EXISTS (SELECT 1 FROM "{dim}" d WHERE d."{column}" = k.k)'
    ).fetchone()[0]
    return gone == 0


def written_rows(fact: str) -> str:
    """The temporary table of the keys of the rows an incremental build wrote to ``fact``."""
    return f"written_{fact}"


def check_references(con, changed: dict[str, set | None] | None = None) -> list[CheckResult]:
    """Every key a fact or dimension holds is in the table it refers to.

    ``changed`` (an incremental build that ran ``keep_dimension_keys`` before remaking the
    dimensions and kept the keys of the rows it wrote in ``written_rows``): each fact's
    (year, month) partitions this build changed. A fact's rows that this build did not write
    are the last build's, whose keys that build proved were in its dimensions; if every key of
    the last build's dimension is still in this build's, they still are, and only the rows
    this build wrote are looked up (a day's thousand cancelled permits, not the million rows of
    the months they fall in). If a key is gone, every row is. Dimensions, remade every build,
    are looked up whole."""
    results = []
    for t in (*schema.FACTS, *schema.DIMENSIONS):
        parts = (changed or {}).get(t.name)
        if parts is not None and t.references:
            # The rows this build wrote, taken out once for all the table's references: in
            # the partitions it changed (DuckDB's zone maps skip the others
            # unread), with a written key or none (a ledger entry whose account
            # is missing has no key, so matches no written one).
            where = " OR ".join(f"(year = {y} AND month = {m})" for y, m in sorted(parts))
            con.execute(
                f'CREATE OR REPLACE TEMP TABLE "check_{t.name}" AS SELECT * FROM "{t.name}" '
                f'WHERE ({where or "false"}) AND ("{t.key}" IS NULL OR "{t.key}" IN '
                f'(SELECT k FROM "{written_rows(t.name)}"))'
            )
        for column, target in t.references.items():
            dim, dim_column = target.split(".")
            rows = f'"{t.name}"'
            if parts is not None and _all_kept(con, dim, dim_column):
                rows = f'"check_{t.name}"'
            missing = f"""FROM {rows} f WHERE f."{column}" IS NULL OR NOT EXISTS
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
        else [account_ids]
        if connection.vendor == "postgresql"
        else [account_ids[i : i + 500] for i in range(0, len(account_ids), 500)]
    )
    with connection.cursor() as cursor:
        for chunk in chunks:
            if chunk is None:
                cursor.execute(f"{sql} GROUP BY account_id")
            elif chunk and connection.vendor == "postgresql":
                # One array parameter: psycopg parses a query's placeholders in Python, a
                # tenth of a second for a few thousand of them.
                cursor.execute(f"{sql} WHERE account_id = ANY(%s) GROUP BY account_id", [chunk])
            elif chunk:
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(f"{sql} WHERE account_id IN ({marks}) GROUP BY account_id", chunk)
            else:
                continue
            rows = cursor.fetchall()
            if rows and len(rows) <= LITERAL_ROWS:
                rows = [(int(account), int(pence)) for account, pence in rows]
                con.execute(f"INSERT INTO source_balance VALUES {values_sql(rows)}")
            elif rows:
                ids, pence = zip(*rows, strict=True)
                batch = pa.table(
                    {
                        "account_id": pa.array(ids, pa.int64()),
                        "pence": pa.array([int(p) for p in pence], pa.int64()),
                    }
                )
                con.register("balance_rows", batch)
                con.execute("INSERT INTO source_balance SELECT * FROM balance_rows")
                con.unregister("balance_rows")
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


def run_checks(
    con,
    account_ids: list[int] | None,
    prior: dict | None = None,
    kept: dict | None = None,
    changed: dict[str, set | None] | None = None,
) -> list[CheckResult]:
    """``prior``/``kept``: running totals (``check_counts_and_money``); ``changed``: the
    partitions an incremental build changed (``check_references``)."""
    return [
        *check_counts_and_money(con, prior, kept),
        *check_references(con, changed),
        check_balances(con, account_ids),
    ]
