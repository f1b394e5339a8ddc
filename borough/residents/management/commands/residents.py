"""``borough residents SUBCOMMAND …``: source datasets and the resident index.

The subcommands are the modules of ``borough/residents/cli/`` (``borough residents --help``
lists them).
"""

from django.core import checks

from borough.core.subcommands import SubcommandCommand
from borough.residents import cli
from borough.residents.cli import subcommands


class Command(SubcommandCommand):
    cli = cli
    help = "Source datasets and the resident index. Subcommands: " + ", ".join(subcommands())
    # Loading and linking data needs the models right, not the verification policies, which
    # name the datasets being loaded: a council loads its datasets first, then sets the
    # policies (``borough check`` reports them either way).
    requires_system_checks = [checks.Tags.models, checks.Tags.database]
