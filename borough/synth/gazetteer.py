"""Streets of houses, converted houses, estates of blocks and high streets, as LLPG rows.

Each street of the plan is laid out here: numbered buildings, blocks with a property-shell
parent (``PP``) and flats pointing at it, shops and offices with flats above. The chunk gets back
its gazetteer rows and a table of its residential units (where households live).
"""

from __future__ import annotations

import math
import random

from . import names
from .plan import CENTRE_LAT, CENTRE_LON, ESTATE, HIGH_STREET, HOUSES, TOWN, postcode

COLUMNS = [
    "UPRN",
    "PARENT_UPRN",
    "USRN",
    "SAO_TEXT",
    "PAO_START_NUMBER",
    "PAO_TEXT",
    "STREET_DESCRIPTION",
    "LOCALITY",
    "TOWN_NAME",
    "POSTCODE_LOCATOR",
    "WARD_CODE",
    "WARD_NAME",
    "LATITUDE",
    "LONGITUDE",
    "CLASSIFICATION_CODE",
    "CAR_FREE",
    "LOGICAL_STATUS",
]

UPRN_BASE = 100_090_000_000  # UPRN = base + 1000 * street + row: unique, 12 digits
HOUSE_STYLES = [
    (0.70, ("RD04", "RD03", "RD02"), (0.85, 0.12, 0.03)),
    (0.25, ("RD04", "RD03", "RD02"), (0.20, 0.70, 0.10)),
    (0.05, ("RD04", "RD03", "RD02"), (0.05, 0.35, 0.60)),
]
COMMERCIAL = (
    ("CR08", 0.45),
    ("CO01", 0.20),
    ("CR07", 0.12),
    ("CR10", 0.10),
    ("CR02", 0.06),
    ("CR06", 0.04),
    ("CR01", 0.03),
)
FLAT_NAMING = (
    ["FLAT A", "FLAT B", "FLAT C", "FLAT D", "FLAT E"],
    ["GROUND FLOOR FLAT", "FIRST FLOOR FLAT", "SECOND FLOOR FLAT", "TOP FLOOR FLAT", "FLAT 5"],
    ["FLAT 1", "FLAT 2", "FLAT 3", "FLAT 4", "FLAT 5"],
)

# one laid-out row: sao, pao number, pao text, class, parent row (-1), council, car free, position
_Row = tuple[str, int, str, str, int, bool, bool, float]


def layout_street(kind: int, n_res: int, n_comm: int, rnd: random.Random) -> list[_Row]:
    """Rows for one street; exactly ``n_res`` of them are residential units."""
    if kind == HOUSES:
        return _houses(n_res, rnd)
    if kind == ESTATE:
        return _estate(n_res, rnd)
    if kind == HIGH_STREET:
        return _high_street(n_res, n_comm, rnd)
    return _mixed(n_res, rnd)


def _house_class(rnd: random.Random) -> str:
    style = rnd.choices(HOUSE_STYLES, weights=[s[0] for s in HOUSE_STYLES])[0]
    return rnd.choices(style[1], weights=style[2])[0]


def _houses(n: int, rnd: random.Random) -> list[_Row]:
    style = rnd.choices(HOUSE_STYLES, weights=[s[0] for s in HOUSE_STYLES])[0]
    house_names = names.words()["house_name"]
    rows = []
    for number in range(1, n + 1):
        cls = rnd.choices(style[1], weights=style[2])[0]
        text = rnd.choice(house_names) if rnd.random() < 0.02 else ""
        rows.append(("", number, text, cls, -1, rnd.random() < 0.03, False, number * 7.0))
    return rows


def _mixed(n: int, rnd: random.Random) -> list[_Row]:
    rows: list[_Row] = []
    number, left = 0, n
    while left > 0:
        number += 1
        pos = number * 8.0
        if rnd.random() < 0.45 and left >= 2:
            flats = min(left, rnd.randint(2, 4))
            naming = rnd.choice(FLAT_NAMING)
            council = rnd.random() < 0.08
            parent = len(rows)
            rows.append(("", number, "", "PP", -1, council, False, pos))
            rows.extend(
                (naming[k], number, "", "RD06", parent, council, False, pos) for k in range(flats)
            )
            left -= flats
        else:
            rows.append(("", number, "", _house_class(rnd), -1, rnd.random() < 0.04, False, pos))
            left -= 1
    return rows


def _block_names(rnd: random.Random, k: int) -> list[str]:
    w = names.words()
    stems = rnd.sample(w["block_stem"], k=min(k, len(w["block_stem"])))
    return [f"{stems[i % len(stems)]} {rnd.choice(w['block_suffix'])}" for i in range(k)]


