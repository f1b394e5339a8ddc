"""Writing people and addresses the way a council system would hold them, errors included."""

from __future__ import annotations

import random
import string

import numpy as np

from . import names
from .households import Population
from .noise import Noise, abbreviate, noisy_postcode, typo
from .people import NEVER, YEAR

RECORD_STRIDE = 100_000  # record numbers are chunk * RECORD_STRIDE + local number


class Chunk:
    """One chunk's people and units, held as plain lists for fast per-record access."""

    def __init__(
        self,
        index: int,
        pop: Population,
        units: dict[str, list],
        today: int,
        rng: np.random.Generator,
    ):
        p = pop.people
        self.index = index
        self.pop = pop
        self.today = today
        self.rng = rng
        self.units = units
        self.first = p.first.tolist()
        self.middle = p.middle.tolist()
        self.surname = p.surname.tolist()
        self.birth = p.birth_surname.tolist()
        self.title = p.title.tolist()
        self.dob = p.dob.tolist()
        self.email = p.email.tolist()
        self.phone = p.phone.tolist()
        self.pid = pop.person_id.tolist()
        self.nick = names.nicknames()
        self.age_now = (today - p.dob) / YEAR
        self.alive = p.dod == NEVER
        arrived = np.full(len(p), NEVER, dtype=np.int64)
        np.minimum.at(arrived, pop.hist_person, pop.hist_from)
        self.arrived = arrived.tolist()  # first day at any address in the borough
        self._counters: dict[str, int] = {}

    def next_number(self, dataset: str) -> int:
        """A record number unique across chunks for this dataset."""
        k = self._counters.get(dataset, 0)
        if k >= RECORD_STRIDE:
            raise OverflowError(f"more than {RECORD_STRIDE} {dataset} records in one chunk")
        self._counters[dataset] = k + 1
        return self.index * RECORD_STRIDE + k

    def pyrandom(self) -> random.Random:
        return random.Random(int(self.rng.integers(2**63)))

    # -- names -------------------------------------------------------------------------------
    def name(self, i: int, n: Noise, rnd: random.Random) -> tuple[str, str, str]:
        """(first, middle names, surname) of person ``i`` as a dataset would record them."""
        first = self.first[i]
        variants = self.nick.get(first)
        if variants and rnd.random() < n.nickname:
            first = rnd.choice(variants)
        if rnd.random() < n.typo_first:
            first = typo(first, rnd)
        middle = self.middle[i]
        if middle:
            u = rnd.random()
            if u < n.middle_dropped:
                middle = ""
            elif u < n.middle_dropped + n.middle_initial:
                middle = " ".join(m[0] for m in middle.split())
        elif n.middle_added and rnd.random() < n.middle_added:
            middle = rnd.choice(string.ascii_uppercase.replace("X", ""))
        surname = self.surname[i]
        if surname != self.birth[i] and rnd.random() < n.stale_surname:
            surname = self.birth[i]
        if "-" in surname and rnd.random() < n.hyphen_part:
            surname = rnd.choice(surname.split("-"))
        if rnd.random() < n.typo_surname:
            surname = typo(surname, rnd)
        if rnd.random() < n.ascii_fold:
            fold = names.ascii_fold
            first, middle, surname = fold(first), fold(middle), fold(surname)
        return first, middle, surname

    def full_name(
        self, i: int, n: Noise, rnd: random.Random, title: bool = True, initials: bool = False
    ) -> str:
        first, middle, surname = self.name(i, n, rnd)
        if initials and middle:
            middle = " ".join(m[0] for m in middle.split())
        parts = [self.title[i] if title else "", first, middle, surname]
        return " ".join(p for p in parts if p)

    # -- addresses ---------------------------------------------------------------------------
    def address_parts(self, u: int, n: Noise, rnd: random.Random) -> tuple[str, str, str]:
        """(flat, building, street line) of unit ``u``, with the dataset's habits."""
        units = self.units
        sao, text, number, street = (
            units["sao"][u],
            units["pao_text"][u],
            units["number"][u],
            units["street"][u],
        )
        if sao and rnd.random() < n.flat_dropped:
            sao = ""
        if rnd.random() < n.address_abbreviated:
            text, street = abbreviate(text), abbreviate(street)
            sao = sao.replace("FLAT ", "FLT ") if rnd.random() < 0.3 else sao
        street_line = f"{number} {street}" if number else street
        return sao, text, street_line

    def address_lines(self, u: int, n: Noise, rnd: random.Random, width: int) -> list[str]:
        """Address lines in capitals, packed into ``width`` columns (blank-padded)."""
        sao, text, street_line = self.address_parts(u, n, rnd)
        if sao and text and rnd.random() < 0.5:
            lines = [f"{sao} {text}", street_line]
        elif sao and sao.startswith("FLAT ") and not text and rnd.random() < 0.1:
            lines = [f"{sao[5:]} {street_line}"]  # "3 12 ALBION ROAD" — a common shorthand
        else:
            lines = [x for x in (sao, text, street_line) if x]
        if rnd.random() < 0.6:
            lines.append(self.units["locality"][u])
        lines.append("LONDON")
        while len(lines) > width:
            lines[0:2] = [f"{lines[0]} {lines[1]}"]
        return lines + [""] * (width - len(lines))

    def address_line(self, u: int, n: Noise, rnd: random.Random) -> str:
        """The address on one line, in one of the orders people write it."""
        sao, text, street_line = self.address_parts(u, n, rnd)
        if sao and not text and rnd.random() < 0.3:
            return f"{street_line} {sao}"  # "12 ALBION ROAD FLAT 3"
        return ", ".join(x for x in (sao, text, street_line) if x)

    def postcode(self, u: int, n: Noise, rnd: random.Random) -> str:
        return noisy_postcode(self.units["postcode"][u], n, rnd)

    def uprn(self, u: int, n: Noise, rnd: random.Random) -> str:
        return "" if rnd.random() < n.uprn_missing else str(self.units["uprn"][u])


def as_typed(text: str, rnd: random.Random) -> str:
    """How residents type into a web form: mostly title case, some all lower or upper."""
    u = rnd.random()
    if u < 0.85:
        return string.capwords(text.lower())
    return text.lower() if u < 0.93 else text.upper()
