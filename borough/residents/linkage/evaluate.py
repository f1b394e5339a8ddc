"""Accuracy of a linkage against the truth (for the synthetic borough: ``ground_truth.csv``).

Definitions (``docs/linkage.md``, "Evaluation"):

- **true pairs**: unordered pairs of records of the same person, counted as the sum over
  people of C(n, 2) for their n records — never materialised.
- **pairwise** (from predictions): the predicted pairs are the scored pairs with
  ``match_probability >= threshold``; a predicted pair is correct if both records belong to
  one person. precision = correct / predicted, recall = correct / true pairs.
- **cluster pairwise** (from clusters): every pair of records in one cluster is predicted
  (sum over clusters of C(size, 2)); correct pairs are the sum over (cluster, person) of
  C(n, 2). This is what the resident index actually asserts, transitive closure included.
- **people whole**: share of people whose records all fall in one cluster; **people exact**:
  share of people whose records form exactly one cluster with nothing else in it.

F1 is the harmonic mean of precision and recall. A ratio with a zero denominator is 1.0
(nothing to get wrong). The sums run in DuckDB: a million records take a second or two.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import duckdb
import pandas as pd
import pyarrow as pa

Table = pd.DataFrame | pa.Table


@dataclass(frozen=True)
class PairScores:
    predicted: int
    correct: int
    true: int

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.true if self.true else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            **asdict(self),
            "precision": round(self.precision, 5),
            "recall": round(self.recall, 5),
            "f1": round(self.f1, 5),
        }


def _connect(truth: Table, unique_ids: pd.Series | None = None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.register("truth_input", truth)
    con.execute(
        "CREATE TABLE truth AS SELECT CAST(unique_id AS VARCHAR) AS unique_id, person_id "
        "FROM truth_input"
    )
    duplicated = con.execute("SELECT count(*) - count(DISTINCT unique_id) FROM truth").fetchone()
    if duplicated[0]:
        raise ValueError("truth maps a unique_id more than once")
    if unique_ids is not None:
        con.register("ids_input", pd.DataFrame({"unique_id": pd.Series(unique_ids).to_numpy()}))
        con.execute("DELETE FROM truth WHERE unique_id NOT IN (SELECT unique_id FROM ids_input)")
    return con


def _true_pairs(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute(
        "SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM "
        "(SELECT count(*) AS n FROM truth GROUP BY person_id)"
    ).fetchone()
    return int(row[0])


def true_pairs(truth: Table, unique_ids: pd.Series | None = None) -> int:
    """Pairs of records of the same person (restricted to ``unique_ids`` if given)."""
    con = _connect(truth, unique_ids)
    try:
        return _true_pairs(con)
    finally:
        con.close()


def pairwise_scores(
    predictions: Table,
    truth: Table,
    threshold: float,
    unique_ids: pd.Series | None = None,
) -> PairScores:
    """Precision and recall of the predicted pairs at ``threshold`` against the truth.
    ``unique_ids``: the records that were linked (default: every record in the truth)."""
    con = _connect(truth, unique_ids)
    try:
        con.register("predictions", predictions)
        predicted, correct = con.execute(
            "SELECT count(*), coalesce(sum(CAST(tl.person_id = tr.person_id AS INTEGER)), 0) "
            "FROM predictions p "
            "LEFT JOIN truth tl ON tl.unique_id = p.unique_id_l "
            "LEFT JOIN truth tr ON tr.unique_id = p.unique_id_r "
            "WHERE p.match_probability >= $threshold",
            {"threshold": threshold},
        ).fetchone()
        return PairScores(predicted=int(predicted), correct=int(correct), true=_true_pairs(con))
    finally:
        con.close()


def cluster_scores(clusters: Table, truth: Table) -> dict[str, object]:
    """Cluster-pairwise precision, recall, F1, and the shares of people whole and exact.
    Every clustered record must be in the truth; truth records not clustered are left out."""
    con = _connect(truth)
    try:
        con.register("clusters_input", clusters)
        con.execute(
            "CREATE TABLE cells AS SELECT c.cluster_id, t.person_id, count(*) AS n "
            "FROM clusters_input c LEFT JOIN truth t ON t.unique_id = CAST(c.unique_id AS VARCHAR) "
            "GROUP BY ALL"
        )
        missing = con.execute("SELECT coalesce(sum(n), 0) FROM cells WHERE person_id IS NULL")
        if (n_missing := missing.fetchone()[0]) > 0:
            raise ValueError(f"{n_missing} clustered records are not in the truth")
        predicted, correct, true, people, n_clusters = con.execute(
            """
            SELECT
                (SELECT sum(s * (s - 1) // 2) FROM
                    (SELECT sum(n) AS s FROM cells GROUP BY cluster_id)),
                (SELECT sum(n * (n - 1) // 2) FROM cells),
                (SELECT sum(s * (s - 1) // 2) FROM
                    (SELECT sum(n) AS s FROM cells GROUP BY person_id)),
                (SELECT count(DISTINCT person_id) FROM cells),
                (SELECT count(DISTINCT cluster_id) FROM cells)
            """
        ).fetchone()
        whole, exact = con.execute(
            """
            WITH per_person AS (
                SELECT person_id, count(*) AS clusters, any_value(cluster_id) AS cluster_id
                FROM cells GROUP BY person_id
            ), per_cluster AS (
                SELECT cluster_id, count(*) AS people FROM cells GROUP BY cluster_id
            )
            SELECT count(*) FILTER (WHERE p.clusters = 1),
                   count(*) FILTER (WHERE p.clusters = 1 AND c.people = 1)
            FROM per_person p JOIN per_cluster c ON c.cluster_id = p.cluster_id
            """
        ).fetchone()
    finally:
        con.close()
    scores = PairScores(
        predicted=int(predicted or 0), correct=int(correct or 0), true=int(true or 0)
    )
    return {
        "cluster_pairs": scores.as_dict(),
        "people": int(people),
        "clusters": int(n_clusters),
        "people_whole": round(whole / people, 5) if people else 1.0,
        "people_exact": round(exact / people, 5) if people else 1.0,
    }


def evaluate(
    predictions: Table,
    clusters: Table,
    truth: Table,
    threshold: float,
) -> dict[str, object]:
    """Pairwise scores at ``threshold`` and cluster scores, for the clustered records."""
    ids = clusters["unique_id"] if isinstance(clusters, pd.DataFrame) else None
    if isinstance(clusters, pa.Table):
        ids = clusters.column("unique_id").to_pandas()
    return {
        "threshold": threshold,
        "pairwise": pairwise_scores(predictions, truth, threshold, ids).as_dict(),
        **cluster_scores(clusters, truth),
    }