def _estate(n: int, rnd: random.Random) -> list[_Row]:
    sizes = []
    left = n
    while left > 0:
        size = min(left, rnd.randint(12, 80))
        if 0 < left - size < 6:  # no tiny trailing block
            size = left
        sizes.append(size)
        left -= size
    new_build = rnd.random() < 0.35
    rows: list[_Row] = []
    for b, (size, block) in enumerate(zip(sizes, _block_names(rnd, len(sizes)), strict=True)):
        council_share = 0.25 if new_build else 0.70
        car_free = new_build and rnd.random() < 0.6
        number = b + 1 if new_build and rnd.random() < 0.5 else 0
        pos = (b + 0.5) * 45.0
        parent = len(rows)
        rows.append(("", number, block, "PP", -1, False, car_free, pos))
        rows.extend(
            (
                f"FLAT {k}",
                number,
                block,
                "RD06",
                parent,
                rnd.random() < council_share,
                car_free,
                pos,
            )
            for k in range(1, size + 1)
        )
    return rows


def _high_street(n_res: int, n_comm: int, rnd: random.Random) -> list[_Row]:
    flats = [0] * n_comm
    for _ in range(n_res):  # flats above shops, at most three a building until full
        options = [i for i, f in enumerate(flats) if f < 3] or [n_comm - 1]
        flats[rnd.choice(options)] += 1
    classes, weights = zip(*COMMERCIAL, strict=True)
    rows: list[_Row] = []
    for b in range(n_comm):
        number = b + 1
        cls = rnd.choices(classes, weights=weights)[0]
        pos = number * 8.0
        if flats[b] == 0:
            rows.append(("", number, "", cls, -1, False, False, pos))
            continue
        parent = len(rows)
        naming = rnd.choice(FLAT_NAMING[1:]) if flats[b] <= 4 else FLAT_NAMING[2]
        rows.append(("", number, "", "PP", -1, False, False, pos))
        rows.append(("GROUND FLOOR", number, "", cls, parent, False, False, pos))
        rows.extend(
            (
                naming[k] if k < len(naming) else f"FLAT {k + 1}",
                number,
                "",
                "RD06",
                parent,
                False,
                False,
                pos,
            )
            for k in range(flats[b])
        )
    return rows


def build(
    streets: dict, street_names: list[str], wards: list[dict], first_street: int, rnd: random.Random
) -> tuple[list[list], dict[str, list]]:
    """Gazetteer rows for a run of the plan's streets (``streets`` holds their slice of the
    plan's street table, the first being street number ``first_street``) and their residential
    units in plan order."""
    cos_lat = math.cos(math.radians(CENTRE_LAT))
    rows: list[list] = []
    units: dict[str, list] = {
        k: []
        for k in (
            "uprn",
            "sao",
            "number",
            "pao_text",
            "street",
            "locality",
            "postcode",
            "ward",
            "cls",
            "council",
            "car_free",
            "pd",
            "elector_base",
            "in_cpz",
            "street_index",
            "usrn",
        )
    }
    for j in range(len(street_names)):
        s = first_street + j
        layout = layout_street(
            int(streets["kind"][j]), int(streets["n_res"][j]), int(streets["n_comm"][j]), rnd
        )
        ward = wards[int(streets["ward"][j])]
        name = street_names[j]
        usrn = int(streets["usrn"][j])
        x0, y0, angle = streets["x0"][j], streets["y0"][j], streets["angle"][j]
        dx, dy = math.cos(angle), math.sin(angle)
        pc_lo, pc_n = int(streets["pc_lo"][j]), int(streets["pc_n"][j])
        if len(layout) >= 1000:
            raise ValueError("a street has more than 999 addresses")
        uprns = [UPRN_BASE + 1000 * s + r for r in range(len(layout))]
        for r, (sao, number, text, cls, parent, council, car_free, pos) in enumerate(layout):
            side = 1 if number % 2 else -1
            x = x0 + dx * pos / 2 - dy * 9.0 * side
            y = y0 + dy * pos / 2 + dx * 9.0 * side
            lat = CENTRE_LAT + y / 111_320
            lon = CENTRE_LON + x / (111_320 * cos_lat)
            pc = postcode(pc_lo + r * pc_n // len(layout))
            rows.append(
                [
                    uprns[r],
                    uprns[parent] if parent >= 0 else "",
                    usrn,
                    sao,
                    number or "",
                    text,
                    name,
                    ward["locality"],
                    TOWN,
                    pc,
                    ward["code"],
                    ward["name"],
                    f"{lat:.6f}",
                    f"{lon:.6f}",
                    cls,
                    "Y" if car_free else "N",
                    1,
                ]
            )
            if cls.startswith("RD"):
                for key, value in (
                    ("uprn", uprns[r]),
                    ("sao", sao),
                    ("number", number),
                    ("pao_text", text),
                    ("street", name),
                    ("locality", ward["locality"]),
                    ("postcode", pc),
                    ("ward", int(streets["ward"][j])),
                    ("cls", cls),
                    ("council", council),
                    ("car_free", car_free),
                    ("pd", streets["pd"][j]),
                    ("elector_base", int(streets["elector_base"][j])),
                    ("in_cpz", bool(streets["in_cpz"][j])),
                    ("street_index", s),
                    ("usrn", usrn),
                ):
                    units[key].append(value)
    return rows, units
