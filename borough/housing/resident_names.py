"""Payer names matched to tenants through the resident index.

A payment that comes with only a name ("MR B SMITH", "ROBERT SMITH", "Bob Smith") is matched
the way the council's datasets are linked: the name is split as one-field names are split on
loading (``standardise.split_full_name``), the first name made canonical (nicknames, accents),
and the records with that canonical first name and surname are found in the verification
index (its first blocking key). Their resident IDs lead to the rent accounts whose tenants they
are (``Tenant.resident_id``). So a payer who is a tenant under another form of their name is
found, and so is a tenant whose name the council holds in several datasets.

The matcher (``matching.engine``) decides what to do with the scores: a unique resident match
scores 0.97, which posts automatically only with the account's usual amount; anything else is a
suggestion. Without a resident index (before the first link) the engine's own name index of
tenants' names is used alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable

from borough.residents import standardise
from borough.residents.verification.prepare import prepare

UNIQUE = 0.97  # one resident, tenant of one account


class ResidentIndexNames:
    def __init__(self, index, accounts_by_resident: dict[str, list[Hashable]], fallback=None):
        self.index = index
        self.accounts_by_resident = accounts_by_resident
        self.fallback = fallback

    def __call__(self, payer_name: str) -> list[tuple[Hashable, float]]:
        scores: dict[Hashable, float] = {}
        if self.fallback is not None:
            for account_id, score in self.fallback(payer_name):
                scores[account_id] = max(score, scores.get(account_id, 0.0))
        name = standardise.split_full_name(payer_name or "")
        if name.first and name.surname:
            applicant = prepare(
                first_name=name.first,
                first_name_canonical=standardise.canonical_first_name(name.first),
                surname=name.surname,
            )
            residents = {
                self.index.resident_id(i)
                for i in self.index.candidates(applicant)
                if self.index.resident_id(i)
            }
            accounts = {a for r in residents for a in self.accounts_by_resident.get(r, ())}
            if accounts:
                score = UNIQUE if len(accounts) == 1 else 0.9 / len(accounts)
                for account_id in accounts:
                    scores[account_id] = max(score, scores.get(account_id, 0.0))
        return sorted(scores.items(), key=lambda item: -item[1])


def resident_name_matcher(accounts: Iterable, tenants: Iterable[tuple[int, str]]):
    """The matcher for ``accounts`` (the engine's RentAccount list), or None without a resident
    index. ``tenants`` is (account id, resident ID) for every tenant linked to the index."""
    from borough.housing.matching.names import TenantNameIndex
    from borough.residents.verification.service import HOLDER, VerificationUnavailable

    try:
        index = HOLDER.get()
    except VerificationUnavailable:
        return None
    by_resident: dict[str, list[Hashable]] = defaultdict(list)
    for account_id, resident_id in tenants:
        if resident_id:
            by_resident[resident_id].append(account_id)
    return ResidentIndexNames(index, by_resident, fallback=TenantNameIndex(list(accounts)))
