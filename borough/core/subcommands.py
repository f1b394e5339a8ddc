"""``borough AREA SUBCOMMAND …``: a management command whose subcommands are the modules of one
package, so that adding a subcommand is adding a file (``borough residents``, ``borough
transparency``).

A module of the package with ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(command, options)`` is a subcommand. ``run`` writes through ``command.stdout`` /
``command.stderr`` and raises ``CommandError`` to fail.
"""

import importlib
import pkgutil
from collections.abc import Iterable
from types import ModuleType

from django.core.management.base import BaseCommand


def find(package: str, path: Iterable[str]) -> dict[str, ModuleType]:
    """Subcommand name → module of the package ``package`` (its ``__path__``), in name order."""
    found = {}
    for info in pkgutil.iter_modules(path):
        module = importlib.import_module(f"{package}.{info.name}")
        if hasattr(module, "NAME") and hasattr(module, "run"):
            found[module.NAME] = module
    return dict(sorted(found.items()))


class SubcommandCommand(BaseCommand):
    """A command that dispatches to its package's subcommands (``cli``: that package)."""

    cli: ModuleType

    def subcommands(self) -> dict[str, ModuleType]:
        return self.cli.subcommands()

    def add_arguments(self, parser):
        choices = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
        for name, module in self.subcommands().items():
            sub = choices.add_parser(name, help=module.HELP, description=module.HELP)
            module.add_arguments(sub)

    def handle(self, *args, subcommand: str, **options):
        self.subcommands()[subcommand].run(self, options)
