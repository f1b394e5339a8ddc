from django.core.management.base import BaseCommand, CommandError

from borough.core.api_clients import SCOPES, create_client, revoke
from borough.core.models import ApiClient
from borough.transparency.purposes import PURPOSES


class Command(BaseCommand):
    help = "Make, list and revoke API keys for machine clients of the JSON API."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Make a client and print its key once")
        create.add_argument("name", help="What the client is, e.g. 'Parking back office'")
        create.add_argument(
            "--scope", action="append", default=[], help=f"Repeatable: {', '.join(SCOPES)}"
        )
        create.add_argument(
            "--purpose",
            action="append",
            default=[],
            help="A data-use purpose it may verify for (repeatable); none means any",
        )
        create.add_argument(
            "--per-minute",
            type=int,
            default=None,
            help="Its own rate limit on each endpoint, in requests a minute (docs/rate-limits.md); "
            "default: the council's limit for each endpoint",
        )
        sub.add_parser("list", help="List clients (never their keys)")
        rev = sub.add_parser(
            "revoke", help="Revoke a client's key (every web process refuses it within 5 seconds)"
        )
        rev.add_argument("name_or_prefix")

    def handle(self, *args, action, **options):
        if action == "create":
            unknown = [p for p in options["purpose"] if p not in PURPOSES]
            if unknown:
                raise CommandError(f"Unknown purpose {unknown[0]!r}.")
            if ApiClient.objects.filter(name=options["name"]).exists():
                raise CommandError("A client with that name exists. Revoke it or choose another.")
            per_minute = options["per_minute"]
            if per_minute is not None and per_minute < 1:
                raise CommandError("--per-minute must be 1 or more.")
            try:
                client, key = create_client(
                    options["name"],
                    options["scope"],
                    options["purpose"],
                    requests_per_minute=per_minute,
                )
            except ValueError as error:
                raise CommandError(str(error)) from None
            self.stdout.write(f"Created API client {client.name} ({', '.join(client.scopes)}).")
            if per_minute:
                self.stdout.write(f"Its rate limit: {per_minute} requests a minute per endpoint.")
            self.stdout.write(f"Key: {key}")
            self.stdout.write("Send it as 'Authorization: Bearer <key>'. It is not shown again.")
        elif action == "list":
            for client in ApiClient.objects.all():
                state = "revoked" if client.revoked_at else "active"
                self.stdout.write(
                    f"{client.key_prefix}…  {client.name}  {', '.join(client.scopes)}  {state}"
                )
        else:
            try:
                client = revoke(options["name_or_prefix"])
            except ValueError as error:
                raise CommandError(str(error)) from None
            self.stdout.write(f"Revoked {client.name}.")
