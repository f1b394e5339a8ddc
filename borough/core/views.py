import logging
import smtplib
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import login, logout
from django.core.mail import send_mail
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from borough.core import magic_links, second_factor
from borough.core.access import public, staff_area
from borough.core.accessibility import KNOWN_ISSUES, in_words
from borough.core.catalogue import services_offered
from borough.core.forms import FeedbackForm, ResidentSignInForm
from borough.core.middleware import cacheable
from borough.core.models import Feedback, User
from borough.core.ratelimit import client_address, hit_all, too_many_requests_page
from borough.core.roles import AREAS
from borough.core.tools import tools_for

log = logging.getLogger(__name__)


@cacheable
@public
def start(request: HttpRequest) -> HttpResponse:
    return render(request, "core/start.html", {"services": services_offered(settings.COUNCIL)})


def _static_page(template: str, title: str):
    @cacheable
    @public
    def view(request: HttpRequest) -> HttpResponse:
        return render(request, template, {"page_title": title})

    view.__name__ = template.rsplit("/", 1)[-1].removesuffix(".html").replace("-", "_")
    return view


privacy = _static_page("core/privacy.html", "Privacy notice")


@cacheable
@public
def accessibility(request: HttpRequest) -> HttpResponse:
    statement = settings.COUNCIL.accessibility
    return render(
        request,
        "core/accessibility.html",
        {
            "page_title": "Accessibility statement",
            "known_issues": KNOWN_ISSUES,
            "prepared": in_words(statement.statement_prepared),
            "reviewed": in_words(statement.last_reviewed),
        },
    )


cookies = _static_page("core/cookies.html", "Cookies")
contact = _static_page("core/contact.html", "Contact us")


def safe_next(request: HttpRequest, candidate: str | None) -> str | None:
    """``candidate`` if it is a page on this site, else None."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


@public
@require_http_methods(["GET", "POST"])
def feedback(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = FeedbackForm(request.POST)
        if form.is_valid():
            Feedback.objects.create(
                satisfaction=form.cleaned_data["satisfaction"],
                comments=form.cleaned_data["comments"],
                page=form.cleaned_data["page"],
            )
            return redirect("core:feedback-sent")
    else:
        page = safe_next(request, request.GET.get("page")) or ""
        form = FeedbackForm(initial={"page": page})
    return render(request, "core/feedback.html", {"form": form, "page_title": "Give feedback"})


@public
def feedback_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "core/feedback_sent.html", {"page_title": "Thank you for your feedback"})


def magic_link_path(email: str, next_url: str | None = None) -> str:
    """The path of a new sign-in link for ``email`` (``magic_links.py``)."""
    query = {"token": magic_links.make_token(email)}
    if next_url:
        query["next"] = next_url
    return reverse("core:magic-link") + "?" + urlencode(query)


def send_magic_link(request: HttpRequest, email: str, next_url: str | None) -> None:
    """Email a single-use sign-in link that lasts ``BOROUGH_MAGIC_LINK_MAX_AGE`` seconds."""
    link = request.build_absolute_uri(magic_link_path(email, next_url))
    minutes = magic_links.max_age() // 60
    send_mail(
        subject=f"Sign in to {settings.COUNCIL.service_name}",
        message=(
            f"Use this link to sign in to {settings.COUNCIL.service_name}:\n\n{link}\n\n"
            f"The link works once and lasts {minutes} minutes. If you did not ask to sign in, "
            "you can ignore this email.\n\n"
            f"{settings.COUNCIL.name}"
        ),
        from_email=None,
        recipient_list=[email],
    )


@public
@require_http_methods(["GET", "POST"])
def resident_sign_in(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.method == "POST":
        form = ResidentSignInForm(request.POST)
        if form.is_valid():
            email = magic_links.normalise_email(form.cleaned_data["email"])
            # Limits so the form cannot flood someone's inbox or be driven from one machine.
            verdict = hit_all(
                ("magic-link-email", email), ("magic-link-address", client_address(request))
            )
            if not verdict.allowed:
                return too_many_requests_page(request, verdict)
            # No account is made here: only using the link makes one (magic_links.use).
            switched_off = User.objects.residents().filter(email=email, is_active=False).exists()
            if not switched_off:
                try:
                    send_magic_link(request, email, next_url)
                except (OSError, smtplib.SMTPException):
                    # the mail relay is down or not configured: say so, not a server error
                    log.exception("the sign-in email could not be sent")
                    return render(
                        request,
                        "core/email_failed.html",
                        {"page_title": "Sorry, there is a problem with the service"},
                        status=503,
                    )
            # The same answer whether or not an account exists or is switched off.
            request.session["magic_link_email"] = email
            return redirect("core:check-email")
    else:
        form = ResidentSignInForm()
    return render(
        request,
        "core/sign_in.html",
        {
            "form": form,
            "next": next_url or "",
            "page_title": "Sign in",
            "oidc_enabled": settings.OIDC_ENABLED,
            "oidc_provider": getattr(settings, "OIDC_PROVIDER_NAME", ""),
        },
    )


@public
def check_email(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "core/check_email.html",
        {
            "email": request.session.get("magic_link_email", ""),
            "minutes": magic_links.max_age() // 60,
            "page_title": "Check your email",
        },
    )


@public
@require_http_methods(["GET", "POST"])
def magic_link(request: HttpRequest) -> HttpResponse:
    """Opening the emailed link shows a button; only pressing it signs in and uses up the link.

    Email security scanners open links to inspect them: a GET must not spend a single-use token.
    """
    token = request.POST.get("token") or request.GET.get("token") or ""
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.method == "POST":
        user = magic_links.use(token)
        if user is not None:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect(next_url or "core:account")
    else:
        if magic_links.email_in(token) is not None:
            return render(
                request,
                "core/magic_link.html",
                {"token": token, "next": next_url or "", "page_title": "Sign in"},
            )
    return render(
        request,
        "core/magic_link_expired.html",
        {"page_title": "Your sign-in link has expired", "minutes": magic_links.max_age() // 60},
        status=400,
    )


@public
@require_http_methods(["GET", "POST"])
def sign_out(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        logout(request)
        return redirect("core:signed-out")
    return render(request, "core/sign_out.html", {"page_title": "Sign out"})


@public
def signed_out(request: HttpRequest) -> HttpResponse:
    return render(request, "core/signed_out.html", {"page_title": "You have signed out"})


@staff_area("any")
def staff_home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "core/staff/home.html",
        {
            "page_title": "Staff home",
            # Roles that do not need a second factor are offered one.
            "offer_second_factor": second_factor.confirmed_device(request.user) is None,
        },
    )


def _area_view(slug: str):
    @staff_area(slug)
    def view(request: HttpRequest) -> HttpResponse:
        return render(
            request,
            "core/staff/area.html",
            {"area": AREAS[slug], "tools": tools_for(slug), "page_title": AREAS[slug].title},
        )

    view.__name__ = f"staff_area_{slug}"
    return view


area_views = {slug: _area_view(slug) for slug in AREAS}


@staff_area("administration", "insights")
def staff_feedback(request: HttpRequest) -> HttpResponse:
    page = Paginator(Feedback.objects.all(), 50).get_page(request.GET.get("page"))
    return render(request, "core/staff/feedback.html", {"page_obj": page, "page_title": "Feedback"})


@cacheable
@public
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page says; send them to GOV.UK Frontend's."""
    return redirect(static("images/favicon.ico"), permanent=True)
