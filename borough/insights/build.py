"""``borough insights build``: extract, transform, check, then publish the warehouse.

A build works in a new folder ``builds/<id>.building``. An incremental build starts from a copy
of the published DuckDB file and of its private state (watermarks and the last copy of the
snapshot sources, in ``.state/``) and applies only what changed; a full build (``--full``, the
first build, or a schema change) starts empty. Then the checks (``checks.py``) run. If any fails,
nothing is published: the folder is deleted, the report is written to ``last-build-report.txt``
and the build raises ``BuildFailed``. If all pass, the Parquet files are written (an incremental
build hard-links the partitions that did not change and writes only those that did) and the
``current`` link is swapped to the new folder in one rename. The build before it is kept until
the next publish, so a reader that opened it keeps working.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from borough.insights import (
    aggregates,
    checks,
    extract,
    pseudonyms,
    schema,
    transform,
    warehouse,
)

STATE_DIR = ".state"
STATE_FILE = "state.json"
SNAPSHOTS = "snapshots.duckdb"
RECONCILE_SAMPLE = 2_000


class BuildFailed(Exception):
    """A check failed: the warehouse was not published."""

    def __init__(self, report: str, results: list[checks.CheckResult]) -> None:
        super().__init__(report)
        self.report = report
        self.results = results


@dataclass
class BuildResult:
    build: Path
    full: bool
    seconds: float
    rows_read: dict[str, int]
    rows: dict[str, int]
    results: list[checks.CheckResult] = field(default_factory=list)
    partitions_written: int = 0
    #: Seconds spent reading, transforming, checking and writing Parquet.
    stages: dict[str, float] = field(default_factory=dict)


def schema_fingerprint() -> str:
    text = "\n".join(t.ddl() for t in (*schema.FACTS, *schema.DIMENSIONS))
    text += "\n".join(r.select for r in transform.RECIPES)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _load_state(build: Path | None) -> dict | None:
    if build is None:
        return None
    path = build / STATE_DIR / STATE_FILE
    if not path.exists():
        return None
    state = json.loads(path.read_text())
    if state.get("schema") != schema_fingerprint():
        return None
    return state


@contextlib.contextmanager
def _lock(root: Path):
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            message = "Another warehouse build is running; try again when it ends."
            raise BuildFailed(message, []) from None
        yield


def build(*, full: bool = False, progress: Callable[[str], None] = lambda _: None) -> BuildResult:
    """Build the warehouse and publish it if every check passes (else raise ``BuildFailed``)."""
    started = time.perf_counter()
    root = warehouse.root()
    with _lock(root):
        previous = warehouse.current_build()
        state = None if full else _load_state(previous)
        build_id = timezone.now().strftime("%Y%m%dT%H%M%S%fZ")
        work = root / "builds" / f"{build_id}.building"
        (work / STATE_DIR).mkdir(parents=True)
        try:
            try:
                result = _build_into(work, previous, state, progress)
            finally:
                _record_build(build_id)  # the services' records were read, published or not
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        final = work.with_name(build_id)
        work.rename(final)
        _publish(root, final, previous)
        result.build = final
        result.seconds = time.perf_counter() - started
        (root / "last-build-report.txt").write_text(_report(result.results, published=True))
        progress(f"published {final.name} in {result.seconds:.1f} s")
        return result


def _record_build(build_id: str) -> None:
    """One data-use event a build, naming no one: every resident's records are read, and the
    warehouse keeps them pseudonymised (docs/insights.md)."""
    from borough.transparency.models import Action, ActorKind
    from borough.transparency.services import record_data_use

    record_data_use(
        subject_resident_ids=[],
        actor=None,
        actor_kind=ActorKind.SYSTEM,
        actor_label="The statistics warehouse build",
        purpose="insights_warehouse_build",
        action=Action.UPDATED_RECORDS,
        datasets=["parking_permits", "rent_accounts", "verifications", "data_use_log"],
        reference=f"build:{build_id}",
    )


def _build_into(work: Path, previous: Path | None, state: dict | None, progress) -> BuildResult:
    incremental = state is not None
    stages: dict[str, float] = {}
    mark = (time.perf_counter(), time.process_time())

    def stage(name: str) -> None:
        # Wall seconds, and CPU seconds of all the build's threads (what a busy machine hides).
        nonlocal mark
        now = (time.perf_counter(), time.process_time())
        stages[name] = round(now[0] - mark[0], 2)
        stages[f"{name}_cpu"] = round(now[1] - mark[1], 2)
        mark = now

    if incremental:
        shutil.copyfile(previous / "warehouse.duckdb", work / "warehouse.duckdb")
        shutil.copyfile(previous / STATE_DIR / SNAPSHOTS, work / STATE_DIR / SNAPSHOTS)
    con = duckdb.connect(str(work / "warehouse.duckdb"))
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"SET temp_directory = '{work / STATE_DIR / 'tmp'}'")
        pseudonyms.install_macro(con)
        con.execute(f"ATTACH '{work / STATE_DIR / SNAPSHOTS}' AS snap")
        if not incremental:
            for t in schema.FACTS:
                con.execute(t.ddl())
        new_state = {"schema": schema_fingerprint(), "sources": {}}
        rows_read: dict[str, int] = {}
        changed: dict[str, set[tuple[int, int]]] = {}
        with _source_snapshot():
            for src in extract.sources():
                src_state = state["sources"].get(src.name) if incremental else None
                spool = work / STATE_DIR / "extract"
                rows_read[src.name] = extract.read_into(con, src, src_state, progress, spool)
                if src.kept and not extract.reads_whole(src, src_state):
                    if not _merge_kept(con, src):  # rows were deleted: read it whole
                        src_state = None
                        extract.read_into(con, src, None, progress, spool)
                new_state["sources"][src.name] = _watermark(con, src, src_state)
                progress(f"read {src.name}: {rows_read[src.name]:,} rows")
            transform.add_account_keys(con)
            stage("read")
            for r in transform.RECIPES:
                changed[r.table] = _apply(con, r, incremental)
            kept = {src.name for src in extract.sources() if src.mode == "snapshot" or src.kept}
            for name in kept:
                con.execute(f'CREATE OR REPLACE TABLE snap."{name}" AS SELECT * FROM stg_{name}')
            for (name,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'snap'"
            ).fetchall():
                if name not in kept:  # a source that is no longer read whole
                    con.execute(f'DROP TABLE snap."{name}"')
            if incremental:
                checks.keep_dimension_keys(con)
            transform.build_dimensions(con, _bands())
            stage("transform")
            progress("summing up for the dashboards")
            # An incremental build recomputes only the changed months of the summaries that
            # allow it, if the last build made them with the same SQL and payment methods.
            new_state["aggregates"] = aggregates.fingerprint(con)
            summed_months = (
                changed
                if incremental
                and state.get("aggregates") == new_state["aggregates"]
                and aggregates.present(con)
                else None
            )
            aggregates.build(con, summed_months)
            stage("aggregate")
            progress("checking")
            # An incremental build reconciles the accounts with new entries, up to a bounded
            # random sample of them (the source sums each one's whole ledger); a full build, all.
            accounts = (
                [
                    r[0]
                    for r in con.execute(
                        "SELECT account_id FROM (SELECT DISTINCT account_id FROM stg_ledger) "
                        f"USING SAMPLE {RECONCILE_SAMPLE} ROWS"
                    ).fetchall()
                ]
                if incremental
                else None
            )
            totals: dict = {}
            prior_totals = state.get("checks") if incremental else None
            results = checks.run_checks(
                con, accounts, prior_totals, totals, changed if incremental else None
            )
            results += aggregates.check(con, summed_months)
            new_state["checks"] = totals
            stage("check")
        failed = [r for r in results if not r.passed]
        if failed:
            report = _report(results, published=False)
            warehouse.root().joinpath("last-build-report.txt").write_text(report)
            raise BuildFailed(report, results)
        rows = {
            t.name: con.execute(f'SELECT count(*) FROM "{t.name}"').fetchone()[0]
            for t in (*schema.FACTS, *schema.DIMENSIONS)
        }
        con.execute("DETACH snap")
        written = _write_parquet(con, work, previous if incremental else None, changed)
        stage("parquet")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    new_state["built_at"] = timezone.now().isoformat()
    new_state["full"] = not incremental
    (work / STATE_DIR / STATE_FILE).write_text(json.dumps(new_state, indent=1))
    shutil.rmtree(work / STATE_DIR / "tmp", ignore_errors=True)
    shutil.rmtree(work / STATE_DIR / "extract", ignore_errors=True)
    return BuildResult(work, not incremental, 0.0, rows_read, rows, results, written, stages)


@contextlib.contextmanager
def _source_snapshot():
    """One read transaction over the source for the extraction and the checks, so both see
    the same data however busy the services are."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _merge_kept(con, src: extract.Source) -> bool:
    """Merge the changed rows read into ``stg_<name>`` into the last build's copy of the whole
    table, leaving the whole table in ``stg_<name>``. False if the source has fewer rows than
    the merged copy (some were deleted, which no change time shows)."""
    name, key = src.name, src.id_column.split(".")[-1]
    con.execute(f"CREATE OR REPLACE TEMP TABLE changed_{name} AS SELECT * FROM stg_{name}")
    con.execute(
        f'CREATE OR REPLACE TEMP TABLE stg_{name} AS SELECT * FROM snap."{name}" '
        f'WHERE "{key}" NOT IN (SELECT "{key}" FROM changed_{name}) '
        f"UNION ALL SELECT * FROM changed_{name}"
    )
    con.execute(f"DROP TABLE changed_{name}")
    table = src.sql.split(" FROM ", 1)[1].split()[0]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        source_rows = cursor.fetchone()[0]
    return source_rows == con.execute(f"SELECT count(*) FROM stg_{name}").fetchone()[0]


