"""Linking a resident's online account to their tenancy, without letting anyone take it over.

The rules:

- Each tenant named on a tenancy links their own online account (joint tenants one each): the
  resident index must verify the person as *that* tenant (``housing_tenant_verification``: the
  date of birth agreeing exactly with the records), and only that tenant's place is filled.
- A tenant whose place already holds another online account is not moved to the new one: the
  account holder is emailed that someone verified as them tried, and the person can ask for a
  one-time code posted to the home (or see a housing officer). The code links the account that
  asked for it, and the account it replaces is told.
- A tenant whose records hold no date of birth to check is referred, and may ask for a code by
  post in the same way; nobody else may.
- Guesses are limited per rent account, per resident, per details and per online account in
  the database (``residents.verification.attempts``); when a rent account's limit is reached
  its tenants are emailed.
- Whenever an online account is linked to a tenancy, the tenancy's other linked accounts are
  told.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from borough.core.letters import Letter, send_letter
from borough.core.posted_codes import code_hash, new_code, normalise_code
from borough.housing.models import LinkCode, RentAccount, Tenant
from borough.residents.verification.attempts import (
    Target,
    TooManyAttempts,
    check_or_refuse,
    is_locked,
)
from borough.residents.verification.attempts import record_failure as record_attempt_failure
from borough.transparency.models import Action, ActorKind
from borough.transparency.services import record_data_use

PURPOSE = "housing_tenant_verification"
CODE_DAYS = 30
#: A tenant's place gets one letter at a time: another may be asked for after this many days.
LETTER_EVERY_DAYS = 7
#: A verification is good for asking for a letter for this long after it was made.
VERIFICATION_FRESH = dt.timedelta(hours=1)


def rent_account_target(account: RentAccount) -> tuple[str, str]:
    return ("rent-account", str(account.pk))


def _site() -> str:
    return settings.BOROUGH_SITE_URL


def _ending(account: RentAccount) -> str:
    return account.payment_reference[-4:]


def _tell(emails: list[str], subject: str, body: str) -> None:
    emails = sorted({e for e in emails if e})
    if emails:
        send_mail(subject, f"{body}\n\n{settings.COUNCIL.name}", None, emails)


def linked_emails(account: RentAccount, *, besides=None) -> list[str]:
    """The email addresses of the online accounts linked to this tenancy (not ``besides``)."""
    tenants = account.tenancy.tenants.exclude(account=None).select_related("account")
    return [t.account.email for t in tenants if t.account != besides and t.account.email]


def tenants_emails(account: RentAccount) -> list[str]:
    """Every address the council has for the tenancy's tenants: their online accounts and the
    housing record's."""
    out = linked_emails(account)
    out += [t.email for t in account.tenancy.tenants.all() if t.email]
    return out


# -- finding the account: payment reference and postcode -------------------------------------


def find_targets(user, payment_reference: str) -> list[Target]:
    reference = "".join(payment_reference.split()).upper()
    return [
        Target.of("rent-reference", reference),
        Target.of("rent-find-account", str(user.pk)),
    ]


def find_for_first_sign_in(user, payment_reference: str, postcode: str) -> RentAccount | None:
    """The account with this payment reference whose home has this postcode, or None (a
    failed guess, counted per payment reference and per online account; ``TooManyAttempts``
    over the limit)."""
    targets = find_targets(user, payment_reference)
    locked: list[str] = []
    with transaction.atomic():
        check_or_refuse(targets)
        reference = "".join(payment_reference.split()).upper()
        account = (
            RentAccount.objects.filter(payment_reference=reference)
            .select_related("tenancy__property")
            .first()
        )
        home = account.tenancy.property.postcode.replace(" ", "") if account else None
        found = home is not None and home == postcode.replace(" ", "").upper()
        if not found:
            locked = record_attempt_failure(targets)
    if not found:
        if account is not None and "rent-reference" in locked:
            tell_tenants_of_lockout(account)
        return None
    return account


# -- linking after a verification -------------------------------------------------------------


@dataclass(frozen=True)
class LinkResult:
    """What came of a verified check: ``linked`` (this account now sees the rent account),
    ``already`` (it did before), ``taken`` (the tenant's place holds another account),
    ``not_tenant`` (the resident verified is not a tenant of this tenancy)."""

    status: str
    tenant: Tenant | None = None


