"""Visitor parking: a permit holder books sessions for visitors' vehicles (now or ahead), checks
them (warned outside the zone's controlled hours), pays for the hours at the council's price,
and ends or cancels them, charged only the hours used."""

from __future__ import annotations

import datetime as dt
import logging

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from borough.core.access import resident_required
from borough.core.dates import date_in_words, time_in_words, when_in_words
from borough.parking import notices, pricing, services, visitor_sessions
from borough.parking.controlled_hours import outside_controlled_hours
from borough.parking.forms import VisitorForm
from borough.parking.models import Permit, VisitorSession
from borough.parking.pages import cfg, render_page, to_card_page
from borough.parking.registrations import registration_display
from borough.payments import services as payments
from borough.payments.providers import PaymentProviderError
from borough.transparency.coverage import data_use

log = logging.getLogger(__name__)


# -- visitor sessions ----------------------------------------------------------------------


def _visitor_home(user) -> Permit | None:
    return (
        Permit.objects.filter(holder=user, status__in=Permit.LIVE)
        .select_related("zone")
        .order_by("-issued_at")
        .first()
    )


VISITOR_KEY = "parking_visitor"


def _session_words(starts_at: dt.datetime, ends_at: dt.datetime) -> str:
    """ "from 2pm to 5pm on 8 December 2026", or across two days with both dates."""
    if timezone.localdate(starts_at) == timezone.localdate(ends_at):
        return (
            f"from {time_in_words(starts_at)} to {time_in_words(ends_at)} "
            f"on {date_in_words(starts_at)}"
        )
    return f"from {when_in_words(starts_at)} to {when_in_words(ends_at)}"


def _answers_given(request: HttpRequest) -> dict:
    """The session being checked, as the form's answers (a "Change" link from the check page
    opens the form with them)."""
    pending = request.session.get(VISITOR_KEY)
    if not pending:
        return {}
    answers = {"vrm": registration_display(pending["vrm"]), "hours": pending["hours"]}
    if pending["now"]:
        return {**answers, "when": "now"}
    starts = timezone.localtime(dt.datetime.fromisoformat(pending["starts_at"]))
    return {
        **answers,
        "when": "later",
        "day": starts.day,
        "month": starts.month,
        "year": starts.year,
        "time": time_in_words(starts),
    }


@data_use(
    none="The signed-in resident's own visitor sessions: no officer or service reads anyone's data"
)
@resident_required
@require_http_methods(["GET", "POST"])
def visitors(request: HttpRequest) -> HttpResponse:
    """Visitor parking: the hours left, a session to start now or book ahead for a day and
    time (checked on the next page), and this year's sessions, each of which can be ended (or,
    before it starts, cancelled)."""
    home = _visitor_home(request.user)
    if home is None:
        return render_page(request, "visitors_none.html", {"page_title": "Visitor parking"})
    allowance = cfg().visitor_hours_per_year
    year = timezone.localdate().year
    form = VisitorForm(request.POST or None, initial=_answers_given(request))
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["hours"] > cfg().visitor_session_max_hours:
            form.add_error(
                "hours", f"Enter a number of hours from 1 to {cfg().visitor_session_max_hours}"
            )
        else:
            request.session[VISITOR_KEY] = {
                "vrm": form.cleaned_data["vrm"].vrm,
                "starts_at": form.starts_at.isoformat(),
                "now": form.cleaned_data["when"] == "now",
                "hours": form.cleaned_data["hours"],
            }
            return redirect("parking:visitors-check")
    used = visitor_sessions.visitor_hours_used(home.property_id, year)
    now = timezone.now()
    sessions = VisitorSession.objects.filter(host=request.user, starts_at__year=year)
    return render_page(
        request,
        "visitors.html",
        {
            "form": form,
            "zone": home.zone,
            "left": max(allowance - used, 0),
            "allowance": allowance,
            "max_hours": cfg().visitor_session_max_hours,
            "per_hour": cfg().visitor_price_per_hour_pence,
            "sessions": sessions,
            "now": now,
            "notices": list(messages.get_messages(request)),
            "page_title": "Visitor parking",
        },
    )


@data_use(
    none="The signed-in resident's own visitor sessions: no officer or service reads anyone's data"
)
@resident_required
@require_http_methods(["GET", "POST"])
def visitors_check(request: HttpRequest) -> HttpResponse:
    """The session before it is booked: when, how many of the household's hours, and a warning
    if it falls outside the zone's controlled hours (when a visitor needs no session)."""
    home = _visitor_home(request.user)
    pending = request.session.get(VISITOR_KEY)
    if home is None or not pending:
        return redirect("parking:visitors")
    hours = pending["hours"]
    starts_at = (
        timezone.now() if pending["now"] else dt.datetime.fromisoformat(pending["starts_at"])
    )
    ends_at = starts_at + dt.timedelta(hours=hours)
    problem = None
    if request.method == "POST":
        try:
            session = visitor_sessions.start_visitor_session(
                host=request.user,
                property_id=home.property_id,
                zone=home.zone,
                vrm=pending["vrm"],
                hours=hours,
                allowance_hours=cfg().visitor_hours_per_year,
                max_hours=cfg().visitor_session_max_hours,
                starts_at=starts_at,
                price_per_hour_pence=cfg().visitor_price_per_hour_pence,
            )
        except services.PermitRuleError as error:
            problem = error.message
        else:
            request.session.pop(VISITOR_KEY, None)
            if session.status == VisitorSession.Status.AWAITING_PAYMENT:
                return _pay_for_session(request, session)
            return _visitor_booked(request, session)
    used = visitor_sessions.visitor_hours_used(home.property_id, timezone.localtime(starts_at).year)
    return render_page(
        request,
        "visitors_check.html",
        {
            "vrm": pending["vrm"],
            "zone": home.zone,
            "starts_now": pending["now"],
            "starts_at": starts_at,
            "ends_at": ends_at,
            "hours": hours,
            "left_after": cfg().visitor_hours_per_year - used - hours,
            "outside": outside_controlled_hours(home.zone.hours, starts_at, ends_at),
            "price": pricing.quote_visitor_session(hours).total_pence
            if cfg().visitor_price_per_hour_pence
            else 0,
            "per_hour": cfg().visitor_price_per_hour_pence,
            "problem": problem,
            "page_title": "Check your visitor parking",
        },
    )


