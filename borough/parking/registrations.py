"""Registration marks (VRMs) for parking permits.

``parse_vrm`` normalises what a resident typed, checks it has the shape of a UK mark (current,
prefix, suffix, dateless, Northern Ireland or Q plate) and formats it for display. The patterns
are only a pre-filter that turns away obvious mistakes before we ask DVLA (``vehicles.py``);
DVLA's answer is the authority (cherished marks may look like anything).

``VehicleLookupError``, the base of everything a vehicle lookup can raise, is here because a
mark that is not a registration (``InvalidRegistration``) is one of them. A registration number
is personal data when it is linked to a resident, so nothing here logs it or puts it in an
exception message.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_VRM_LENGTH = 7

MESSAGE_EMPTY = "Enter your vehicle registration number, like AB12 CDE"
MESSAGE_TOO_LONG = "A vehicle registration number is 7 characters or fewer, like AB12 CDE"
MESSAGE_NOT_REAL = "Enter a real vehicle registration number, like AB12 CDE"

# Current format (since September 2001): memory tag, age identifier, three random letters.
# I and Q are never used; Z is used in the random letters but not in the memory tag.
_TAG_LETTER = "[A-HJ-PR-Y]"
_RANDOM_LETTER = "[A-HJ-PR-Z]"

# Checked in this order; the first match gives the shape. Northern Ireland comes before dateless
# because NI marks have the dateless shape with an I or Z among the letters.
_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("current", re.compile(rf"{_TAG_LETTER}{{2}}[0-9]{{2}}{_RANDOM_LETTER}{{3}}")),
    ("prefix", re.compile(r"[A-Z][0-9]{1,3}[A-Z]{3}")),
    ("suffix", re.compile(r"[A-Z]{3}[0-9]{1,3}[A-Z]")),
    ("northern_ireland", re.compile(r"(?=[A-Z]*[IZ])[A-Z]{1,3}[0-9]{1,4}")),
    ("dateless", re.compile(r"[A-Z]{1,3}[0-9]{1,4}|[0-9]{1,4}[A-Z]{1,3}")),
)
_NON_ALPHANUMERIC = re.compile(r"[^A-Za-z0-9]")
_LETTERS_DIGITS_BOUNDARY = re.compile(r"(?<=[A-Z])(?=[0-9])|(?<=[0-9])(?=[A-Z])")


class VehicleLookupError(Exception):
    """Base class for everything a vehicle lookup can raise."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRegistration(VehicleLookupError, ValueError):
    """The text is not a vehicle registration number (our pre-filter, or DVLA's 400)."""


@dataclass(frozen=True)
class Registration:
    """A registration mark: ``vrm`` normalised (``AB12CDE``), its ``format``, and ``display``
    (``AB12 CDE``)."""

    vrm: str
    format: str
    display: str

    def __str__(self) -> str:
        return self.display


def normalise_vrm(text: str) -> str:
    """Upper-case, keeping only A-Z and 0-9: ``" ab12-cde "`` -> ``"AB12CDE"``.

    Full-width characters from some phone keyboards count as their plain forms (NFKC); other
    letters are dropped rather than upper-cased, so "ß" does not become "SS"."""
    plain = unicodedata.normalize("NFKC", text or "")
    return _NON_ALPHANUMERIC.sub("", plain).upper()


def checked_vrm(text: str) -> str:
    """The mark normalised, or ``InvalidRegistration`` if it is empty or too long (its shape is
    not checked: DVLA answers for cherished marks)."""
    vrm = normalise_vrm(text)
    if not vrm:
        raise InvalidRegistration(MESSAGE_EMPTY)
    if len(vrm) > MAX_VRM_LENGTH:
        raise InvalidRegistration(MESSAGE_TOO_LONG)
    return vrm


def _shape(vrm: str) -> str:
    for name, pattern in _SHAPES:
        if pattern.fullmatch(vrm):
            return name
    raise InvalidRegistration(MESSAGE_NOT_REAL)


def classify_vrm(vrm: str) -> str:
    """The format of a registration mark: ``current``, ``prefix``, ``suffix``, ``dateless``,
    ``northern_ireland`` or ``q_plate`` (a Q mark, for a vehicle of unknown age, in any of the
    other shapes). Raises ``InvalidRegistration`` if it has none of them."""
    return parse_vrm(vrm).format


def _display(vrm: str, shape: str) -> str:
    # Current and prefix marks have a space before the last three letters (AB12 CDE, A123 BCD);
    # the others between the letters and the digits (ABC 123D, 1 ABC, AIZ 1234).
    if shape in {"current", "prefix"}:
        return f"{vrm[:-3]} {vrm[-3:]}"
    return _LETTERS_DIGITS_BOUNDARY.sub(" ", vrm, count=1)


def parse_vrm(text: str) -> Registration:
    """What a resident typed as a ``Registration``, or ``InvalidRegistration`` with a message
    to show them (empty, too long, or not the shape of any UK mark)."""
    vrm = checked_vrm(text)
    shape = _shape(vrm)
    fmt = "q_plate" if vrm.startswith("Q") else shape
    return Registration(vrm=vrm, format=fmt, display=_display(vrm, shape))


def registration_display(vrm: str) -> str:
    """A stored registration as every parking page shows it ("AB12 CDE"); one that is not a UK
    mark's shape, as stored. Templates call it as ``registration(vrm)``."""
    try:
        return parse_vrm(vrm).display
    except InvalidRegistration:
        return vrm
