"""Standard forms of the values source datasets hold, so records from different systems compare.

Pure functions, no database. The rules (also in ``docs/source-datasets.md``):

- **Names** are folded to lower-case ASCII (``Wiśniewski`` → ``wisniewski``, ``Yılmaz`` →
  ``yilmaz``). Apostrophes are dropped, joining the parts (``O'Brien`` → ``obrien``, the way
  most council systems that cannot store an apostrophe write it); hyphens and other punctuation
  become spaces (``Pearce-Chadwick`` → ``pearce chadwick``, ``Anne-Marie`` → ``anne marie``), so
  a double-barrelled name and either half of it share a word. Digits are dropped.
- **Titles** are written one way (``MRS``, ``Mrs.`` → ``Mrs``) and taken off the front of full
  names. A full name with a comma is read surname first (``SMITH, JOHN A``).
- **First names** also get a canonical form from ``data/nicknames.csv`` (``bob`` → ``robert``,
  ``muhammad`` → ``mohammed``). Names that share a nickname and a sex are one canonical name
  (Kate: Katherine and Catherine). A nickname of names of both sexes (Chris) resolves only
  when the record's sex is known, from a sex column or the title; otherwise it stays itself.
- **Dates** are read only in the dataset's declared formats. Nothing is guessed: a date that
  does not fit, or does not exist (31/02/2020, or 13/25/2020 where a day and month were
  swapped), is an error, never silently "fixed".
- **Postcodes** go through ``borough.places.postcodes.normalise_postcode``. A letter O typed
  where the format needs a zero (``E2l OAA``-style slips: O for 0, I or L for 1) is read as the
  digit if that makes a valid postcode. A postcode that is not a UK postcode but looks like a
  postal code of some country (``4223``, ``1234 AB``: 3 to 10 letters, digits, spaces or
  hyphens with a digit among them, not only zeros or nines) is kept as text, upper-cased with its spaces collapsed, and
  compared as text (``standardise_any_postcode``); anything else (``N/A``, ``UNKNOWN``, ``0``)
  is left blank.
- **E-mail** is lower-cased; **phone numbers** are written as UK national digits (``+44 7700
  900123`` → ``07700900123``).
- **Address text** is folded, lower-cased, stripped of punctuation, with the postcode taken
  out and common abbreviations written in full (``RD`` → ``road``, ``FLT`` → ``flat``).
"""

import csv
import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from borough.places.postcodes import NORMALISED, InvalidPostcode, normalise_postcode

DATA = Path(__file__).resolve().parent / "data"

# Letters that Unicode decomposition does not turn into ASCII.
_FOLD = str.maketrans(
    {
        "ı": "i",
        "İ": "I",
        "ł": "l",
        "Ł": "L",
        "ø": "o",
        "Ø": "O",
        "ß": "ss",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "þ": "th",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ə": "e",
    }
)
_APOSTROPHES = re.compile(r"['’‘`´ʼ]")
_NOT_LETTERS = re.compile(r"[^a-z]+")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_SPACES = re.compile(r"\s+")

TITLES = {
    "mr": "Mr",
    "mrs": "Mrs",
    "ms": "Ms",
    "miss": "Miss",
    "mx": "Mx",
    "dr": "Dr",
    "doctor": "Dr",
    "prof": "Prof",
    "professor": "Prof",
    "rev": "Rev",
    "revd": "Rev",
    "reverend": "Rev",
    "sir": "Sir",
    "dame": "Dame",
    "lady": "Lady",
    "lord": "Lord",
    "master": "Master",
    "fr": "Fr",
    "sr": "Sr",
}
_SEX_OF_TITLE = {"Mr": "M", "Master": "M", "Sir": "M", "Lord": "M", "Fr": "M"}
_SEX_OF_TITLE |= {"Mrs": "F", "Ms": "F", "Miss": "F", "Dame": "F", "Lady": "F", "Sr": "F"}
_SEXES = {"m": "M", "male": "M", "man": "M", "f": "F", "female": "F", "woman": "F"}
# Words after a name that are not part of it.
_SUFFIXES = frozenset({"jr", "jnr", "junior", "sr", "snr", "senior", "ii", "iii", "iv"})
# Words that belong to the surname that follows them ("da Costa", "van der Berg", "al Amin").
_PARTICLES = frozenset(
    {"da", "de", "del", "della", "der", "den", "di", "do", "dos", "das", "du", "van", "von"}
    | {"la", "le", "al", "el", "bin", "ibn", "ter", "ten"}
)


def fold(text: str) -> str:
    """``text`` without accents: ``Güçlü`` → ``Guclu``, ``Wiśniewski`` → ``Wisniewski``."""
    text = text.translate(_FOLD)
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return (
        "".join(c for c in decomposed if not unicodedata.combining(c))
        .encode("ascii", "ignore")
        .decode("ascii")
    )


