"""A year of the council's activity for ``borough demo``, so that its dashboards, what-ifs,
public page and open data have figures at once, and a few residents' "How we used your data"
has entries.

Everything goes through the product's own functions, as the pages and jobs call them: residents
verified by the verification service, permits priced (``pricing.quote``), paid through the
payments service and the local GOV.UK Pay stand-in, issued (``issue_permit``), some cancelled
with a refund, some held for an officer who approves them; enforcement checks
(``check_vehicle``); paid visitor sessions; feedback as the form saves it; weekly rent charges
(``post_weekly_charges``), rent paid by card (``start_card_payment``), by Direct Debit (mandates
and weekly Bacs runs) and by standing order and Housing Benefit on a bank statement imported
each month (``import_statement``): that half is ``rent_activity.RentActivity``; renewals are
``renewals.py``.

Each day of the year is run with the clock set to that day (``clock``), so the services stamp
their rows and data-use events as they would have. Dates come from ``today``: a demo set up on
another day looks current. The days already run are kept in ``demo-activity.json`` in the data
folder; a later run adds only the days since.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import random
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from borough.synth.demo_clock import at, clock
from borough.synth.rent_activity import RETURN_URL, RentActivity

STATE_FILE = "demo-activity.json"
DAYS = 365
TEST_CARD = "4444333322221111"

#: Ratings and comments people leave through the feedback form (the themes the dashboard finds).
FEEDBACK = [
    (5, "Quick and easy, got my permit straight away."),
    (5, ""),
    (4, "Easy to pay my rent online."),
    (4, "Clear, but it took a while to find the visitor parking page."),
    (4, ""),
    (3, "The payment page was slow."),
    (3, "I could not find how to change my vehicle."),
    (2, "Too expensive for a second car."),
    (2, "Confusing questions about my address."),
    (1, "The site would not accept my registration."),
    (5, "Much better than posting documents."),
    (4, "Direct Debit was simple to set up."),
]


def priced_and_checked(quote, verification) -> dict:
    """A permit application's price and identity-check fields, as the journeys set them."""
    return {
        **quote.application_fields(),
        "verification_reference": verification.reference,
        "verification_decision": verification.decision,
        "resident_id": verification.resident_id or "",
    }


