"""``borough transparency seal``: seal new data-use events and sign a checkpoint."""

import time
from time import sleep

from django.core.management.base import CommandError
from django.db import close_old_connections

from borough.transparency.checkpoint import NoteError, load_signer
from borough.transparency.sealing import SealRefused, latest_checkpoint, seal_all

NAME = "seal"
HELP = (
    "Seal the data-use events not sealed yet into the Merkle log and sign a checkpoint. With "
    "--every SECONDS, keep doing it (the sealer job; stop it with Ctrl-C or SIGTERM)."
)


def add_arguments(parser) -> None:
    parser.add_argument(
        "--every", type=float, metavar="SECONDS", help="Seal again every SECONDS, until stopped"
    )


def _once(command, signer, *, say_nothing_new: bool = False) -> None:
    started = time.monotonic()
    before = latest_checkpoint()
    made = seal_all(signer=signer)
    if made:
        events = made[-1].size - (before.size if before else 0)
        seconds = time.monotonic() - started
        command.stdout.write(
            f"Sealed {events} event(s) in {seconds:.2f} s: the log has {made[-1].size} "
            f"({len(made)} new checkpoint(s))."
        )
    elif say_nothing_new:
        sealed = before.size if before else 0
        command.stdout.write(f"Nothing new to seal: the log has {sealed} sealed event(s).")


def run(command, options) -> None:
    try:
        signer = load_signer()
    except (NoteError, OSError) as e:
        raise CommandError(f"The log's signing key cannot be loaded: {e}") from None
    try:
        _run(command, signer, options.get("every"))
    except SealRefused as refused:
        raise CommandError(str(refused)) from None


def _run(command, signer, every) -> None:
    if every is None:
        _once(command, signer, say_nothing_new=True)
        return
    if every <= 0:
        raise CommandError("--every needs a number of seconds above 0.")
    command.stdout.write(f"Sealing every {every:g} s; Ctrl-C stops.")
    try:
        while True:
            close_old_connections()
            _once(command, signer)
            sleep(every)
    except KeyboardInterrupt:
        command.stdout.write("Stopped.")
