"""Recording a batch job's use of many residents' data: an import, a re-link, a Bacs run.

One batch is one action. Its residents are written ``MAX_SUBJECTS`` at a time, one
``record_data_use`` call each (the calls of one batch share their reference), so a batch of any
size is recorded without holding a million IDs in one INSERT.
"""

from collections.abc import Iterable

from django.db import transaction

from borough.transparency.models import ActorKind
from borough.transparency.services import MAX_SUBJECTS, record_data_use


def record_batch_use(
    subject_resident_ids: Iterable[str],
    *,
    actor=None,
    actor_label: str,
    purpose: str,
    action: str,
    datasets: Iterable[str] = (),
    reference: str = "",
    outcome: str = "",
    service: str | None = None,
) -> int:
    """Record that a batch used these residents' data; returns how many events were written.

    ``actor`` is the officer who started the batch, or None for a scheduled job (then it is a
    system actor, named by ``actor_label``). Blank and repeated IDs are skipped; a batch that
    reached nobody writes nothing.
    """
    subjects = list(dict.fromkeys(rid for rid in subject_resident_ids if rid))
    datasets = list(datasets)
    written = 0
    with transaction.atomic():  # a batch is recorded whole or not at all
        for start in range(0, len(subjects), MAX_SUBJECTS):
            written += len(
                record_data_use(
                    subject_resident_ids=subjects[start : start + MAX_SUBJECTS],
                    actor=actor,
                    actor_kind=ActorKind.STAFF if actor is not None else ActorKind.SYSTEM,
                    actor_label="" if actor is not None else actor_label,
                    purpose=purpose,
                    action=action,
                    datasets=datasets,
                    reference=reference,
                    outcome=outcome,
                    service=service,
                )
            )
    return written
