"""A signed-in resident's account: what they have with the council (each service's section,
``account_summary.py``) and their email address, which they can change (``email_change.py``)."""

from __future__ import annotations

import logging
import smtplib
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_http_methods

from borough.core import email_change, magic_links
from borough.core.access import public, resident_required
from borough.core.account_summary import AccountSection, sections_for, services_with_sections
from borough.core.catalogue import services_offered
from borough.core.forms import ChangeEmailForm
from borough.core.ratelimit import client_address, hit_all, too_many_requests_page

log = logging.getLogger(__name__)

CHANGED = "borough-email-changed"


def _rows(section: AccountSection) -> list[dict]:
    """A section's items as the GOV.UK summary list's rows."""
    rows = []
    for item in section.items:
        title = (
            format_html('<a class="govuk-link" href="{}">{}</a>', item.url, item.title)
            if item.url
            else item.title
        )
        detail = format_html("{}", item.detail)
        if item.attention:
            detail = format_html(
                '{}<br><strong class="govuk-tag govuk-tag--red govuk-!-margin-top-1">{}</strong>',
                item.detail,
                item.attention,
            )
        rows.append({"key": {"html": format_html("{}", title)}, "value": {"html": detail}})
    return rows


@resident_required
def account(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "core/account.html",
        {
            "sections": [(s, _rows(s)) for s in sections_for(request.user)],
            # The council's other online services (how we use your data, open data).
            "other_services": [
                s
                for s in services_offered(settings.COUNCIL)
                if s.url() and s.key not in services_with_sections()
            ],
            "last_change": request.user.email_changes.first(),
            "changed": request.session.pop(CHANGED, None),
            "page_title": "Your account",
        },
    )


@resident_required
@require_http_methods(["GET", "POST"])
def change_email(request: HttpRequest) -> HttpResponse:
    form = ChangeEmailForm(request.POST or None, current=request.user.email)
    if request.method == "POST" and form.is_valid():
        new_email = form.cleaned_data["email"]
        # The sign-in link's limits: this form must not flood an inbox either.
        verdict = hit_all(
            ("magic-link-email", new_email), ("magic-link-address", client_address(request))
        )
        if not verdict.allowed:
            return too_many_requests_page(request, verdict)
        token = email_change.make_token(request.user, new_email)
        link = request.build_absolute_uri(
            reverse("core:confirm-email") + "?" + urlencode({"token": token})
        )
        try:
            email_change.send_confirmation(link, new_email)
        except (OSError, smtplib.SMTPException):
            log.exception("the email-change confirmation could not be sent")
            return render(
                request,
                "core/email_failed.html",
                {"page_title": "Sorry, there is a problem with the service"},
                status=503,
            )
        request.session["email_change_to"] = new_email
        return redirect("core:change-email-sent")
    return render(
        request, "core/change_email.html", {"form": form, "page_title": "Change your email address"}
    )


@resident_required
def change_email_sent(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "core/change_email_sent.html",
        {
            "email": request.session.get("email_change_to", ""),
            "minutes": magic_links.max_age() // 60,
            "page_title": "Check your email",
        },
    )


@public
@require_http_methods(["GET", "POST"])
def confirm_email(request: HttpRequest) -> HttpResponse:
    """Opening the emailed link shows a button; only pressing it changes the address (email
    scanners open links: a GET must not spend the token). The link itself is the proof that
    the person reads the new address, so it works in any browser."""
    token = request.POST.get("token") or request.GET.get("token") or ""
    expired = {
        "page_title": "Your link to confirm your email address has expired",
        "minutes": magic_links.max_age() // 60,
    }
    if request.method == "GET":
        wanted = email_change.read(token)
        if wanted is None:
            return render(request, "core/confirm_email_expired.html", expired, status=400)
        return render(
            request,
            "core/confirm_email.html",
            {"token": token, "email": wanted.email, "page_title": "Confirm your new email address"},
        )
    try:
        record = email_change.change(token)
    except email_change.EmailTaken:
        return render(
            request,
            "core/confirm_email_taken.html",
            {"page_title": "Another account uses that email address"},
            status=409,
        )
    if record is None:
        return render(request, "core/confirm_email_expired.html", expired, status=400)
    if record.pk is not None:
        try:
            email_change.tell_old_address(record)
        except (OSError, smtplib.SMTPException):
            log.exception("the old address could not be told of the email change")
    if request.user.is_authenticated and request.user.pk == record.user_id:
        request.session[CHANGED] = record.to_email
        return redirect("core:account")
    return render(
        request,
        "core/email_changed.html",
        {"email": record.to_email, "page_title": "Your email address has changed"},
    )