def _watermark(con, src: extract.Source, prior: dict | None) -> dict:
    if src.mode == "snapshot":
        return {}
    id_col = src.id_column.split(".")[-1]
    high = con.execute(f'SELECT max("{id_col}") FROM stg_{src.name}').fetchone()[0]
    prior = prior or {}
    mark = {
        "max_id": max(x for x in (high, prior.get("max_id")) if x is not None)
        if high is not None or prior.get("max_id") is not None
        else None
    }
    if src.mode == "changed":
        col = src.changed_column.split(".")[-1]
        # As microseconds since the epoch: DuckDB hands out aware times only through pytz.
        micros = con.execute(f'SELECT epoch_us(max("{col}")) FROM stg_{src.name}').fetchone()[0]
        latest = (
            (dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=micros)).isoformat()
            if micros is not None
            else None
        )
        mark["max_changed"] = max(
            (x for x in (latest, prior.get("max_changed")) if x), default=None
        )
    if src.kept:
        mark["kept"] = True  # this build keeps the whole table (snapshots.duckdb)
    return mark


def _apply(con, r: transform.FactRecipe, incremental: bool) -> set[tuple[int, int]] | None:
    """Put the recipe's rows for this build into its fact; return the (year, month) partitions
    that changed (None: all of them, a full build)."""
    src = extract.source(r.source)
    if not incremental:
        transform.insert_facts(con, r, f"stg_{src.name}")
        return None
    table = f"stg_{src.name}"
    key = schema.table(r.table).key
    gone: list[str] = []
    if src.mode == "snapshot":
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE delta_{src.name} AS "
            f'SELECT * FROM stg_{src.name} EXCEPT SELECT * FROM snap."{src.name}"'
        )
        table = f"delta_{src.name}"
        gone = [
            row[0]
            for row in con.execute(
                f"SELECT pseudonym('{r.key_kind}', id) FROM (SELECT id FROM snap.\"{src.name}\" "
                f"EXCEPT SELECT id FROM stg_{src.name})"
            ).fetchall()
        ]
    con.execute(f'CREATE OR REPLACE TEMP TABLE new_rows AS SELECT * FROM "{r.table}" LIMIT 0')
    con.execute(f"INSERT INTO new_rows {r.select.format(src=table)}")
    con.execute(f'CREATE OR REPLACE TEMP TABLE old_keys AS SELECT "{key}" AS k FROM new_rows')
    if src.mode != "append":
        # Every source row read may replace a row of the fact, even one it no longer qualifies
        # for (a statement line that left suspense).
        id_col = src.id_column.split(".")[-1]
        con.execute(
            f"INSERT INTO old_keys SELECT pseudonym('{r.key_kind}', \"{id_col}\") FROM {table}"
        )
    if gone:
        con.execute(f"INSERT INTO old_keys VALUES {transform.values_sql([k] for k in gone)}")
    if src.mode == "append":
        touched = con.execute("SELECT DISTINCT year, month FROM new_rows").fetchall()
    else:
        touched = con.execute(
            f"""SELECT DISTINCT year, month FROM new_rows UNION
            SELECT DISTINCT year, month FROM "{r.table}" WHERE "{key}" IN (SELECT k FROM old_keys)"""
        ).fetchall()
        con.execute(f'DELETE FROM "{r.table}" WHERE "{key}" IN (SELECT k FROM old_keys)')
    cols = ", ".join(f'"{c}"' for c in schema.table(r.table).column_names)
    con.execute(f'INSERT INTO "{r.table}" ({cols}) SELECT * FROM new_rows')
    # The rows this build wrote: the only ones whose references it must look up (checks).
    written = checks.written_rows(r.table)
    con.execute(f'CREATE TEMP TABLE IF NOT EXISTS "{written}" (k VARCHAR)')
    con.execute(f'INSERT INTO "{written}" SELECT "{key}" FROM new_rows')
    return {(int(y), int(m)) for y, m in touched}


