"""Signals of the verification service, for services that must tell someone.

``checks_locked``: a failed check reached an attempt limit (``attempts.py``). Sent after the
check is stored, with ``scopes`` (the limits it reached), ``resident_id`` (the resident the
details matched, or "") and ``targets`` (the caller's own targets, e.g. ``("rent-account",
"123")``). Housing tells the tenants of a locked rent account or a locked resident; the
verification service itself knows no service."""

from django.dispatch import Signal

checks_locked = Signal()