@functools.lru_cache(maxsize=100_000)
def standardise_name(text: str) -> str:
    """A name or names in standard form: ``"O'Brien-Smith"`` → ``"obrien smith"``."""
    folded = _APOSTROPHES.sub("", fold(text).lower())
    return _NOT_LETTERS.sub(" ", folded).strip()


def standardise_title(text: str) -> str:
    """``"MRS"``, ``"mrs."`` → ``"Mrs"``; an unknown title is kept, capitalised; blank stays blank."""
    key = standardise_name(text).replace(" ", "")
    if not key:
        return ""
    return TITLES.get(key, key.capitalize())


def sex_from(value: str = "", title: str = "") -> str:
    """``"F"``, ``"M"`` or ``""``: from a sex column's value, or failing that from the title."""
    found = _SEXES.get(standardise_name(value).replace(" ", ""), "")
    return found or _SEX_OF_TITLE.get(standardise_title(title), "")


@dataclass(frozen=True)
class Name:
    """A name split into parts, each standardised."""

    title: str = ""
    first: str = ""
    middle: str = ""
    surname: str = ""


def split_full_name(text: str, *, middle_names: str = "any") -> Name:
    """A full name as one field, split: ``"MRS CAROLYN PREDA"`` → Mrs / carolyn / "" / preda.

    Titles at the front are taken off; ``"SMITH, JOHN A"`` (a comma) is read surname first.
    Otherwise the first word is the first name and the last the surname, with the words
    between as middle names. With ``middle_names="initials"`` (a system that writes middle
    names only as initials) single letters are the middle names and longer words after them
    belong to the surname, so ``"MR JOSE A GARCIA LOPEZ"`` → jose / a / garcia lopez.
    Each word is standardised on its own, so ``"Anne-Marie"`` stays one first name.
    """
    if "," in text:
        surname_part, _, given_part = text.partition(",")
        title, given = _take_title(given_part.split())
        words = [w for w in (standardise_name(x) for x in given) if w]
        surname = standardise_name(surname_part)
        if not words:
            return Name(title=title, surname=surname)
        return Name(title, words[0], " ".join(words[1:]), surname)
    title, rest = _take_title(text.split())
    words = [w for w in (standardise_name(x) for x in rest) if w]
    while len(words) > 2 and words[-1].replace(" ", "") in _SUFFIXES:
        words.pop()
    if not words:
        return Name(title=title)
    if len(words) == 1:
        return Name(title=title, surname=words[0])
    first, rest = words[0], words[1:]
    if middle_names == "initials":
        # Initials straight after the first name are middle names; the rest is the surname.
        count = 0
        while count < len(rest) - 1 and len(rest[count]) == 1:
            count += 1
        return Name(title, first, " ".join(rest[:count]), " ".join(rest[count:]))
    start = len(rest) - 1
    while start > 0 and rest[start - 1] in _PARTICLES:
        start -= 1  # "maria da costa": the surname is "da costa"
    return Name(title, first, " ".join(rest[:start]), " ".join(rest[start:]))


def _take_title(words: list[str]) -> tuple[str, list[str]]:
    title = ""
    while words and standardise_name(words[0]).replace(" ", "") in TITLES and len(words) > 1:
        title = title or standardise_title(words[0])
        words = words[1:]
    return title, words


@functools.lru_cache(maxsize=1)
def _nicknames() -> dict[str, tuple[tuple[str, str], ...]]:
    table: dict[str, list[tuple[str, str]]] = {}
    with open(DATA / "nicknames.csv", encoding="utf-8", newline="") as handle:
        lines = (line for line in handle if not line.startswith("#"))
        for row in csv.DictReader(lines):
            table.setdefault(row["name"], []).append((row["canonical"], row["sex"]))
    return {name: tuple(found) for name, found in table.items()}


def canonical_first_name(first: str, sex: str = "") -> str:
    """The canonical form of a standardised first name: ``"bob"`` → ``"robert"``.

    A name with no entry is its own canonical form. A nickname of names of both sexes
    (``"chris"``) resolves only when ``sex`` ("F"/"M") says which; otherwise it stays itself.
    """
    found = _nicknames().get(first)
    if not found:
        return first
    canonicals = {canonical for canonical, _ in found}
    if len(canonicals) == 1:
        return found[0][0]
    if sex:
        matching = {canonical for canonical, of in found if of == sex}
        if len(matching) == 1:
            return matching.pop()
    return first


class DateError(ValueError):
    """A date that cannot be read; ``str()`` is the message for the person fixing the file."""


