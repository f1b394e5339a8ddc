"""How an address is written for people: properly cased lines and a single line.

Gazetteer exports are usually in capitals ("FLAT 3", "KESTREL HOUSE", "ALBION ROAD"). Borough
stores the text as the council supplied it and cases it when it is shown, so a later export
that fixes a spelling is a plain update and nothing is lost.
"""

import re

# Words kept in lower case inside a place or street name ("Newcastle upon Tyne",
# "Stoke-on-Trent", "Weston-super-Mare"), never at the start.
_SMALL_WORDS = frozenset(
    {"and", "at", "by", "de", "in", "le", "la", "of", "on", "the", "upon", "under", "super"}
)
# Letters kept in capitals wherever they stand.
_CAPITAL_WORDS = frozenset({"PO", "UK", "YMCA", "YWCA", "NHS", "II", "III", "IV", "VI", "VII"})
_ORDINALS = frozenset({"st", "nd", "rd", "th"})
_WORD = re.compile(r"[A-Za-z][A-Za-z']*")


def _case_word(word: str, first: bool) -> str:
    if word.upper() in _CAPITAL_WORDS:
        return word.upper()
    lower = word.lower()
    if not first and lower in _SMALL_WORDS:
        return lower
    if lower.startswith("mc") and len(lower) > 2:
        return "Mc" + lower[2].upper() + lower[3:]
    # O'Neill, D'Arcy; but St John's and Queen's stay as they are.
    if len(lower) > 2 and lower[1] == "'":
        return lower[0].upper() + "'" + lower[2].upper() + lower[3:]
    return lower[0].upper() + lower[1:]


def address_case(text: str) -> str:
    """``text`` in the case an address is written in, if it came all in capitals or all lower.

    Text already in mixed case is the council's own choice and is kept. Letters that follow a
    digit stay as they are ("12A", "1st").
    """
    text = " ".join(text.split())
    if not text or (text != text.upper() and text != text.lower()):
        return text
    out = []
    last = 0
    for index, match in enumerate(_WORD.finditer(text)):
        start, end = match.span()
        out.append(text[last:start])
        word = match.group()
        if start > 0 and text[start - 1].isdigit():
            # "12A" keeps its letter in capitals; "1st" its ordinal in lower case.
            out.append(word.lower() if word.lower() in _ORDINALS else word.upper())
        else:
            out.append(_case_word(word, first=index == 0))
        last = end
    out.append(text[last:])
    return "".join(out)


def address_lines(
    *,
    sub_building: str = "",
    building_name: str = "",
    building_number: str = "",
    street: str = "",
    locality: str = "",
    town: str = "",
    postcode: str = "",
) -> list[str]:
    """The lines of an address, cased, with empty parts left out. The postcode is the last line.

    A locality that repeats the town is left out.
    """
    number_and_street = " ".join(p.strip() for p in (building_number, street) if p and p.strip())
    lines = [
        address_case(p) for p in (sub_building, building_name, number_and_street) if p and p.strip()
    ]
    town_cased = address_case(town or "")
    locality_cased = address_case(locality or "")
    if locality_cased and locality_cased.casefold() != town_cased.casefold():
        lines.append(locality_cased)
    if town_cased:
        lines.append(town_cased)
    if postcode:
        lines.append(postcode)
    return lines


def single_line(lines: list[str], postcode: str = "", *, include_postcode: bool = True) -> str:
    """``lines`` joined with commas; the postcode follows the town after a space, as on a letter."""
    if postcode and lines and lines[-1] == postcode:
        lines = lines[:-1]
    text = ", ".join(lines)
    if include_postcode and postcode:
        return f"{text} {postcode}" if text else postcode
    return text
