"""The online path gives the batch's answers: same derived fields, same levels, same pairs,
same match weights, same decisions as Splink scoring the same records with the same model."""

from __future__ import annotations

import datetime as dt
import math
import random

import duckdb
import numpy as np
import pandas as pd
import pytest
from splink import DuckDBAPI, Linker

from borough.residents.linkage import model as linkage_model
from borough.residents.verification import candidates as candidates_module
from borough.residents.verification.candidates import BLOCKING_KEYS, Candidate, rule_for
from borough.residents.verification.engine import decide
from borough.residents.verification.policies import Policy
from borough.residents.verification.prepare import prepare
from borough.residents.verification.scoring import ELSE_LABEL, PREDICATES

POLICY = Policy(
    purpose="parking_permit_residency_check",
    title="test",
    proves="residency",
    datasets=("council_tax", "electoral_register", "housing_tenancies"),
    same_address=True,
    ended_within_days=0,
    min_evidence=1,
    verified_probability=0.99,
    margin_bits=6.0,
    refer_probability=0.5,
    roles_see_fields=(),
    # the probability rules alone: the hard rules have their own tests (test_hard_rules.py)
    must_agree=(),
)


def _value(v):
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return None
    return v


def _prepared_from_row(row) -> object:
    dob = _value(row["date_of_birth"])
    return prepare(
        first_name=_value(row["first_name"]),
        first_name_canonical=_value(row["first_name_canonical"]),
        middle_names=_value(row["middle_names"]),
        surname=_value(row["surname"]),
        date_of_birth=dt.date.fromisoformat(dob) if dob else None,
        postcode=_value(row["postcode"]),
        uprn=_value(row["uprn"]),
        address_text=_value(row["address_text"]),
        email=_value(row["email"]),
    )


def test_blocking_keys_are_the_models_prediction_rules():
    assert [rule_for(key) for key in BLOCKING_KEYS] == linkage_model.PREDICTION_BLOCKING_RULES


def test_every_model_level_has_a_python_predicate(indexed):
    for comparison in indexed.trained["comparisons"]:
        labels = [level["label_for_charts"] for level in comparison["comparison_levels"]]
        known = set(PREDICATES[comparison["output_column_name"]]) | {ELSE_LABEL}
        assert set(labels) <= known
        assert comparison["comparison_levels"][-1]["sql_condition"] == "ELSE"


def test_python_prepare_gives_the_fields_prepare_sql_gives(indexed):
    frame = indexed.frame
    for position in range(len(frame)):
        row = frame.iloc[position]
        i = indexed.index.unique_id_position(row["unique_id"])
        assert _prepared_from_row(row) == indexed.index.record(i), row["unique_id"]


def _pairs_sample(indexed, n_random=4000, seed=5):
    """Random pairs and blocked pairs (which reach the rarer levels)."""
    rng = random.Random(seed)
    size = indexed.index.size
    pairs = {(rng.randrange(size), rng.randrange(size)) for _ in range(n_random)}
    for i in range(0, size, 7):
        record = indexed.index.record(i)
        for j in indexed.index.candidates(record)[:6]:
            pairs.add((i, j))
    return sorted(pairs)


def test_each_level_is_the_one_duckdb_picks(indexed):
    """The level of every comparison, from the model's own SQL in DuckDB, for random and
    blocked pairs: the Python predicates pick the same one."""
    index = indexed.index
    pairs = _pairs_sample(indexed)
    con = duckdb.connect(":memory:")
    con.register("input", indexed.frame)
    con.execute(
        "CREATE TABLE records AS "
        + linkage_model.PREPARE_SQL.format(source=linkage_model.source_sql("input", ()))
    )
    positions = {
        uid: rid for rid, uid in con.execute("SELECT rid, unique_id FROM records").fetchall()
    }
    rid_of = [positions[index.unique_id(i)] for i in range(index.size)]
    con.register(
        "pairs",
        pd.DataFrame(
            {
                "a": [rid_of[i] for i, _ in pairs],
                "b": [rid_of[j] for _, j in pairs],
                "n": range(len(pairs)),
            }
        ),
    )
    columns = [c[0] for c in con.execute("DESCRIBE records").fetchall()]
    select_l = ", ".join(f'l."{c}" AS "{c}_l"' for c in columns)
    select_r = ", ".join(f'r."{c}" AS "{c}_r"' for c in columns)
    cases = []
    for comparison in indexed.trained["comparisons"]:
        whens = " ".join(
            f"WHEN {level['sql_condition']} THEN {k}"
            for k, level in enumerate(comparison["comparison_levels"])
            if level["sql_condition"] != "ELSE"
        )
        last = len(comparison["comparison_levels"]) - 1
        cases.append(f'CASE {whens} ELSE {last} END AS "{comparison["output_column_name"]}"')
    rows = con.execute(
        f"WITH p AS (SELECT pairs.n, {select_l}, {select_r} FROM pairs "
        "JOIN records l ON l.rid = pairs.a JOIN records r ON r.rid = pairs.b) "
        f"SELECT n, {', '.join(cases)} FROM p ORDER BY n"
    ).fetchall()
    assert len(rows) == len(pairs)
    names = [c["output_column_name"] for c in indexed.trained["comparisons"]]
    labels = {
        c["output_column_name"]: [lv["label_for_charts"] for lv in c["comparison_levels"]]
        for c in indexed.trained["comparisons"]
    }
    mismatches = []
    for (i, j), row in zip(pairs, rows, strict=True):
        score = index.scorer.score(index.record(i), index.record(j))
        got = {level.comparison: level.label for level in score.levels}
        for name, level_number in zip(names, row[1:], strict=True):
            if got[name] != labels[name][level_number]:
                mismatches.append((i, j, name, got[name], labels[name][level_number]))
    assert not mismatches[:10]


