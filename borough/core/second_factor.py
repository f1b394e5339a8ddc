"""The staff second factor: a time-based code (TOTP, RFC 6238) from an authenticator app, through
django-otp's ``TOTPDevice``.

Who needs it is ``roles.second_factor_required`` (roles whose areas show personal data) or anyone
who has set one up. A session has passed it when django-otp's ``OTPMiddleware`` finds the device
the session was verified with (``request.user.is_verified()``); until then no staff page, admin
page or staff API call is served (``access.StaffAreaMiddleware``). A code is accepted once (the
device keeps the last time step used) and wrong codes count towards the lock-out.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from urllib.parse import urlencode

import segno
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_otp import login as otp_login
from django_otp import verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from borough.core.roles import second_factor_required

DEVICE_NAME = "Authenticator app"


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def needs_second_factor(user) -> bool:
    """Whether ``user``'s sessions must pass a second factor: their roles need one, or they
    have set one up (a device that could be skipped would protect nothing)."""
    if second_factor_required(user):
        return True
    return bool(getattr(user, "is_staff_member", False)) and confirmed_device(user) is not None


def has_passed(request) -> bool:
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified and is_verified())


def device_to_set_up(user) -> TOTPDevice:
    """The device ``user`` is setting up: the same secret on every visit until a code confirms
    it, so reloading the page does not change the QR code already scanned."""
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .order_by("pk")
            .first()
        )
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


@dataclass(frozen=True)
class CodeCheck:
    right: bool
    #: Seconds django-otp's back-off still holds the device after recent wrong codes (the code
    #: was not checked); 0 when it was.
    wait_seconds: int = 0


def check_code(user, device: TOTPDevice, code: str) -> CodeCheck:
    """Whether ``code`` is the device's current code, not used before (django-otp locks the
    device's row while it checks, so two requests cannot both use one code). After a wrong code
    django-otp makes the next wait 1, 2, 4 … seconds; a code sent sooner is not checked."""
    device.refresh_from_db()
    allowed, details = device.verify_is_allowed()
    if not allowed:
        until = (details or {}).get("locked_until")
        wait = math.ceil((until - timezone.now()).total_seconds()) if until else 1
        return CodeCheck(False, max(1, wait))
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == device.digits):
        return CodeCheck(False)
    return CodeCheck(verify_token(user, device.persistent_id, code) is not None)


def confirm(request, device: TOTPDevice) -> None:
    """Mark the session as having passed the second factor with ``device`` (confirming a device
    being set up); any other device the user had is removed."""
    if not device.confirmed:
        with transaction.atomic():
            TOTPDevice.objects.filter(user=device.user_id).exclude(pk=device.pk).delete()
            device.confirmed = True
            device.save(update_fields=["confirmed"])
    otp_login(request, device)
    # A new session key for the session's new standing, as Django's login gives one.
    request.session.cycle_key()


def reset(user) -> int:
    """Remove ``user``'s devices: their next sign-in sets up a new one. Returns how many."""
    deleted, _ = TOTPDevice.objects.filter(user=user).delete()
    return deleted


def secret_text(device: TOTPDevice) -> str:
    """The secret as an authenticator app asks for it: base32, in groups of four."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_code_svg(device: TOTPDevice) -> str:
    """The device's ``otpauth://`` address as an inline SVG QR code (no script, no image file)."""
    svg = segno.make(device.config_url, error="m").svg_inline(
        scale=5, dark="#0b0c0c", light="#ffffff", border=4, title="QR code of your secret key"
    )
    # An image with a name for screen readers (the key is also on the page as text).
    return svg.replace("<svg ", '<svg role="img" focusable="false" ', 1)


def url_for(user, next_url: str = "") -> str:
    """Where ``user`` goes to pass the second factor: the code page, or setting one up."""
    name = "core:staff-sign-in-code" if confirmed_device(user) else "core:staff-sign-in-set-up"
    url = reverse(name)
    return url + "?" + urlencode({"next": next_url}) if next_url else url
