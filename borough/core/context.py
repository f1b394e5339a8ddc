from django.conf import settings

from borough.core.roles import AREAS, areas_for


def borough(request) -> dict:
    """What every page needs: the council's profile, and the staff areas the user may enter."""
    user = getattr(request, "user", None)
    staff_areas = [AREAS[slug] for slug in areas_for(user)] if user else []
    return {"council": settings.COUNCIL, "staff_areas": staff_areas}
