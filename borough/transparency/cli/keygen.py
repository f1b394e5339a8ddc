"""``borough transparency keygen``: make a signing key for the data-use log's checkpoints."""

from borough.transparency.checkpoint import Signer, log_origin

NAME = "keygen"
HELP = (
    "Print a new Ed25519 signing key (for BOROUGH_LOG_SIGNING_KEY, keep it secret) and its "
    "verifier key (publish it)."
)


def add_arguments(parser) -> None:
    parser.add_argument("--name", help="The key name (default: the log's origin)")


def run(command, options) -> None:
    signer = Signer.generate(options.get("name") or log_origin())
    command.stdout.write(f"BOROUGH_LOG_SIGNING_KEY={signer.private_key_text()}")
    command.stdout.write(f"Verifier key (publish): {signer.verifier_key()}")
