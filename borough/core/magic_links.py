"""Residents' magic links: a signed, single-use, time-limited token that carries the email
address, so that no account exists until its link is used.

The token is ``{"email": …, "nonce": …}`` signed by Django's ``TimestampSigner`` (HMAC-SHA256 with
the secret key and this module's salt, timestamped; "." between its parts, so a link needs no
escaping), valid for ``BOROUGH_MAGIC_LINK_MAX_AGE`` seconds.
Using it records its nonce in ``UsedMagicLink`` (the primary key), so a second use is refused
even within its lifetime, by any web process. Only then is the resident account found or made.
Asking for a link reads and writes no account, so the answer to the form is the same whether or
not one exists. OpenID Connect sign-in is separate (``oidc.py``).
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from borough.core.models import UsedMagicLink, User

SALT = "borough.core.magic-link"


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT, sep=".")


def max_age() -> int:
    return int(settings.BOROUGH_MAGIC_LINK_MAX_AGE)


def normalise_email(email: str) -> str:
    return User.objects.normalize_email(email.strip()).lower()


def make_token(email: str) -> str:
    """A new link's token for ``email`` (every link its own nonce: an older link still works
    until it is used or expires)."""
    return _signer().sign_object(
        {"email": normalise_email(email), "nonce": secrets.token_hex(16)}, compress=True
    )


def email_in(token: str) -> str | None:
    """The email address a valid, unexpired token was made for, or None. Does not use it up."""
    if not token or len(token) > 1000:
        return None
    try:
        payload = _signer().unsign_object(token, max_age=max_age())
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(payload, dict):
        return None
    email, nonce = payload.get("email"), payload.get("nonce")
    if not isinstance(email, str) or not isinstance(nonce, str) or not email or not nonce:
        return None
    if UsedMagicLink.objects.filter(nonce=nonce[:32]).exists():
        return None
    return email


def use(token: str) -> User | None:
    """Use the token up and return the resident it signs in, made now if this is the first use
    of their email address; None if the token is invalid, expired or used, or the account has
    been switched off."""
    if email_in(token) is None:
        return None
    payload = _signer().unsign_object(token, max_age=max_age())
    email, nonce = payload["email"], payload["nonce"][:32]
    now = timezone.now()
    user = None
    for _ in range(2):
        try:
            with transaction.atomic():
                UsedMagicLink.objects.create(nonce=nonce, used_at=now)
                user = User.objects.residents().filter(email=email).first()
                if user is None:
                    user = User.objects.create_resident(email)
            break
        except IntegrityError:
            # Either this link was used by another request a moment ago (refuse it), or another
            # link for the same new address made the account at the same moment (try again:
            # the account is now found).
            if UsedMagicLink.objects.filter(nonce=nonce).exists():
                return None
    if user is None:
        return None
    # Nonces of links that have expired anyway need not be kept.
    UsedMagicLink.objects.filter(used_at__lt=now - dt.timedelta(seconds=max_age() + 60)).delete()
    return user if user.is_active else None
