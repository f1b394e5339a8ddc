"""The clerical review queue: pairs of records a link could not settle, and officers' decisions.

After each link, ``queue_uncertain_pairs`` reads the run's ``predictions.parquet`` and keeps one
open ``ReviewCase`` for every pair in the uncertain band (``REVIEW_LOW`` ≤ p < ``REVIEW_HIGH``)
that no officer has decided. An officer looks at the two records side by side
(``review_views``, showing what ``review_evidence`` works out) and decides: the same person, or
different people (``decide``). The next link takes every decision through
``clerical_decisions()`` (``link(decisions=…)``), which forces the pair's probability to 1 or 0
(``linkage/clerical.py``), so the pair leaves the band and is not queued again.

Decisions are never deleted: a decided case is the record of who decided what and when. To change
a decision an officer decides again, which adds a new decided case for the same pair; the latest
decision for a pair wins.

Looking at a case and deciding it are uses of residents' data: each writes a data-use event
(purpose ``residents_match_review``) naming the residents the two records belong to. Nothing
here logs personal data.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
from django.db import transaction
from django.db.models import F, FloatField, QuerySet
from django.db.models.functions import Abs
from django.utils import timezone

from borough.core.models import User
from borough.residents.index import resident_ids_of
from borough.residents.linkage.calibrate import logit2
from borough.residents.linkage.clerical import ClericalDecision, decisions_from_rows
from borough.residents.linkage.pipeline import CLUSTER_THRESHOLD, STORE_THRESHOLD
from borough.residents.models import ReviewCase
from borough.transparency.models import Action, ActorKind
from borough.transparency.services import record_data_use

#: The uncertain band, as match probabilities: ``REVIEW_LOW`` ≤ p < ``REVIEW_HIGH``.
#:
#: - The low end is the lowest probability a link stores (``pipeline.STORE_THRESHOLD``, 0.5):
#:   below it the model thinks a shared identity less likely than not, and ``predictions.parquet``
#:   holds nothing lower anyway.
#: - The high end, 0.95, is where calibration (``calibrate.py``) already treats a pair as settled
#:   by the comparisons (it measures the household-move m on pairs at p ≥ 0.95).
#:
#: The cluster threshold, 0.8, lies inside: pairs from 0.5 to 0.8 are *not* linked and pairs from
#: 0.8 to 0.95 *are*, each on thin evidence, so a decision either way can change the index. In
#: bits the band runs from 0 to 4.25 around the threshold's 2: about the same distance on each
#: side. The queue shows the cases nearest the threshold first.
REVIEW_LOW = STORE_THRESHOLD
REVIEW_HIGH = 0.95

#: The cluster threshold as a match weight (2 bits): the queue's "most uncertain" is nearest it.
THRESHOLD_WEIGHT = logit2(CLUSTER_THRESHOLD)

ACTOR_LABEL = "Resident data officer"
PURPOSE = "residents_match_review"
_BATCH = 1000
_MW_COLUMN = re.compile(r"mw_[a-z0-9_]+")
# Scores that differ by less than this are the same score (a re-link of unchanged records).
_SAME_WEIGHT = 1e-9


class ReviewError(Exception):
    """A decision that cannot be recorded; the message is fit to show an officer."""


@dataclass(frozen=True)
class QueueCounts:
    """What one ``queue_uncertain_pairs`` call did."""

    in_band: int  # undecided pairs in the band in this run's predictions
    opened: int  # new open cases
    kept_open: int  # open cases still in the band (their scores now those of this run)
    closed: int  # open cases no longer in the band
    already_decided: int  # pairs in the band that an officer has decided (not queued again)


# -- the queue ------------------------------------------------------------------------------


def _band(predictions_path: Path, low: float, high: float) -> list[tuple]:
    """(unique_id_l, unique_id_r, match_weight, match_probability, breakdown) for the pairs in
    the band that carry no clerical decision; filtered by DuckDB, not in Python."""
    con = duckdb.connect(":memory:")
    try:
        columns = [
            d[0]
            for d in con.execute(
                "SELECT * FROM read_parquet(?) LIMIT 0", [str(predictions_path)]
            ).description
        ]
        weights = [c for c in columns if _MW_COLUMN.fullmatch(c)]
        undecided = "clerical_decision IS NULL AND " if "clerical_decision" in columns else ""
        parts = "".join(f', "{c}"' for c in weights)
        rows = con.execute(
            # the column names are checked against _MW_COLUMN above
            f"SELECT unique_id_l, unique_id_r, match_weight, match_probability{parts} "  # noqa: S608
            f"FROM read_parquet(?) WHERE {undecided}isfinite(match_weight) "
            "AND match_probability >= ? AND match_probability < ? "
            "ORDER BY unique_id_l, unique_id_r",
            [str(predictions_path), low, high],
        ).fetchall()
    finally:
        con.close()
    names = [c.removeprefix("mw_") for c in weights]
    out = []
    for left, right, weight, probability, *bits in rows:
        left, right = min(left, right), max(left, right)  # link writes them so; be sure
        breakdown = [
            {"comparison": name, "bits": 0.0 if value is None or math.isnan(value) else value}
            for name, value in zip(names, bits, strict=True)
        ]
        out.append((left, right, weight, probability, breakdown))
    return out


def _as_datetime(linked_at: datetime | str) -> datetime:
    when = datetime.fromisoformat(linked_at) if isinstance(linked_at, str) else linked_at
    return when if timezone.is_aware(when) else timezone.make_aware(when)


def _chunks(items: list, size: int = _BATCH) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def queue_uncertain_pairs(
    predictions_path: str | Path,
    linked_at: datetime | str,
    *,
    low: float = REVIEW_LOW,
    high: float = REVIEW_HIGH,
) -> QueueCounts:
    """Bring the queue up to date with one link run's ``predictions.parquet``.

    ``linked_at`` is the run (``state["linked_at"]`` of the index: ISO text or a datetime).
    Opens a case for each pair with ``low`` ≤ p < ``high`` that has no decision (neither in the
    file nor in the database) and no open case; gives open cases still in the band this run's
    scores; closes open cases whose pair is no longer in the band (or no longer scored at all).
    A pair that returns to the band later gets a new case. One transaction; bulk writes only.
    """
    linked_at = _as_datetime(linked_at)
    band = _band(Path(predictions_path), low, high)
    pairs = ReviewCase.objects.filter(kind=ReviewCase.Kind.PAIR)
    open_cases = {
        (left, right): (pk, weight)
        for pk, left, right, weight in pairs.filter(status=ReviewCase.Status.OPEN)
        .values_list("id", "unique_id_l", "unique_id_r", "match_weight")
        .iterator(chunk_size=5000)
    }
    decided = set(
        pairs.filter(status=ReviewCase.Status.DECIDED)
        .values_list("unique_id_l", "unique_id_r")
        .iterator(chunk_size=5000)
    )
    new, rescored, same_score, in_band = [], [], [], set()
    already_decided = 0
    for left, right, weight, probability, breakdown in band:
        key = (left, right)
        if key in decided:
            already_decided += 1
            continue
        in_band.add(key)
        if key in open_cases:
            pk, old_weight = open_cases[key]
            if old_weight is not None and abs(old_weight - weight) < _SAME_WEIGHT:
                same_score.append(pk)
            else:
                rescored.append(
                    ReviewCase(
                        pk=pk,
                        match_weight=weight,
                        match_probability=probability,
                        breakdown=breakdown,
                        linked_at=linked_at,
                    )
                )
            continue
        new.append(
            ReviewCase(
                kind=ReviewCase.Kind.PAIR,
                unique_id_l=left,
                unique_id_r=right,
                match_weight=weight,
                match_probability=probability,
                breakdown=breakdown,
                linked_at=linked_at,
                status=ReviewCase.Status.OPEN,
            )
        )
    gone = [pk for key, (pk, _) in open_cases.items() if key not in in_band]
    now = timezone.now()
    with transaction.atomic():
        ReviewCase.objects.bulk_create(new, batch_size=_BATCH)
        ReviewCase.objects.bulk_update(
            rescored,
            ["match_weight", "match_probability", "breakdown", "linked_at"],
            batch_size=_BATCH,
        )
        for chunk in _chunks(same_score):
            ReviewCase.objects.filter(pk__in=chunk).update(linked_at=linked_at)
        for chunk in _chunks(gone):
            ReviewCase.objects.filter(pk__in=chunk, status=ReviewCase.Status.OPEN).update(
                status=ReviewCase.Status.CLOSED, closed_at=now
            )
    return QueueCounts(
        in_band=len(in_band),
        opened=len(new),
        kept_open=len(rescored) + len(same_score),
        closed=len(gone),
        already_decided=already_decided,
    )


def queue(status: str = ReviewCase.Status.OPEN) -> QuerySet[ReviewCase]:
    """Cases with ``status`` ("" for all): decided ones most recently decided first, the others
    most uncertain first (match weight nearest the cluster threshold's)."""
    cases = ReviewCase.objects.all()
    if status:
        cases = cases.filter(status=status)
    if status == ReviewCase.Status.DECIDED:
        return cases.order_by("-decided_at", "-id")
    return cases.annotate(
        distance=Abs(F("match_weight") - THRESHOLD_WEIGHT, output_field=FloatField())
    ).order_by(F("distance").asc(nulls_last=True), "id")


# -- decisions ------------------------------------------------------------------------------


def clerical_decisions() -> list[ClericalDecision]:
    """Every decided pair with its latest decision, for ``link(decisions=…)``."""
    rows = (
        ReviewCase.objects.filter(kind=ReviewCase.Kind.PAIR, status=ReviewCase.Status.DECIDED)
        .order_by("decided_at", "id")
        .values_list("unique_id_l", "unique_id_r", "decision")
        .iterator(chunk_size=5000)
    )
    return decisions_from_rows(rows)


def dataset_code(unique_id: str) -> str:
    return unique_id.partition(":")[0]


def record_ref(unique_id: str) -> str:
    return unique_id.partition(":")[2]


def _subjects(case: ReviewCase) -> list[str]:
    try:
        found = resident_ids_of([case.unique_id_l, case.unique_id_r])
    except ValueError:
        return []
    return sorted(set(found.values()))


def decide(case: ReviewCase, decision: str, officer: User, note: str = "") -> ReviewCase:
    """Record ``officer``'s ``decision`` ("same" or "different") on a pair case, with a data-use
    event, in one transaction; return the case holding the decision.

    An open or closed case becomes decided. A case already decided is left as it was (it is
    history) and the decision goes on a new decided case for the same pair: a change of mind,
    which wins because it is later. Any other open case for the pair is closed.
    """
    if decision not in ReviewCase.Decision.values:
        raise ReviewError("Select whether the records are about the same person or not.")
    if case.kind != ReviewCase.Kind.PAIR:
        raise ReviewError("Only record pairs can be decided here.")
    note = note.strip()
    if len(note) > 500:
        raise ReviewError("The note must be 500 characters or fewer.")
    subjects = _subjects(case)
    if not subjects:
        raise ReviewError(
            "Neither record is in the resident index any more: the pair cannot be decided."
        )
    now = timezone.now()
    with transaction.atomic():
        current = ReviewCase.objects.select_for_update().get(pk=case.pk)
        if current.status == ReviewCase.Status.DECIDED:
            current = ReviewCase(
                kind=current.kind,
                reference=current.reference,
                unique_id_l=current.unique_id_l,
                unique_id_r=current.unique_id_r,
                match_weight=current.match_weight,
                match_probability=current.match_probability,
                breakdown=current.breakdown,
                linked_at=current.linked_at,
            )
        current.status = ReviewCase.Status.DECIDED
        current.decision = decision
        current.note = note
        current.decided_by = officer
        current.decided_at = now
        current.save()
        ReviewCase.objects.filter(
            kind=ReviewCase.Kind.PAIR,
            unique_id_l=current.unique_id_l,
            unique_id_r=current.unique_id_r,
            status=ReviewCase.Status.OPEN,
        ).update(status=ReviewCase.Status.CLOSED, closed_at=now)
        record_data_use(
            subject_resident_ids=subjects,
            actor=officer,
            actor_kind=ActorKind.STAFF,
            actor_label=ACTOR_LABEL,
            purpose=PURPOSE,
            action=Action.MATCH_REVIEW,
            datasets=[dataset_code(current.unique_id_l), dataset_code(current.unique_id_r)],
            reference=f"review-{current.pk}",
            outcome="same_person" if decision == ReviewCase.Decision.SAME else "different_people",
        )
    return current


def record_case_view(case: ReviewCase, officer: User, resident_ids: Iterable[str]) -> None:
    """The data-use event for an officer shown a case's two records."""
    record_data_use(
        subject_resident_ids=sorted(set(resident_ids)),
        actor=officer,
        actor_kind=ActorKind.STAFF,
        actor_label=ACTOR_LABEL,
        purpose=PURPOSE,
        action=Action.VIEWED_RECORDS,
        datasets=[dataset_code(case.unique_id_l), dataset_code(case.unique_id_r)],
        reference=f"review-{case.pk}",
    )


def pair_history(case: ReviewCase) -> list[ReviewCase]:
    """Every decision on the case's pair, oldest first (the last one is in force)."""
    return list(
        ReviewCase.objects.filter(
            kind=ReviewCase.Kind.PAIR,
            unique_id_l=case.unique_id_l,
            unique_id_r=case.unique_id_r,
            status=ReviewCase.Status.DECIDED,
        )
        .select_related("decided_by")
        .order_by("decided_at", "id")
    )
