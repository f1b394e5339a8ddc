"""Staff roles (Django groups) and the areas of the back office each may enter.

A role is a Django group with the name below; the data migration creates them. A member of
several groups may enter all of their areas. Superusers may enter every area.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Area:
    slug: str
    title: str
    description: str


AREAS = {
    area.slug: area
    for area in [
        Area("parking", "Parking", "Permit applications, permits, refunds and zones."),
        Area("housing", "Housing", "Tenancies, rent accounts and arrangements."),
        Area("finance", "Finance", "Bank statements, suspense, Direct Debit and Bacs runs."),
        Area("enforcement", "Enforcement", "Check a vehicle registration against live permits."),
        Area("insights", "Insight", "Dashboards, policy what-ifs, open data and feedback."),
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
