"""Addresses → UPRNs through the council's gazetteer, with ``uk-address-matcher``.

``uk-address-matcher`` (the Ministry of Justice's pre-trained Splink model for UK addresses)
matches a batch of addresses against the gazetteer's properties offline, in DuckDB. Borough
accepts its answer only when it is clear:

- an exact match (after the matcher's own cleaning) is accepted;
- a probabilistic match is accepted when it beats the runner-up by at least
  ``MIN_DISTINGUISHABILITY`` (match weight, log2 of the Bayes factor) — a flat whose number is
  missing fits every flat in the block equally well, and is left unmatched rather than guessed;
- and when most of the address's words (street, building) are found in the matched property's
  address (``MIN_WORDS_FOUND``), so a postcode and a house number alone never decide it;
- and when the address holds the matched property's flat and building numbers (``"Lovelace
  Court, 1 Baxter Gardens"`` is not "Flat 1" of it: the 1 is the building's number).

The gazetteer is prepared for the matcher once per distinct gazetteer content and kept under
``BOROUGH_DATA/address-matching/``. Measured accuracy is in ``docs/source-datasets.md``.
"""

import hashlib
import logging
import os
import re
import shutil
import tempfile
import warnings
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from rapidfuzz import fuzz, process

from borough.places.models import Property
from borough.places.queries import NOT_OFFERED_CLASSES
from borough.residents.standardise import address_text, is_uk_postcode

#: A probabilistic match must beat the runner-up by this much match weight.
MIN_DISTINGUISHABILITY = 2.0
#: Share of the address's words (three letters or more) the matched address must contain.
MIN_WORDS_FOUND = 0.5
#: Addresses per run of the matcher. Bigger runs need more memory (measured: 50,000 against
#: 220,000 properties took 60 s and 2.4 GB; one run for all of a million-record borough's
#: addresses took 5.6 GB); smaller ones pay its fixed cost of a few seconds more often.
MATCH_BATCH = 50_000
_WORD_SIMILARITY = 80
_NOT_DISTINCTIVE = frozenset({"flat", "london", "floor", "ground", "first", "second", "the"})
_FLOORS = frozenset({"basement", "lower", "ground", "first", "second", "third", "top", "upper"})
_NUMBER_OR_LETTER = re.compile(r"\d+|(?<=\d)[a-z](?![a-z])")

# The matcher and Splink log their stages at INFO; addresses are personal data, keep them out.
for _name in ("uk_address_matcher", "splink", "sqlglot"):
    logging.getLogger(_name).setLevel(logging.WARNING)


@dataclass(frozen=True)
class AddressMatch:
    """The UPRN an address matched, or None and why not."""

    uprn: int | None
    reason: str = ""


#: (address as given, standardised postcode): the key of an address to match.
AddressKey = tuple[str, str]


class Gazetteer:
    """The gazetteer's properties as address matching needs them."""

    def __init__(self) -> None:
        rows = Property.objects.order_by("uprn").values_list(
            "uprn",
            "sub_building",
            "building_name",
            "building_number",
            "street",
            "locality",
            "town",
            "postcode",
            "classification",
        )
        self.uprns: set[int] = set()
        self.candidates: list[tuple[str, str, str]] = []  # (uprn, address_concat, postcode)
        self.texts: dict[int, str] = {}
        self.identifiers: dict[int, Counter] = {}  # flat and building numbers, floor words
        digest = hashlib.sha256()
        for uprn, sub, name, number, street, locality, town, postcode, cls in rows.iterator(
            chunk_size=20_000
        ):
            self.uprns.add(uprn)
            if cls.startswith(NOT_OFFERED_CLASSES):
                continue  # a building shell or a street is not where a person lives
            number_street = " ".join(p for p in (number, street) if p)
            parts = [p for p in (sub, name, number_street, locality, town) if p]
            concat = " ".join(parts).upper()
            self.candidates.append((str(uprn), concat, postcode))
            self.texts[uprn] = address_text(parts)
            self.identifiers[uprn] = identifiers(address_text([sub, number]))
            digest.update(f"{uprn}\x1f{concat}\x1f{postcode}\x1e".encode())
        self.key = digest.hexdigest()

    def __contains__(self, uprn: int) -> bool:
        return uprn in self.uprns


def identifiers(text: str) -> Counter:
    """The numbers, single letters and floor words of a standardised address text:
    ``"flat 3 12a"`` → 3, 12, a."""
    found: Counter = Counter()
    for word in text.split():
        if word in _FLOORS or len(word) == 1:
            found[word] += 1
        elif any(c.isdigit() for c in word):
            found.update(_NUMBER_OR_LETTER.findall(word))
    return found


def _words_found(query: str, candidate: str) -> float:
    words = [w for w in query.split() if len(w) >= 3 and w.isalpha() and w not in _NOT_DISTINCTIVE]
    if not words:
        return 1.0
    targets = candidate.split()
    found = sum(
        1
        for w in words
        if process.extractOne(w, targets, scorer=fuzz.ratio, score_cutoff=_WORD_SIMILARITY)
    )
    return found / len(words)


