"""``borough places …``: the gazetteer's command line.

borough places import FILE [--mapping llpg|addressbase|PATH.toml]
"""

import time

from django.core.management.base import BaseCommand, CommandError

from borough.places.mapping import MappingError, available_mappings, load_mapping
from borough.places.services import import_gazetteer
from borough.transparency.coverage import data_use


class Command(BaseCommand):
    help = "Work with the address gazetteer. Subcommands: import."

    data_use_by_subcommand = {
        "import": data_use(none="The gazetteer holds addresses (UPRNs), not people"),
    }

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
        names = ", ".join(m.name for m in available_mappings())
        load = subcommands.add_parser(
            "import",
            help="Load a gazetteer CSV. Any problem in the file loads nothing.",
            description=(
                "Load a gazetteer CSV export. The whole file is checked; any problem loads "
                "nothing and lists the rows and columns to fix. Loading the same file again "
                "changes nothing."
            ),
        )
        load.add_argument("file", help="The CSV file (UTF-8)")
        load.add_argument(
            "--mapping",
            default="llpg",
            help=f"Which columns hold what: {names}, or a path to a .toml mapping (default llpg)",
        )

    def handle(self, *args, subcommand: str, **options):
        if subcommand == "import":
            self.import_file(options["file"], options["mapping"])

    def import_file(self, path: str, mapping_name: str) -> None:
        try:
            mapping = load_mapping(mapping_name)
        except MappingError as error:
            raise CommandError(str(error)) from None
        began = time.perf_counter()
        try:
            result = import_gazetteer(path, mapping, via="command line")
        except FileNotFoundError:
            raise CommandError(f"There is no file {path}.") from None
        except IsADirectoryError:
            raise CommandError(f"{path} is a folder, not a file.") from None
        seconds = time.perf_counter() - began
        if not result.ok:
            self.stderr.write(result.summary())
            for line in result.problem_lines(with_file=True):
                self.stderr.write(f"  {line}")
            raise CommandError(f"Nothing was loaded from {result.file_name}.")
        self.stdout.write(self.style.SUCCESS(result.summary()) + f" ({seconds:.1f}s)")
