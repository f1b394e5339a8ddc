"""Payment references with a check character, and what a payer may have meant by what they typed.

A council issues each rent account a payment reference from one *scheme*; the scheme validates it
at matching time and proposes corrections for the common slips (A4 of the domain brief). Schemes
are chosen by name (setting ``HOUSING_PAYMENT_REFERENCE_SCHEME``), so a council whose references
follow another rule adds a scheme here, not a branch in the matcher.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from operator import mul
from typing import Protocol, runtime_checkable

# The kinds of correction, best first: a candidate reached by a better kind wins a tie.
EXACT = "exact"
LEADING_ZEROS = "leading_zeros"
MISSING_CHECK = "missing_check_character"
LEADING_ZEROS_MISSING_CHECK = "leading_zeros+missing_check_character"
TRANSPOSITION = "transposition"
WRONG_CHECK = "wrong_check_character"
CORRECTION_RANK = {
    kind: rank
    for rank, kind in enumerate(
        (
            EXACT,
            LEADING_ZEROS,
            MISSING_CHECK,
            LEADING_ZEROS_MISSING_CHECK,
            TRANSPOSITION,
            WRONG_CHECK,
        )
    )
}
CORRECTION_WORDS = {
    EXACT: "as issued",
    LEADING_ZEROS: "with the leading zeros put back",
    MISSING_CHECK: "with the missing check character added",
    LEADING_ZEROS_MISSING_CHECK: "with the leading zeros and the check character put back",
    TRANSPOSITION: "with two swapped digits put back in order",
    WRONG_CHECK: "with the check character corrected",
}

# Words payers put in front of a reference. Letters glued to the digits ("RENT12345678I") are
# dropped anyway; these are for the normalised form of a whole reference.
PREFIXES = ("RENT", "HSG", "HOUSING", "REF", "REFERENCE", "ACC", "ACCT", "AC", "NO", "HB", "UC")
_PIECE = re.compile(r"[A-Z0-9]+")
_DIGITS_LETTER = re.compile(r"[A-Z]*?(\d+)([A-Z]?)")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A reference the payer may have meant, and how it differs from what they typed."""

    reference: str
    correction: str
    typed: str

    @property
    def is_exact(self) -> bool:
        return self.correction == EXACT


@runtime_checkable
class ReferenceScheme(Protocol):
    name: str

    def issue(self, number: int | str) -> str: ...

    def is_valid(self, reference: str) -> bool: ...

    def normalise(self, text: str) -> str: ...

    def candidates(self, typed_text: str) -> list[Candidate]: ...


def text_pieces(text: str, *, max_join: int = 3) -> list[str]:
    """The alphanumeric pieces of ``text`` (upper-cased), plus runs of up to ``max_join``
    neighbouring pieces joined, so "1234 5678 I" and "1234-5678I" also give "12345678I"."""
    pieces = _PIECE.findall(text.upper())
    out = list(pieces)
    for start in range(len(pieces)):
        joined = pieces[start]
        for end in range(start + 1, min(start + max_join, len(pieces))):
            if not joined[-1].isdigit():
                break
            joined += pieces[end]
            out.append(joined)
    return out


