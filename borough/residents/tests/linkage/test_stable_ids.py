"""Resident IDs stay with their people across re-links."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from borough.residents.linkage.stable_ids import (
    ResidentEvent,
    assign_resident_ids,
    decode_id,
    encode_id,
)


def clusters(groups: dict[str, str]) -> pd.DataFrame:
    """{unique_id: cluster label} -> the clusters frame."""
    return pd.DataFrame({"unique_id": list(groups), "cluster_id": list(groups.values())})


def ids_of(assignment) -> dict[str, str]:
    return dict(zip(assignment.ids["unique_id"], assignment.ids["resident_id"], strict=True))


@pytest.fixture
def first():
    """Three residents: {a, b}, {c, d}, {e, f}."""
    return assign_resident_ids(clusters(dict(zip("abcdef", "xxyyzz", strict=True))))


def test_first_link_gives_each_cluster_a_new_id(first):
    ids = ids_of(first)
    assert ids["a"] == ids["b"] and ids["c"] == ids["d"] and ids["e"] == ids["f"]
    assert len({ids["a"], ids["c"], ids["e"]}) == 3
    assert first.issued == 3
    assert [e.kind for e in first.events] == ["new", "new", "new"]
    assert all(e.records == 2 for e in first.events)


def test_unchanged_residents_keep_their_ids_and_nothing_happens(first):
    relabelled = clusters(dict(zip("abcdef", ["k1", "k1", "k2", "k2", "k3", "k3"], strict=True)))
    again = assign_resident_ids(relabelled, ids_of(first), issued=first.issued)
    assert ids_of(again) == ids_of(first)
    assert again.events == []
    assert again.issued == first.issued


def test_a_new_record_joining_a_resident_keeps_the_id(first):
    again = assign_resident_ids(
        clusters({"a": 1, "b": 1, "g": 1, "c": 2, "d": 2, "e": 3, "f": 3}),
        ids_of(first),
        issued=first.issued,
    )
    assert ids_of(again)["g"] == ids_of(first)["a"]
    assert again.events == []


def test_merge_keeps_the_largest_contributors_id(first):
    prev = ids_of(first)
    # {a, b} + {c, d} + g, where ab and cd tie at two records: the lowest ID wins
    again = assign_resident_ids(
        clusters({"a": 1, "b": 1, "c": 1, "d": 1, "e": 3, "f": 3}), prev, issued=first.issued
    )
    kept, retired = sorted([prev["a"], prev["c"]])
    assert set(ids_of(again).values()) == {kept, prev["e"]}
    assert again.events == [ResidentEvent("merge", kept, others=(retired,), records=4)]

    # with three records of c's resident against two of a's, c's ID wins even if higher
    prev2 = {**prev, "g": prev["c"]}
    again = assign_resident_ids(
        clusters({"a": 1, "b": 1, "c": 1, "d": 1, "g": 1, "e": 3, "f": 3}),
        prev2,
        issued=first.issued,
    )
    assert ids_of(again)["a"] == prev["c"]
    assert again.events == [ResidentEvent("merge", prev["c"], others=(prev["a"],), records=5)]


def test_split_keeps_the_id_on_the_largest_part(first):
    prev = {**ids_of(first), "g": ids_of(first)["e"]}  # resident e has e, f, g
    again = assign_resident_ids(
        clusters({"a": 1, "b": 1, "c": 2, "d": 2, "e": 3, "f": 4, "g": 4}),
        prev,
        issued=first.issued,
    )
    ids = ids_of(again)
    assert ids["f"] == ids["g"] == prev["e"]  # f and g are the larger part
    assert ids["e"] == encode_id(4)  # the next ID ever issued
    assert again.issued == 4
    assert again.events == [ResidentEvent("split", prev["e"], others=(encode_id(4),), records=2)]


def test_split_into_equal_parts_keeps_the_id_with_the_smallest_record(first):
    again = assign_resident_ids(
        clusters({"a": 1, "b": 2, "c": 3, "d": 3, "e": 4, "f": 4}),
        ids_of(first),
        issued=first.issued,
    )
    ids = ids_of(again)
    assert ids["a"] == ids_of(first)["a"]
    assert ids["b"] == encode_id(4)


def test_removed_resident_is_reported_and_its_id_never_reused(first):
    prev = ids_of(first)
    again = assign_resident_ids(
        clusters({"a": 1, "b": 1, "c": 2, "d": 2, "h": 5}), prev, issued=first.issued
    )
    assert ResidentEvent("removed", prev["e"]) in again.events
    assert ids_of(again)["h"] == encode_id(4)
    assert ResidentEvent("new", encode_id(4), records=1) in again.events


def test_ids_are_opaque_and_round_trip():
    ids = [encode_id(k) for k in range(1, 200)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 9 and i.startswith("R") for i in ids)
    assert [decode_id(i) for i in ids] == list(range(1, 200))
    assert sorted(ids) != ids  # not handed out in sorting order
    assert decode_id("R-nope") is None and decode_id("X12345678") is None


def test_duplicate_unique_ids_are_refused():
    with pytest.raises(ValueError):
        assign_resident_ids(pd.DataFrame({"unique_id": ["a", "a"], "cluster_id": [1, 2]}))


RECORDS = [f"r{k:02d}" for k in range(12)]
partitions = st.lists(st.one_of(st.none(), st.integers(0, 5)), min_size=12, max_size=12)


@settings(max_examples=150, deadline=None)
@given(before=partitions, after=partitions)
def test_reassignment_properties(before, after):
    old = {r: g for r, g in zip(RECORDS, before, strict=True) if g is not None}
    new = {r: g for r, g in zip(RECORDS, after, strict=True) if g is not None}
    first = assign_resident_ids(clusters(old)) if old else None
    prev = ids_of(first) if first else {}
    issued = first.issued if first else 0
    if not new:
        return
    again = assign_resident_ids(clusters(new), prev, issued=issued)
    ids = ids_of(again)

    # one ID per cluster, a different ID for every cluster
    by_cluster = pd.Series(ids).groupby(pd.Series(new)).nunique()
    assert (by_cluster == 1).all()
    assert len(set(ids.values())) == len(set(new.values()))
    # a kept ID went to a cluster holding at least one of its records
    for record, rid in ids.items():
        if rid in prev.values():
            assert any(prev.get(r) == rid for r, g in new.items() if g == new[record])
    # new IDs are fresh and counted
    fresh = {i for i in ids.values() if i not in prev.values()}
    assert all(decode_id(i) > issued for i in fresh)
    assert again.issued == issued + len(fresh)
    # a resident whose records are exactly one new cluster keeps its ID
    for rid in set(prev.values()):
        records = {r for r, i in prev.items() if i == rid}
        groups = {new.get(r) for r in records}
        if len(groups) == 1 and None not in groups:
            (g,) = groups
            if {r for r, h in new.items() if h == g} == records:
                assert all(ids[r] == rid for r in records)
    # every previous ID is still in use or accounted for by an event
    accounted = set(ids.values())
    for e in again.events:
        if e.kind == "merge":
            accounted |= set(e.others)
        if e.kind in ("split", "removed"):
            accounted.add(e.resident_id)
    assert set(prev.values()) <= accounted
    # doing it again changes nothing
    same = assign_resident_ids(clusters(new), ids, issued=again.issued)
    assert ids_of(same) == ids and same.events == [] and same.issued == again.issued