def parse_date(text: str, formats: tuple[str, ...]) -> date | None:
    """``text`` read in one of ``formats``; None for a blank. Raises DateError otherwise.

    Month names may be in any case (``24-NOV-2020``). A date that fits no format, or names a
    day that does not exist, is an error: day and month are never swapped to make one fit.
    """
    text = text.strip()
    if not text:
        return None
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    for fmt in formats:
        impossible = _impossible_day(text, fmt)
        if impossible:
            raise DateError(impossible)
    examples = " or ".join(date(2020, 11, 24).strftime(f).upper() for f in formats)
    raise DateError(f"'{text}' is not a date in the declared format (like {examples})")


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip


def _impossible_day(text: str, fmt: str) -> str | None:
    """What is wrong with ``text`` when it is laid out as ``fmt`` but names a day that does not
    exist ("29 February 1939 is not a date"); None when it is not laid out so. Reads the layout
    with the standard library's own pattern for ``fmt`` (``_strptime``)."""
    try:
        import _strptime

        found = _strptime._TimeRE_cache.compile(fmt).match(text)
    except (ImportError, AttributeError, KeyError, ValueError):
        return None
    if found is None or found.end() != len(text):
        return None
    parts = {k: v for k, v in found.groupdict().items() if v is not None}
    if "d" not in parts or not ({"m", "b", "B"} & parts.keys()) or not ({"Y", "y"} & parts.keys()):
        return None
    day = int(parts["d"])
    if "m" in parts:
        month = int(parts["m"])
    else:
        name = (parts.get("b") or parts["B"]).lower()
        month = next((n for n, m in enumerate(_MONTHS, 1) if m.lower().startswith(name[:3])), 0)
    year = (
        int(parts["Y"])
        if "Y" in parts
        else int(parts["y"]) + (1900 if int(parts["y"]) >= 69 else 2000)
    )
    if not 1 <= month <= 12:
        return f"'{text}' is not a date: there is no month {month}"
    return f"{day} {_MONTHS[month - 1]} {year} is not a date"