def _bands() -> list[tuple[str, int | None]]:
    return [(b.name, b.max_co2) for b in settings.COUNCIL.parking.bands]


def _write_parquet(con, work: Path, previous: Path | None, changed: dict[str, set | None]) -> int:
    """Write every table's Parquet; return how many files were written (not linked)."""
    out = work / "parquet"
    written = 0
    for t in schema.DIMENSIONS:
        (out / t.name).mkdir(parents=True)
        con.execute(f"COPY \"{t.name}\" TO '{out / t.name / 'data_0.parquet'}' (FORMAT parquet)")
        written += 1
    for t in schema.FACTS:
        parts = changed.get(t.name)
        target = out / t.name
        if previous is not None and parts is not None and (previous / "parquet" / t.name).exists():
            _link_tree(previous / "parquet" / t.name, target, skip=parts)
            if not parts:
                continue
            where = " OR ".join(f"(year = {y} AND month = {m})" for y, m in sorted(parts))
        else:
            where = "true"
        staging = work / STATE_DIR / "parquet-staging" / t.name
        shutil.rmtree(staging, ignore_errors=True)
        staging.parent.mkdir(parents=True, exist_ok=True)
        con.execute(
            f"COPY (SELECT * FROM \"{t.name}\" WHERE {where}) TO '{staging}' "
            "(FORMAT parquet, PARTITION_BY (year, month), OVERWRITE_OR_IGNORE)"
        )
        target.mkdir(parents=True, exist_ok=True)
        if staging.exists():
            for year_dir in staging.iterdir():
                for month_dir in year_dir.iterdir():
                    dest = target / year_dir.name / month_dir.name
                    shutil.rmtree(dest, ignore_errors=True)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    month_dir.rename(dest)
                    written += 1
        shutil.rmtree(staging.parent, ignore_errors=True)
    return written


