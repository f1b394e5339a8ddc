"""Signals other apps listen to."""

from django.dispatch import Signal

# Sent once per payment, when it first becomes "success", with ``payment``. Receivers run inside
# the transaction that records the success: if one raises, the success is not recorded and the
# next ``refresh_payment`` tries again. Send emails and other outside effects on commit.
payment_succeeded = Signal()
