from django.conf import settings

from borough.core.roles import AREAS, areas_for


def borough(request) -> dict:
    """What every page needs: the council's profile, and the staff areas the user may enter."""
    user = getattr(request, "user", None)
    staff_areas = [AREAS[slug] for slug in areas_for(user)] if user else []
    return {"council": settings.COUNCIL, "staff_areas": staff_areas}


def csp_nonce(request) -> dict:
    """The nonce of this response's Content-Security-Policy, for GOV.UK Frontend's page template
    (``cspNonce``), as a string: django-csp's lazy value is falsy until read, and the template
    asks ``{% if cspNonce %}`` before reading it."""
    nonce = getattr(request, "csp_nonce", None)
    return {"cspNonce": str(nonce) if nonce is not None else ""}
