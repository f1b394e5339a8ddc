"""What a signed-in resident's account page lists from each service, without core knowing the
services: each app registers a provider in its ``AppConfig.ready``.

    from borough.core.account_summary import AccountItem, AccountSection, register

    def parking_summary(user):  # reads through the app's own queries, logging as they do
        return AccountSection(heading="Parking permits", items=[...], empty="…", start=(…))

    register("parking", parking_summary)

The account page shows the sections of the services the council's profile offers, in the
order the apps registered them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings

from borough.core.catalogue import CATALOGUE

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AccountItem:
    """One thing the resident has: a permit, a rent account."""

    title: str
    detail: str
    url: str | None = None
    # Something they should act on (arrears, proof of address due): shown as a warning.
    attention: str = ""


@dataclass(frozen=True)
class AccountSection:
    heading: str
    items: list[AccountItem] = field(default_factory=list)
    # Said when there are no items ("You have no parking permits.").
    empty: str = ""
    # (link text, url) to start or see more of the service.
    start: tuple[str, str] | None = None


Provider = Callable[[object], AccountSection | None]

_providers: dict[str, Provider] = {}


def register(service: str, provider: Provider) -> None:
    """``provider(user)`` gives the section of ``service`` (a key the council profile switches
    on, e.g. "parking") for a signed-in resident, or None to show nothing. Registering the same
    service again replaces its provider."""
    _providers[service] = provider


def services_with_sections() -> set[str]:
    """The services that have registered a section."""
    return set(_providers)


def sections_for(user, profile=None) -> list[AccountSection]:
    """The account page's sections for ``user``, from the services the profile offers."""
    profile = profile or settings.COUNCIL
    titles = {service.key: service.title for service in CATALOGUE}
    sections = []
    for service, provider in _providers.items():
        if not profile.offers(service):
            continue
        try:
            section = provider(user)
        except Exception:
            # One service's fault must not take the resident's whole account page down (it is
            # where signing in lands): say so in that service's place, and log it for the team.
            log.exception("the account page's %s section failed", service)
            title = titles.get(service, service)
            section = AccountSection(
                heading=title,
                empty=f"Sorry, we cannot show this now ({title.lower()}). Try again later.",
            )
        if section is not None:
            sections.append(section)
    return sections
