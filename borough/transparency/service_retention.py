"""Retention of the rent, Direct Debit, verification and visitor records (issue 14, item 5):
which are past their period and what of them ``borough transparency purge`` blanks.

Each kind's period is the profile's ``[retention.records]`` (a kind without one is never
purged), counted from when the record ended, and a record is due when it ended before the
start of the UK day that is its period before today (``retention.cutoff``):

- ``rent_tenancies``: from the later of the tenancy's end (the day after ``end_date``) and its
  rent account's closing (the day after ``closed_on``). A tenancy not ended, or whose account is
  still open (a balance to settle), is never due. Its tenants' names, date of birth, email,
  resident ID and sign-in link are blanked and their unused link codes deleted.
- ``direct_debit_mandates``: from the later of the mandate's end (cancelled or failed,
  ``ended_at``) and its rent account's closing; a live mandate, or one on an open account, is
  never due. The payer's name, the encrypted bank details and their last digits are blanked.
- ``verifications``: from the check (``requested_at``) or, once an officer reviewed it, the
  review; a check waiting for an officer is never due. The details as given (``applicant``),
  the resident ID, the staff reasons, the evidence (record references) and the officer's note
  are blanked; the purpose, decision, public reasons and times stay.
- ``visitor_sessions``: from the session's end (or its early end). The visitor's registration
  is blanked; the host, times, hours and money stay (the yearly allowance counts them).

Money is never deleted or changed: the rent ledger, payments, arrangements, Bacs runs and
collections, and bank statement lines keep every row and amount (the finance rules: 6 years
after the end of the financial year, and then only by the finance system), so every account
still balances. What the purge removes is only the person's details beside them. Each kind's
rows carry ``anonymised_at``: a second run finds nothing due.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.db.models import Max, Min, Q, QuerySet
from django.db.models.functions import Coalesce, Greatest


def _last_day_due(cutoff: dt.datetime) -> dt.date:
    """The last ``end_date`` or ``closed_on`` that is due: a record through that day ended at
    the start of the next, which must be before the cutoff."""
    return cutoff.date() - dt.timedelta(days=2)


def _due_tenancies(cutoff: dt.datetime) -> QuerySet:
    tenancy = apps.get_model("housing", "Tenancy")
    return (
        tenancy.objects.filter(anonymised_at__isnull=True, end_date__isnull=False)
        .filter(Q(rent_account__isnull=True) | Q(rent_account__closed_on__isnull=False))
        .annotate(
            retention_end=Greatest("end_date", Coalesce("rent_account__closed_on", "end_date"))
        )
        .filter(retention_end__lte=_last_day_due(cutoff))
    )


def _due_mandates(cutoff: dt.datetime) -> QuerySet:
    mandate = apps.get_model("housing", "Mandate")
    return mandate.objects.filter(
        anonymised_at__isnull=True,
        status__in=[mandate.Status.CANCELLED, mandate.Status.FAILED],
        ended_at__lt=cutoff,
        account__closed_on__lte=_last_day_due(cutoff),
    )


def _due_verifications(cutoff: dt.datetime) -> QuerySet:
    verification = apps.get_model("residents", "Verification")
    return (
        verification.objects.filter(anonymised_at__isnull=True)
        .exclude(review=verification.Review.OPEN)
        .annotate(retention_end=Coalesce("reviewed_at", "requested_at"))
        .filter(retention_end__lt=cutoff)
    )


def _due_visitor_sessions(cutoff: dt.datetime) -> QuerySet:
    session = apps.get_model("parking", "VisitorSession")
    return (
        session.objects.filter(anonymised_at__isnull=True)
        .annotate(retention_end=Coalesce("ended_early_at", "ends_at"))
        .filter(retention_end__lt=cutoff)
    )


def _day_after(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=1)


def _tenancy_ends(records: QuerySet) -> tuple[dt.date, dt.date]:
    found = records.order_by().aggregate(old=Min("retention_end"), new=Max("retention_end"))
    return _day_after(found["old"]), _day_after(found["new"])


def _mandate_ends(records: QuerySet) -> tuple[dt.date, dt.date]:
    from django.utils import timezone

    ends = [
        max(timezone.localtime(ended).date(), _day_after(closed))
        for ended, closed in records.order_by().values_list("ended_at", "account__closed_on")
    ]
    return min(ends), max(ends)


def _moment_ends(records: QuerySet) -> tuple[dt.datetime, dt.datetime]:
    found = records.order_by().aggregate(old=Min("retention_end"), new=Max("retention_end"))
    return found["old"], found["new"]


def _blank_tenancies(ids: list[int], now: dt.datetime) -> None:
    tenancy = apps.get_model("housing", "Tenancy")
    tenant = apps.get_model("housing", "Tenant")
    link_code = apps.get_model("housing", "LinkCode")
    # A link code says which sign-in account asked to be the tenant, and when: it goes with
    # the tenant's details (and an unused one must not link anyone to a tenancy that ended).
    link_code.objects.filter(tenant__tenancy__in=ids).delete()
    tenant.objects.filter(tenancy__in=ids).update(
        first_name="", surname="", date_of_birth=None, email="", resident_id="", account=None
    )
    tenancy.objects.filter(pk__in=ids).update(anonymised_at=now)


def _blank_mandates(ids: list[int], now: dt.datetime) -> None:
    mandate = apps.get_model("housing", "Mandate")
    mandate.objects.filter(pk__in=ids).update(
        account_holder="",
        sort_code_encrypted="",
        account_number_encrypted="",
        sort_code_last2="",
        account_number_last4="",
        anonymised_at=now,
    )


def _blank_verifications(ids: list[int], now: dt.datetime) -> None:
    verification = apps.get_model("residents", "Verification")
    verification.objects.filter(pk__in=ids).update(
        applicant={},
        resident_id="",
        reasons=[],
        evidence=[],
        review_note="",
        anonymised_at=now,
    )


def _blank_visitor_sessions(ids: list[int], now: dt.datetime) -> None:
    session = apps.get_model("parking", "VisitorSession")
    session.objects.filter(pk__in=ids).update(vrm="", anonymised_at=now)


@dataclass(frozen=True)
class ServiceKind:
    """A kind of service record retention blanks: which are due before a cutoff, the oldest
    and newest end among a due queryset, and the blanking of a batch of IDs."""

    model: tuple[str, str]
    dataset: str  # the data-use event's dataset
    due: Callable[[dt.datetime], QuerySet]
    ends: Callable[[QuerySet], tuple]
    blank: Callable[[list[int], dt.datetime], None]

    def model_class(self):
        return apps.get_model(*self.model)


SERVICE_KINDS = {
    "rent_tenancies": ServiceKind(
        ("housing", "Tenancy"), "rent_accounts", _due_tenancies, _tenancy_ends, _blank_tenancies
    ),
    "direct_debit_mandates": ServiceKind(
        ("housing", "Mandate"),
        "direct_debit_mandates",
        _due_mandates,
        _mandate_ends,
        _blank_mandates,
    ),
    "verifications": ServiceKind(
        ("residents", "Verification"),
        "verifications",
        _due_verifications,
        _moment_ends,
        _blank_verifications,
    ),
    "visitor_sessions": ServiceKind(
        ("parking", "VisitorSession"),
        "parking_permits",
        _due_visitor_sessions,
        _moment_ends,
        _blank_visitor_sessions,
    ),
}
