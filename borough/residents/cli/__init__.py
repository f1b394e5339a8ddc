"""The subcommands of ``borough residents …``, one module each.

A module here with ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(command, options)``
is a subcommand: ``management/commands/residents.py`` finds it, so adding one is adding a file.
``run`` writes through ``command.stdout`` / ``command.stderr`` and raises ``CommandError`` to
fail.
"""

from borough.core.subcommands import find


def subcommands():
    """Subcommand name → module, in name order."""
    return find(__name__, __path__)
