"""Staff sign-in lock-out: ``LOCK_AFTER`` (10) failures in a row lock a username until an
administrator unlocks it (``borough staff unlock USERNAME`` or the admin).

A failure is a wrong password or a wrong second-factor code. The count starts again after a
complete sign-in (password and, where needed, code), or when the last failure is more than
``FORGET_AFTER`` (24 hours) old and the account is not locked. It is kept in the database
(``StaffSignInLock``) by the username typed, whether or not an account has it: a restart,
another web process or another browser sees the same count, and an unknown username locks the
same way as a real one, so locking tells an attacker nothing about which usernames exist.

Why locked until unlocked rather than for a growing time: ``docs/sign-in.md``.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from borough.core.models import StaffSignInLock

LOCK_AFTER = 10
#: Warn on the page when this many tries or fewer are left.
WARN_WHEN_LEFT = 3
FORGET_AFTER = dt.timedelta(hours=24)
LOCKED_MESSAGE = (
    f"This account is locked after {LOCK_AFTER} failed sign-in attempts in a row. "
    "Ask an administrator to unlock it. If the attempts were not yours, tell them: someone "
    "may be trying to sign in as you."
)


def is_locked(username: str) -> bool:
    return StaffSignInLock.objects.filter(username=username, locked_at__isnull=False).exists()


def record_failure(username: str) -> int:
    """Count a failed sign-in for ``username``; lock it at ``LOCK_AFTER``. Returns the tries
    left before the lock (0 when locked)."""
    now = timezone.now()
    with transaction.atomic():
        lock, created = StaffSignInLock.objects.select_for_update().get_or_create(
            username=username[:150], defaults={"failures": 1, "last_failure_at": now}
        )
        if not created:
            # The row is locked (PostgreSQL) or the transaction holds SQLite's one write lock:
            # no other failure is counted between this read and the write.
            stale = lock.last_failure_at is not None and now - lock.last_failure_at > FORGET_AFTER
            lock.failures = 1 if stale and lock.locked_at is None else lock.failures + 1
            lock.last_failure_at = now
            lock.save(update_fields=["failures", "last_failure_at"])
        if lock.failures >= LOCK_AFTER and lock.locked_at is None:
            lock.locked_at = now
            lock.save(update_fields=["locked_at"])
    return max(0, LOCK_AFTER - lock.failures)


def record_success(username: str) -> None:
    """A complete sign-in: the count starts again (a locked username never gets here)."""
    StaffSignInLock.objects.filter(username=username, locked_at__isnull=True).delete()


def unlock(username: str) -> bool:
    """Unlock ``username`` and forget its failures. Returns whether it was locked."""
    deleted, _ = StaffSignInLock.objects.filter(username=username).delete()
    return bool(deleted)


def tries_left(username: str) -> int:
    lock = StaffSignInLock.objects.filter(username=username).first()
    if lock is None:
        return LOCK_AFTER
    if lock.locked_at is not None:
        return 0
    return max(0, LOCK_AFTER - lock.failures)
