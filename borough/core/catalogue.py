"""The council's online services, as the start page lists them.

Each service's app names the page it starts on once that service is built; until then the start
page says it is not online yet rather than linking to a page that does not exist.
"""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class Service:
    key: str
    title: str
    description: str
    url_name: str | None

    def url(self) -> str | None:
        if not self.url_name:
            return None
        try:
            return reverse(self.url_name)
        except NoReverseMatch:
            return None


# Finding an address is a step of the services' journeys (the address picker), not a service a
# resident comes to the council for: it is not listed.
CATALOGUE = [
    Service(
        "parking",
        "Parking permits",
        "Apply for a resident parking permit, manage visitor sessions and see your permits.",
        "parking:start",
    ),
    Service(
        "housing",
        "Your rent account",
        "See your rent balance and payments, and pay by Direct Debit or standing order.",
        "housing:start",
    ),
    Service(
        "transparency",
        "How we use your data",
        "See when and why the council used your personal information.",
        "transparency:start",
    ),
    Service(
        "insights",
        "Open data",
        "Figures about the council's services, published for anyone to use.",
        "insights:open-data",
    ),
]


def services_offered(profile) -> list[Service]:
    """The services the council's profile switches on."""
    return [s for s in CATALOGUE if profile.offers(s.key)]
