"""``borough residents SUBCOMMAND …``: source datasets and the resident index.

The subcommands are the modules of ``borough/residents/cli/`` (``borough residents --help``
lists them).
"""

from django.core import checks
from django.core.management.base import BaseCommand

from borough.residents.cli import subcommands


class Command(BaseCommand):
    help = "Source datasets and the resident index. Subcommands: " + ", ".join(subcommands())
    # Loading and linking data needs the models right, not the verification policies, which
    # name the datasets being loaded: a council loads its datasets first, then sets the
    # policies (``borough check`` reports them either way).
    requires_system_checks = [checks.Tags.models, checks.Tags.database]

    def add_arguments(self, parser):
        choices = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
        for name, module in subcommands().items():
            sub = choices.add_parser(name, help=module.HELP, description=module.HELP)
            module.add_arguments(sub)

    def handle(self, *args, subcommand: str, **options):
        subcommands()[subcommand].run(self, options)