def link_verified(account: RentAccount, user, *, resident_id: str) -> LinkResult:
    """Link ``user`` to the tenant of ``account`` whom the resident index verified
    (``resident_id``), unless that tenant's place holds another online account."""
    with transaction.atomic():
        tenant = (
            Tenant.objects.select_for_update(of=("self",))
            .filter(tenancy=account.tenancy, resident_id=resident_id)
            .select_related("account")
            .first()
        )
        if tenant is None:
            return LinkResult("not_tenant")
        if tenant.account_id == user.pk:
            return LinkResult("already", tenant)
        if tenant.account_id is not None:
            _tell(
                [tenant.account.email],
                "Someone tried to link another online account to your rent account",
                f"Someone whose details matched yours tried to see your rent account (reference "
                f"ending {_ending(account)}) with a different online account.\n\n"
                "If it was you, you can keep using this account, or ask for a code by post to "
                "move to the new one. If it was not you, nobody has been given access: call us "
                f"on {settings.COUNCIL.contact.phone}.",
            )
            return LinkResult("taken", tenant)
        others = linked_emails(account, besides=user)
        tenant.account = user
        tenant.save(update_fields=["account"])
    _tell(
        others,
        "Another online account can now see your rent account",
        f"A tenant of your home linked their online account to the rent account (reference "
        f"ending {_ending(account)}) after the council's records confirmed who they are.\n\n"
        f"If you do not know who this is, call us on {settings.COUNCIL.contact.phone}.",
    )
    return LinkResult("linked", tenant)


def count_failed_link(account: RentAccount, verification) -> None:
    """A check that verified someone who is not a tenant of this tenancy is a failed guess at
    the rent account."""
    from borough.residents.verification.service import record_failed_use

    record_failed_use(verification, (rent_account_target(account),))  # tells if it locks


def tell_tenants_when_checks_lock(sender, *, scopes, resident_id, targets, **kwargs) -> None:
    """``checks_locked``: the tenants of a rent account that reached its limit, and of every
    rent account of a resident who did, are told once each."""
    accounts: dict[int, RentAccount] = {}
    if "rent-account" in scopes:
        ids = [int(value) for scope, value in targets if scope == "rent-account"]
        accounts.update(RentAccount.objects.in_bulk(ids))
    if "resident" in scopes and resident_id:
        for account in RentAccount.objects.filter(
            tenancy__tenants__resident_id=resident_id, closed_on__isnull=True
        ).distinct():
            accounts[account.pk] = account
    for account in accounts.values():
        tell_tenants_of_lockout(account)


def tenants_were_told(account: RentAccount) -> bool:
    """Whether this rent account, or a resident who is one of its tenants, is locked: the locks
    whose tenants are emailed when they are reached (``tell_tenants_when_checks_lock``)."""
    residents = account.tenancy.tenants.exclude(resident_id="").values_list(
        "resident_id", flat=True
    )
    return is_locked(
        [
            Target.of(*rent_account_target(account)),
            *(Target.of("resident", resident) for resident in residents),
        ]
    )


def tell_tenants_of_lockout(account: RentAccount) -> None:
    """The rent account reached its limit of failed checks: its tenants hear of it."""
    _tell(
        tenants_emails(account),
        "Someone tried to see your rent account online",
        f"Someone tried several times to see your rent account (reference ending "
        f"{_ending(account)}) online with details that did not match the council's records. "
        "For your security, nobody can link an online account to it for the next 24 hours.\n\n"
        "Nobody has been given access. If it was you, you can try again later or call us. If "
        f"it was not you, you do not need to do anything, but you can call us on "
        f"{settings.COUNCIL.contact.phone}.",
    )


# -- a one-time code by post -------------------------------------------------------------------


def _code_hash(code: str) -> str:
    return code_hash("link-code", code)


class LetterRefused(ValueError):
    """A code by post cannot be sent now; the message says why, for the person."""


def may_ask_for_letter(account: RentAccount, verification, user) -> Tenant | None:
    """The tenant whose place a code by post would fill, if this verification entitles
    ``user`` to one: made by ``user`` in the last hour for this rent account, and either
    verified as a tenant whose place holds another account, or referred only because the
    records hold no date of birth for that tenant."""
    if verification is None or verification.purpose != PURPOSE:
        return None
    if verification.actor_user_id != user.pk:
        return None
    if verification.caller_reference != account.payment_reference:
        return None
    if timezone.now() - verification.requested_at > VERIFICATION_FRESH:
        return None
    entitled = verification.decision == "verified" or (
        verification.decision == "refer" and verification.unconfirmed == ["date_of_birth"]
    )
    if not entitled or not verification.resident_id:
        return None
    return Tenant.objects.filter(
        tenancy=account.tenancy, resident_id=verification.resident_id
    ).first()


def send_link_code(account: RentAccount, tenant: Tenant, user, *, site: str = "") -> LinkCode:
    """Post a one-time code to the tenancy's home for ``tenant``'s place, to be entered by
    ``user``; one letter a week at most for a place. ``site``: the address the letter gives
    (default ``BOROUGH_SITE_URL``)."""
    now = timezone.now()
    with transaction.atomic():
        Tenant.objects.select_for_update(of=("self",)).filter(pk=tenant.pk).first()
        recent = LinkCode.objects.filter(
            tenant=tenant, created_at__gt=now - dt.timedelta(days=LETTER_EVERY_DAYS)
        ).first()
        if recent is not None:
            raise LetterRefused(
                f"We posted a code for this tenancy on {timezone.localtime(recent.created_at):%-d %B %Y}. "
                "Letters take up to 5 working days to arrive. You can ask for another one a week "
                "after that."
            )
        code = new_code()
        link = LinkCode.objects.create(
            tenant=tenant,
            requested_by=user,
            code_hash=_code_hash(code),
            letter_reference="rent-link-" + secrets.token_hex(8),
            created_at=now,
            expires_at=now + dt.timedelta(days=CODE_DAYS),
        )
        home = account.tenancy.property
        send_letter(
            Letter(
                kind="rent_link_code",
                reference=link.letter_reference,
                address_lines=_letter_address(
                    f"{tenant.first_name} {tenant.surname}".strip() or "The tenant", home.lines()
                ),
                fields={
                    "code": f"{code[:5]}-{code[5:]}",
                    "site": (site or _site()).rstrip("/") + "/rent/find/code",
                    "expires": f"{timezone.localtime(link.expires_at):%-d %B %Y}",
                    "phone": settings.COUNCIL.contact.phone,
                },
            )
        )
        _record_code_use(tenant, user, Action.SENT_NOTICE, link.letter_reference)
    return link


