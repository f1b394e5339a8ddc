"""Helpers for tests that sign staff in (used by the suite's ``sign_in_staff`` fixture and the
browser journeys). Staff whose roles can see personal data need a second factor, and the test
settings keep that on: these give a staff account a real TOTP device and make real codes."""

from __future__ import annotations

import time

from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


def give_device(user, key: str | None = None) -> TOTPDevice:
    """``user``'s confirmed authenticator device, made now if they have none (``key``: its
    secret in hex, for a journey that must know it)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        extra = {"key": key} if key else {}
        device = TOTPDevice.objects.create(
            user=user, name="Authenticator app", confirmed=True, **extra
        )
    return device


def code_for(device: TOTPDevice) -> str:
    """A code the device will accept now: the current time step's, or the next step's when the
    current one was used already (the server accepts one step either side)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if totp.t() <= device.last_t:
        totp.time = device.t0 + (device.last_t + 1 - device.drift) * device.step
    return f"{totp.token():0{device.digits}d}"


def sign_in_staff(client, user) -> TOTPDevice:
    """Sign ``client`` (Django's test client) in as ``user`` with the second factor passed: a
    real device, and django-otp's own ``login`` marking the session. Returns the device."""
    device = give_device(user)
    client.force_login(user)
    request = HttpRequest()
    request.session = client.session
    request.user = user
    otp_login(request, device)
    request.session.save()
    return device
