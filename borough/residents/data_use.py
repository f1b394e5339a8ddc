"""The data-use log's record of loading and linking the resident index: one action per batch.

A load uses the data of every resident whose records it created, changed, ended or reopened; a
link uses the data of every resident it placed. Each is recorded per batch (``record_batch_use``)
under ``residents_index_maintenance``. A record loaded before the first link belongs to no
resident yet: the link that places it records it.
"""

from django.utils import timezone

from borough.residents.models import DatasetLoad, SourceRecord
from borough.transparency.batches import record_batch_use
from borough.transparency.models import Action

PURPOSE = "residents_index_maintenance"


def record_load(load: DatasetLoad, *, loaded_by=None) -> int:
    """Record a successful load against the residents its changed records belong to."""
    from borough.residents.index import resident_ids_of

    code = load.dataset.code
    refs = SourceRecord.objects.filter(dataset=load.dataset, changed_at=load.started_at)
    unique_ids = [f"{code}:{ref}" for ref in refs.values_list("record_ref", flat=True).iterator()]
    try:
        residents = resident_ids_of(unique_ids)
    except ValueError:  # never linked: no resident IDs exist yet
        return 0
    return record_batch_use(
        sorted(set(residents.values())),
        actor=loaded_by if getattr(loaded_by, "is_staff_member", False) else None,
        actor_label="Borough resident index: loading council records",
        purpose=PURPOSE,
        action=Action.UPDATED_RECORDS,
        datasets=[code],
        reference=f"dataset-load-{load.pk}",
    )


def record_link(ids) -> int:
    """Record a link against every resident it placed (``ids``: unique_id, resident_id)."""
    datasets = sorted({unique_id.split(":", 1)[0] for unique_id in ids["unique_id"]})
    return record_batch_use(
        sorted(ids["resident_id"].dropna().unique()),
        actor_label="Borough resident index: linking council records",
        purpose=PURPOSE,
        action=Action.UPDATED_RECORDS,
        datasets=datasets,
        reference=f"resident-link-{timezone.now():%Y%m%dT%H%M%SZ}",
    )
