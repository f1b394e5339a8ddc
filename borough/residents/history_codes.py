"""A code by post before an online account may see a resident's data-use history or data.

An identity check (``verification.service.verify``) proves that someone knows a resident's name,
date of birth and address: enough for a parking permit, not for everything the council holds.
An ex-partner or a neighbour may know as much. So an account that passed a check as a resident
also needs a one-time code posted to the address the council's records hold for that resident
before "How we used your data" and "Your data" show it anything
(``transparency.resident_queries.resident_ids_of`` reads ``confirmed_resident_ids`` here).

The rules:

- Only an account whose own check settled on the resident ID may ask, and the letter goes to
  the address in the council's records, never one the person typed.
- A code is 10 random characters, kept only as a keyed hash; it works once, for ``CODE_DAYS``
  days, and only for the account that asked. A new letter voids the account's older codes.
- Wrong codes are limited: ``WRONG_TRIES`` per code (then it is void), and per account and per
  resident in the database (``verification.attempts``), so new sessions or new accounts do
  not reset the count.
- When a second account asks for a code for a resident ID another account already confirmed,
  those accounts are emailed (nothing about the new account), and the data protection officer
  sees the resident ID under "Unusual access" (``transparency.oversight``).
- Posting a letter and confirming a code are recorded in the data-use log
  (``subject_access_identity_by_post``). The event does not say "you": the person signed in may
  not be the resident.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from borough.core.letters import Letter, send_letter
from borough.core.posted_codes import code_hash, new_code, normalise_code
from borough.residents.index import unique_ids_of_resident
from borough.residents.models import SourceRecord
from borough.residents.verification.attempts import (
    Target,
    TooManyAttempts,
    check_or_refuse,
)
from borough.residents.verification.attempts import record_failure as record_attempt_failure
from borough.residents.verification.models import HistoryCode, Verification
from borough.transparency.models import Action, ActorKind
from borough.transparency.services import record_data_use

PURPOSE = "subject_access_identity_by_post"
CODE_DAYS = 30
WRONG_TRIES = 5
#: One letter a day at most for an account and a resident (each voids the one before).
LETTER_EVERY = dt.timedelta(hours=24)
ACTOR_LABEL = "Someone signed in online, with a code posted to the home"

__all__ = [
    "CODE_DAYS",
    "LetterRefused",
    "TooManyAttempts",
    "awaiting_code",
    "confirm_code",
    "confirm_for_demo",
    "confirmed_resident_ids",
    "send_history_code",
]


def _passed_checks():
    """Checks that settled on a resident: verified and not overturned, or confirmed by an
    officer (the rule ``transparency.resident_queries`` had for an account's IDs)."""
    passed = (Q(decision="verified") & ~Q(review="rejected")) | Q(review="confirmed")
    return Verification.objects.filter(passed, actor_kind="resident").exclude(resident_id="")


def checked_resident_ids(user) -> list[str]:
    """The resident IDs this account's own identity checks settled on."""
    if not user.is_authenticated or not getattr(user, "is_resident", False):
        return []
    ids = _passed_checks().filter(actor_user=user).values_list("resident_id", flat=True)
    return sorted(set(ids.order_by()))


def confirmed_resident_ids(user) -> list[str]:
    """The resident IDs this account checked and then confirmed with a code posted to them."""
    checked = checked_resident_ids(user)
    if not checked:
        return []
    ids = HistoryCode.objects.filter(
        account=user, resident_id__in=checked, used_at__isnull=False
    ).values_list("resident_id", flat=True)
    return sorted(set(ids.order_by()))


def awaiting_code(user) -> list[str]:
    """The resident IDs this account checked but has not confirmed by post yet."""
    confirmed = set(confirmed_resident_ids(user))
    return [rid for rid in checked_resident_ids(user) if rid not in confirmed]


def letter_posted(user, resident_id: str) -> HistoryCode | None:
    """The account's live code for ``resident_id``, if one has been posted."""
    return (
        HistoryCode.objects.filter(
            account=user,
            resident_id=resident_id,
            used_at__isnull=True,
            voided_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .order_by("-created_at")
        .first()
    )


def _code_hash(code: str) -> str:
    return code_hash("history-code", code)


@dataclass(frozen=True)
class Home:
    name: str
    lines: tuple[str, ...]  # the address, postcode last


def home_of(resident_id: str) -> Home | None:
    """The name and address the council's current records hold for ``resident_id`` (the
    records the resident's checks matched, and the index's records of the resident): the
    most recent current record with an address and a postcode. None if there is none."""
    unique_ids: set[str] = set()
    for evidence in (
        _passed_checks().filter(resident_id=resident_id).values_list("evidence", flat=True)
    ):
        unique_ids.update(e.get("unique_id", "") for e in evidence or [] if isinstance(e, dict))
    try:
        unique_ids.update(unique_ids_of_resident(resident_id))
    except ValueError:
        pass  # no link run yet: the records the checks matched are enough
    condition = Q()
    for unique_id in unique_ids:
        code, _, ref = unique_id.partition(":")
        if code and ref:
            condition |= Q(dataset__code=code, record_ref=ref)
    if not condition:
        return None
    record = (
        SourceRecord.objects.filter(condition, ended_at__isnull=True, anonymised_at__isnull=True)
        .exclude(postcode="")
        .exclude(address_given="", address_text="")
        .order_by("-valid_from", "-changed_at")
        .first()
    )
    if record is None:
        return None
    address = record.address_given or record.address_text
    lines = [part.strip() for part in address.split(",") if part.strip()]
    lines = [
        line for line in lines if line.replace(" ", "").upper() != record.postcode.replace(" ", "")
    ]
    while len(lines) > 5:
        lines[0:2] = [f"{lines[0]}, {lines[1]}"]
    name = " ".join(p for p in (record.first_name, record.surname) if p) or record.full_name
    return Home(name or "The resident", (*lines, record.postcode))


class LetterRefused(ValueError):
    """A code by post cannot be sent now; the message says why, for the person."""


def _record(user, resident_id: str, action: str, reference: str) -> None:
    record_data_use(
        subject_resident_ids=[resident_id],
        actor=user,
        actor_kind=ActorKind.RESIDENT,
        actor_label=ACTOR_LABEL,
        purpose=PURPOSE,
        action=action,
        datasets=["verifications"],
        reference=reference,
    )


def _tell(emails, subject: str, body: str) -> None:
    emails = sorted({e for e in emails if e})
    if emails:
        send_mail(subject, f"{body}\n\n{settings.COUNCIL.name}", None, emails)


def other_accounts(resident_id: str, user) -> list:
    """The other online accounts that confirmed ``resident_id`` by post."""
    from django.contrib.auth import get_user_model

    ids = (
        HistoryCode.objects.filter(resident_id=resident_id, used_at__isnull=False)
        .exclude(account=user)
        .values_list("account_id", flat=True)
    )
    return list(get_user_model().objects.filter(pk__in=list(ids)))


def send_history_code(user, resident_id: str, *, site: str = "") -> tuple[HistoryCode, Home]:
    """Post a one-time code for ``resident_id`` to the address the records hold, for ``user``
    to enter. Refused (``LetterRefused``) if the account's own checks did not settle on the ID,
    the records hold no address, or a letter was posted in the last day. Voids the account's
    older codes for the resident. Accounts that already confirmed the ID are emailed."""
    if resident_id not in checked_resident_ids(user):
        raise LetterRefused("We cannot post a code for this: your check did not match.")
    home = home_of(resident_id)
    if home is None:
        raise LetterRefused(
            "The council's records hold no address we can post a code to. Call us on "
            f"{settings.COUNCIL.contact.phone}."
        )
    now = timezone.now()
    with transaction.atomic():
        live = HistoryCode.objects.select_for_update().filter(
            account=user, resident_id=resident_id, used_at__isnull=True, voided_at__isnull=True
        )
        # Any letter counts, used or void: wrong tries must not buy the resident more post.
        recent = HistoryCode.objects.filter(
            account=user, resident_id=resident_id, created_at__gt=now - LETTER_EVERY
        ).first()
        if recent is not None:
            raise LetterRefused(
                f"We posted a code on {timezone.localtime(recent.created_at):%-d %B %Y}. Letters "
                "take 2 to 5 working days to arrive. You can ask for another one tomorrow."
            )
        live.update(voided_at=now)
        code = new_code()
        posted = HistoryCode.objects.create(
            account=user,
            resident_id=resident_id,
            code_hash=_code_hash(code),
            letter_reference="history-" + secrets.token_hex(8),
            created_at=now,
            expires_at=now + dt.timedelta(days=CODE_DAYS),
        )
        send_letter(
            Letter(
                kind="history_code",
                reference=posted.letter_reference,
                address_lines=(home.name, *home.lines),
                fields={
                    "code": f"{code[:5]}-{code[5:]}",
                    "site": (site or settings.BOROUGH_SITE_URL).rstrip("/")
                    + "/how-we-use-your-data/code",
                    "expires": f"{timezone.localtime(posted.expires_at):%-d %B %Y}",
                    "phone": settings.COUNCIL.contact.phone,
                },
            )
        )
        _record(user, resident_id, Action.SENT_NOTICE, posted.letter_reference)
    _tell(
        [account.email for account in other_accounts(resident_id, user)],
        "Another online account asked to see your data",
        "Someone whose details matched yours asked, with a different online account, to see "
        "how the council used your data and a copy of it. We have posted a code to your home: "
        "nobody can see anything without it.\n\nIf it was not you, do not give the code to "
        f"anyone and call us on {settings.COUNCIL.contact.phone}.",
    )
    return posted, home


def confirm_for_demo(user) -> list[str]:
    """The demo only (``borough demo``): enter, for ``user``, the code that would be posted for
    each resident ID its checks settled on, so that a printed demo resident sees their
    history at once. Recorded as a real code is. Returns the IDs it confirmed."""
    now = timezone.now()
    confirmed = []
    for resident_id in awaiting_code(user):
        with transaction.atomic():
            posted = HistoryCode.objects.create(
                account=user,
                resident_id=resident_id,
                code_hash=_code_hash(secrets.token_hex(16)),
                letter_reference="history-demo-" + secrets.token_hex(8),
                created_at=now,
                expires_at=now,
                used_at=now,
            )
            _record(user, resident_id, Action.UPDATED_RECORDS, posted.letter_reference)
        confirmed.append(resident_id)
    return confirmed


def confirm_code(user, text: str) -> str | None:
    """The resident ID a code from a letter confirms for ``user``, or None if it is wrong,
    used, void or expired (a wrong try against the account's live codes, against the account
    and against each resident it awaits a code for: ``TooManyAttempts`` over a limit)."""
    code = normalise_code(text)
    awaited = awaiting_code(user)
    targets = [Target.of("history-code-account", str(user.pk))]
    targets += [Target.of("history-code-resident", rid) for rid in awaited]
    now = timezone.now()
    with transaction.atomic():
        check_or_refuse(targets)
        live = HistoryCode.objects.select_for_update().filter(
            account=user,
            resident_id__in=awaited,
            used_at__isnull=True,
            voided_at__isnull=True,
            expires_at__gt=now,
        )
        found = live.filter(code_hash=_code_hash(code)).first()
        if found is None:
            for posted in live:
                posted.wrong_tries += 1
                if posted.wrong_tries >= WRONG_TRIES:
                    posted.voided_at = now
                posted.save(update_fields=["wrong_tries", "voided_at"])
            record_attempt_failure(targets)
            return None
        found.used_at = now
        found.save(update_fields=["used_at"])
        _record(user, found.resident_id, Action.UPDATED_RECORDS, found.letter_reference)
    return found.resident_id