def _record_code_use(tenant: Tenant, user, action: str, reference: str) -> None:
    """A code by post used the tenant's name and home (``SENT_NOTICE``), or linked an online
    account to their place (``UPDATED_RECORDS``). The person signed in may not be the tenant,
    so the event does not say "you"."""
    record_data_use(
        subject_resident_ids=[tenant.resident_id] if tenant.resident_id else [],
        actor=user,
        actor_kind=ActorKind.RESIDENT,
        actor_label="Someone signed in online, with a code posted to the home",
        purpose=PURPOSE,
        action=action,
        datasets=["rent_accounts"],
        reference=reference,
    )


def _letter_address(name: str, lines: list[str]) -> tuple[str, ...]:
    """A name and the home's lines in the 3 to 7 lines a letter has (postcode last): the first
    lines are joined when there are more."""
    lines = [line for line in lines if line]
    while len(lines) > 6:
        lines[0:2] = [f"{lines[0]}, {lines[1]}"]
    return (name, *lines)


def redeem_link_code(user, text: str) -> RentAccount | None:
    """Link ``user`` with a code from a letter it asked for. None if the code is wrong, used or
    expired (a failed guess against the account: ``TooManyAttempts`` over the limit). The
    online account it replaces is told."""
    target = [Target.of("rent-find-account", str(user.pk))]
    code = normalise_code(text)
    with transaction.atomic():
        check_or_refuse(target)
        link = (
            LinkCode.objects.select_for_update(of=("self",))
            .filter(
                requested_by=user,
                code_hash=_code_hash(code),
                used_at__isnull=True,
                expires_at__gt=timezone.now(),
            )
            .select_related("tenant__tenancy__rent_account", "tenant__account")
            .first()
        )
        if link is None:
            record_attempt_failure(target)
            return None
        tenant = Tenant.objects.select_for_update(of=("self",)).get(pk=link.tenant_id)
        replaced = tenant.account if tenant.account_id not in (None, user.pk) else None
        account = link.tenant.tenancy.rent_account
        others = linked_emails(account, besides=user)
        tenant.account = user
        tenant.save(update_fields=["account"])
        _record_code_use(tenant, user, Action.UPDATED_RECORDS, link.letter_reference)
        link.used_at = timezone.now()
        link.save(update_fields=["used_at"])
    if replaced is not None:
        _tell(
            [replaced.email],
            "Your online account no longer sees your rent account",
            f"Someone with a code we posted to your home linked a different online account "
            f"to your rent account (reference ending {_ending(account)}). This account no "
            f"longer sees it.\n\nIf this was not you, call us on {settings.COUNCIL.contact.phone}.",
        )
    _tell(
        [e for e in others if not replaced or e != replaced.email],
        "Another online account can now see your rent account",
        f"An online account was linked to your rent account (reference ending "
        f"{_ending(account)}) with a code we posted to your home.\n\nIf you do not know who "
        f"this is, call us on {settings.COUNCIL.contact.phone}.",
    )
    return account


def unlink_by_officer(tenant: Tenant, officer) -> None:
    """A housing officer removes a tenant's online account (the tenant asked, or it was not
    theirs); the account is told. The tenant can link again through the records or a code."""
    with transaction.atomic():
        tenant = (
            Tenant.objects.select_for_update(of=("self",))
            .select_related("account")
            .get(pk=tenant.pk)
        )
        removed = tenant.account
        if removed is None:
            return
        tenant.account = None
        tenant.save(update_fields=["account"])
    account = tenant.tenancy.rent_account
    _tell(
        [removed.email],
        "Your online account no longer sees your rent account",
        f"A housing officer removed your online account from the rent account (reference "
        f"ending {_ending(account)}).\n\nIf you did not ask for this, call us on "
        f"{settings.COUNCIL.contact.phone}.",
    )


__all__ = [
    "LetterRefused",
    "LinkResult",
    "TooManyAttempts",
    "count_failed_link",
    "find_for_first_sign_in",
    "link_verified",
    "may_ask_for_letter",
    "redeem_link_code",
    "send_link_code",
    "tell_tenants_of_lockout",
    "tell_tenants_when_checks_lock",
    "unlink_by_officer",
]