@dataclass(frozen=True)
class WeightedCheckCharacterScheme:
    """``digits`` digits then one check character: weighted sum, modulus, value → character.

    ``check_value`` is ``modulus - (sum mod modulus)``; ``alphabet[value - 1]`` is the character.
    """

    name: str
    digits: int
    weights: tuple[int, ...]
    modulus: int
    alphabet: str
    min_typed_digits: int = 4  # fewer digits than this are not taken as a reference
    prefixes: tuple[str, ...] = PREFIXES

    def __post_init__(self) -> None:
        if len(self.weights) != self.digits:
            raise ValueError("one weight per digit")
        if len(self.alphabet) != self.modulus:
            raise ValueError("one check character per possible value")

    def check_character(self, digits: str) -> str:
        if len(digits) != self.digits:
            raise ValueError(f"{digits!r} is not {self.digits} digits")
        # Sum of weight × digit over the ASCII codes, less weight × ord("0"): map runs in C.
        total = sum(map(mul, digits.encode(), self.weights)) - self._zero_offset
        return self.alphabet[self.modulus - (total % self.modulus) - 1]

    @property
    def _zero_offset(self) -> int:
        return 48 * sum(self.weights)

    def issue(self, number: int | str) -> str:
        digits = str(number)
        if not digits.isdigit() or len(digits) > self.digits:
            raise ValueError(f"{number!r} is not a number of at most {self.digits} digits")
        digits = digits.zfill(self.digits)
        return digits + self.check_character(digits)

    def normalise(self, text: str) -> str:
        compact = re.sub(r"[\s\-_./:]+", "", text.upper())
        for prefix in sorted(self.prefixes, key=len, reverse=True):
            if compact.startswith(prefix) and compact[len(prefix) : len(prefix) + 1].isdigit():
                return compact[len(prefix) :]
        return compact

    def is_valid(self, reference: str) -> bool:
        ref = self.normalise(reference)
        return (
            len(ref) == self.digits + 1
            and ref[:-1].isdigit()
            and ref[-1] == self.check_character(ref[:-1])
        )

    def candidates(self, typed_text: str) -> list[Candidate]:
        """Every valid reference the text may mean, best correction first.

        From each piece of the text (and neighbouring pieces joined): the reference as typed;
        with dropped leading zeros put back; with a missing check character added; with a wrong
        one corrected; with one swap of adjacent digits undone (only when the typed check
        character then fits). At most one correction each, apart from leading zeros.
        """
        best: dict[str, Candidate] = {}

        def offer(reference: str, correction: str, typed: str) -> None:
            held = best.get(reference)
            if held is None or CORRECTION_RANK[correction] < CORRECTION_RANK[held.correction]:
                best[reference] = Candidate(reference, correction, typed)

        full_length: list[str] = []
        for piece in text_pieces(typed_text):
            found = _DIGITS_LETTER.fullmatch(piece)
            if not found:
                continue
            digits, letter = found.groups()
            if len(digits) > self.digits or len(digits) < self.min_typed_digits:
                continue
            if len(digits) == self.digits:
                full_length.append(piece)
            padded = digits.zfill(self.digits)
            check = self.check_character(padded)
            if len(digits) < self.digits:
                if letter == check:
                    offer(padded + check, LEADING_ZEROS, piece)
                elif not letter:
                    offer(padded + check, LEADING_ZEROS_MISSING_CHECK, piece)
                continue
            if letter == check:
                offer(padded + check, EXACT, piece)
                continue
            if not letter:
                offer(padded + check, MISSING_CHECK, piece)
                continue
            offer(padded + check, WRONG_CHECK, piece)
            for i in range(self.digits - 1):
                if digits[i] == digits[i + 1]:
                    continue
                swapped = digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :]
                if self.check_character(swapped) == letter:
                    offer(swapped + letter, TRANSPOSITION, piece)
        # "1234 5678" also yields "1234" and "5678": pieces of a full-length number are not
        # references with their zeros dropped.
        kept = [
            c
            for c in best.values()
            if c.correction not in (LEADING_ZEROS, LEADING_ZEROS_MISSING_CHECK)
            or not any(c.typed in whole for whole in full_length)
        ]
        return sorted(kept, key=lambda c: (CORRECTION_RANK[c.correction], c.reference))


# LocalGovIMS housing rents (CheckDigitExtensions.cs): mask ########c, weights 9..2, mod 11,
# check = 11 − (sum mod 11), 1→A … 11→K. 12345678 → 12345678I; 00001234 → 00001234C.
LOCALGOV_HOUSING_RENTS = WeightedCheckCharacterScheme(
    name="localgov-housing-rents",
    digits=8,
    weights=(9, 8, 7, 6, 5, 4, 3, 2),
    modulus=11,
    alphabet="ABCDEFGHIJK",
)

SCHEMES: dict[str, Callable[[], ReferenceScheme]] = {
    LOCALGOV_HOUSING_RENTS.name: lambda: LOCALGOV_HOUSING_RENTS,
}
DEFAULT_SCHEME = LOCALGOV_HOUSING_RENTS.name
SETTING = "HOUSING_PAYMENT_REFERENCE_SCHEME"


def get_scheme(name: str | None = None) -> ReferenceScheme:
    """The scheme called ``name``; without one, the one named in settings (or the default)."""
    if name is None:
        name = _configured_name()
    try:
        return SCHEMES[name]()
    except KeyError:
        raise ValueError(
            f"no payment reference scheme {name!r}; have {', '.join(sorted(SCHEMES))}"
        ) from None


def _configured_name() -> str:
    try:
        from django.conf import settings

        council = getattr(settings, "COUNCIL", None)
        housing = getattr(council, "housing", None)
        return getattr(settings, SETTING, None) or (
            housing.payment_reference_scheme if housing else DEFAULT_SCHEME
        )
    except Exception:  # Django absent or not configured: this package works without it
        return DEFAULT_SCHEME