def years_before(day: date, years: int) -> date:
    """The same day ``years`` earlier; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


#: The oldest a person on a council's records can plausibly be.
MAX_AGE_YEARS = 120


def implausible_birth_date(born: date, today: date, oldest_years: int = 0) -> str:
    """Why ``born`` cannot be a resident's date of birth, or ``""``: a date in the future, or
    (when the dataset's declaration sets ``oldest_years``) one longer ago than that. Without
    it a date is kept whatever its year: a council's records, or a benchmark's, may rightly
    hold people born long ago, and the council decides what is implausible."""
    if born > today:
        return f"the date of birth {born.day} {born:%B %Y} is in the future"
    if oldest_years and born < years_before(today, oldest_years):
        return (
            f"the date of birth {born.day} {born:%B %Y} is more than {oldest_years} years ago "
            "(the dataset's oldest_years)"
        )
    return ""


# Where a postcode's format needs a digit, a letter typed for it.
_DIGIT_FOR = str.maketrans({"O": "0", "I": "1", "L": "1"})


def standardise_postcode(text: str) -> str:
    """The postcode as Borough stores it (``"e81dy"`` → ``"E8 1DY"``), or ``""`` if it is not one.

    A letter O, I or L where the format needs a digit is read as 0 or 1 if that makes a
    valid postcode ("E21 OAA" → "E21 0AA"); nothing else is changed.
    """
    try:
        return normalise_postcode(text)
    except InvalidPostcode:
        pass
    compact = "".join(text.split()).upper()
    if not 5 <= len(compact) <= 7:
        return ""
    inward = compact[-3].translate(_DIGIT_FOR) + compact[-2:]
    outward = compact[:-3]
    # The outward code's second and later characters may be digits; try the repair on them.
    outward = outward[0] + outward[1:].translate(_DIGIT_FOR)
    try:
        return normalise_postcode(outward + inward)
    except InvalidPostcode:
        return ""


#: A postal code of some country, as text: 3 to 10 letters, digits, spaces and hyphens
#: (``4223``, ``1234 AB``, ``75008``, ``K1A 0B6``, ``100-0001``).
_POSTAL_CODE = re.compile(r"[A-Z0-9][A-Z0-9 -]{1,8}[A-Z0-9]")


def standardise_any_postcode(text: str) -> str:
    """A UK postcode as ``standardise_postcode`` writes it; otherwise a postal code of another
    country kept as text, upper-cased with runs of spaces made one (``"1234  ab"`` →
    ``"1234 AB"``, ``"4223"``); ``""`` for anything that does not look like a postal code of
    any country (``"N/A"``, ``"UNKNOWN"``, ``"-"``, ``"0"``, ``"0000"``, ``"99999"``), so that
    junk shared by strangers is never taken for a shared postcode.

    Looking like a postal code means 3 to 10 ASCII letters, digits, spaces or hyphens, with at
    least one digit, and not only zeros or only nines (placeholders). Other repeated digits
    are real postcodes (``2222`` is Penshurst, New South Wales). ``is_uk_postcode`` tells the
    two kinds apart: only a UK postcode is given to the gazetteer's address matcher.
    """
    uk = standardise_postcode(text)
    if uk:
        return uk
    value = _SPACES.sub(" ", text).strip().upper()
    if not value.isascii() or not _POSTAL_CODE.fullmatch(value):
        return ""
    if not any(c.isdigit() for c in value):
        return ""
    if set(value.replace(" ", "").replace("-", "")) in ({"0"}, {"9"}):
        return ""
    return value


def is_uk_postcode(value: str) -> bool:
    """Whether a standardised postcode (``standardise_any_postcode``) is a UK postcode."""
    return bool(value) and NORMALISED.fullmatch(value) is not None


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}")


def standardise_email(text: str) -> str:
    """Lower case, spaces trimmed; ``""`` if it is not an e-mail address."""
    email = text.strip().lower()
    return email if _EMAIL.fullmatch(email) else ""


_NOT_ALPHANUMERIC = re.compile(r"[^0-9A-Z]")


_UK_SHAPED = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9 ]{2,4}[A-Z]")


def looks_like_uk_postcode(text: str) -> bool:
    """Shaped like a UK postcode without being one (``"WX4H1S"``, two characters swapped): a
    typing error, not another country's code (``"4223"``, ``"1234 AB"``, ``"K1A 0B6"``)."""
    compact = text.upper().replace(" ", "")
    return 5 <= len(compact) <= 7 and bool(_UK_SHAPED.fullmatch(text.upper().strip()))


def standardise_identifier(text: str) -> str:
    """An identity number (National Insurance, NHS, a pupil or social security number) as
    upper-case letters and digits only (``"qq 12 34 56 c"`` → ``"QQ123456C"``); ``""`` if it
    has no digit, fewer than 4 characters or one character repeated (``"000000"``, a
    placeholder that would make strangers alike)."""
    value = _NOT_ALPHANUMERIC.sub("", text.upper())
    if len(value) < 4 or not any(c.isdigit() for c in value) or len(set(value)) == 1:
        return ""
    return value


def standardise_phone(text: str) -> str:
    """UK national digits (``"+44 (0)7700 900123"`` → ``"07700900123"``); ``""`` if not a number."""
    digits = re.sub(r"\D", "", text)
    if text.strip().startswith("+") or digits.startswith("00"):
        digits = digits.removeprefix("00")
        if not digits.startswith("44"):
            return ""  # an international number: kept as given only
        digits = "0" + digits[2:].removeprefix("0")
    if digits.startswith("44") and len(digits) in (12, 13):
        digits = "0" + digits[2:]
    return digits if digits.startswith("0") and len(digits) in (10, 11) else ""


ADDRESS_WORDS = {
    "rd": "road",
    "st": "street",
    "str": "street",
    "ave": "avenue",
    "av": "avenue",
    "gr": "grove",
    "gro": "grove",
    "cl": "close",
    "ter": "terrace",
    "terr": "terrace",
    "gdns": "gardens",
    "gdn": "gardens",
    "pl": "place",
    "ln": "lane",
    "cres": "crescent",
    "cresc": "crescent",
    "sq": "square",
    "ct": "court",
    "crt": "court",
    "hse": "house",
    "ho": "house",
    "dr": "drive",
    "mans": "mansions",
    "flt": "flat",
    "blk": "block",
    "est": "estate",
    "wy": "way",
    "pk": "park",
    "hl": "hill",
    "mt": "mount",
    "ri": "rise",
}


def address_text(lines: list[str], postcode: str = "") -> str:
    """The address lines as one standard text: ``["FLT 3, KESTREL HSE", "12 ALBION RD"]`` →
    ``"flat 3 kestrel house 12 albion road"``. A postcode among the lines is taken out: a UK
    postcode wherever it is, another country's (``"4223"``) only as whole words, so that a
    house number that happens to contain it stays."""
    text = _APOSTROPHES.sub("", fold(" ".join(lines)).lower())
    if postcode and is_uk_postcode(postcode):
        text = text.replace(postcode.lower(), " ").replace(postcode.replace(" ", "").lower(), " ")
    elif postcode:
        text = re.sub(rf"(?<![a-z0-9]){re.escape(postcode.lower())}(?![a-z0-9])", " ", text)
    words = _NOT_WORD.sub(" ", text).split()
    out = []
    for index, word in enumerate(words):
        if word == "st" and (index == 0 or words[index - 1][0].isdigit()):
            out.append("saint")  # "12 st johns road"; "albion st" is a street
        else:
            out.append(ADDRESS_WORDS.get(word, word))
    return " ".join(out)


def clean_text(text: str) -> str:
    """A cell's text with runs of spaces made one and the ends trimmed."""
    return _SPACES.sub(" ", text).strip()
