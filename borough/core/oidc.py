"""OpenID Connect sign-in for residents (GOV.UK One Login or the council's own provider).

Switched on by setting ``OIDC_RP_CLIENT_ID`` and the provider's endpoints (docs/sign-in.md).
Accounts made this way are always resident accounts.
"""

from functools import wraps

from django.conf import settings
from django.http import Http404
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from borough.core.access import public
from borough.core.models import User


class ResidentOIDCBackend(OIDCAuthenticationBackend):
    def filter_users_by_claims(self, claims):
        email = (claims.get("email") or "").lower()
        if not email or not claims.get("email_verified", True):
            return User.objects.none()
        return User.objects.residents().filter(email=email)

    def create_user(self, claims):
        return User.objects.create_resident(claims["email"])

    def update_user(self, user, claims):
        return user

    def get_user(self, user_id):
        user = super().get_user(user_id)
        return user if user is not None and user.is_resident else None


def _only_when_enabled(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not settings.OIDC_ENABLED:
            raise Http404("OpenID Connect sign-in is not switched on.")
        return view(request, *args, **kwargs)

    return wrapper


oidc_authenticate = public(_only_when_enabled(OIDCAuthenticationRequestView.as_view()))
oidc_callback = public(_only_when_enabled(OIDCAuthenticationCallbackView.as_view()))
