"""Which AddressBase classification codes Borough counts as somewhere people live.

The AddressBase Classification Scheme (GeoPlace / Ordnance Survey) gives every address a code
of up to six characters: a primary letter ("R" residential, "C" commercial, "P" parent shell,
"X" dual use, …), a second letter for the secondary class ("RD" dwelling), two digits for the
tertiary class ("RD04" terraced house) and, for a few, two letters more ("RI02NC").

The default rule, longest matching prefix wins:

| code | meaning | residential? |
| --- | --- | --- |
| ``R`` (and anything under it not listed below) | residential: ``RD`` dwellings (houses, flats, houseboats, caravans), ``RH`` houses in multiple occupation, ``RI`` residential institutions (care homes, communal residences) | yes |
| ``RB`` | residential ancillary building (a shed or outbuilding with its own address) | no |
| ``RC`` | car park space allocated to a dwelling | no |
| ``RG`` | lock-up garage or garage court | no |
| ``X`` | dual use: a dwelling that is also a business (a flat over a shop, a farm) | yes |
| everything else (``C``, ``L``, ``M``, ``O``, ``P``, ``U``, ``Z``) | commercial, land, military, other, parent shells, unclassified, objects of interest | no |

A council whose services need another rule sets ``[residential]`` in its mapping file, or maps
``is_residential`` to a column of its own (see ``docs/gazetteer.md``).
"""

import re
from collections.abc import Iterable

DEFAULT_RESIDENTIAL = ("R", "X")
DEFAULT_NOT_RESIDENTIAL = ("RB", "RC", "RG")

#: Primary letter, optional secondary letter, optional two digits, optional two letters.
CLASSIFICATION_FORMAT = re.compile(r"[A-Z](?:[A-Z](?:[0-9]{2}(?:[A-Z]{2})?)?)?")


class ResidentialRule:
    """Decides ``is_residential`` from a classification code by its longest matching prefix."""

    def __init__(
        self,
        residential: Iterable[str] = DEFAULT_RESIDENTIAL,
        not_residential: Iterable[str] = DEFAULT_NOT_RESIDENTIAL,
    ) -> None:
        prefixes = [(p.upper(), True) for p in residential] + [
            (p.upper(), False) for p in not_residential
        ]
        self._prefixes = sorted(prefixes, key=lambda item: len(item[0]), reverse=True)

    def __call__(self, code: str) -> bool:
        code = code.upper()
        for prefix, answer in self._prefixes:
            if code.startswith(prefix):
                return answer
        return False


default_rule = ResidentialRule()


def is_residential_code(code: str) -> bool:
    """Whether ``code`` is residential under Borough's default rule (see the module's table)."""
    return default_rule(code)
