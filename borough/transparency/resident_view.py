"""How a data-use event reads to the resident it is about ("How we used your data").

The resident reads who used their data as a team or a role, never an officer's name or account:
``actor_label`` is free text a caller wrote (it may hold an officer's or an API client's name), so
for staff it is not shown at all and the team comes from the event's service and purpose. What
was done, the outcome and the datasets read are in words; the purpose and the lawful basis are
the texts stored with the event, as they were said at the time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from borough.transparency.models import ActorKind, DataUseEvent
from borough.transparency.purposes import SERVICES

#: What was done, as the resident reads it, by the event's ``action``.
WHAT_WAS_DONE = {
    "verification": "Checked your details against council records",
    "viewed_records": "Looked at your records",
    "enforcement_check": "Checked a parked vehicle against your parking permit",
    "payment_matching": "Matched a payment to your account",
    "match_review": "Checked whether records held by different services are about you",
    "export": "Made a copy of records about you",
    "held_back": "Held back from you",
    "released": "Released to you",
}

#: For an automatic use: "Automatic <this> by the <service> service".
AUTOMATIC_WHAT = {
    "verification": "check",
    "viewed_records": "look-up",
    "enforcement_check": "check",
    "payment_matching": "payment matching",
    "match_review": "record matching",
    "export": "export",
}

#: A staff member's team, by the event's service, unless ``STAFF_ROLE_BY_ACTION`` says better.
STAFF_TEAMS = {
    "parking": "Parking team",
    "housing": "Housing team",
    "residents": "Resident records team",
    "transparency": "Data protection officer",
}
STAFF_ROLE_BY_ACTION = {"enforcement_check": "Civil enforcement officer"}

#: Outcomes services write, in words; any other code is shown as words from the code.
OUTCOMES = {
    "verified": "Your details matched council records",
    "refer": "Passed to an officer to check",
    "not_found": "No matching records were found",
    "confirmed": "An officer confirmed your details",
    "rejected": "An officer could not confirm your details",
    "answered": "Answered",
    "downloaded_json": "Downloaded a copy of your data (JSON)",
    "downloaded_pdf": "Downloaded a copy of your data (PDF)",
    "downloaded_html": "Read a copy of your data on this website",
}

YOU = "You, signed in to your account"
#: A resident's use through an online account that is not the reader's (the same resident
#: with a second account, or someone else who knew their details).
ANOTHER_ACCOUNT = "Someone signed in to another resident account"
SOMEONE_ONLINE = "Someone using the council's website"


def who_for_resident(event: DataUseEvent, viewer_ids: Iterable[int] = ()) -> str:
    """Who or what used the data: "You, …" only when the event's account is one of
    ``viewer_ids`` (the reader's own), another resident account, a team or role, or an
    automatic use of a service."""
    service = SERVICES.get(event.service, "council")
    if event.actor_kind == ActorKind.RESIDENT:
        if event.actor_user_id is None:
            return SOMEONE_ONLINE
        return YOU if event.actor_user_id in set(viewer_ids) else ANOTHER_ACCOUNT
    if event.actor_kind == ActorKind.STAFF:
        return STAFF_ROLE_BY_ACTION.get(event.action) or STAFF_TEAMS.get(
            event.service, "Council officer"
        )
    what = AUTOMATIC_WHAT.get(event.action, "use")
    return f"Automatic {what} by the {service.lower()} service"


def what_was_done(event: DataUseEvent) -> str:
    return WHAT_WAS_DONE.get(event.action, event.get_action_display())


def outcome_in_words(code: str) -> str:
    if not code:
        return ""
    return OUTCOMES.get(code, code.replace("_", " ").capitalize())


@dataclass(frozen=True)
class DatasetLink:
    code: str
    title: str
    #: The public page about the dataset, or "" for a code the council has not described.
    url: str


@dataclass(frozen=True)
class Entry:
    """One event of a resident's timeline, in words."""

    event: DataUseEvent
    service: str
    what: str
    who: str
    purpose: str
    lawful_basis: str
    datasets: list[DatasetLink]
    reference: str
    outcome: str


def entry(event: DataUseEvent, links: dict[str, DatasetLink], viewer=None) -> Entry:
    """``event`` as ``viewer`` (the resident's account reading it) reads it."""
    return Entry(
        event=event,
        service=SERVICES.get(event.service, event.service),
        what=what_was_done(event),
        who=who_for_resident(event, [viewer.pk] if viewer is not None else []),
        purpose=event.purpose_text,
        lawful_basis=event.lawful_basis_text,
        datasets=[links[code] for code in event.datasets_read],
        reference=event.reference,
        outcome=outcome_in_words(event.outcome),
    )
