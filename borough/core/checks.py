"""``borough check`` for what a council configures: each mistake here would otherwise show only
when the first person meets it (a 500 on the sign-in page, a verification that cannot run)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error

SMTP = "django.core.mail.backends.smtp.EmailBackend"


def check_email_settings(app_configs=None, **kwargs) -> list:
    """In production with the SMTP backend, the relay must be named (``BOROUGH_EMAIL_HOST``):
    otherwise every sign-in link is sent to a mail server on localhost that is not there."""
    if not getattr(settings, "PRODUCTION", False):
        return []
    if settings.EMAIL_BACKEND == SMTP and not getattr(settings, "BOROUGH_EMAIL_HOST_SET", True):
        return [
            Error(
                "BOROUGH_EMAIL_HOST is not set, so emails (residents' sign-in links, tenants' "
                "notices) would go to a mail server on localhost.",
                hint="Set BOROUGH_EMAIL_HOST (and BOROUGH_EMAIL_PORT, BOROUGH_EMAIL_USER, "
                "BOROUGH_EMAIL_PASSWORD) to your SMTP relay, or BOROUGH_EMAIL_BACKEND to "
                "another Django email backend.",
                id="borough.E121",
            )
        ]
    return []
