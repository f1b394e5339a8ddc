"""Who may open which page.

Every view declares its access with one of the decorators below; ``tests/test_access.py`` walks
every URL pattern and fails on a view that declares none. Staff pages also sit behind
``StaffAreaMiddleware``, so a resident account can never reach anything under ``/staff/`` or
``/admin/`` even if a view forgot its decorator, and a staff session that has not passed the
second factor it needs (``second_factor.py``) reaches no staff page, admin page or staff API call.
"""

from functools import wraps

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, resolve_url

from borough.core import second_factor
from borough.core.roles import AREAS, may_enter

PUBLIC = "public"
RESIDENT = "resident"
STAFF = "staff"
#: Past the staff password, perhaps still owing the second factor: its own pages only.
STAFF_SIGNING_IN = "staff-signing-in"

STAFF_PREFIXES = ("/staff/", "/admin/")
# The staff sign-in (password, then the second factor's pages) and the admin's own sign-in page,
# which only sends people to the staff sign-in.
STAFF_OPEN_PATHS = ("/staff/sign-in", "/admin/login/")
API_PREFIX = "/api/"


def awaiting_second_factor(request) -> bool:
    """A signed-in staff member who needs a second factor and has not passed it this session."""
    # Asked by the middleware and again by the view's decorator: worked out once a request.
    if not hasattr(request, "_borough_awaiting_second_factor"):
        user = request.user
        request._borough_awaiting_second_factor = bool(
            user.is_authenticated
            and user.is_staff_member
            and not second_factor.has_passed(request)
            and second_factor.needs_second_factor(user)
        )
    return request._borough_awaiting_second_factor


def public(view):
    view.borough_access = (PUBLIC, frozenset())
    return view


def resident_required(view):
    """Signed in as a resident. Staff accounts are not residents and are turned away."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), resolve_url(settings.LOGIN_URL))
        if not user.is_resident:
            raise PermissionDenied("This page is for residents. You are signed in as staff.")
        return view(request, *args, **kwargs)

    wrapper.borough_access = (RESIDENT, frozenset())
    return wrapper


def _to_staff_sign_in_unless_staff(request):
    """A redirect to the staff sign-in for an anonymous visitor; refused for a resident; None for
    a signed-in staff member (second factor passed or not)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), resolve_url(settings.STAFF_LOGIN_URL))
    if not request.user.is_staff_member:
        raise PermissionDenied("Residents cannot open staff pages.")
    return None


def staff_signing_in(view):
    """Signed in as staff with a password; the second factor may still be owed. For the second
    factor's own pages, which ``StaffAreaMiddleware`` leaves open."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        return _to_staff_sign_in_unless_staff(request) or view(request, *args, **kwargs)

    wrapper.borough_access = (STAFF_SIGNING_IN, frozenset())
    return wrapper


def staff_area(*areas: str):
    """Signed in as staff with a role for at least one of ``areas`` ("any" means any area)."""
    for area in areas:
        if area != "any" and area not in AREAS:
            raise ValueError(f"unknown staff area {area!r}")

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            refused = _to_staff_sign_in_unless_staff(request)
            if refused is not None:
                return refused
            if awaiting_second_factor(request):
                return redirect(second_factor.url_for(user, request.get_full_path()))
            if "any" in areas:
                return view(request, *args, **kwargs)
            if not any(may_enter(user, area) for area in areas):
                raise PermissionDenied("Your role does not include this area.")
            return view(request, *args, **kwargs)

        wrapper.borough_access = (STAFF, frozenset(areas))
        return wrapper

    return decorator


class StaffAreaMiddleware:
    """Defence in depth: nothing under the staff prefixes is served to a non-staff account, or
    to a staff session still owing its second factor (sent to pass it); to the API, such a
    session is no one (so a staff-session call is a 401). Goes after django-otp's
    ``OTPMiddleware``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith(STAFF_PREFIXES) and not path.startswith(STAFF_OPEN_PATHS):
            user = request.user
            if user.is_authenticated and not user.is_staff_member:
                raise PermissionDenied("Residents cannot open staff pages.")
            if awaiting_second_factor(request):
                return redirect(second_factor.url_for(user, request.get_full_path()))
        elif path.startswith(API_PREFIX) and awaiting_second_factor(request):
            request.user = AnonymousUser()
        return self.get_response(request)
