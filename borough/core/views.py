import hashlib
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.core.mail import send_mail
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from sesame.utils import get_query_string, get_user

from borough.core.access import public, resident_required, staff_area
from borough.core.catalogue import services_offered
from borough.core.forms import FeedbackForm, ResidentSignInForm, StaffSignInForm
from borough.core.middleware import cacheable
from borough.core.models import Feedback, User
from borough.core.roles import AREAS
from borough.core.tools import tools_for

MAGIC_LINK_SCOPE = "resident-sign-in"
# At most this many sign-in emails to one address in the window, so the form cannot be used to
# flood someone's inbox. Over the limit the page looks the same; no email is sent.
MAGIC_LINKS_PER_WINDOW = 5
MAGIC_LINK_WINDOW_SECONDS = 15 * 60


def _magic_link_allowed(email: str) -> bool:
    key = "magic-link:" + hashlib.sha256(email.encode()).hexdigest()
    cache.add(key, 0, MAGIC_LINK_WINDOW_SECONDS)
    try:
        sent = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, MAGIC_LINK_WINDOW_SECONDS)
        sent = 1
    return sent <= MAGIC_LINKS_PER_WINDOW


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
accessibility = _static_page("core/accessibility.html", "Accessibility statement")
cookies = _static_page("core/cookies.html", "Cookies")
contact = _static_page("core/contact.html", "Contact us")


def _safe_next(request: HttpRequest, candidate: str | None) -> str | None:
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
        page = _safe_next(request, request.GET.get("page")) or ""
        form = FeedbackForm(initial={"page": page})
    return render(request, "core/feedback.html", {"form": form, "page_title": "Give feedback"})


@public
def feedback_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "core/feedback_sent.html", {"page_title": "Thank you for your feedback"})


def send_magic_link(request: HttpRequest, user: User, next_url: str | None) -> None:
    """Email a resident a single-use sign-in link that lasts ``SESAME_MAX_AGE`` seconds."""
    query = get_query_string(user, scope=MAGIC_LINK_SCOPE)
    if next_url:
        query += "&" + urlencode({"next": next_url})
    link = request.build_absolute_uri(reverse("core:magic-link")) + query
    minutes = settings.SESAME_MAX_AGE // 60
    send_mail(
        subject=f"Sign in to {settings.COUNCIL.service_name}",
        message=(
            f"Use this link to sign in to {settings.COUNCIL.service_name}:\n\n{link}\n\n"
            f"The link works once and lasts {minutes} minutes. If you did not ask to sign in, "
            "you can ignore this email.\n\n"
            f"{settings.COUNCIL.name}"
        ),
        from_email=None,
        recipient_list=[user.email],
    )


@public
@require_http_methods(["GET", "POST"])
def resident_sign_in(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.method == "POST":
        form = ResidentSignInForm(request.POST)
        if form.is_valid():
            email = User.objects.normalize_email(form.cleaned_data["email"]).lower()
            with transaction.atomic():
                user = User.objects.residents().filter(email=email).first()
                if user is None:
                    user = User.objects.create_resident(email)
            if user.is_active and _magic_link_allowed(email):
                send_magic_link(request, user, next_url)
            # The same answer whether or not the account existed or is active.
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
            "minutes": settings.SESAME_MAX_AGE // 60,
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
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.method == "POST":
        user = authenticate(request, sesame=token, scope=MAGIC_LINK_SCOPE)
        if user is not None and user.is_resident:
            login(request, user, backend="sesame.backends.ModelBackend")
            return redirect(next_url or "core:account")
    else:
        user = get_user(token, scope=MAGIC_LINK_SCOPE, update_last_login=False) if token else None
        if user is not None and user.is_resident:
            return render(
                request,
                "core/magic_link.html",
                {"token": token, "next": next_url or "", "page_title": "Sign in"},
            )
    return render(
        request,
        "core/magic_link_expired.html",
        {"page_title": "Your sign-in link has expired", "minutes": settings.SESAME_MAX_AGE // 60},
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


@resident_required
def account(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "core/account.html",
        {"services": services_offered(settings.COUNCIL), "page_title": "Your account"},
    )


class StaffSignInView(auth_views.LoginView):
    template_name = "core/staff/sign_in.html"
    authentication_form = StaffSignInForm
    redirect_authenticated_user = False
    extra_context = {"page_title": "Staff sign in"}

    def get_default_redirect_url(self):
        return reverse("core:staff-home")


staff_sign_in = public(StaffSignInView.as_view())


@staff_area("any")
def staff_home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/staff/home.html", {"page_title": "Staff home"})


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
