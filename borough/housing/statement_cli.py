"""The statement and charge subcommands of ``borough housing``."""

SUBCOMMANDS: tuple[str, ...] = ()


def add_arguments(subcommands) -> None:
    """Add this module's subcommands to ``borough housing``."""


def handle(command, subcommand: str, options: dict) -> None:
    raise NotImplementedError(subcommand)
