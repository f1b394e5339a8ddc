"""Officers' decisions on pairs of records, applied on top of the model's predictions.

Semantics (``docs/linkage.md``, "Clerical decisions"):

- ``same``: the pair is a match whatever the model says: its probability becomes 1 (the pair
  is added if the model never scored it), so the two records always end in one cluster.
- ``different``: the pair's probability becomes 0, so that edge never joins clusters. If the
  two records were connected only through this pair, they end in different clusters. If
  they are still connected through other records (A–C and C–B both above the threshold),
  they stay in one cluster and the decision is reported back as a conflict for an officer
  to look at the whole cluster; the model's other edges are not overridden.
- The latest decision for a pair wins; a pair is unordered.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import duckdb
import pandas as pd

Decision = Literal["same", "different"]


@dataclass(frozen=True)
class ClericalDecision:
    """An officer's decision on two records, held with the smaller id on the left."""

    unique_id_l: str
    unique_id_r: str
    decision: Decision

    def __post_init__(self) -> None:
        if self.decision not in ("same", "different"):
            raise ValueError(f"decision must be 'same' or 'different', not {self.decision!r}")
        if self.unique_id_l == self.unique_id_r:
            raise ValueError("a decision needs two different records")
        if self.unique_id_l > self.unique_id_r:
            left, right = self.unique_id_r, self.unique_id_l
            object.__setattr__(self, "unique_id_l", left)
            object.__setattr__(self, "unique_id_r", right)


def decisions_from_rows(rows: Iterable[tuple[str, str, str]]) -> list[ClericalDecision]:
    """Decisions from (unique_id_l, unique_id_r, decision) rows, oldest first; for a pair
    decided more than once only the latest is kept."""
    latest: dict[tuple[str, str], ClericalDecision] = {}
    for left, right, decision in rows:
        d = ClericalDecision(left, right, decision)  # type: ignore[arg-type]
        latest.pop((d.unique_id_l, d.unique_id_r), None)
        latest[(d.unique_id_l, d.unique_id_r)] = d
    return list(latest.values())


def apply_decisions(con: duckdb.DuckDBPyConnection, decisions: Sequence[ClericalDecision]) -> None:
    """Apply the decisions to the ``predictions`` table on ``con`` (``unique_id_l``,
    ``unique_id_r``, ``match_weight``, ``match_probability``, …, ``clerical_decision``,
    ``rid_l``, ``rid_r``): update the pairs it holds, add the ones it does not. Decisions
    about a record that is not in the ``records`` table (``rid``, ``unique_id``) are
    ignored."""
    frame = pd.DataFrame(
        {
            "unique_id_l": [d.unique_id_l for d in decisions],
            "unique_id_r": [d.unique_id_r for d in decisions],
            "decision": [d.decision for d in decisions],
        }
    ).drop_duplicates(["unique_id_l", "unique_id_r"], keep="last")
    con.register("clerical_decisions_input", frame)
    statements = [
        """
        CREATE OR REPLACE TEMP TABLE clerical_decisions AS
        SELECT d.*, l.rid AS rid_l, r.rid AS rid_r,
            CASE d.decision WHEN 'same' THEN 1.0 ELSE 0.0 END AS match_probability,
            CASE d.decision WHEN 'same' THEN 'Infinity'::DOUBLE
                 ELSE '-Infinity'::DOUBLE END AS match_weight
        FROM clerical_decisions_input AS d
        JOIN records AS l ON l.unique_id = d.unique_id_l
        JOIN records AS r ON r.unique_id = d.unique_id_r
        """,
        """
        UPDATE predictions AS p SET
            match_probability = d.match_probability,
            match_weight = d.match_weight,
            clerical_decision = d.decision
        FROM clerical_decisions AS d
        WHERE p.unique_id_l = d.unique_id_l AND p.unique_id_r = d.unique_id_r
        """,
        """
        INSERT INTO predictions BY NAME
        SELECT d.unique_id_l, d.unique_id_r, d.rid_l, d.rid_r, d.match_weight,
            d.match_probability, d.decision AS clerical_decision
        FROM clerical_decisions AS d
        ANTI JOIN predictions AS p
            ON p.unique_id_l = d.unique_id_l AND p.unique_id_r = d.unique_id_r
        """,
        "DROP TABLE clerical_decisions",
    ]
    try:
        for sql in statements:
            con.execute(sql)
    finally:
        con.unregister("clerical_decisions_input")
