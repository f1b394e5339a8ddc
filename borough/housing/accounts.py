"""Reading a rent account for its tenant: the summary, the transactions, statements. Every read
of a tenant's account through these functions writes a data-use event (purpose
``housing_rent_account_self_service``). A tenant is linked to an account only after the
resident index has verified them as its tenant (``linking.py``)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Sum

from borough.housing import services
from borough.housing.models import LedgerEntry, RentAccount, Tenant
from borough.housing.rent_weeks import charged_weeks, monday_of, rent_week
from borough.payments.money import format_pence
from borough.transparency.batches import record_batch_use
from borough.transparency.models import Action, ActorKind
from borough.transparency.services import record_data_use

SELF_SERVICE = "housing_rent_account_self_service"


def pounds(pence: int) -> str:
    return format_pence(pence, pence_always=True)


def accounts_of(user) -> list[RentAccount]:
    """The rent accounts whose tenancies name this signed-in resident."""
    return list(
        RentAccount.objects.filter(tenancy__tenants__account=user)
        .select_related("tenancy", "tenancy__property")
        .distinct()
    )


def tenants_resident_ids(tenancy_ids, *, user=None) -> list[str]:
    """The resident IDs of the tenants of these tenancies (only ``user``'s, if given) who are
    linked to the resident index."""
    tenants = Tenant.objects.filter(tenancy_id__in=list(tenancy_ids)).exclude(resident_id="")
    if user is not None:
        tenants = tenants.filter(account=user)
    return list(tenants.values_list("resident_id", flat=True).distinct())


def record_staff_view(user, tenancy_ids, *, reference: str) -> None:
    """A housing or finance officer saw these tenancies' accounts: a ``staff_view_records``
    event for each tenant linked to the resident index (a tenant who is not has no resident
    to record it against)."""
    residents = tenants_resident_ids(tenancy_ids)
    if not residents:
        return
    record_data_use(
        subject_resident_ids=residents,
        actor=user,
        actor_kind=ActorKind.STAFF,
        purpose="staff_view_records",
        action=Action.VIEWED_RECORDS,
        datasets=["rent_accounts"],
        reference=reference,
        service="housing",
    )


def record_tenants_use(
    tenancy_ids, user, *, purpose: str, action: str, reference: str, label: str
) -> int:
    """A batch (a statement import, a Bacs run or report, the week's charges) used the data of
    these tenancies' tenants (``tenancy_ids``: IDs or a query of them): recorded per batch
    (``record_batch_use``) for each tenant linked to the resident index. ``user`` is the
    officer who started it, or None for a scheduled job named by ``label``."""
    residents = (
        Tenant.objects.filter(tenancy_id__in=tenancy_ids)
        .exclude(resident_id="")
        .values_list("resident_id", flat=True)
        .distinct()
    )
    return record_batch_use(
        residents.iterator(),
        actor=user,
        actor_label=label,
        purpose=purpose,
        action=action,
        datasets=["rent_accounts"],
        reference=reference,
    )


def _log(account: RentAccount, user, action: str, reference: str) -> None:
    residents = tenants_resident_ids([account.tenancy_id], user=user)
    record_data_use(
        subject_resident_ids=residents,
        actor=user,
        actor_kind=ActorKind.RESIDENT,
        purpose=SELF_SERVICE,
        action=action,
        datasets=["rent_accounts"],
        reference=reference,
    )


@dataclass(frozen=True)
class Summary:
    account: RentAccount
    balance_pence: int  # positive: owed
    weekly_charges: dict[str, int]  # by charge type code
    weekly_total_pence: int
    arrears_pence: int
    arrears_weeks: float
    next_charge_on: dt.date | None
    charge_names: dict[str, str]
    recent: list[LedgerEntry]
    arrangement: object | None = None  # the live or broken PaymentArrangement, if any
    arrangement_check: object | None = None  # services.ArrangementCheck

    @property
    def arrears_in_weeks(self) -> str:
        """The arrears as weeks of rent, as a tenant reads it: "2 weeks", "1.5 weeks",
        "1 week", "0.6 of a week"."""
        weeks = self.arrears_weeks
        number = f"{weeks:g}"
        if weeks < 1:
            return f"{number} of a week"
        return f"{number} week{'' if weeks == 1 else 's'}"


def summary(account: RentAccount, user, *, today: dt.date) -> Summary:
    """What the tenant sees first: balance, weekly charges, arrears, the next charge, recent
    transactions. Logged."""
    cfg = settings.COUNCIL.housing
    weekly = services.weekly_charge_pence(account, today)
    total = sum(weekly.values())
    balance = services.balance_pence(account)
    next_monday = monday_of(today) + dt.timedelta(days=7)
    for _ in range(6):  # the next Monday that is not rent-free
        if not rent_week(
            next_monday, rent_free_weeks=cfg.rent_free_weeks, week_53=cfg.week_53
        ).free:
            break
        next_monday += dt.timedelta(days=7)
    arrears = max(balance, 0)
    arrangement = (
        account.arrangements.filter(status__in=["live", "breached"]).order_by("-start_date").first()
    )
    check = services.check_arrangement(arrangement, today=today) if arrangement else None
    _log(account, user, Action.VIEWED_RECORDS, account.payment_reference)
    return Summary(
        account=account,
        balance_pence=balance,
        weekly_charges=weekly,
        weekly_total_pence=total,
        arrears_pence=arrears,
        arrears_weeks=round(arrears / total, 1) if total else 0.0,
        next_charge_on=None if account.closed_on else next_monday,
        charge_names={c.code: c.name for c in cfg.charge_types},
        recent=list(LedgerEntry.objects.filter(account=account).order_by("-posted_on", "-id")[:20]),
        arrangement=arrangement,
        arrangement_check=check,
    )


@dataclass(frozen=True)
class StatementRow:
    posted_on: dt.date
    description: str
    kind: str
    charge_pence: int  # what was charged (0 if a payment)
    paid_pence: int  # what was paid (0 if a charge)
    balance_pence: int


@dataclass(frozen=True)
class Statement:
    account: RentAccount
    start: dt.date
    end: dt.date
    opening_pence: int
    rows: list[StatementRow]
    closing_pence: int
    benefit_pence: int  # Housing Benefit / Universal Credit received in the period


def statement(account: RentAccount, user, *, start: dt.date, end: dt.date) -> Statement:
    """Every entry from ``start`` to ``end`` with a running balance. Logged."""
    if end < start:
        raise ValueError("The end date must be on or after the start date")
    opening = services.balance_pence(account, on=start - dt.timedelta(days=1))
    running = opening
    rows = []
    entries = LedgerEntry.objects.filter(
        account=account, posted_on__gte=start, posted_on__lte=end
    ).order_by("posted_on", "id")
    for entry in entries:
        running += entry.amount_pence
        rows.append(
            StatementRow(
                posted_on=entry.posted_on,
                description=entry.description,
                kind=entry.get_kind_display(),
                charge_pence=max(entry.amount_pence, 0),
                paid_pence=max(-entry.amount_pence, 0),
                balance_pence=running,
            )
        )
    benefit = -(
        entries.filter(kind=LedgerEntry.Kind.BENEFIT).aggregate(t=Sum("amount_pence"))["t"] or 0
    )
    _log(account, user, Action.EXPORT, account.payment_reference)
    return Statement(account, start, end, opening, rows, running, benefit)


def statement_csv(st: Statement) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Date", "Description", "Type", "Charged", "Paid", "Balance"])
    writer.writerow([st.start.isoformat(), "Opening balance", "", "", "", _money(st.opening_pence)])
    for row in st.rows:
        writer.writerow(
            [
                row.posted_on.isoformat(),
                row.description,
                row.kind,
                _money(row.charge_pence) if row.charge_pence else "",
                _money(row.paid_pence) if row.paid_pence else "",
                _money(row.balance_pence),
            ]
        )
    writer.writerow([st.end.isoformat(), "Closing balance", "", "", "", _money(st.closing_pence)])
    return out.getvalue()


def _money(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    whole, part = divmod(abs(pence), 100)
    return f"{sign}{whole}.{part:02d}"


def rent_year_weeks(today: dt.date) -> int:
    cfg = settings.COUNCIL.housing
    year = rent_week(monday_of(today), rent_free_weeks=cfg.rent_free_weeks).rent_year
    return charged_weeks(year, rent_free_weeks=cfg.rent_free_weeks, week_53=cfg.week_53)


#: Standing-order frequencies and how many payments a year each makes.
FREQUENCIES = {"weekly": 52, "fortnightly": 26, "four_weekly": 13, "monthly": 12}
FREQUENCY_NAMES = {
    "weekly": "Every week",
    "fortnightly": "Every 2 weeks",
    "four_weekly": "Every 4 weeks",
    "monthly": "Every month",
}


#: How an amount at each frequency is said after the amount: "£510.42 a month".
PER_PAYMENT = {
    "weekly": "a week",
    "fortnightly": "every 2 weeks",
    "four_weekly": "every 4 weeks",
    "monthly": "a month",
}


def year_of_charges(account: RentAccount, *, on: dt.date) -> tuple[int, int]:
    """The weekly charge in force on ``on`` and the weeks charged in its rent year."""
    return sum(services.weekly_charge_pence(account, on).values()), rent_year_weeks(on)


def year_explained(account: RentAccount, *, on: dt.date) -> str:
    """ "Your rent and charges are £122.50 a week for 50 weeks a year: £6,125.00 a year"."""
    weekly, weeks = year_of_charges(account, on=on)
    return (
        f"Your rent and charges are {pounds(weekly)} a week for {weeks} weeks a year: "
        f"{pounds(weekly * weeks)} a year"
    )


def amount_explained(account: RentAccount, frequency: str, *, on: dt.date) -> str:
    """How the amount at ``frequency`` comes from the weekly charge, in words: "£122.50 a week
    for 50 weeks a year is £6,125.00 a year, which is £510.42 a month". The same sum as
    ``standing_order_amounts`` on ``on``; a weekly-ish amount says it is paid in the rent-free
    weeks too."""
    weekly, weeks = year_of_charges(account, on=on)
    amount = standing_order_amounts(account, today=on)[frequency]
    words = (
        f"{pounds(weekly)} a week for {weeks} weeks a year is {pounds(weekly * weeks)} a year, "
        f"which is {pounds(amount)} {PER_PAYMENT[frequency]}"
    )
    if amount * FREQUENCIES[frequency] != weekly * weeks:
        words += " (rounded up to the penny)"
    if frequency != "monthly" and weeks != 52:
        words += ", paid all year round, including in the rent-free weeks"
    return words


def standing_order_amounts(account: RentAccount, *, today: dt.date) -> dict[str, int]:
    """What to pay at each frequency so that a year's payments equal a year's charges: the
    weekly charge × the weeks charged this rent year (rent-free weeks left out) ÷ payments a
    year, rounded up to the penny so that a tenant is never short."""
    weekly, weeks = year_of_charges(account, on=today)
    return {name: -(-weekly * weeks // per_year) for name, per_year in FREQUENCIES.items()}
