"""``borough demo``: a working council platform on a laptop, with nothing else running."""

import csv
import datetime as dt
import io
import json
import logging
import os
import threading
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, transaction

from borough.core import second_factor
from borough.core.dates import date_in_words
from borough.core.letters import letters_folder
from borough.core.models import User
from borough.core.roles import ROLES
from borough.core.services import create_staff_account
from borough.core.views import magic_link_path

DEMO_SEED = 2026
DEMO_RESIDENTS = 3000
DEMO_SIGN_INS = 5
DEMO_API_SCOPES = ("verify", "enforcement")
#: While the demo serves, new data-use events are sealed this often (as `seal --every 5` would).
DEMO_SEAL_EVERY_SECONDS = 5.0

logger = logging.getLogger(__name__)

# One demo account per role, and one administrator who is a superuser.
DEMO_STAFF = [
    ("parking", "Parking officer", "Priya Patel"),
    ("housing", "Housing officer", "Hannah Okafor"),
    ("finance", "Finance officer", "Femi Adeyemi"),
    ("enforcement", "Enforcement officer", "Emre Yilmaz"),
    ("analyst", "Data analyst", "Ada Nowak"),
    ("dpo", "Data protection officer", "Dara O'Neill"),
    ("records", "Resident data officer", "Rowan Ellis"),
    ("admin", "Administrator", "Alex Morgan"),
]


