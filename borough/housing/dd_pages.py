"""What the Direct Debit pages share: rendering (with ``pounds`` and ``masked`` for the
templates), bank details shown masked, and today's date in London. The tenant's pages are in
dd_views.py, the finance officer's in dd_finance_views.py."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import render
from django.utils import timezone

from borough.housing import accounts


def render_page(request, template, context, status=200):
    return render(
        request,
        f"housing/dd/{template}",
        {"pounds": accounts.pounds, "masked": masked, **context},
        status=status,
    )


def masked(last2: str, last4: str) -> str:
    return f"**-**-{last2} ****{last4}"


def today_in_london() -> dt.date:
    return timezone.localdate()
