"""The subcommands of ``borough insights …``, one module each (see ``borough.core.subcommands``)."""

from borough.core.subcommands import find


def subcommands():
    """Subcommand name → module, in name order."""
    return find(__name__, __path__)
