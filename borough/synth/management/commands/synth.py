"""``borough synth``: write a synthetic borough into a folder of CSV files."""

from __future__ import annotations

import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser

from borough.synth import DEFAULT_START_DATE, generate
from borough.synth.generate import DEFAULT_CHUNK_UNITS, stderr_progress


class Command(BaseCommand):
    help = (
        "Generate a synthetic borough (gazetteer, people, source datasets with errors, ground "
        "truth, vehicles) into a folder. The same arguments always give byte-identical files."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--residents",
            type=int,
            required=True,
            help="number of people living in the borough today",
        )
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--out", required=True, help="folder to write the files into")
        parser.add_argument(
            "--start-date",
            type=date.fromisoformat,
            default=DEFAULT_START_DATE,
            help="the borough's 'today', YYYY-MM-DD (default %(default)s)",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="worker processes (default: up to 2; output does not change)",
        )
        parser.add_argument(
            "--chunk-units",
            type=int,
            default=DEFAULT_CHUNK_UNITS,
            help="residential units per chunk (changes the output)",
        )
        parser.add_argument(
            "--quiet", action="store_true", help="no progress display (as does --verbosity 0)"
        )

    def handle(self, *args, **options) -> None:
        if options["residents"] < 1:
            raise CommandError("--residents must be at least 1")
        quiet = options["quiet"] or options["verbosity"] == 0
        started = time.perf_counter()
        manifest = generate(
            options["out"],
            residents=options["residents"],
            seed=options["seed"],
            start_date=options["start_date"],
            workers=options["workers"],
            chunk_units=options["chunk_units"],
            progress=None if quiet else stderr_progress(started),
        )
        if options["verbosity"] == 0:
            return
        self.stdout.write(
            f"Wrote {manifest['residents']:,} residents and {manifest['source_records']:,} "
            f"source records to {options['out']} in {time.perf_counter() - started:.1f}s"
        )
