"""A code by post before an account sees a resident's data-use history or data copy
(``history_codes`` has the rules): the page that explains and posts the letter, and the page
that takes the code. Mounted with the resident pages of "How we used your data"."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from borough.core.access import resident_required
from borough.residents import history_codes
from borough.residents.verification.attempts import TooManyAttempts, limit_for
from borough.transparency.coverage import RESIDENT_DATA, data_use

PURPOSES = [history_codes.PURPOSE]


@data_use(touches=RESIDENT_DATA, purposes=PURPOSES)
@resident_required
@require_http_methods(["GET", "POST"])
def ask_for_code(request: HttpRequest) -> HttpResponse:
    """Why a code by post is needed, and the button that posts it to the address the records
    hold for each resident ID the account's checks settled on."""
    awaiting = history_codes.awaiting_code(request.user)
    if not awaiting:
        return redirect("transparency:timeline")
    refused = ""
    if request.method == "POST":
        site = request.build_absolute_uri("/")
        for resident_id in awaiting:
            try:
                history_codes.send_history_code(request.user, resident_id, site=site)
            except history_codes.LetterRefused as refusal:
                refused = str(refusal)
        if not refused:
            return redirect("residents:history-code")
    posted = [history_codes.letter_posted(request.user, rid) for rid in awaiting]
    posted = [p for p in posted if p is not None]
    return render(
        request,
        "residents/history/ask.html",
        {
            "page_title": "We need to post you a code first",
            "posted_on": timezone.localtime(posted[0].created_at) if posted else None,
            "refused": refused,
            "days": history_codes.CODE_DAYS,
            "phone": settings.COUNCIL.contact.phone,
        },
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code from the letter",
        help_text="It is 10 letters and numbers, like 4KX7Q-29MBD",
        max_length=20,
        widget=forms.TextInput(attrs={"spellcheck": False, "autocomplete": "one-time-code"}),
        error_messages={
            "required": "Enter the code from the letter",
            "max_length": "Enter the code from the letter, like 4KX7Q-29MBD",
        },
    )


def _locked(request: HttpRequest, refusal: TooManyAttempts) -> HttpResponse:
    response = render(
        request,
        "residents/history/locked.html",
        {
            "page_title": "You have entered too many wrong codes",
            "until": timezone.localtime(refusal.until),
            "what": limit_for(refusal.scope).title,
            "phone": settings.COUNCIL.contact.phone,
        },
        status=429,
    )
    response["Retry-After"] = str(refusal.retry_after_seconds)
    return response


@data_use(touches=RESIDENT_DATA, purposes=PURPOSES)
@resident_required
@require_http_methods(["GET", "POST"])
def enter_code(request: HttpRequest) -> HttpResponse:
    """The code from the letter: right, and this account sees the resident's history."""
    awaiting = history_codes.awaiting_code(request.user)
    if not awaiting:
        return redirect("transparency:timeline")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            confirmed = history_codes.confirm_code(request.user, form.cleaned_data["code"])
        except TooManyAttempts as refusal:
            return _locked(request, refusal)
        if confirmed is not None:
            return redirect("transparency:timeline")
        form.add_error(
            "code",
            "That code is not right, has been used or has expired. Check the letter and make "
            "sure you are signed in with the account you used to ask for it",
        )
    return render(
        request,
        "residents/history/code.html",
        {"page_title": "Enter the code from your letter", "form": form},
        status=400 if form.errors else 200,
    )


urlpatterns = [
    path("how-we-use-your-data/confirm", ask_for_code, name="history-ask"),
    path("how-we-use-your-data/code", enter_code, name="history-code"),
]