def _link_tree(source: Path, target: Path, skip: set[tuple[int, int]]) -> None:
    """Hard-link the unchanged partitions of the previous build (no copying, no rewriting)."""
    for path in source.rglob("*.parquet"):
        rel = path.relative_to(source)
        part = _partition_of(rel)
        if part in skip:
            continue
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.link(path, dest)


def _partition_of(rel: Path) -> tuple[int, int] | None:
    values = dict(p.split("=", 1) for p in rel.parts[:-1] if "=" in p)
    if "year" in values and "month" in values:
        return int(values["year"]), int(values["month"])
    return None


def _publish(root: Path, build: Path, previous: Path | None) -> None:
    """Point ``current`` at ``build`` in one rename; keep the previous build, drop older ones."""
    tmp = root / "current.new"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    tmp.symlink_to(Path("builds") / build.name)
    os.replace(tmp, root / "current")
    for name in ("warehouse.duckdb", "parquet"):
        link = root / name
        if not link.is_symlink():
            link.symlink_to(Path("current") / name)
    keep = {build.name, previous.name if previous else None}
    for old in (root / "builds").iterdir():
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)


def _report(results: list[checks.CheckResult], *, published: bool) -> str:
    failed = [r for r in results if not r.passed]
    head = f"Warehouse build at {timezone.localtime():%Y-%m-%d %H:%M:%S %Z}: " + (
        "all checks passed; published."
        if published
        else f"{len(failed)} of {len(results)} checks failed; NOT published "
        "(the previous warehouse is still the published one)."
    )
    lines = [r.line() for r in failed] + [r.line() for r in results if r.passed]
    return "\n".join([head, *lines]) + "\n"


def status() -> dict:
    """What is published: the build, when, and its tables' row counts."""
    current = warehouse.current_build()
    if current is None:
        return {}
    state = json.loads((current / STATE_DIR / STATE_FILE).read_text())
    with duckdb.connect(str(current / "warehouse.duckdb"), read_only=True) as con:
        rows = {
            t.name: con.execute(f'SELECT count(*) FROM "{t.name}"').fetchone()[0]
            for t in (*schema.FACTS, *schema.DIMENSIONS)
        }
    return {
        "build": current.name,
        "built_at": state["built_at"],
        "full": state["full"],
        "rows": rows,
    }