class AddressMatcher:
    """Matches batches of addresses to one gazetteer, remembering what it has matched."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer
        self.known: dict[AddressKey, AddressMatch] = {}

    def match(self, keys: Iterable[AddressKey]) -> dict[AddressKey, AddressMatch]:
        """The match of every key; addresses not seen before are matched in one batch."""
        wanted = list(dict.fromkeys(keys))
        todo = [k for k in wanted if k not in self.known]
        if todo:
            self.known.update(self._run(todo))
        return {k: self.known[k] for k in wanted}

    def _run(self, keys: list[AddressKey]) -> dict[AddressKey, AddressMatch]:
        out: dict[AddressKey, AddressMatch] = {}
        queries = []
        for key in keys:
            if not key[0].strip():
                out[key] = AddressMatch(None, "the record has no address")
            elif not self.gazetteer.candidates:
                out[key] = AddressMatch(None, "the gazetteer is empty: import it first")
            else:
                queries.append(key)
        if not queries:
            return out
        for start in range(0, len(queries), MATCH_BATCH):
            batch = queries[start : start + MATCH_BATCH]
            for key, (uprn, reason, _weight, distinguishability) in zip(
                batch, self._ukam(batch), strict=True
            ):
                out[key] = self._judge(key, uprn, reason, distinguishability)
        return out

    def _judge(self, key: AddressKey, uprn, reason, distinguishability) -> AddressMatch:
        if uprn is None:
            return AddressMatch(None, "no address in the gazetteer is close enough")
        uprn = int(uprn)
        found = self.gazetteer.texts.get(uprn, "")
        if not (reason or "").startswith("exact"):
            if distinguishability is not None and distinguishability < MIN_DISTINGUISHABILITY:
                return AddressMatch(
                    None,
                    f"it fits several addresses about equally well, such as '{found}' "
                    "(is a flat number missing?)",
                )
            text = address_text([key[0]])
            if _words_found(text, found) < MIN_WORDS_FOUND:
                return AddressMatch(None, f"the closest address, '{found}', differs too much")
            if self.gazetteer.identifiers[uprn] - identifiers(text):
                return AddressMatch(
                    None,
                    f"the closest address, '{found}', has a flat or building number the "
                    "address does not",
                )
        return AddressMatch(uprn)

    def _ukam(self, queries: list[AddressKey]) -> list[tuple]:
        import duckdb
        import pyarrow as pa
        from uk_address_matcher import AddressMatcher as UkamMatcher

        folder = prepared_gazetteer(self.gazetteer)
        con = duckdb.connect()
        try:
            table = pa.table(
                {
                    "unique_id": [str(i) for i in range(len(queries))],
                    "address_concat": [text for text, _ in queries],
                    # a postcode from another country (kept as text) is not given to the
                    # UK matcher: it could only point it at the wrong UK postcode
                    "postcode": [
                        postcode if is_uk_postcode(postcode) else None for _, postcode in queries
                    ],
                }
            )
            matcher = UkamMatcher(
                canonical_addresses=str(folder),
                addresses_to_match=con.from_arrow(table),
                con=con,
                show_progress="off",
            )
            with warnings.catch_warnings():
                # It reads its model with importlib.resources' deprecated path().
                warnings.simplefilter("ignore", DeprecationWarning)
                matched = matcher.match()
            found = {
                row[0]: row[1:]
                for row in matched.matches(all_columns=True)
                .project(
                    "unique_id, resolved_canonical_id, match_reason, match_weight, "
                    "distinguishability"
                )
                .fetchall()
            }
        finally:
            con.close()
        return [found.get(str(i), (None, None, None, None)) for i in range(len(queries))]


def prepared_gazetteer(gazetteer: Gazetteer) -> Path:
    """The folder holding the gazetteer prepared for the matcher, made if it is not there."""
    import duckdb
    import pyarrow as pa
    from uk_address_matcher import prepare_canonical_folder

    root = Path(settings.DATA_DIR) / "address-matching"
    folder = root / gazetteer.key[:24]
    if folder.is_dir():
        return folder
    root.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix="building-", dir=root))
    con = duckdb.connect()
    try:
        uprns, concat, postcodes = zip(*gazetteer.candidates, strict=True)
        table = pa.table({"unique_id": uprns, "address_concat": concat, "postcode": postcodes})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            prepare_canonical_folder(
                con.from_arrow(table), building / "prepared", con=con, show_progress="off"
            )
    finally:
        con.close()
    try:
        os.replace(building / "prepared", folder)  # another process may have finished first
    except OSError:
        if not folder.is_dir():
            raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return folder


_current: AddressMatcher | None = None


def address_matcher() -> AddressMatcher:
    """A matcher for the gazetteer as it is now; reused (with what it has matched) while the
    gazetteer does not change."""
    global _current
    gazetteer = Gazetteer()
    if _current is None or _current.gazetteer.key != gazetteer.key:
        _current = AddressMatcher(gazetteer)
    return _current
