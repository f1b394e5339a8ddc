"""Resident IDs that stay stable across re-links.

Each link run produces clusters of records with throwaway cluster ids. This module carries
the previous run's resident IDs over to the new clusters:

- a cluster whose records are the same as a previous resident's keeps that resident's ID;
- an ID goes with the largest part of its records: when a resident's records split over
  several clusters, the cluster holding most of them keeps the ID (ties: the part holding
  the smallest unique_id), the other parts get new IDs, and a ``split`` event is recorded;
- a cluster takes the ID of its largest previous contributor still available (ties: the
  lowest ID): when residents merge, the merged cluster keeps that ID, the others' IDs are
  retired into it, and a ``merge`` event is recorded;
- a cluster with no previous ID available gets a new one (``new`` if none of its records
  had an ID before; otherwise it is a part of a split);
- a previous ID none of whose records remain is ``removed``.

The assignment is a greedy maximum-overlap matching: (cluster, previous ID, records in
common) edges, largest overlap first (then lowest ID, then the cluster with the smallest
unique_id), each cluster and each ID used at most once. When the two rules above pull one
ID two ways (its largest part lies in cluster A, but it is also the largest contributor of
cluster B), the ID follows its largest part and B takes its next-largest contributor.

New IDs are ``R`` + 8 Crockford base32 characters (40 bits): a counter of IDs ever issued,
put through a fixed bijection so that IDs do not look sequential. IDs are never reused:
callers keep ``Assignment.issued`` (the high-water mark) and pass it back next time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

EventKind = Literal["new", "merge", "split", "removed"]

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
_BITS = 40
_MASK = (1 << _BITS) - 1
_MULTIPLIER = 0x9E3779B97F & _MASK | 1  # odd, so invertible modulo 2**40
_INVERSE = pow(_MULTIPLIER, -1, 1 << _BITS)
_XOR = 0x5A5A5A5A5A & _MASK


def encode_id(counter: int) -> str:
    """The resident ID for the ``counter``-th ID ever issued (1, 2, …)."""
    if not 0 < counter <= _MASK:
        raise ValueError("resident ID counter out of range")
    value = ((counter * _MULTIPLIER) & _MASK) ^ _XOR
    chars = []
    for _ in range(_BITS // 5):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "R" + "".join(reversed(chars))


def decode_id(resident_id: str) -> int | None:
    """The counter behind an ID made by ``encode_id``, or None for any other string."""
    if len(resident_id) != 1 + _BITS // 5 or not resident_id.startswith("R"):
        return None
    value = 0
    for c in resident_id[1:]:
        k = _ALPHABET.find(c)
        if k < 0:
            return None
        value = value * 32 + k
    return (((value ^ _XOR) & _MASK) * _INVERSE) & _MASK


@dataclass(frozen=True)
class ResidentEvent:
    """What happened to a resident ID in a re-link.

    - ``new``: ``resident_id`` is new and none of its records had an ID before;
    - ``merge``: the records of ``others`` (now retired) joined ``resident_id``'s;
    - ``split``: ``resident_id``'s records now lie under several IDs; it is kept by its
      largest part (``records`` > 0) or retired because every part took another ID
      (``records`` == 0); ``others`` are the IDs its other records now carry (new IDs for
      parts that had no other previous ID);
    - ``removed``: none of ``resident_id``'s records remain.

    ``records``: how many records ``resident_id`` has after the re-link."""

    kind: EventKind
    resident_id: str
    others: tuple[str, ...] = ()
    records: int = 0


@dataclass
class Assignment:
    ids: pd.DataFrame  # unique_id, resident_id
    events: list[ResidentEvent] = field(default_factory=list)
    issued: int = 0  # IDs ever issued (keep it; pass it back as ``issued`` next time)


def assign_resident_ids(
    clusters: pd.DataFrame,
    previous: Mapping[str, str] | pd.DataFrame | None = None,
    *,
    issued: int | None = None,
) -> Assignment:
    """Resident IDs for ``clusters`` (``unique_id``, ``cluster_id``) carrying over
    ``previous`` (unique_id -> resident_id, as a mapping or a frame with those columns).

    ``issued``: the number of IDs ever issued; if None it is taken from the largest counter
    among the previous IDs, which is only safe if no ID issued later was retired."""
    frame = clusters[["unique_id", "cluster_id"]].copy()
    prev = _previous_frame(previous)
    if frame["unique_id"].duplicated().any() or prev["unique_id"].duplicated().any():
        raise ValueError("a unique_id appears more than once")
    if issued is None:
        counters = [c for c in (decode_id(r) for r in prev["resident_id"].unique()) if c]
        issued = max(counters, default=0)
    counter = issued

    frame = frame.merge(prev, on="unique_id", how="left")
    # a cluster's key for tie-breaking and new-ID order: its smallest unique_id
    key = frame.groupby("cluster_id")["unique_id"].min().rename("key")
    sizes = frame.groupby("cluster_id").size().rename("records")
    edges = (
        frame.dropna(subset=["resident_id"])
        .groupby(["cluster_id", "resident_id"])
        .size()
        .rename("n")
        .reset_index()
        .join(key, on="cluster_id")
        .sort_values(["n", "resident_id", "key"], ascending=[False, True, True])
    )

    chosen: dict[object, str] = {}  # cluster_id -> resident_id
    taken: set[str] = set()
    for cluster_id, resident_id in zip(edges["cluster_id"], edges["resident_id"], strict=True):
        if cluster_id in chosen or resident_id in taken:
            continue
        chosen[cluster_id] = resident_id
        taken.add(resident_id)

    events: list[ResidentEvent] = []
    contributors = edges.groupby("cluster_id")["resident_id"].apply(lambda s: tuple(sorted(s)))
    for cluster_id in key.sort_values().index:
        if cluster_id in chosen:
            continue
        counter += 1
        chosen[cluster_id] = encode_id(counter)
        if cluster_id not in contributors.index:
            events.append(ResidentEvent("new", chosen[cluster_id], records=int(sizes[cluster_id])))

    # merges: clusters holding records of more than one previous ID
    for cluster_id, ids in contributors.items():
        kept = chosen[cluster_id]
        others = tuple(i for i in ids if i != kept)
        if kept in ids and others:
            events.append(
                ResidentEvent("merge", kept, others=others, records=int(sizes[cluster_id]))
            )
    # splits: previous IDs whose records now lie in more than one cluster
    parts = edges.groupby("resident_id")["cluster_id"].apply(list)
    where = {r: c for c, r in chosen.items()}
    for resident_id, cluster_ids in parts.items():
        if len(cluster_ids) < 2:
            continue
        kept_in = where.get(resident_id)
        others = tuple(sorted(chosen[c] for c in cluster_ids if c != kept_in))
        records = int(sizes[kept_in]) if kept_in is not None else 0
        events.append(ResidentEvent("split", resident_id, others=others, records=records))
    # removed: previous IDs with no record left
    remaining = set(edges["resident_id"])
    for resident_id in sorted(set(prev["resident_id"]) - remaining):
        events.append(ResidentEvent("removed", resident_id))

    ids = pd.DataFrame(
        {
            "unique_id": frame["unique_id"].to_numpy(),
            "resident_id": frame["cluster_id"].map(chosen).to_numpy(),
        }
    ).sort_values("unique_id", ignore_index=True)
    return Assignment(ids=ids, events=events, issued=counter)


def _previous_frame(previous: Mapping[str, str] | pd.DataFrame | None) -> pd.DataFrame:
    if previous is None:
        return pd.DataFrame(
            {"unique_id": pd.Series(dtype=object), "resident_id": pd.Series(dtype=object)}
        )
    if isinstance(previous, pd.DataFrame):
        return previous[["unique_id", "resident_id"]].astype({"resident_id": object})
    return pd.DataFrame(
        {"unique_id": list(previous.keys()), "resident_id": list(previous.values())}
    )
