"""``borough insights SUBCOMMAND …``: the Insight warehouse.

The subcommands are the modules of ``borough/insights/cli/`` (``borough insights --help``).
"""

from borough.core.subcommands import SubcommandCommand
from borough.insights import cli
from borough.insights.cli import subcommands


class Command(SubcommandCommand):
    cli = cli
    help = "The Insight warehouse. Subcommands: " + ", ".join(subcommands())
    # The build reads the database and writes files: no page, URL or policy check concerns it,
    # and those checks import every view (seconds of start-up on each build).
    requires_system_checks = []