class Command(BaseCommand):
    help = "Set up the demo (database, synthetic borough, demo accounts) and serve it."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--residents", type=int, default=DEMO_RESIDENTS)
        parser.add_argument("--no-serve", action="store_true", help="Set everything up, then stop.")

    def handle(self, *args, port, residents, no_serve, **options):
        data = Path(settings.DATA_DIR)
        self._say(f"Data folder: {data}")
        call_command("migrate", interactive=False, verbosity=0)
        self._say("Database is up to date.")

        synth_dir = data / "synth"
        if (synth_dir / "manifest.json").exists():
            self._say(f"Reusing the synthetic borough in {synth_dir}.")
        else:
            self._say(f"Generating a synthetic borough of {residents:,} residents…")
            call_command(
                "synth", residents=residents, seed=DEMO_SEED, out=str(synth_dir), verbosity=0
            )
        # The gazetteer, then the council's seven source datasets (each load is idempotent).
        call_command("residents", "load-synth", str(synth_dir))
        zones_file = synth_dir / "zones.geojson"
        if zones_file.exists():
            call_command("parking", "load-zones", str(zones_file))
        else:
            self._say(
                f"{synth_dir} has no zones.geojson (made by an older Borough): delete the folder "
                "and run the demo again to get controlled parking zones."
            )
        if (data / "linkage" / "verification.parquet").exists():
            self._say("Reusing the resident index in " + str(data / "linkage") + ".")
        else:
            self._say("Linking the source records into a resident index (Splink)…")
            call_command("residents", "link", verbosity=0)
        call_command("residents", "evaluate", truth=str(synth_dir / "ground_truth.csv"))
        rent = self._rent_accounts(synth_dir)

        staff = self._demo_staff(data / "demo-staff.json")
        applicants = self._permit_applicants(synth_dir) if zones_file.exists() else []
        people = self._demo_residents(synth_dir / "people.csv")
        api_key = self._demo_api_key(data / "demo-api-key.txt")
        example = self._example_applicant(
            synth_dir / "people.csv", people[0][0].email if people else ""
        )
        activity = (
            self._activity(data, synth_dir, staff, applicants) if zones_file.exists() else None
        )
        history = self._history_residents(data, synth_dir)
        self._confirm_by_post(history)
        # The Insight warehouse, so the dashboards have data at once (docs/insights.md).
        self._say("Building the Insight warehouse…")
        call_command("insights", "build", full=True, quiet=True)
        # Open data from it, so /open-data lists tables at once (docs/open-data.md).
        try:
            call_command("insights", "publish", stdout=io.StringIO())
        except CommandError as error:
            self._say(f"Open data was not published: {error}")

        # Seal the log last, so every event the set-up recorded has its proof at once.
        call_command("transparency", "seal", stdout=io.StringIO())
        self._say("Sealed the data-use log and signed its checkpoint.")

        base = f"http://127.0.0.1:{port}"
        self.stdout.write("")
        self.stdout.write(
            self.style.MIGRATE_HEADING("Staff accounts (sign in at " + base + "/staff/sign-in)")
        )
        self.stdout.write(f"  {'username':<12} {'password':<20} {'authenticator secret':<40} role")
        for username, role, password, secret in staff:
            self.stdout.write(f"  {username:<12} {password:<20} {secret:<40} {role}")
        self.stdout.write(
            "  Staff sign in with a password and a code from an authenticator app (time-based, "
            "6 digits,\n  every 30 seconds). Add an account's secret to an app (FreeOTP, Google "
            "or Microsoft\n  Authenticator: 'enter a setup key', time-based), or print its code "
            "now with:\n"
            '    python -c "import base64,sys; from django_otp.oath import totp; '
            "print('%06d' % totp(base64.b32decode(sys.argv[1].replace(' ', ''))))\" 'SECRET'"
        )
        self.stdout.write("")
        self.stdout.write(
            self.style.MIGRATE_HEADING("Demo residents (each link signs in once, for 20 minutes)")
        )
        for user, row in people:
            link = base + magic_link_path(user.email)
            self.stdout.write(f"  {_who(row)}\n    {user.email}\n    {link}")
        self.stdout.write(
            "  Or sign in at "
            + base
            + "/sign-in with any of these emails: the link is printed here. "
            + f"Each resident's account page is {base}/account."
        )
        self.stdout.write(
            f"  How the council used a resident's data ({base}/how-we-use-your-data) and a copy "
            f"of it ({base}/your-data)\n  show once the resident has proved who they are: "
            "apply for a parking permit, or link a rent account (tenants below),\n  and then "
            "enter the code we post to the address in the council's records (the demo's "
            f"letters\n  are written to {letters_folder()})."
        )
        if history:
            self.stdout.write("")
            self.stdout.write(
                self.style.MIGRATE_HEADING(
                    "Residents who have already proved who they are: sign in and see how the "
                    f"council used their data at {base}/how-we-use-your-data\n  (the demo has "
                    "entered for them the code we post to a resident before showing their history)"
                )
            )
            for user, row in history:
                link = base + magic_link_path(user.email)
                self.stdout.write(f"  {_who(row)}\n    {link}")
            self.stdout.write(
                "  Their timeline shows the identity check of their permit application, the "
                "permit, enforcement checks\n  of their car and an officer viewing their "
                f"records with a reason; a copy of their data is at {base}/your-data.\n"
                "  One of them also had their records looked up for a fraud investigation: "
                "held back from them until\n  the data protection officer (dpo) releases it at "
                f"{base}/staff/data-use/held."
            )
        if applicants:
            self.stdout.write("")
            self.stdout.write(
                self.style.MIGRATE_HEADING(
                    f"Residents who can apply for a parking permit at {base}/parking "
                    "(pay with test card 4444 3333 2222 1111)"
                )
            )
            for user, row in applicants:
                link = base + magic_link_path(user.email)
                self.stdout.write(
                    f"  {_who(row)}, vehicle {row['vrm']}, zone {row['zone']}\n    {link}"
                )
        if rent["tenants"]:
            self.stdout.write("")
            self.stdout.write(
                self.style.MIGRATE_HEADING(
                    f"Council tenants: see a rent account at {base}/rent (sign in, then the "
                    "payment reference and postcode, then name and date of birth)"
                )
            )
            for user, tenant, account in rent["tenants"]:
                link = base + magic_link_path(user.email)
                born = date_in_words(tenant.date_of_birth) if tenant.date_of_birth else "?"
                self.stdout.write(
                    f"  {tenant.first_name} {tenant.surname}, born {born}, "
                    f"{account.tenancy.property.single_line()}: reference "
                    f"{account.payment_reference}, postcode {account.tenancy.property.postcode}"
                    f"\n    {link}"
                )
            statement = activity.statement if activity else None
            statement = statement or _latest_statement(data) or rent["statement"]
            self.stdout.write(
                f"  A bank statement of their payments for the finance officer to import at "
                f"{base}/staff/finance/statements: {statement}"
            )
        self.stdout.write("")
        self.stdout.write(
            self.style.MIGRATE_HEADING("Verification API (key kept in the data folder)")
        )
        self.stdout.write(
            f"  curl -s {base}/api/v1/verifications -H 'Authorization: Bearer {api_key}' \\\n"
            f"    -H 'Content-Type: application/json' -d '{json.dumps(example)}'"
        )
        if applicants:
            row = applicants[0][1]
            self.stdout.write(
                f"  curl -s '{base}/api/v1/parking/check?vrm={row['vrm']}&zone={row['zone']}' "
                f"-H 'Authorization: Bearer {api_key}'"
            )
        self.stdout.write(f"  OpenAPI: {base}/api/v1/docs")
        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING("The sealed data-use log"))
        self.stdout.write(
            f"  Checkpoint: {base}/transparency/log/checkpoint\n"
            f"  Verifier key: {base}/transparency/log/vkey\n"
            f"  New events are sealed every {DEMO_SEAL_EVERY_SECONDS:g} s while the demo runs; "
            "check the whole log with `borough transparency verify`."
        )
        self.stdout.write("")
        if no_serve:
            return
        stop = threading.Event()
        sealer = threading.Thread(
            target=keep_sealing, args=(DEMO_SEAL_EVERY_SECONDS, stop), name="demo-sealer"
        )
        sealer.daemon = True
        sealer.start()
        try:
            call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
        finally:
            stop.set()

    def _say(self, text: str) -> None:
        self.stdout.write(self.style.SUCCESS("• ") + text)

    @transaction.atomic
    def _demo_staff(self, store: Path) -> list[tuple[str, str, str, str]]:
        """Demo staff accounts, made once, each with an authenticator app already set up (a
        TOTP device) so that a new user can try every staff page; their passwords and the
        devices' secrets are kept in the data folder (0600) and printed."""
        known = json.loads(store.read_text()) if store.exists() else {}
        rows = []
        for username, role, name in DEMO_STAFF:
            entry = known.get(username)
            if isinstance(entry, str):  # a data folder from before the second factor
                entry = {"password": entry}
            user = User.objects.filter(username=username).first()
            if not entry or user is None:
                User.objects.filter(username=username).delete()
                user, password = create_staff_account(
                    username,
                    [role],
                    full_name=name,
                    email=f"{username}@northmere.example",
                    superuser=(role == "Administrator"),
                )
                entry = {"password": password}
            device = second_factor.confirmed_device(user)
            if device is None:
                device = second_factor.device_to_set_up(user)
                device.confirmed = True
                device.save(update_fields=["confirmed"])
            known[username] = entry
            rows.append((username, role, entry["password"], second_factor.secret_text(device)))
        fd = os.open(store, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(known, handle, indent=2)
        assert {row[1] for row in rows} == {r.group for r in ROLES}
        return rows

    def _activity(self, data: Path, synth_dir: Path, staff, applicants):
        """A year of the council's activity up to today (``borough.synth.activity``), so the
        dashboards, what-ifs, public page and open data have figures; a later run adds the days
        since. The residents printed to apply for a permit are left to apply."""
        from django.utils import timezone

        from borough.synth.activity import STATE_FILE, add_activity

        today = timezone.localdate()
        if (data / STATE_FILE).exists():
            self._say("Adding the council's activity since the demo last ran…")
        else:
            self._say(
                f"Running a year of the council's activity ({today.replace(year=today.year - 1)}"
                f" to {today}): permits, checks, visitors, rent, feedback…"
            )
        officer = next(row for row in staff if row[0] == "records")
        result = add_activity(
            data,
            synth_dir,
            staff={u.username: u for u in User.objects.staff()},
            seed=DEMO_SEED,
            exclude={user.email for user, _ in applicants},
            officer=(officer[0], officer[2], officer[3]),
            today=today,
            scale=min(1.0, _count_rows(synth_dir / "people.csv") / DEMO_RESIDENTS),
        )
        if result.counts:
            self._say(f"{result.first_day} to {result.last_day}: {result.summary()}.")
        return result

    def _confirm_by_post(self, history: list[tuple[User, dict]]) -> None:
        """A resident sees their history only after entering a code posted to them
        (``residents.history_codes``); the demo enters it for its residents with a history."""
        from borough.residents.history_codes import confirm_for_demo

        for user, _row in history:
            confirm_for_demo(user)

    def _history_residents(self, data: Path, synth_dir: Path) -> list[tuple[User, dict]]:
        """The residents the activity gave a history (their rows of ``people.csv``)."""
        from borough.synth.activity import history_people

        emails = history_people(data)
        found = {}
        with (synth_dir / "people.csv").open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row["email"].lower() in emails:
                    found[row["email"].lower()] = row
        users = User.objects.residents().filter(email__in=list(found))
        return [(u, found[u.email]) for u in sorted(users, key=lambda u: emails.index(u.email))]

    def _demo_api_key(self, store: Path) -> str:
        """One API client for trying the verification API, made once; its key kept (0600)."""
        from borough.core.api_clients import client_for_key, create_client
        from borough.core.models import ApiClient

        key = store.read_text().strip() if store.exists() else ""
        client = client_for_key(key) if key else None
        if client is not None and set(DEMO_API_SCOPES) <= set(client.scopes):
            return key
        ApiClient.objects.filter(name="Demo parking service").delete()
        _, key = create_client("Demo parking service", list(DEMO_API_SCOPES))
        fd = os.open(store, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key + "\n")
        return key

    def _example_applicant(self, people_csv: Path, email: str) -> dict:
        """A verification request for the first demo resident, as a service would send it."""
        with people_csv.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row["email"].lower() == email:
                    return {
                        "purpose": "parking_permit_residency_check",
                        "applicant": {
                            "first_name": row["first_name"],
                            "surname": row["surname"],
                            "date_of_birth": row["date_of_birth"],
                            "uprn": int(row["current_uprn"]),
                        },
                    }
        return {"purpose": "parking_permit_residency_check", "applicant": {}}

    def _rent_accounts(self, synth_dir: Path) -> dict:
        """Rent accounts for the borough's council tenancies with eight weeks of charges, the
        bank statement of their payments to import, and a few tenants with sign-in accounts."""
        from django.utils import timezone

        from borough.housing.models import RentAccount, Tenant
        from borough.housing.synth import load_rent_accounts
        from borough.synth import rents

        if not (synth_dir / rents.ACCOUNTS_FILE).exists():
            self._say(
                f"{synth_dir} has no rent files (made by an older Borough): delete the folder "
                "and run the demo again to get council tenants' rent accounts."
            )
            return {"tenants": [], "statement": None}
        statement = synth_dir / rents.CAMT_FILE
        result = load_rent_accounts(synth_dir, today=timezone.localdate())
        self._say(
            f"Rent accounts: {RentAccount.objects.count():,} "
            f"({result.accounts:,} new, {result.charges_posted:,} charges posted)."
        )
        tenants = []
        chosen = (
            Tenant.objects.filter(lead=True)
            .exclude(resident_id="")
            .exclude(email="")
            .exclude(date_of_birth=None)
            .select_related("tenancy__rent_account", "tenancy__property")
            .order_by("tenancy__reference")[:3]
        )
        for tenant in chosen:
            email = tenant.email.lower()
            user = User.objects.residents().filter(email=email).first()
            if user is None:
                user = User.objects.create_resident(email)
            tenants.append((user, tenant, tenant.tenancy.rent_account))
        return {"tenants": tenants, "statement": statement}

    def _permit_applicants(self, synth_dir: Path) -> list[tuple[User, dict]]:
        """Residents who keep a vehicle, at a home in a zone, with accounts (named, so the
        journey's "who you are" is pre-filled)."""
        from borough.parking.demo import permit_ready_people

        chosen = []
        for row in permit_ready_people(synth_dir, limit=DEMO_SIGN_INS):
            email = row["email"].lower()
            user = User.objects.residents().filter(email=email).first()
            if user is None:
                user = User.objects.create_resident(email)
            if not user.first_name:
                user.first_name, user.last_name = row["first_name"], row["surname"]
                user.save(update_fields=["first_name", "last_name"])
            chosen.append((user, row))
        return chosen

    def _demo_residents(self, people_csv: Path) -> list[tuple[User, dict]]:
        """A few adults of the synthetic borough, living there now, with resident accounts (and
        their rows of ``people.csv``: name, date of birth, home)."""
        chosen = []
        with people_csv.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row["date_of_death"] or not row["current_uprn"] or not row["email"]:
                    continue
                if row["date_of_birth"] > "2006-01-01":
                    continue
                chosen.append(row)
                if len(chosen) == DEMO_SIGN_INS:
                    break
        users = []
        for row in chosen:
            email = row["email"].lower()
            user = User.objects.residents().filter(email=email).first()
            users.append((user or User.objects.create_resident(email), row))
        return users


def keep_sealing(every: float, stop: threading.Event) -> None:
    """Seal new data-use events now and every ``every`` seconds until ``stop`` is set: the
    demo's stand-in for the `borough transparency seal --every` job beside the web process. A
    failed round (the SQLite database busy, say) is logged and tried again next round."""
    from borough.transparency.checkpoint import load_signer
    from borough.transparency.sealing import SealRefused, seal_all

    signer = load_signer()
    while True:
        try:
            seal_all(signer=signer)
        except SealRefused as refused:  # a forged checkpoint: stop, as the sealer job does
            logger.error("The demo stopped sealing the data-use log: %s", refused)
            return
        except Exception as error:  # the demo keeps serving whatever went wrong
            logger.warning(
                "The demo could not seal the data-use log (%s); it tries again in %g s",
                type(error).__name__,
                every,
            )
        finally:
            close_old_connections()
        if stop.wait(every):
            return


def _who(row: dict) -> str:
    """A resident of ``people.csv`` as the demo prints them: name, date of birth, home."""
    return (
        f"{row['first_name']} {row['surname']}, born {_born(row['date_of_birth'])}, "
        f"{_address(row['current_uprn'])}"
    )


def _address(uprn: str) -> str:
    """The home at ``uprn`` in one line, as the resident's journeys show it."""
    from borough.places.models import Property

    home = Property.objects.filter(pk=int(uprn)).first() if uprn else None
    return home.single_line() if home else "no address on record"


def _count_rows(path: Path) -> int:
    with path.open(encoding="utf-8") as handle:
        return max(0, sum(1 for _ in handle) - 1)


def _latest_statement(data: Path) -> Path | None:
    """The newest bank statement the demo's activity kept for the finance officer."""
    found = sorted(data.glob("demo-statement-*.xml"))
    return found[-1] if found else None


def _born(iso: str) -> str:
    """A date of birth from the synthetic borough's files ("1980-03-27") in words."""
    try:
        return date_in_words(dt.date.fromisoformat(iso))
    except ValueError:
        return iso
