"""A resident changes their account's email address: a single-use link is sent to the new
address, and only using it changes the account (so nobody can move an account to an address
they do not read, or to a mistyped one). The old address is told afterwards.

The link's token is signed like a sign-in link (``magic_links.py``: ``TimestampSigner``, the
same lifetime, its nonce spent in ``UsedMagicLink``) with a salt of its own, so a sign-in token
can never be used as a change token or the other way round.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from borough.core import magic_links
from borough.core.models import EmailChange, UsedMagicLink, User

SALT = "borough.core.email-change"


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT, sep=".")


def make_token(user: User, new_email: str) -> str:
    return _signer().sign_object(
        {
            "user": user.pk,
            "email": magic_links.normalise_email(new_email),
            "nonce": secrets.token_hex(16),
        },
        compress=True,
    )


@dataclass(frozen=True)
class Request:
    """What a valid, unused token asks: change ``user``'s address to ``email``."""

    user: User
    email: str
    nonce: str


def read(token: str) -> Request | None:
    """The change a valid, unexpired, unused token asks for, or None. Does not use it."""
    if not token or len(token) > 1000:
        return None
    try:
        payload = _signer().unsign_object(token, max_age=magic_links.max_age())
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(payload, dict):
        return None
    user_id, email, nonce = payload.get("user"), payload.get("email"), payload.get("nonce")
    if not isinstance(email, str) or not isinstance(nonce, str) or not email or not nonce:
        return None
    if UsedMagicLink.objects.filter(nonce=nonce[:32]).exists():
        return None
    user = User.objects.residents().filter(pk=user_id, is_active=True).first()
    if user is None:
        return None
    return Request(user=user, email=email, nonce=nonce[:32])


class EmailTaken(Exception):
    """Another resident account already uses the new address."""


def change(token: str) -> EmailChange | None:
    """Use the token and change the account's email address, recording the change; None if the
    token is invalid, expired or used. Raises ``EmailTaken`` (the token is still spent) when
    another account uses the address."""
    wanted = read(token)
    if wanted is None:
        return None
    now = timezone.now()
    try:
        with transaction.atomic():
            UsedMagicLink.objects.create(nonce=wanted.nonce, used_at=now)
    except IntegrityError:
        return None  # used by another request a moment ago
    user = wanted.user
    if user.email == wanted.email:
        return EmailChange(user=user, from_email=user.email, to_email=user.email, changed_at=now)
    if User.objects.residents().filter(email=wanted.email).exclude(pk=user.pk).exists():
        raise EmailTaken(wanted.email)
    try:
        with transaction.atomic():
            record = EmailChange.objects.create(
                user=user, from_email=user.email, to_email=wanted.email, changed_at=now
            )
            user.email = wanted.email
            user.username = f"resident:{wanted.email}"
            user.save(update_fields=["email", "username"])
    except IntegrityError:
        raise EmailTaken(wanted.email) from None
    return record


def send_confirmation(link: str, new_email: str) -> None:
    """Email the confirmation link to the new address."""
    minutes = magic_links.max_age() // 60
    send_mail(
        subject=f"Confirm your new email address for {settings.COUNCIL.service_name}",
        message=(
            f"Someone signed in to {settings.COUNCIL.service_name} asked to use this email "
            f"address for their account. If it was you, use this link to confirm it:\n\n{link}\n\n"
            f"The link works once and lasts {minutes} minutes. If it was not you, ignore this "
            f"email: nothing changes.\n\n{settings.COUNCIL.name}"
        ),
        from_email=None,
        recipient_list=[new_email],
    )


def tell_old_address(record: EmailChange) -> None:
    """Tell the old address that the account now uses another (someone who did not ask knows
    at once)."""
    council = settings.COUNCIL
    send_mail(
        subject=f"Your email address for {council.service_name} has changed",
        message=(
            f"Your account for {council.service_name} now uses a new email address, "
            f"{record.to_email}. You will not get emails about your account at this address "
            f"any more.\n\nIf you did not change it, contact us at {council.contact.email} or "
            f"call {council.contact.phone}.\n\n{council.name}"
        ),
        from_email=None,
        recipient_list=[record.from_email],
    )