def _visitor_booked(request: HttpRequest, session: VisitorSession) -> HttpResponse:
    paid = f" You paid {pricing.pounds(session.price_pence)}." if session.price_pence else ""
    messages.success(
        request,
        f"{registration_display(session.vrm)} can park in zone {session.zone.code} "
        f"{_session_words(session.starts_at, session.ends_at)}.{paid}",
        extra_tags="Visitor parking booked",
    )
    return redirect("parking:visitors")


def _pay_for_session(request: HttpRequest, session: VisitorSession) -> HttpResponse:
    """To the card page for the session's hours: the live payment if there is one."""
    return to_card_page(
        request,
        session,
        purpose_key=f"visitor-session:{session.pk}",
        amount_pence=session.price_pence,
        description=f"Visitor parking, zone {session.zone.code}, {session.hours_used} hours",
        paid_url=reverse("parking:visitor-paid", kwargs={"session_id": session.pk}),
    )


def _my_session(request: HttpRequest, session_id: int) -> VisitorSession:
    found = (
        VisitorSession.objects.filter(pk=session_id, host=request.user)
        .select_related("zone")
        .first()
    )
    if found is None:
        raise Http404("No visitor session of yours has that number.")
    return found


@data_use(
    none="The signed-in resident's own visitor sessions: no officer or service reads anyone's data"
)
@resident_required
@require_POST
def visitor_pay_again(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _my_session(request, session_id)
    if session.status != VisitorSession.Status.AWAITING_PAYMENT:
        return redirect("parking:visitors")
    return _pay_for_session(request, session)


@data_use(
    none="The signed-in resident's own visitor sessions: no officer or service reads anyone's data"
)
@resident_required
@require_GET
def visitor_paid(request: HttpRequest, session_id: int) -> HttpResponse:
    """The payment's return page: a paid session is booked (once); a declined or cancelled
    card keeps the session waiting, with "Pay again"."""
    session = _my_session(request, session_id)
    if session.status == VisitorSession.Status.BOOKED:
        return redirect("parking:visitors")
    payment = payments.refresh_payment(payments.payment_by_reference(session.payment_reference))
    if payment.status == "success":
        return _visitor_booked(request, visitor_sessions.book_paid_visitor_session(session.pk))
    return render_page(
        request,
        "visitor_payment.html",
        {
            "session": session,
            "finished": payment.finished,
            "when": _session_words(session.starts_at, session.ends_at),
            "page_title": "Your payment was not taken"
            if payment.finished
            else "We are waiting for your payment",
        },
    )


@data_use(
    none="The signed-in resident's own visitor sessions: no officer or service reads anyone's data"
)
@resident_required
@require_POST
def visitor_end(request: HttpRequest, session_id: int) -> HttpResponse:
    """End a session now, or cancel one booked ahead before it starts: only the hours used are
    taken from the allowance. The resident is told on the page and by email."""
    found = _my_session(request, session_id)
    booked = _session_words(found.starts_at, found.ends_at)
    try:
        session = visitor_sessions.end_visitor_session(session_id, host=request.user)
    except (PaymentProviderError, payments.RefundNotAllowed):
        log.exception("Refund failed while ending visitor session %s", session_id)
        messages.error(
            request,
            "Sorry, we cannot end this visitor session at the moment. Try again later.",
            extra_tags="There is a problem",
        )
        return redirect("parking:visitors")
    if session.ended_early_at is not None and found.ended_early_at is None:
        back = found.hours_used - session.hours_used
        refunded = session.refunded_pence - found.refunded_pence
        notices.email_visitor_session_ended(
            session, back, refunded, request.build_absolute_uri(reverse("parking:visitors"))
        )
        returned = (
            f"{back} unused hour{'s' if back != 1 else ''} went back to your allowance."
            if back
            else "No whole hours were unused."
        )
        if refunded:
            returned += " " + notices.refund_sentence(refunded, timezone.localdate())
        vrm = registration_display(session.vrm)
        if session.hours_used == 0:
            title, what = (
                "Visitor parking cancelled",
                f"Visitor parking for {vrm} {booked} is cancelled.",
            )
        else:
            title = "Visitor parking ended"
            what = f"{vrm} is no longer covered from {when_in_words(session.ends_at)}."
        messages.success(
            request, f"{what} {returned} We have emailed you the details.", extra_tags=title
        )
    return redirect("parking:visitors")
