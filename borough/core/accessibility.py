"""What Borough itself is known not to do to WCAG 2.2 AA, for the accessibility statement.

The statement (``/accessibility``) lists these beside the council's own ``known_issues`` from its
profile. Each is something found by testing (axe in the browser journeys, or by hand); remove
an entry in the change that fixes it, and add one when a test or a person finds a new one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from borough.core.dates import date_in_words


@dataclass(frozen=True)
class KnownIssue:
    """A part of the service that fails a WCAG 2.2 success criterion, said plainly."""

    what: str
    criteria: tuple[str, ...]
    plan: str


KNOWN_ISSUES: tuple[KnownIssue, ...] = (
    KnownIssue(
        what=(
            "On the API documentation page for developers (/api/v1/docs, made with Swagger UI), "
            "some grey text does not have enough contrast with its background, some buttons sit "
            "inside other buttons so screen readers announce them wrongly, and some buttons are "
            "smaller than 24 by 24 pixels."
        ),
        criteria=("1.4.3 Contrast (minimum)", "4.1.2 Name, role, value", "2.5.8 Target size"),
        plan=(
            "The same information is in the OpenAPI document at /api/v1/openapi.json. We will "
            "replace or restyle the page."
        ),
    ),
    KnownIssue(
        what=(
            "Rent statements as PDF files are tagged (title, language, headings, and the "
            "payments as a table), but their ruling lines are not marked as decoration and the "
            "table's heading cells do not say they head columns, and they have not been checked "
            "against PDF/UA. Names in other alphabets than Latin print as question marks."
        ),
        criteria=("1.3.1 Info and relationships",),
        plan=(
            "The same statement can be downloaded as a CSV file, and the rent account page shows "
            "the same payments and charges. We will finish tagging the PDF files and check them "
            "with a PDF/UA checker."
        ),
    ),
)


def in_words(day: str) -> str:
    """A profile's ISO date ("2026-11-25") as the statement says it ("25 November 2026")."""
    try:
        return date_in_words(dt.date.fromisoformat(day))
    except ValueError:
        return day
