"""``borough parking …``: controlled parking zones from the command line.

borough parking load-zones FILE
borough parking place-properties
borough parking cancel-unproven
borough parking daily
"""

import time

from django.core.management.base import BaseCommand, CommandError

from borough.parking.zones import ZoneFileError, load_zones, place_properties
from borough.transparency.coverage import RESIDENT_DATA, data_use


class Command(BaseCommand):
    help = "Parking: zones and permits. Subcommands: load-zones, place-properties, cancel-unproven, daily."

    data_use_by_subcommand = {
        "load-zones": data_use(none="Zones are places, not people"),
        "place-properties": data_use(none="Places each property in its zone: addresses only"),
        "cancel-unproven": data_use(touches=RESIDENT_DATA, purpose="parking_permit_administration"),
        "daily": data_use(touches=RESIDENT_DATA, purpose="parking_permit_administration"),
    }

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
        subcommands.add_parser(
            "daily",
            help="Queue the daily permit jobs: renewal and proof reminders, unproven permits.",
            description=(
                "Queue today's permit jobs (run it once a day from cron or a timer): renewal "
                "reminders at the profile's reminder_days_before_expiry, reminders 7 days before "
                "proof of address is due, and cancelling permits whose proof never came. Each "
                "reminder is sent once, so running it twice sends nothing more."
            ),
        )
        subcommands.add_parser(
            "cancel-unproven",
            help="Cancel permits whose proof of address was due and not accepted (run daily).",
            description=(
                "Cancel every permit issued without automatic verification whose proof was due "
                "before today and was not accepted, refunding whole unused months less the "
                "admin fee. Safe to run any number of times."
            ),
        )
        load = subcommands.add_parser(
            "load-zones",
            help="Load controlled parking zones from GeoJSON. Any problem loads nothing.",
            description=(
                "Load controlled parking zones from a GeoJSON FeatureCollection (WGS84 "
                "longitude and latitude; each feature a Polygon or MultiPolygon with a code, a "
                "name and optionally hours), then place every property in its zone. The whole "
                "file is checked; any problem loads nothing and lists the features to fix. "
                "Zones the file leaves out are kept, marked inactive. Loading the same file "
                "again changes nothing."
            ),
        )
        load.add_argument("file", help="The GeoJSON file (UTF-8)")
        subcommands.add_parser(
            "place-properties",
            help="Put every property in the zone its coordinates are in.",
            description=(
                "Put every property with coordinates in the active zone that contains it "
                "(run after a gazetteer import). Changes only the properties whose zone changed."
            ),
        )

    def handle(self, *args, subcommand: str, **options):
        if subcommand == "load-zones":
            self.load_zones(options["file"])
        elif subcommand == "place-properties":
            self.place_properties()
        elif subcommand == "daily":
            from django.utils import timezone

            from borough.parking.tasks import daily_permit_jobs

            result = daily_permit_jobs.enqueue(timezone.localdate().isoformat())
            if result.is_finished:
                counts = result.return_value
                self.stdout.write(
                    f"Started {counts['renewals_started']} renewed permits. "
                    f"Sent {counts['renewal_reminders']} renewal and {counts['proof_reminders']} "
                    f"proof reminders; cancelled {counts['cancelled_unproven']} unproven permits."
                )
            else:
                self.stdout.write(f"Queued the daily permit jobs ({result.id}).")
        elif subcommand == "cancel-unproven":
            from borough.parking.services import cancel_unproven_permits
            from borough.parking.tasks import record_permit_jobs
            from borough.transparency.models import Action

            numbers = cancel_unproven_permits()
            record_permit_jobs(numbers, Action.UPDATED_RECORDS, "cancel-unproven")
            self.stdout.write(
                f"Cancelled {len(numbers)} permit{'s' if len(numbers) != 1 else ''} whose proof "
                "was due and not accepted" + (": " + ", ".join(numbers) if numbers else ".")
            )

    def load_zones(self, path: str) -> None:
        began = time.perf_counter()
        try:
            result = load_zones(path)
        except FileNotFoundError:
            raise CommandError(f"There is no file {path}.") from None
        except IsADirectoryError:
            raise CommandError(f"{path} is a folder, not a file.") from None
        except ZoneFileError as error:
            lines = [
                f"  {error.file_name}{', ' if problem.feature else ': '}{problem}"
                for problem in error.problems
            ]
            raise CommandError("\n".join([error.summary(), *lines])) from None
        seconds = time.perf_counter() - began
        self.stdout.write(self.style.SUCCESS(result.summary()) + f" ({seconds:.1f}s)")

    def place_properties(self) -> None:
        began = time.perf_counter()
        result = place_properties()
        seconds = time.perf_counter() - began
        self.stdout.write(self.style.SUCCESS(result.summary()) + f" ({seconds:.1f}s)")
