"""How a data-use event reads to council staff (the data protection officer's page and export).

An event stores who used the data as residents read it ("You, signed in to your account"), and
the account that did. Staff must see neither that wording nor a resident's account details (a
resident's username is their email address): a resident is "A resident (signed in)" with a
pseudonymous account reference; an officer is their full name and username; a service or
system is its label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from borough.transparency.models import ActorKind, DataUseEvent

RESIDENT_WHO = "A resident (signed in)"


def resident_account_reference(user_id: int) -> str:
    """A resident's account as staff may see it: its number, never its email address."""
    return f"resident-account-{user_id}"


@dataclass(frozen=True)
class Who:
    """Who or what used the data: ``name`` first, then ``detail`` (both plain text)."""

    name: str
    detail: str
    kind: str
    #: the account column of the CSV export
    account: str


def who_for_staff(event: DataUseEvent) -> Who:
    kind = event.get_actor_kind_display()
    if event.actor_kind == ActorKind.RESIDENT:
        reference = resident_account_reference(event.actor_user_id) if event.actor_user_id else ""
        return Who(RESIDENT_WHO, reference, kind, reference)
    if event.actor_kind == ActorKind.STAFF and event.actor_user is not None:
        user = event.actor_user
        full_name = user.get_full_name().strip()
        name = f"{full_name} ({user.username})" if full_name else user.username
        return Who(name, event.actor_label, kind, user.username)
    return Who(event.actor_label, "", kind, "")


_CODE = re.compile(r"[a-z][a-z0-9_]*")


def in_words(code: str) -> str:
    """A lower-case code written by a service ("viewed_all_records", "resident_request") as
    words ("Viewed all records"); anything else (an application number) as it is."""
    if not _CODE.fullmatch(code):
        return code
    return code.replace("_", " ").capitalize()
