from django.core.management.base import BaseCommand, CommandError
from django.utils.text import slugify

from borough.core import second_factor
from borough.core.roles import ROLES
from borough.core.services import UnknownRole, create_staff_account


class Command(BaseCommand):
    help = "Create a staff account with one or more roles, and print its password."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--role",
            action="append",
            default=[],
            help="A role, repeatable: " + ", ".join(slugify(r.group) for r in ROLES),
        )
        parser.add_argument("--email", default="")
        parser.add_argument("--name", default="", help="The person's full name")

    def handle(self, *args, username, role, email, name, **options):
        if not role:
            raise CommandError("Give at least one --role.")
        try:
            user, password = create_staff_account(username, role, email=email, full_name=name)
        except (UnknownRole, ValueError) as error:
            raise CommandError(str(error)) from None
        roles = ", ".join(user.groups.values_list("name", flat=True))
        self.stdout.write(f"Created staff account {username} ({roles}).")
        self.stdout.write(f"Password: {password}")
        self.stdout.write("Give it to them privately; it is not shown again.")
        if second_factor.needs_second_factor(user):
            self.stdout.write(
                "Their role can see personal data: at their first sign-in they set up an "
                "authenticator app. Ask them to sign in soon (docs/sign-in.md)."
            )
