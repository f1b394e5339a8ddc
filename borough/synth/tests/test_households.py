import itertools
from collections import defaultdict


def _households(borough):
    out = defaultdict(list)
    for r in borough.rows("people"):
        if r["current_uprn"]:
            out[r["household_id"]].append(r)
    return out


def test_a_household_lives_at_one_address(borough):
    for members in _households(borough).values():
        assert len({m["current_uprn"] for m in members}) == 1


def test_one_household_per_home(borough):
    homes = defaultdict(set)
    for household, members in _households(borough).items():
        homes[members[0]["current_uprn"]].add(household)
    assert all(len(h) == 1 for h in homes.values())


def test_families_often_share_a_surname_and_some_names_changed_at_marriage(borough):
    households = [m for m in _households(borough).values() if len(m) > 1]
    shared = sum(len({p["surname"] for p in m}) < len(m) for m in households)
    assert shared > 0.5 * len(households)
    people = borough.rows("people")
    changed = [p for p in people if p["birth_surname"]]
    assert changed and all(p["birth_surname"] != p["surname"] for p in changed)
    assert any("-" in p["surname"] for p in people)


def test_some_parents_and_children_share_a_first_name(borough):
    juniors = 0
    for members in _households(borough).values():
        names = [m["first_name"] for m in members]
        juniors += len(names) != len(set(names))
    assert juniors > 0


def test_current_residents_have_an_open_history_row_at_home(borough):
    open_rows = {
        (h["person_id"], h["uprn"]) for h in borough.rows("addresses_history") if not h["to_date"]
    }
    for p in borough.rows("people"):
        if p["current_uprn"]:
            assert (p["person_id"], p["current_uprn"]) in open_rows


def test_history_rows_are_ordered_in_time_and_within_a_life(borough):
    people = {p["person_id"]: p for p in borough.rows("people")}
    movers = 0
    by_person = defaultdict(list)
    for h in borough.rows("addresses_history"):
        person = people[h["person_id"]]
        assert h["from_date"] >= person["date_of_birth"]
        assert not h["to_date"] or h["from_date"] < h["to_date"]
        if person["date_of_death"]:
            assert h["to_date"] and h["to_date"] <= person["date_of_death"]
        by_person[h["person_id"]].append(h)
    for rows in by_person.values():
        rows.sort(key=lambda h: h["from_date"])
        for earlier, later in itertools.pairwise(rows):
            assert earlier["to_date"] and earlier["to_date"] <= later["from_date"]
        movers += len(rows) > 1
    assert movers > 0


def test_the_dead_and_the_departed_have_no_current_address(borough):
    people = borough.rows("people")
    dead = [p for p in people if p["date_of_death"]]
    assert dead and all(not p["current_uprn"] for p in dead)
    assert any(not p["current_uprn"] and not p["date_of_death"] for p in people)


def test_the_borough_is_diverse_and_young(borough):
    from datetime import date

    today = date.fromisoformat(borough.manifest["start_date"])
    here = [p for p in borough.rows("people") if p["current_uprn"]]
    ages = [(today - date.fromisoformat(p["date_of_birth"])).days / 365.25 for p in here]
    assert sum(20 <= a < 40 for a in ages) / len(ages) > 0.35
    languages = {p["language"] for p in here}
    assert len(languages) >= 10
    other = sum(p["language"] != "en" for p in here) / len(here)
    assert 0.15 < other < 0.45
    assert len({p["surname"] for p in here}) > len(here) / 4


def test_people_live_only_in_residential_units_of_the_gazetteer(borough):
    homes = {r["UPRN"] for r in borough.rows("gazetteer") if r["CLASSIFICATION_CODE"][:2] == "RD"}
    assert {p["current_uprn"] for p in borough.rows("people") if p["current_uprn"]} <= homes
    assert {h["uprn"] for h in borough.rows("addresses_history")} <= homes
