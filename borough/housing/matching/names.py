"""The default payer-name matcher: tenants' names, blocked by surname, scored with rapidfuzz.

The matching engine takes any ``name_matcher(payer_name) -> [(account_id, score 0..1)]``; the
resident index will replace this one. Bank payer names come as "J SMITH", "MR JOHN SMITH",
"SMITH J" or "JOHN A SMITH", so every word of two letters or more is tried as the surname, and an
initial that agrees with the tenant's first name scores :data:`INITIAL_SCORE` — never enough
on its own for an automatic match.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Hashable, Iterable
from typing import TYPE_CHECKING

from rapidfuzz import fuzz

if TYPE_CHECKING:
    from .engine import RentAccount

TITLES = frozenset({"MR", "MRS", "MS", "MISS", "MX", "DR", "REV", "SIR", "PROF", "LADY", "LORD"})
INITIAL_SCORE = 0.85
MIN_SCORE = 0.6


def standardise_name(name: str) -> list[str]:
    """Upper-case words, without titles or punctuation ("Mrs. Ann-Marie O'Neil" →
    ["ANN", "MARIE", "ONEIL"])."""
    words = re.sub(r"[^A-Z\s-]", "", name.upper()).replace("-", " ").split()
    return [w for w in words if w not in TITLES and w not in ("AND", "&")]


class TenantNameIndex:
    def __init__(self, accounts: Iterable[RentAccount]) -> None:
        self.by_surname: dict[str, list[tuple[Hashable, str, str]]] = defaultdict(list)
        for account in accounts:
            for name in account.tenant_names:
                words = standardise_name(name)
                if len(words) < 2:
                    continue
                self.by_surname[words[-1]].append((account.account_id, " ".join(words), words[0]))

    def __call__(self, payer_name: str) -> list[tuple[Hashable, float]]:
        words = standardise_name(payer_name)
        if not words:
            return []
        query = " ".join(words)
        initials = {w for w in words if len(w) == 1}
        scores: dict[Hashable, float] = {}
        for surname in {w for w in words if len(w) > 1}:
            for account_id, full, first in self.by_surname.get(surname, ()):
                score = fuzz.token_sort_ratio(query, full) / 100
                if first[0] in initials and len(words) <= 3:
                    score = max(score, INITIAL_SCORE)
                if score >= MIN_SCORE and score > scores.get(account_id, 0.0):
                    scores[account_id] = score
        return sorted(scores.items(), key=lambda item: -item[1])[:20]
