"""``borough staff``: an administrator's recovery commands for staff sign-in."""

from django.core.management.base import BaseCommand, CommandError

from borough.core import lockout, second_factor
from borough.core.models import User


class Command(BaseCommand):
    help = "Unlock a staff account's sign-in, or reset its second factor (a lost phone)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        unlock = sub.add_parser(
            "unlock", help=f"Unlock a username locked after {lockout.LOCK_AFTER} failed sign-ins"
        )
        unlock.add_argument("username")
        reset = sub.add_parser(
            "reset-2fa",
            help="Remove a staff member's authenticator app: they set up a new one at next sign-in",
        )
        reset.add_argument("username")

    def handle(self, *args, action, username, **options):
        if action == "unlock":
            if lockout.unlock(username):
                self.stdout.write(f"Unlocked {username}: they can sign in again.")
            else:
                self.stdout.write(f"{username} was not locked and had no failed sign-ins.")
            return
        user = User.objects.staff().filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no staff account called {username!r}.")
        removed = second_factor.reset(user)
        self.stdout.write(
            f"Removed {removed} authenticator app(s). {username} will set up a new authenticator "
            "app the next time they sign in (their password is unchanged)."
        )
