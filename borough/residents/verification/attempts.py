"""Limits on guessing someone's details, kept where they cannot be reset.

Every identity check that can fail (``service.verify`` for a resident or a machine client, the
first step of finding a rent account) counts its failures in the database against each of its
*targets*: the rent account or other thing being opened, the resident the details matched, the
details themselves (name and address, so that a guess that matches nobody still counts), and the
signed-in account making the guesses. A new session, a new browser, a second online account or a
restart of every web process changes none of those counts; only time does (a sliding window).

A target over its limit refuses further checks until its oldest failure in the window ages out
(``TooManyAttempts.until``); nothing is read or logged for a refused check. Checks on one target
are counted one after another: its ``CheckTarget`` row is locked for the check, so two processes
guessing at once cannot both slip in under the limit.

Keys are HMAC-SHA256 of the target under a key derived from the secret key: the tables hold no
personal data, and a key cannot be turned back into the details it came from.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from borough.core.config import check_limit_settings, count_per_seconds
from borough.residents.verification.models import CheckTarget, FailedCheck


@dataclass(frozen=True)
class Limit:
    failures: int  # this many failures in the window lock the target
    window: dt.timedelta
    title: str  # what the target is, for the messages: "this rent account"


#: The default limits. A council changes any of them with ``BOROUGH_ATTEMPT_LIMITS``
#: ("rent-account=3/86400,account=20/86400": failures/seconds; ``limit_for``).
LIMITS: dict[str, Limit] = {
    # what is being opened: a rent account
    "rent-account": Limit(5, dt.timedelta(hours=24), "this rent account"),
    # the resident the details matched, for any service
    "resident": Limit(5, dt.timedelta(hours=24), "these details"),
    # the name and address given, whoever they match
    "details": Limit(5, dt.timedelta(hours=24), "these details"),
    # a signed-in resident's account, across every target it tries
    "account": Limit(10, dt.timedelta(hours=24), "your account"),
    # finding a rent account by payment reference and postcode
    "rent-reference": Limit(10, dt.timedelta(hours=24), "this payment reference"),
    "rent-find-account": Limit(10, dt.timedelta(hours=24), "your account"),
    # a code posted to a resident's home to see their data-use history: wrong codes typed by
    # one account, and wrong codes typed by any account for one resident
    "history-code-account": Limit(5, dt.timedelta(hours=24), "your account"),
    "history-code-resident": Limit(5, dt.timedelta(hours=24), "these details"),
}


def limit_for(scope: str) -> Limit:
    """The limit of ``scope`` in force: the default, or ``BOROUGH_ATTEMPT_LIMITS[scope]``."""
    default = LIMITS[scope]
    override = (getattr(settings, "BOROUGH_ATTEMPT_LIMITS", None) or {}).get(scope)
    if not override:
        return default
    failures, seconds = count_per_seconds("BOROUGH_ATTEMPT_LIMITS", scope, override)
    return Limit(failures, dt.timedelta(seconds=seconds), default.title)


def check_attempt_limit_settings(app_configs=None, **kwargs) -> list:
    """``borough check``: every name in ``BOROUGH_ATTEMPT_LIMITS`` is a limit, FAILURES/SECONDS."""
    return check_limit_settings("BOROUGH_ATTEMPT_LIMITS", LIMITS, ("borough.E111", "borough.E112"))


class TooManyAttempts(Exception):
    """A target is over its limit. ``until``: when the next check may be made."""

    def __init__(self, scope: str, until: dt.datetime) -> None:
        self.scope = scope
        self.until = until
        super().__init__(f"Too many failed checks of {limit_for(scope).title}")

    @property
    def retry_after_seconds(self) -> int:
        return max(1, int((self.until - timezone.now()).total_seconds()) + 1)


@dataclass(frozen=True)
class Target:
    scope: str
    key: str  # the hashed key

    @classmethod
    def of(cls, scope: str, value: str) -> Target:
        if scope not in LIMITS:
            raise ValueError(f"No attempt limit for {scope!r}")
        secret = hashlib.sha256(b"borough-attempts:" + settings.SECRET_KEY.encode()).digest()
        digest = hmac.new(secret, f"{scope}:{value}".encode(), hashlib.sha256).hexdigest()
        return cls(scope, digest)


def _failures(targets: list[Target], now: dt.datetime) -> dict[Target, list[dt.datetime]]:
    """Each target's failures in its window, oldest first: one query for them all."""
    if not targets:
        return {}
    longest = max(limit_for(t.scope).window for t in targets)
    by_key: dict[tuple[str, str], list[dt.datetime]] = {}
    rows = FailedCheck.objects.filter(
        key__in=[t.key for t in targets], failed_at__gt=now - longest
    ).values_list("scope", "key", "failed_at")
    for scope, key, failed_at in rows:
        by_key.setdefault((scope, key), []).append(failed_at)
    out = {}
    for target in targets:
        since = now - limit_for(target.scope).window
        out[target] = sorted(f for f in by_key.get((target.scope, target.key), []) if f > since)
    return out


