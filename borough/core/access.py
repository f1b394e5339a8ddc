"""Who may open which page.

Every view declares its access with one of the decorators below; ``tests/test_access.py`` walks
every URL pattern and fails on a view that declares none. Staff pages also sit behind
``StaffAreaMiddleware``, so a resident account can never reach anything under ``/staff/`` or
``/admin/`` even if a view forgot its decorator.
"""

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import resolve_url

from borough.core.roles import AREAS, may_enter

PUBLIC = "public"
RESIDENT = "resident"
STAFF = "staff"

STAFF_PREFIXES = ("/staff/", "/admin/")
STAFF_OPEN_PATHS = ("/staff/sign-in", "/admin/login/")


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


def staff_area(*areas: str):
    """Signed in as staff with a role for at least one of ``areas`` ("any" means any area)."""
    for area in areas:
        if area != "any" and area not in AREAS:
            raise ValueError(f"unknown staff area {area!r}")

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(
                    request.get_full_path(), resolve_url(settings.STAFF_LOGIN_URL)
                )
            if not user.is_staff_member:
                raise PermissionDenied("Residents cannot open staff pages.")
            if "any" in areas:
                return view(request, *args, **kwargs)
            if not any(may_enter(user, area) for area in areas):
                raise PermissionDenied("Your role does not include this area.")
            return view(request, *args, **kwargs)

        wrapper.borough_access = (STAFF, frozenset(areas))
        return wrapper

    return decorator


class StaffAreaMiddleware:
    """Defence in depth: nothing under the staff prefixes is served to a non-staff account."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith(STAFF_PREFIXES) and not path.startswith(STAFF_OPEN_PATHS):
            user = request.user
            if user.is_authenticated and not user.is_staff_member:
                raise PermissionDenied("Residents cannot open staff pages.")
        return self.get_response(request)
