"""Staff roles (Django groups) and the areas of the back office each may enter.

A role is a Django group with the name below; the data migration creates them. A member of
several groups may enter all of their areas. Superusers may enter every area.

Each area says whether it shows personal data; ``second_factor_required`` is the one rule for
who must sign in with a second factor (docs/sign-in.md).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Area:
    slug: str
    title: str
    description: str
    #: Whether the area shows or can reach a resident's personal data; if so, its staff sign in
    #: with a second factor.
    personal_data: bool = True


AREAS = {
    area.slug: area
    for area in [
        Area("parking", "Parking", "Permit applications, permits, refunds and zones."),
        Area("housing", "Housing", "Tenancies, rent accounts and arrangements."),
        Area("finance", "Finance", "Bank statements, suspense, Direct Debit and Bacs runs."),
        # A registration is personal data once tied to its keeper, and each check is a use of
        # the permit holder's data recorded in the data-use log.
        Area("enforcement", "Enforcement", "Check a vehicle registration against live permits."),
        # Counts with disclosure control, and feedback that asks for no personal details.
        Area(
            "insights",
            "Insight",
            "Dashboards, policy what-ifs, open data and feedback.",
            personal_data=False,
        ),
        Area(
            "residents",
            "Resident records",
            "The resident index: find a resident's records, review uncertain matches, "
            "check a verification.",
        ),
        Area("transparency", "Data protection", "The data-use log and subject access requests."),
        Area("administration", "Administration", "Staff accounts, the gazetteer and feedback."),
    ]
}


@dataclass(frozen=True)
class Role:
    group: str
    areas: frozenset[str]


ROLES = [
    Role("Parking officer", frozenset({"parking"})),
    Role("Housing officer", frozenset({"housing"})),
    Role("Finance officer", frozenset({"finance"})),
    Role("Enforcement officer", frozenset({"enforcement"})),
    Role("Data analyst", frozenset({"insights"})),
    Role("Resident data officer", frozenset({"residents"})),
    Role("Data protection officer", frozenset({"transparency"})),
    Role("Administrator", frozenset({"administration"})),
]
ROLE_BY_GROUP = {role.group: role for role in ROLES}


def areas_for(user) -> list[str]:
    """The areas a signed-in user may enter, in the order of ``AREAS``."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_staff_member", False):
        return []
    if user.is_superuser:
        return list(AREAS)
    groups = set(user.groups.values_list("name", flat=True))
    allowed = set()
    for group in groups:
        role = ROLE_BY_GROUP.get(group)
        if role:
            allowed |= role.areas
    return [slug for slug in AREAS if slug in allowed]


def may_enter(user, area: str) -> bool:
    if area not in AREAS:
        raise ValueError(f"unknown staff area {area!r}")
    return area in areas_for(user)


def second_factor_required(user) -> bool:
    """Whether ``user`` must pass a second factor before any staff page, admin page or staff
    API call: a superuser, or a member of any role with an area that shows personal data (every
    role but Data analyst today; an Administrator can give anyone any role)."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_staff_member", False):
        return False
    if user.is_superuser:
        return True
    return any(AREAS[slug].personal_data for slug in areas_for(user))
