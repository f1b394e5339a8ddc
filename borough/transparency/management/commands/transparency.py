"""``borough transparency SUBCOMMAND …``: the data-use log's Merkle tree and checkpoints.

The subcommands are the modules of ``borough/transparency/cli/`` (``borough transparency --help``
lists them).
"""

from django.core import checks

from borough.core.subcommands import SubcommandCommand
from borough.transparency import cli
from borough.transparency.cli import subcommands


class Command(SubcommandCommand):
    cli = cli
    help = "The data-use log's tamper evidence. Subcommands: " + ", ".join(subcommands())
    requires_system_checks = [checks.Tags.models, checks.Tags.database]
