"""The ``borough`` command: Django's management commands with Borough's settings."""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "borough.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(argv if argv is not None else sys.argv)
    except ImproperlyConfigured as error:
        # A council's settings or profile is wrong: the message names the file and the
        # problem; a traceback would only bury it.
        sys.stderr.write(f"borough: {error}\n")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
