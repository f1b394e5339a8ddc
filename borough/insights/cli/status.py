"""``borough insights status``: what warehouse is published, and the last build's report."""

from borough.insights import warehouse
from borough.insights.build import status
from borough.transparency.coverage import data_use

NAME = "status"
DATA_USE = data_use(none="The published build's row counts and its last check report")
HELP = "Show the published warehouse (when it was built, rows in each table) and the last report."


def add_arguments(parser) -> None:
    pass


def run(command, options: dict) -> None:
    published = status()
    if not published:
        command.stdout.write("No warehouse has been published yet: run `borough insights build`.")
    else:
        kind = "full" if published["full"] else "incremental"
        command.stdout.write(
            f"Published: {published['build']} ({kind} build, {published['built_at']})"
        )
        for name, rows in published["rows"].items():
            command.stdout.write(f"  {name:<26} {rows:>12,} rows")
        command.stdout.write(f"DuckDB: {warehouse.root() / 'warehouse.duckdb'}")
        command.stdout.write(f"Parquet: {warehouse.root() / 'parquet'}")
    report = warehouse.root() / "last-build-report.txt"
    if report.exists():
        command.stdout.write("Last build: " + report.read_text().splitlines()[0])
