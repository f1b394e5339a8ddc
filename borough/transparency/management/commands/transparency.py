"""``borough transparency SUBCOMMAND …``: the data-use log's Merkle tree and checkpoints.

The subcommands are the modules of ``borough/transparency/cli/`` (``borough transparency --help``
lists them).
"""

from django.core import checks
from django.core.management.base import BaseCommand

from borough.transparency.cli import subcommands


class Command(BaseCommand):
    help = "The data-use log's tamper evidence. Subcommands: " + ", ".join(subcommands())
    requires_system_checks = [checks.Tags.models, checks.Tags.database]

    def add_arguments(self, parser):
        choices = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
        for name, module in subcommands().items():
            sub = choices.add_parser(name, help=module.HELP, description=module.HELP)
            module.add_arguments(sub)

    def handle(self, *args, subcommand: str, **options):
        subcommands()[subcommand].run(self, options)