@pytest.fixture(scope="module")
def applicants(indexed):
    """Applicants' details: records with a typo or a field dropped, people not in the
    records at all, and records as they are."""
    rng = random.Random(17)
    frame = indexed.frame
    rows = []
    for position in rng.sample(range(len(frame)), 150):
        row = frame.iloc[position].to_dict()
        change = rng.choice(["typo", "no_dob", "no_uprn", "as_is"])
        if change == "typo" and row["surname"]:
            s = row["surname"]
            k = rng.randrange(len(s))
            row["surname"] = s[:k] + rng.choice("aeiou") + s[k + 1 :]
        elif change == "no_dob":
            row["date_of_birth"] = None
        elif change == "no_uprn":
            row["uprn"] = None
        rows.append(row)
    for n in range(30):
        rows.append(
            {
                "first_name": rng.choice(["zebulon", "ottoline", "peregrine"]),
                "first_name_canonical": None,
                "middle_names": None,
                "surname": f"nobodyson{n}",
                "date_of_birth": f"19{50 + n}-0{1 + n % 9}-1{n % 9}",
                "postcode": _value(frame.iloc[n]["postcode"]),
                "uprn": _value(frame.iloc[n]["uprn"]),
                "address_text": None,
                "email": None,
            }
        )
    return rows


def _splink_scores(indexed, applicants):
    """Splink's own real-time matching of each applicant against the indexed records."""
    con = duckdb.connect(":memory:")
    con.register("input", indexed.frame)
    con.execute(
        "CREATE TABLE records AS "
        + linkage_model.PREPARE_SQL.format(source=linkage_model.source_sql("input", ()))
    )
    new = pd.DataFrame(applicants)
    new["unique_id"] = [f"applicant:{n}" for n in range(len(new))]
    new["source_dataset"] = "applicant"
    new["phone"] = None
    new["uprn"] = new["uprn"].astype("Int64")
    con.register("new_input", new[list(linkage_model.LINKAGE_COLUMNS)])
    con.execute(
        "CREATE TABLE applicants AS SELECT * REPLACE (rid + 10000000 AS rid) FROM ("
        + linkage_model.PREPARE_SQL.format(source=linkage_model.source_sql("new_input", ()))
        + ")"
    )
    linker = Linker("records", indexed.trained, DuckDBAPI(con), set_up_basic_logging=False)
    linker.table_management.compute_tf_table("first_name")
    linker.table_management.compute_tf_table("surname")
    found = linker.inference.find_matches_to_new_records(
        "applicants",
        blocking_rules=linkage_model.PREDICTION_BLOCKING_RULES,
        match_weight_threshold=-1e9,
    ).as_pandas_dataframe()
    uid = dict(con.execute("SELECT rid, unique_id FROM records").fetchall())
    new_uid = dict(con.execute("SELECT rid, unique_id FROM applicants").fetchall())
    scores: dict[str, dict[str, float]] = {}
    for row in found.itertuples():
        left, right = row.rid_l, row.rid_r
        if left in new_uid:
            applicant, record = new_uid[left], uid[right]
        else:
            applicant, record = new_uid[right], uid[left]
        scores.setdefault(applicant, {})[record] = row.match_weight
    return scores


def test_same_pairs_weights_and_decisions_as_splink(indexed, applicants):
    index = indexed.index
    splink = _splink_scores(indexed, applicants)
    today = dt.date(2026, 11, 25)
    decisions = {"verified": 0, "refer": 0, "not_found": 0}
    for n, details in enumerate(applicants):
        applicant = _prepared_from_row(pd.Series(details))
        ours = index.score_candidates(applicant)
        theirs = splink.get(f"applicant:{n}", {})
        assert {index.unique_id(c.index) for c in ours} == set(theirs), n
        for c in ours:
            assert c.score.match_weight == pytest.approx(theirs[index.unique_id(c.index)], abs=1e-6)
        # The decision from Splink's scores is the decision from ours.
        by_uid = {index.unique_id(c.index): c for c in ours}
        from_splink = sorted(
            (
                Candidate(by_uid[u].index, by_uid[u].record, _with_weight(by_uid[u].score, w))
                for u, w in theirs.items()
            ),
            key=lambda c: -c.score.match_weight,
        )
        mine = decide(index, POLICY, applicant, today=today)
        batch = decide(index, POLICY, applicant, today=today, scored=from_splink)
        assert (mine.decision, mine.resident_id) == (batch.decision, batch.resident_id), n
        decisions[mine.decision] += 1
    # the sample exercises every decision
    assert all(decisions.values()), decisions


def _with_weight(score, weight):
    from borough.residents.verification.scoring import Score, probability

    return Score(weight, probability(weight), score.levels)


def test_an_applicant_is_found_as_the_resident_the_batch_linked(indexed):
    """Each record's own details find the resident the batch put it in."""
    index = indexed.index
    rng = np.random.default_rng(3)
    for i in rng.choice(index.size, 300, replace=False):
        i = int(i)
        best = index.score_candidates(index.record(i))[0]
        assert index.resident_id(best.index) == index.resident_id(i) or (
            best.score.match_weight
            == index.scorer.score(index.record(i), index.record(i)).match_weight
        )


def test_module_exports_index_columns():
    assert candidates_module.INDEX_COLUMNS[-1] == "resident_id"
