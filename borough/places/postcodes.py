"""UK postcodes: check the format and write them the one way Borough stores them.

The rule is the published UK postcode format (Royal Mail / the Government Data Standards
Catalogue), checked with a regular expression rather than a library: none of the validation
packages on PyPI is both maintained and widely used, and the whole rule fits on a few lines.

An outward code is one of A9, A99, AA9, AA99, A9A or AA9A and the inward code is 9AA, where:

- the first letter is never Q, V or X;
- the second letter (AA9, AA99, AA9A) is never I, J or Z;
- the letter in A9A is one of A B C D E F G H J K P S T U W;
- the letter in AA9A is one of A B E H M N P R V W X Y;
- the inward code's letters are never C, I, K, M, O or V.

``GIR 0AA`` (Girobank) is the one exception that is also accepted. British Forces (BFPO) and
overseas territories' codes (for example ``ASCN 1ZZ``) are not UK addresses a council holds,
so they are refused. The format being right does not prove the postcode exists: only the
gazetteer knows that.
"""

import re

_OUTWARD = (
    "(?:"
    "[A-PR-UWYZ][0-9]{1,2}"  # A9, A99
    "|[A-PR-UWYZ][A-HK-Y][0-9]{1,2}"  # AA9, AA99
    "|[A-PR-UWYZ][0-9][ABCDEFGHJKPSTUW]"  # A9A
    "|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY]"  # AA9A
    ")"
)
_INWARD = "[0-9][ABD-HJLNP-UW-Z]{2}"
_COMPACT = re.compile(rf"(?:(?P<outward>{_OUTWARD})(?P<inward>{_INWARD})|GIR0AA)")
_WHITESPACE = re.compile(r"\s+")

EMPTY_MESSAGE = "Enter a postcode"
INVALID_MESSAGE = "Enter a real postcode, like E8 1DY"

#: The stored form: outward code, one space, inward code, in capitals.
NORMALISED = re.compile(rf"(?:{_OUTWARD} {_INWARD}|GIR 0AA)")


class InvalidPostcode(ValueError):
    """The text is not a UK postcode. ``str(error)`` is the message to show the person."""

    def __init__(self, message: str = INVALID_MESSAGE, *, value: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.value = value


def normalise_postcode(raw: str | None) -> str:
    """``raw`` written as Borough stores postcodes (``" e81dy "`` → ``"E8 1DY"``).

    Any case and any spacing is accepted, including none. Raises :class:`InvalidPostcode`
    with "Enter a postcode" for an empty value and "Enter a real postcode, like E8 1DY" for
    anything that is not in the UK postcode format.
    """
    if raw is None:
        raise InvalidPostcode(EMPTY_MESSAGE, value="")
    compact = _WHITESPACE.sub("", str(raw))
    if not compact:
        raise InvalidPostcode(EMPTY_MESSAGE, value=str(raw))
    # Checked before upper(), which maps a few non-ASCII letters to ASCII ("ı" → "I").
    if not compact.isascii():
        raise InvalidPostcode(INVALID_MESSAGE, value=str(raw))
    compact = compact.upper()
    if not _COMPACT.fullmatch(compact):
        raise InvalidPostcode(INVALID_MESSAGE, value=str(raw))
    return f"{compact[:-3]} {compact[-3:]}"


def is_postcode(raw: str | None) -> bool:
    """Whether ``raw`` is in the UK postcode format (any case or spacing)."""
    try:
        normalise_postcode(raw)
    except InvalidPostcode:
        return False
    return True