@dataclass
class ActivityResult:
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    counts: dict[str, int] = field(default_factory=dict)
    #: The bank statement of the last days, for the finance officer to import.
    statement: Path | None = None
    #: People whose history shows on their "How we used your data": (user, people.csv row).
    history: list = field(default_factory=list)

    def add(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    def summary(self) -> str:
        """What was done, in a sentence or two."""
        c = self.counts

        def n(name: str) -> str:
            return f"{c.get(name, 0):,}"

        checks = sum(v for k, v in c.items() if k.startswith("verifications "))
        return (
            f"{n('permits issued')} permits issued ({n('applications approved by an officer')} "
            f"by an officer; {n('permits cancelled')} cancelled with a refund), "
            f"{n('permits renewed')} renewed, {checks:,} "
            f"identity checks ({n('verifications verified')} verified at once, "
            f"{n('verifications refer')} referred, {n('verifications not_found')} not found), "
            f"{n('enforcement checks')} enforcement checks, {n('visitor sessions')} visitor "
            f"sessions, {n('feedback')} pieces of feedback; rent: {n('rent charges')} charges, "
            f"{n('rent card payments')} card payments, {n('Direct Debit collections')} Direct "
            f"Debit collections in {n('Bacs runs')} Bacs runs ("
            f"{n('Direct Debits returned unpaid')} returned unpaid), {n('statement lines imported')} "
            f"bank statement lines imported ({n('statement lines matched automatically')} "
            "matched automatically)"
        )


@dataclass
class _Driver:
    permit_id: int
    vrm: str
    zone_id: int
    property_id: int
    user_id: int


class Year(RentActivity):
    """The year's activity: ``run(first, last)`` does each day from ``first`` to ``last``."""

    def __init__(
        self,
        data_dir: Path,
        synth_dir: Path,
        *,
        staff: dict,
        seed: int,
        exclude: set[str],
        officer: tuple[str, str, str] | None = None,
    ) -> None:
        from borough.parking.demo import permit_ready_people
        from borough.parking.models import Zone

        self.data_dir = data_dir
        self.synth_dir = synth_dir
        self.staff = staff  # username -> User
        self.officer = officer  # the Resident data officer's username, password, secret
        self.officer_used = False
        self.rnd = random.Random(f"{seed}:activity")
        self.result = ActivityResult()
        people = permit_ready_people(synth_dir, limit=10_000)
        self.pool = [row for row in people if row["email"].lower() not in exclude]
        self.rnd.shuffle(self.pool)
        self.zones = {z.code: z for z in Zone.objects.filter(active=True)}
        self.vrms = _all_vrms(synth_dir)
        self.drivers: list[_Driver] = []
        self.waiting: list[tuple[dt.date, int, str]] = []  # (when, application, verification)
        self.renewals_decided: set[int] = set()  # permits whose holder chose (renewals.py)

    # --- people -----------------------------------------------------------------------------

    def _user(self, row: dict):
        from borough.core.models import User

        email = row["email"].lower()
        user = User.objects.residents().filter(email=email).first()
        if user is None:
            user = User.objects.create_resident(email)
            user.first_name, user.last_name = row["first_name"], row["surname"]
            user.save(update_fields=["first_name", "last_name"])
        return user

    # --- parking ----------------------------------------------------------------------------

    def apply_for_permit(self, row: dict, moment: dt.datetime, *, mistake: bool = False):
        """One resident's journey: verified, priced, paid by card, issued (or held)."""
        from borough.parking import pricing, services
        from borough.parking.models import PermitApplication
        from borough.parking.registrations import VehicleLookupError
        from borough.parking.vehicles import get_vehicle_lookup
        from borough.places.models import Property
        from borough.residents.verification.engine import Applicant, ApplicantError
        from borough.residents.verification.service import verify
        from borough.transparency.models import ActorKind

        user = self._user(row)
        home = Property.objects.get(pk=int(row["current_uprn"]))
        zone = self.zones.get(row["zone"])
        if zone is None:
            return None
        try:
            vehicle = get_vehicle_lookup().lookup(row["vrm"])
        except VehicleLookupError:
            return None
        first_name = row["first_name"]
        if mistake:  # a nickname or a typing slip: the records cannot confirm it alone
            first_name = first_name[0] + first_name[1:][::-1].lower()
        born = dt.date.fromisoformat(row["date_of_birth"])
        months = self.rnd.choice([12, 12, 12, 6, 3])
        with clock(moment):
            try:
                verification = verify(
                    Applicant(
                        first_name=first_name,
                        surname=row["surname"],
                        date_of_birth=born,
                        uprn=home.uprn,
                        postcode=home.postcode,
                    ),
                    "parking_permit_residency_check",
                    actor=user,
                    actor_kind=ActorKind.RESIDENT,
                )
            except ApplicantError:
                return None
            self.result.add(f"verifications {verification.decision}")
            try:
                quote = pricing.quote(
                    "resident",
                    months,
                    vehicle,
                    household_permits_already=services.live_resident_permits_at(home.uprn),
                )
            except pricing.PricingError:
                return None
            application = PermitApplication.objects.create(
                journey=f"demo-{user.pk}-{PermitApplication.objects.count()}",
                applicant=user,
                permit_type="resident",
                property=home,
                zone=zone,
                first_name=first_name,
                surname=row["surname"],
                date_of_birth=born,
                vrm=row["vrm"],
                vehicle_snapshot=vehicle.raw,
                vehicle_found=True,
                duration_months=months,
                **priced_and_checked(quote, verification),
            )
            outcome = self.pay_and_issue(
                application, f"Resident parking permit, zone {zone.code}, {months} months"
            )
            if outcome is None:
                return None
        if outcome.permit is not None:
            self.result.add("permits issued")
            self.drivers.append(_Driver(outcome.permit.pk, row["vrm"], zone.pk, home.uprn, user.pk))
        else:
            self.result.add("applications held for an officer")
        if verification.decision != "verified":
            self.waiting.append(
                (
                    moment.date() + dt.timedelta(days=self.rnd.choice([1, 2, 2, 3, 5])),
                    application.pk,
                    verification.reference,
                )
            )
        return outcome

    def pay_and_issue(self, application, description: str):
        """The applicant pays by card, then the permit is issued as the council's profile says
        (``IssueOutcome``); None if the payment failed."""
        from borough.parking import services

        cfg = settings.COUNCIL.parking
        if not self._pay(
            application,
            purpose_key=f"permit-application:{application.reference}",
            amount_pence=application.price_pence,
            description=description,
        ):
            return None
        return services.issue_permit(
            application.pk,
            verified=application.verification_decision == "verified",
            unverified_policy=cfg.unverified_policy,
            not_found_policy=cfg.not_found_policy,
            proof_days=cfg.unverified_proof_days,
            max_per_household=cfg.max_resident_permits_per_household,
        )

    def _pay(self, row, *, purpose_key: str, amount_pence: int, description: str) -> bool:
        """Pay ``row`` (an application or a visitor session) by card on the local stand-in."""
        from borough.payments import services as payments

        payment = payments.start_payment(
            purpose_key=purpose_key,
            amount_pence=amount_pence,
            description=description,
            return_url=RETURN_URL,
        )
        type(row).objects.filter(pk=row.pk).update(payment_reference=payment.reference)
        return self._authorise(payment)

    @staticmethod
    def _authorise(payment) -> bool:
        """The payer enters the test card on the local card page, then returns to Borough."""
        from borough.payments import services as payments
        from borough.payments.models import LocalPayment
        from borough.payments.providers import MOCK_CARDS, LocalPayProvider

        local = LocalPayment.objects.get(payment_id=payment.provider_id)
        LocalPayProvider().authorise(local, MOCK_CARDS[TEST_CARD], TEST_CARD[-4:])
        return payments.refresh_payment(payment).status == "success"

    def officers_decide(self, day: dt.date) -> None:
        """Referred checks and held applications, decided by officers a few days later."""
        from borough.parking import services
        from borough.parking.models import PermitApplication
        from borough.residents.verification.models import Verification
        from borough.residents.verification.review import review_referral

        due = [w for w in self.waiting if w[0] <= day]
        self.waiting = [w for w in self.waiting if w[0] > day]
        for _, application_id, reference in due:
            with clock(at(day, 10, 30)):
                verification = Verification.objects.get(reference=reference)
                if verification.review == Verification.Review.OPEN:
                    review_referral(verification, "confirmed", self.staff["records"])
                    self.result.add("referrals confirmed by an officer")
                application = PermitApplication.objects.get(pk=application_id)
                if application.status == PermitApplication.Status.NEEDS_OFFICER:
                    try:
                        services.approve_application(
                            application_id,
                            officer=self.staff["parking"],
                            reason="Council tax record checked by hand",
                            max_per_household=(
                                settings.COUNCIL.parking.max_resident_permits_per_household
                            ),
                        )
                        self.result.add("applications approved by an officer")
                    except services.PermitRuleError:
                        pass

    def cancel_some(self, day: dt.date) -> None:
        """Now and then a holder moves away: the permit is cancelled and the unused whole
        months refunded."""
        from borough.parking import services
        from borough.parking.models import Permit

        if not self.drivers or self.rnd.random() > 0.08:
            return
        driver = self.rnd.choice(self.drivers)
        with clock(at(day, 11)):
            permit = Permit.objects.get(pk=driver.permit_id)
            if permit.status != Permit.Status.ACTIVE:
                return
            services.cancel_permit(permit.pk, actor=permit.holder, reason="Moving out of the zone")
        self.drivers.remove(driver)
        self.result.add("permits cancelled")

    def enforcement(self, day: dt.date, checks: int) -> None:
        """A civil enforcement officer's look-ups: mostly permit holders' cars, some not."""
        from borough.parking import enforcement
        from borough.parking.models import Zone
        from borough.transparency.models import ActorKind

        zones = list(self.zones.values())
        officer = self.staff["enforcement"]
        for k in range(checks):
            moment = at(day, 8 + k % 10, (k * 7) % 60)
            if self.drivers and self.rnd.random() < 0.7:
                driver = self.rnd.choice(self.drivers)
                vrm, zone = driver.vrm, Zone.objects.get(pk=driver.zone_id)
            else:
                vrm, zone = self.rnd.choice(self.vrms), self.rnd.choice(zones)
            with clock(moment):
                enforcement.check_vehicle(vrm, zone, actor=officer, actor_kind=ActorKind.STAFF)
            self.result.add("enforcement checks")

    def visitor_session(self, day: dt.date) -> None:
        from borough.core.models import User
        from borough.parking import services, visitor_sessions
        from borough.parking.models import Zone

        if not self.drivers:
            return
        cfg = settings.COUNCIL.parking
        driver = self.rnd.choice(self.drivers)
        hours = self.rnd.choice([1, 2, 2, 3, 4, 8])
        moment = at(day, 9 + self.rnd.randrange(8))
        with clock(moment):
            try:
                session = visitor_sessions.start_visitor_session(
                    host=User.objects.get(pk=driver.user_id),
                    property_id=driver.property_id,
                    zone=Zone.objects.get(pk=driver.zone_id),
                    vrm=self.rnd.choice(self.vrms),
                    hours=hours,
                    allowance_hours=cfg.visitor_hours_per_year,
                    max_hours=cfg.visitor_session_max_hours,
                    price_per_hour_pence=cfg.visitor_price_per_hour_pence,
                )
            except services.PermitRuleError:
                return
            if session.price_pence and self._pay(
                session,
                purpose_key=f"visitor-session:{session.pk}",
                amount_pence=session.price_pence,
                description=f"Visitor parking, {hours} hours",
            ):
                visitor_sessions.book_paid_visitor_session(session.pk)
        self.result.add("visitor sessions")

    def feedback(self, day: dt.date) -> None:
        from borough.core.models import Feedback

        rating, comment = self.rnd.choice(FEEDBACK)
        with clock(at(day, 12 + self.rnd.randrange(8))):
            Feedback.objects.create(
                satisfaction=rating, comments=comment, page=self.rnd.choice(["/parking", "/rent"])
            )
        self.result.add("feedback")

    # --- the year ----------------------------------------------------------------------------

    def run(self, first: dt.date, last: dt.date, *, scale: float = 1.0) -> ActivityResult:
        from borough.synth.renewals import renew_due_permits

        """Each day's activity; ``scale`` 1 is the demo's borough of 3,000 residents (about 280
        permit applications, 500 enforcement checks, 120 visitor sessions and 290 pieces of
        feedback a year); a smaller borough gets proportionally fewer."""
        self.result.first_day, self.result.last_day = first, last
        # Applications spread over the days so that the residents who may apply last the
        # year (a resident applies once; holders renew, renewals.py).
        days = (last - first).days + 1
        applications = min(1.0 * scale, 0.8 * len(self.pool) / days)
        self.rent_setup(first)
        day = first
        while day <= last:
            self.rent_day(day, last)
            weekday = day.weekday() < 5
            for _ in range(_poisson(self.rnd, applications * (1.25 if weekday else 0.4))):
                if not self.pool:
                    break
                row = self.pool.pop()
                self.apply_for_permit(
                    row, at(day, 9 + self.rnd.randrange(9)), mistake=self.rnd.random() < 0.12
                )
            self.officers_decide(day)
            renew_due_permits(self, day)
            self.cancel_some(day)
            if weekday:
                self.enforcement(day, _poisson(self.rnd, 2 * scale))
            if self.rnd.random() < 0.35 * scale:
                self.visitor_session(day)
            if self.rnd.random() < 0.8 * scale:
                self.feedback(day)
            day += dt.timedelta(days=1)
        return self.result


def _poisson(rnd: random.Random, mean: float) -> int:
    count, total = 0, rnd.expovariate(1.0)
    while total < mean:
        count += 1
        total += rnd.expovariate(1.0)
    return count


def _all_vrms(synth_dir: Path) -> list[str]:
    with (synth_dir / "vehicles.csv").open(newline="", encoding="utf-8") as handle:
        return sorted({row["registration"] for row in csv.DictReader(handle)})


#: The case of the demo's one look-up for a fraud investigation (held back from the resident).
DEMO_FRAUD_CASE = "FR-2026-0042"


def view_records(resident_id: str, moment: dt.datetime, officer: tuple[str, str, str]) -> bool:
    """The Resident data officer opens the resident's records on the staff site, giving the
    reason the page asks for (as a person would: password, authenticator code, the page); and
    an hour later again, for a fraud investigation: that look-up is held back from the resident
    until the data protection officer releases it (``/staff/data-use/held``)."""
    import base64

    from django.test import Client
    from django_otp.oath import totp

    username, password, secret = officer
    client = Client(HTTP_HOST="127.0.0.1")
    with clock(moment):
        client.post("/staff/sign-in", {"username": username, "password": password})
        code = f"{totp(base64.b32decode(secret.replace(' ', ''))):06d}"
        if client.post("/staff/sign-in/code", {"code": code}).status_code != 302:
            return False
        page = client.get(f"/staff/residents/records/{resident_id}", {"reason": "resident_request"})
    with clock(moment + dt.timedelta(hours=1)):
        held = client.get(
            f"/staff/residents/records/{resident_id}",
            {"reason": "fraud_investigation", "case": DEMO_FRAUD_CASE},
        )
    return page.status_code == 200 and held.status_code == 200


def history_for(row: dict, year: Year, today: dt.date) -> None:
    """A demo resident with a history to see at once: a permit applied for and issued some
    months ago (their verification, the permit), their car checked by enforcement, and their
    records opened by an officer with a reason."""
    from borough.parking import enforcement
    from borough.parking.models import Zone
    from borough.transparency.models import ActorKind

    outcome = year.apply_for_permit(row, at(today - dt.timedelta(days=150), 10))
    if outcome is None or outcome.permit is None:
        return
    for days_ago in (120, 64, 9):
        with clock(at(today - dt.timedelta(days=days_ago), 14)):
            enforcement.check_vehicle(
                row["vrm"],
                Zone.objects.get(pk=outcome.permit.zone_id),
                actor=year.staff["enforcement"],
                actor_kind=ActorKind.STAFF,
            )
    resident_id = outcome.application.resident_id
    if resident_id and year.officer and not year.officer_used:
        # One sign-in per run: an authenticator code is accepted once.
        year.officer_used = view_records(
            resident_id, at(today - dt.timedelta(days=30), 11), year.officer
        )
    year.result.history.append((year._user(row), row))


def add_activity(
    data_dir: Path,
    synth_dir: Path,
    *,
    staff: dict,
    seed: int,
    exclude: set[str],
    officer: tuple[str, str, str] | None = None,
    today: dt.date | None = None,
    histories: int = 2,
    scale: float = 1.0,
) -> ActivityResult:
    """The activity of the days since the last run (a year on the first), up to ``today``.
    Emails the services send (Direct Debit notices) go nowhere, and the services' log lines
    are kept quiet, so the demo's output stays readable."""
    from django.test import override_settings

    quiet = logging.getLogger("borough")
    level = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            return _add_activity(
                data_dir,
                synth_dir,
                staff=staff,
                seed=seed,
                exclude=exclude,
                officer=officer,
                today=today or timezone.localdate(),
                histories=histories,
                scale=scale,
            )
    finally:
        quiet.setLevel(level)


def _add_activity(
    data_dir, synth_dir, *, staff, seed, exclude, officer, today, histories, scale
) -> ActivityResult:
    store = data_dir / STATE_FILE
    state = json.loads(store.read_text()) if store.exists() else {}
    last = dt.date.fromisoformat(state["last_day"]) if state.get("last_day") else None
    if last is not None and last >= today:
        return ActivityResult()  # today's activity is there already
    year = Year(
        data_dir,
        synth_dir,
        staff=staff,
        seed=seed + len(state.get("runs", [])),
        exclude=exclude,
        officer=officer,
    )
    if last is None:
        # Not council tenants: each week's rent charge is an entry in a tenant's log, and the
        # entries worth seeing first would be pages down.
        from borough.housing.models import Tenant

        tenants = {
            e.lower() for e in Tenant.objects.exclude(email="").values_list("email", flat=True)
        }
        chosen = [row for row in year.pool if row["email"].lower() not in tenants][:histories]
        year.pool = [row for row in year.pool if row not in chosen]
        for row in chosen:
            history_for(row, year, today)
        state["history"] = [row["email"].lower() for _, row in year.result.history]
        first = today - dt.timedelta(days=DAYS)
    else:
        first = last + dt.timedelta(days=1)
    year.run(first, today, scale=scale)
    state["last_day"] = today.isoformat()
    state.setdefault("runs", []).append(today.isoformat())
    store.write_text(json.dumps(state, indent=2))
    return year.result


def history_people(data_dir: Path) -> list[str]:
    """The emails of the residents ``add_activity`` gave a history, as it kept them."""
    store = data_dir / STATE_FILE
    return json.loads(store.read_text()).get("history", []) if store.exists() else []
