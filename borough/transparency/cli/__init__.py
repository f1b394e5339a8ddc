"""The subcommands of ``borough transparency …``, one module each.

A module here with ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(command, options)``
is a subcommand: ``management/commands/transparency.py`` finds it, so adding one is adding a file.
``run`` writes through ``command.stdout`` / ``command.stderr`` and raises ``CommandError`` to
fail.
"""

import importlib
import pkgutil
from types import ModuleType


def subcommands() -> dict[str, ModuleType]:
    """Subcommand name → module, in name order."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "NAME") and hasattr(module, "run"):
            found[module.NAME] = module
    return dict(sorted(found.items()))
