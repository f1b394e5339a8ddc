"""Staff sign-in: a username and password, then, where the person's roles need one or they have
set one up, a code from their authenticator app (``second_factor.py``); the first time, setting
the app up. Every attempt is rate-limited per username and per client address
(``ratelimit.py``), and ten failures in a row, passwords or codes, lock the username until an
administrator unlocks it (``lockout.py``). docs/sign-in.md says it for staff.
"""

from __future__ import annotations

import unicodedata

from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.forms.forms import NON_FIELD_ERRORS
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from borough.core import lockout, second_factor
from borough.core.access import public, staff_signing_in
from borough.core.forms import SecondFactorCodeForm, StaffSignInForm
from borough.core.ratelimit import (
    Verdict,
    client_address,
    hit_all,
    too_many_requests_page,
    wait_words,
)
from borough.core.views import safe_next

LOCKED = lockout.LOCKED_MESSAGE
WRONG_CODE = "The code is not right. Enter the code your authenticator app shows now"
WAIT_FOR_CODE = (
    "You entered a wrong code a moment ago. Wait {wait}, then enter the code your "
    "authenticator app shows"
)


def _tries_warning(left: int) -> str:
    if 0 < left <= lockout.WARN_WHEN_LEFT:
        return f". You have {left} more {'try' if left == 1 else 'tries'} before this account is locked"
    return ""


def _username(raw: str) -> str:
    # As Django's UsernameField cleans it, so the lock-out counts the name authentication uses.
    return unicodedata.normalize("NFKC", raw or "")[:150]


def _limit(request: HttpRequest, username: str) -> Verdict:
    """Staff sign-in attempts (passwords and codes), per username and per client address."""
    return hit_all(
        ("staff-sign-in-username", _username(username).casefold()),
        ("staff-sign-in-address", client_address(request)),
    )


class StaffSignInView(auth_views.LoginView):
    template_name = "core/staff/sign_in.html"
    authentication_form = StaffSignInForm
    redirect_authenticated_user = False
    extra_context = {"page_title": "Staff sign in"}

    def post(self, request, *args, **kwargs):
        verdict = _limit(request, request.POST.get("username", ""))
        if not verdict.allowed:
            return too_many_requests_page(request, verdict)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        user = form.get_user()
        login(self.request, user)
        next_url = self.get_redirect_url()
        if second_factor.needs_second_factor(user):
            return HttpResponseRedirect(second_factor.url_for(user, next_url))
        lockout.record_success(user.get_username())
        return HttpResponseRedirect(next_url or reverse("core:staff-home"))

    def form_invalid(self, form):
        username = _username(self.request.POST.get("username", ""))
        counted = form.credentials_given() and not form.has_error(NON_FIELD_ERRORS, "locked")
        if counted:
            left = lockout.record_failure(username)
            errors = form.errors.setdefault(NON_FIELD_ERRORS, form.error_class())
            errors.clear()
            errors.append(
                LOCKED if left == 0 else form.error_messages["invalid_login"] + _tries_warning(left)
            )
        return super().form_invalid(form)


staff_sign_in = public(StaffSignInView.as_view())


def _locked_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return render(
        request,
        "core/staff/locked.html",
        {"page_title": "This account is locked", "message": LOCKED},
    )


def _code_step(request: HttpRequest, device, template: str, context: dict) -> HttpResponse:
    """The code form shared by signing in and setting up: check the code against ``device``;
    right, the session has passed the second factor; wrong, one more failure towards the lock."""
    user = request.user
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    form = SecondFactorCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        verdict = _limit(request, user.get_username())
        if not verdict.allowed:
            return too_many_requests_page(request, verdict)
        if lockout.is_locked(user.get_username()):
            return _locked_out(request)
        if form.is_valid():
            checked = second_factor.check_code(user, device, form.cleaned_data["code"])
            if checked.right:
                second_factor.confirm(request, device)
                lockout.record_success(user.get_username())
                return redirect(next_url or "core:staff-home")
            if checked.wait_seconds:
                form.add_error("code", WAIT_FOR_CODE.format(wait=wait_words(checked.wait_seconds)))
            else:
                left = lockout.record_failure(user.get_username())
                if left == 0:
                    return _locked_out(request)
                form.add_error("code", WRONG_CODE + _tries_warning(left))
    return render(request, template, {**context, "form": form, "next": next_url or ""})


@staff_signing_in
@require_http_methods(["GET", "POST"])
def second_factor_code(request: HttpRequest) -> HttpResponse:
    """Signing in: the code from the authenticator app already set up."""
    user = request.user
    next_url = safe_next(request, request.GET.get("next") or request.POST.get("next"))
    if second_factor.has_passed(request):
        return redirect(next_url or "core:staff-home")
    device = second_factor.confirmed_device(user)
    if device is None:
        return redirect(second_factor.url_for(user, next_url or ""))
    return _code_step(
        request,
        device,
        "core/staff/second_factor_code.html",
        {"page_title": "Enter the code from your authenticator app"},
    )


@staff_signing_in
@require_http_methods(["GET", "POST"])
def second_factor_set_up(request: HttpRequest) -> HttpResponse:
    """Setting up an authenticator app: its secret as a QR code and as text, then a code from it.

    Someone who already has an app set up must pass it first: a password alone never replaces
    a device (an administrator resets a lost one)."""
    user = request.user
    next_url = safe_next(request, request.GET.get("next") or request.POST.get("next"))
    if second_factor.confirmed_device(user) is not None:
        if second_factor.has_passed(request):
            return redirect(next_url or "core:staff-home")
        return redirect(second_factor.url_for(user, next_url or ""))
    device = second_factor.device_to_set_up(user)
    return _code_step(
        request,
        device,
        "core/staff/second_factor_set_up.html",
        {
            "page_title": "Set up your authenticator app",
            "secret": second_factor.secret_text(device),
            "qr_code": second_factor.qr_code_svg(device),
            "required": second_factor.needs_second_factor(user),
        },
    )


def admin_sign_in(request: HttpRequest) -> HttpResponse:
    """The Django admin's own sign-in page signs no one in: it sends people to the staff sign-in,
    where the lock-out, the rate limits and the second factor apply."""
    next_url = safe_next(request, request.GET.get("next")) or reverse("admin:index")
    return redirect(reverse("core:staff-sign-in") + "?" + urlencode({"next": next_url}))
