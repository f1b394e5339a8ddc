"""API keys for machine clients: made, checked and revoked here (``ApiClient``).

Checking a key is on the path of every API request, so each process keeps the clients it has
looked up for ``CLIENT_CACHE_SECONDS`` (5 s) before reading them again: **revoking a key takes
effect within 5 seconds** in every process (at once in the process that revoked it, and whenever
an ``ApiClient`` is saved or deleted there). Only keys that were found are kept (at most
``CLIENT_CACHE_SIZE``), so a stream of wrong keys costs a query each and fills nothing.
``last_used_at`` is written at most once a minute per client across all processes (the UPDATE
only changes a row whose time is older than that).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
import time

from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from borough.core.models import ApiClient

SCOPES = {
    "verify": "POST /api/v1/verifications: verify a resident's details for a purpose",
    "enforcement": "GET /api/v1/parking/check: is a vehicle allowed to park in a zone now",
}
_PREFIX = "brgh_"

#: How long a process trusts a client it has looked up: the most a revocation can take to apply.
CLIENT_CACHE_SECONDS = 5.0
#: Clients kept per process; the cache is emptied when it would grow beyond this.
CLIENT_CACHE_SIZE = 1000
#: ``last_used_at`` is written when it is older than this.
LAST_USED_EVERY = dt.timedelta(seconds=60)

# key digest -> (client, monotonic time it was read), shared by a worker's threads: a dict's get
# and set are atomic; the lock only keeps "empty when full, then add" together.
_clients: dict[str, tuple[ApiClient, float]] = {}
_clients_lock = threading.Lock()


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_client(
    name: str,
    scopes: list[str],
    purposes: list[str] = (),
    created_by=None,
    requests_per_minute: int | None = None,
) -> tuple[ApiClient, str]:
    """A new client and its key (shown once; only its hash is kept). ``requests_per_minute``:
    its own rate limit on each endpoint instead of the council's (docs/rate-limits.md)."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ValueError(f"Scopes must be some of: {', '.join(SCOPES)}.")
    key = _PREFIX + secrets.token_urlsafe(32)
    client = ApiClient.objects.create(
        name=name,
        key_prefix=key[: len(_PREFIX) + 6],
        key_sha256=_digest(key),
        scopes=sorted(set(scopes)),
        purposes=sorted(set(purposes)),
        created_by=created_by,
        requests_per_minute=requests_per_minute,
    )
    return client, key


def client_for_key(key: str) -> ApiClient | None:
    """The active client with this key, or None; notes when it was last used.

    A client found here is trusted for ``CLIENT_CACHE_SECONDS`` without reading it again, so a
    key revoked in another process stops working within that time. The returned object is
    shared: treat it as read-only.
    """
    if not key or not key.startswith(_PREFIX):
        return None
    digest = _digest(key)
    cached = _clients.get(digest)
    if cached is not None and time.monotonic() - cached[1] < CLIENT_CACHE_SECONDS:
        client = cached[0]
    else:
        read_at = time.monotonic()
        client = ApiClient.objects.filter(key_sha256=digest, revoked_at__isnull=True).first()
        if client is None:
            _clients.pop(digest, None)
            return None
        with _clients_lock:
            if len(_clients) >= CLIENT_CACHE_SIZE:
                _clients.clear()
            _clients[digest] = (client, read_at)
    _note_use(client)
    return client


def _note_use(client: ApiClient) -> None:
    now = timezone.now()
    if client.last_used_at is not None and now - client.last_used_at <= LAST_USED_EVERY:
        return
    # Set first, so that the other requests of this process do not also write; the condition
    # stops other processes writing within the same minute.
    client.last_used_at = now
    ApiClient.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_EVERY), pk=client.pk
    ).update(last_used_at=now)


def forget_cached_clients(**_) -> None:
    """Empty this process's cache of clients (on any save or delete of an ``ApiClient`` here)."""
    _clients.clear()


post_save.connect(forget_cached_clients, sender=ApiClient, dispatch_uid="api_clients_cache_save")
post_delete.connect(
    forget_cached_clients, sender=ApiClient, dispatch_uid="api_clients_cache_delete"
)


def revoke(name_or_prefix: str) -> ApiClient:
    """Revoke a client's key: at once in this process, within ``CLIENT_CACHE_SECONDS`` (5 s) in
    every other (the web servers' processes trust a key they have checked for that long)."""
    client = (
        ApiClient.objects.filter(name=name_or_prefix).first()
        or ApiClient.objects.filter(key_prefix=name_or_prefix).first()
    )
    if client is None:
        raise ValueError("No API client has that name or key prefix.")
    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at"])
    forget_cached_clients()
    return client
