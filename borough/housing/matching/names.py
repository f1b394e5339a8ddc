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

from rapidfuzz import fuzz, process

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


class _Surname:
    """The tenants who share one surname: their accounts, full names and first initials."""

    __slots__ = ("account_ids", "by_initial", "full_names")

    def __init__(self) -> None:
        self.account_ids: list[Hashable] = []
        self.full_names: list[str] = []
        self.by_initial: dict[str, list[int]] = defaultdict(list)

    def add(self, account_id: Hashable, full_name: str, first: str) -> None:
        self.by_initial[first[0]].append(len(self.account_ids))
        self.account_ids.append(account_id)
        self.full_names.append(full_name)


class TenantNameIndex:
    def __init__(self, accounts: Iterable[RentAccount]) -> None:
        self.by_surname: dict[str, _Surname] = defaultdict(_Surname)
        for account in accounts:
            for name in account.tenant_names:
                words = standardise_name(name)
                if len(words) < 2:
                    continue
                self.by_surname[words[-1]].add(account.account_id, " ".join(words), words[0])

    def __call__(self, payer_name: str) -> list[tuple[Hashable, float]]:
        words = standardise_name(payer_name)
        if not words:
            return []
        query = " ".join(words)
        initials = {w for w in words if len(w) == 1} if len(words) <= 3 else set()
        scores: dict[Hashable, float] = {}
        for surname in {w for w in words if len(w) > 1}:
            tenants = self.by_surname.get(surname)
            if tenants is None:
                continue
            # every tenant of the surname scored at once (a common surname has hundreds)
            found = {
                index: score
                for _, score, index in process.extract(
                    query,
                    tenants.full_names,
                    scorer=fuzz.token_sort_ratio,
                    limit=None,
                    score_cutoff=MIN_SCORE * 100,
                )
            }
            for initial in initials:
                for index in tenants.by_initial.get(initial, ()):
                    found[index] = max(found.get(index, 0.0), INITIAL_SCORE * 100)
            for index in sorted(found):
                score = found[index] / 100
                account_id = tenants.account_ids[index]
                if score > scores.get(account_id, 0.0):
                    scores[account_id] = score
        return sorted(scores.items(), key=lambda item: -item[1])[:20]
