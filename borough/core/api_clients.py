"""API keys for machine clients: made, checked and revoked here (``ApiClient``)."""

from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone

from borough.core.models import ApiClient

SCOPES = {
    "verify": "POST /api/v1/verifications: verify a resident's details for a purpose",
    "enforcement": "GET /api/v1/parking/check: is a vehicle allowed to park in a zone now",
}
_PREFIX = "brgh_"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_client(
    name: str, scopes: list[str], purposes: list[str] = (), created_by=None
) -> tuple[ApiClient, str]:
    """A new client and its key (shown once; only its hash is kept)."""
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
    )
    return client, key


def client_for_key(key: str) -> ApiClient | None:
    """The active client with this key, or None; notes when it was last used."""
    if not key or not key.startswith(_PREFIX):
        return None
    client = ApiClient.objects.filter(key_sha256=_digest(key), revoked_at__isnull=True).first()
    if client is not None:
        now = timezone.now()
        if client.last_used_at is None or (now - client.last_used_at).total_seconds() > 60:
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
    return client


def revoke(name_or_prefix: str) -> ApiClient:
    client = (
        ApiClient.objects.filter(name=name_or_prefix).first()
        or ApiClient.objects.filter(key_prefix=name_or_prefix).first()
    )
    if client is None:
        raise ValueError("No API client has that name or key prefix.")
    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at"])
    return client