def lock_targets(targets: Iterable[Target]) -> None:
    """Lock each target's row until the transaction ends (callers hold one open): two checks of
    one target are counted one after the other. Rows are locked in one statement in a fixed
    order, so two checks sharing several targets cannot deadlock."""
    targets = sorted(set(targets), key=lambda t: (t.scope, t.key))
    if not targets or connection.vendor == "sqlite":
        # SQLite has no row locks, and needs none here: Borough's SQLite transactions begin
        # IMMEDIATE (settings.py), so a check holds the database's write lock from its start
        # and two checks are counted one after the other anyway.
        return
    CheckTarget.objects.bulk_create(
        [CheckTarget(scope=t.scope, key=t.key) for t in targets], ignore_conflicts=True
    )
    list(
        CheckTarget.objects.select_for_update()
        .filter(key__in=[t.key for t in targets])
        .order_by("scope", "key")
        .values_list("pk", flat=True)
    )


def refuse_if_locked(targets: Iterable[Target], *, now: dt.datetime | None = None) -> None:
    """Raise ``TooManyAttempts`` if any target is over its limit (with the latest ``until`` if
    several are)."""
    now = now or timezone.now()
    refusal: TooManyAttempts | None = None
    for target, failures in _failures(list(dict.fromkeys(targets)), now).items():
        limit = limit_for(target.scope)
        if len(failures) >= limit.failures:
            # locked until enough of the failures in the window have aged out of it
            until = failures[len(failures) - limit.failures] + limit.window
            if refusal is None or until > refusal.until:
                refusal = TooManyAttempts(target.scope, until)
    if refusal is not None:
        raise refusal


def is_locked(targets: Iterable[Target], *, now: dt.datetime | None = None) -> bool:
    """Whether any of ``targets`` is over its limit now."""
    try:
        refuse_if_locked(targets, now=now)
    except TooManyAttempts:
        return True
    return False


def record_failure(targets: Iterable[Target], *, now: dt.datetime | None = None) -> list[str]:
    """Count one failed check against each target; return the scopes this failure locked."""
    now = now or timezone.now()
    targets = list(dict.fromkeys(targets))
    FailedCheck.objects.bulk_create(
        [FailedCheck(scope=t.scope, key=t.key, failed_at=now) for t in targets]
    )
    return [
        target.scope
        for target, failures in _failures(targets, now).items()
        if len(failures) == limit_for(target.scope).failures
    ]


def prune_expired(*, now: dt.datetime | None = None) -> int:
    """Forget failures older than every window, and targets with none left (the daily jobs
    run it). Returns how many failures were forgotten."""
    now = now or timezone.now()
    longest = max(limit_for(scope).window for scope in LIMITS)
    deleted, _ = FailedCheck.objects.filter(failed_at__lt=now - longest).delete()
    # keys are hashes of the scope and the value: a key is one target whatever its scope
    CheckTarget.objects.exclude(key__in=FailedCheck.objects.values("key")).delete()
    return deleted


def check_or_refuse(targets: Iterable[Target]) -> None:
    """For checks outside ``service.verify``: in a transaction of the caller's, lock the targets
    and refuse if any is over its limit."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("check_or_refuse must run inside transaction.atomic()")
    targets = list(targets)
    lock_targets(targets)
    refuse_if_locked(targets)
