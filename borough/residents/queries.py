"""Reads of source datasets and their records. Other apps read records through these functions."""

from collections.abc import Iterable
from datetime import datetime

import pyarrow as pa
from django.db.models import Count, Q, QuerySet

from borough.residents.config import declared_datasets
from borough.residents.models import DatasetLoad, SourceDataset, SourceRecord

#: The columns of ``records_for_linkage()``, in order, with their Arrow types.
LINKAGE_SCHEMA = pa.schema(
    [
        ("unique_id", pa.string()),
        ("source_dataset", pa.string()),
        ("first_name", pa.string()),
        ("first_name_canonical", pa.string()),
        ("middle_names", pa.string()),
        ("surname", pa.string()),
        ("date_of_birth", pa.string()),
        ("postcode", pa.string()),
        ("uprn", pa.int64()),
        ("address_text", pa.string()),
        ("email", pa.string()),
        ("phone", pa.string()),
        ("national_id", pa.string()),
        ("link_only", pa.bool_()),
    ]
)
#: The boolean column of ``records_for_linkage()`` that is true for the records of a dataset
#: declared ``link_only = true``: each person appears in it at most once, so no two of its
#: records are to be linked to each other (only to other datasets' records). Never null.
LINK_ONLY_COLUMN = "link_only"
_LINKAGE_FIELDS = (
    "dataset__code",
    "record_ref",
    "first_name_std",
    "first_name_canonical",
    "middle_names_std",
    "surname_std",
    "date_of_birth",
    "postcode",
    "uprn",
    "address_text",
    "email_std",
    "phone_std",
    "national_id_std",
)
_BATCH = 20_000


def current_records() -> QuerySet[SourceRecord]:
    """Records in the latest snapshot of their dataset (not ended)."""
    return SourceRecord.objects.filter(ended_at__isnull=True)


#: The extra columns ``records_for_linkage(with_validity=True)`` adds (ISO dates or null):
#: the record's period, and the same dates again as ``resident_from``/``resident_to`` where
#: the dataset's period is the residence (``period_is_residence``), for record linkage's
#: move evidence (``linkage.model.RESIDENCE_COLUMNS``).
VALIDITY_SCHEMA = pa.schema(
    [
        ("valid_from", pa.string()),
        ("valid_to", pa.string()),
        ("resident_from", pa.string()),
        ("resident_to", pa.string()),
    ]
)


def records_for_linkage(
    datasets: Iterable[str] | None = None,
    *,
    changed_since: datetime | None = None,
    with_validity: bool = False,
) -> pa.Table:
    """The current records, standardised, as one Arrow table for record linkage.

    Columns (``LINKAGE_SCHEMA``): ``unique_id`` (``"{dataset}:{record_ref}"``, e.g.
    ``"council_tax:600000001#2"``), ``source_dataset`` (the dataset code), ``first_name``,
    ``first_name_canonical``, ``middle_names``, ``surname`` (all standardised: lower-case ASCII,
    see ``standardise.py``), ``date_of_birth`` (ISO ``YYYY-MM-DD``), ``postcode`` (``"E8 1DY"``),
    ``uprn`` (int64), ``address_text`` (standardised), ``email``, ``phone``, ``national_id``
    (standardised), ``link_only`` (bool, never null: true for the records of a dataset declared
    ``link_only = true``, whose records are linked only to other datasets' records, never to
    each other). A value Borough does not have is null, never an empty string. Rows are ordered by
    ``unique_id``'s dataset, then by load order.

    ``datasets`` limits it to those dataset codes; ``changed_since`` to current records whose
    ``changed_at`` is later (records ended since then are in ``records_ended_since``).
    ``with_validity`` adds ``valid_from`` and ``valid_to`` (``VALIDITY_SCHEMA``): what the
    verification index needs besides the linkage columns; and ``resident_from`` and
    ``resident_to``, the same dates for datasets whose period is the residence (the
    linkage's move evidence).
    Built in batches of 20,000 rows; a million records take a few seconds and about 300 MB.
    """
    schema = LINKAGE_SCHEMA
    fields = _LINKAGE_FIELDS
    link_only = {c.code for c in declared_datasets() if c.link_only}
    if with_validity:
        schema = pa.schema(list(LINKAGE_SCHEMA) + list(VALIDITY_SCHEMA))
        fields = (*_LINKAGE_FIELDS, "valid_from", "valid_to")
        residence = {c.code for c in declared_datasets() if c.period_is_residence}
    query = current_records()
    if datasets is not None:
        query = query.filter(dataset__code__in=list(datasets))
    if changed_since is not None:
        query = query.filter(changed_at__gt=changed_since)
    query = query.order_by("dataset__code", "id").values_list(*fields)
    batches = []
    columns: list[list] = [[] for _ in schema]
    for row in query.iterator(chunk_size=_BATCH):
        code, ref, first, canonical, middle, surname, dob, postcode, uprn = row[:9]
        address, email, phone, national_id = row[9:13]
        values = [
            f"{code}:{ref}",
            code,
            first or None,
            canonical or None,
            middle or None,
            surname or None,
            dob.isoformat() if dob else None,
            postcode or None,
            uprn,
            address or None,
            email or None,
            phone or None,
            national_id or None,
            code in link_only,
        ]
        if with_validity:
            period = [day.isoformat() if day else None for day in row[13:]]
            values += period + (period if code in residence else [None, None])
        for column, value in zip(columns, values, strict=True):
            column.append(value)
        if len(columns[0]) >= _BATCH:
            batches.append(pa.record_batch(columns, schema=schema))
            columns = [[] for _ in schema]
    if columns[0] or not batches:
        batches.append(pa.record_batch(columns, schema=schema))
    return pa.Table.from_batches(batches, schema=schema)


def records_ended_since(when: datetime) -> list[str]:
    """``unique_id``s of records a load has ended (left their export) after ``when``."""
    query = (
        SourceRecord.objects.filter(ended_at__gt=when)
        .order_by("dataset__code", "id")
        .values_list("dataset__code", "record_ref")
    )
    return [f"{code}:{ref}" for code, ref in query.iterator(chunk_size=_BATCH)]


def datasets_with_counts() -> QuerySet[SourceDataset]:
    """Every synced dataset with ``current`` and ``ended`` record counts."""
    return SourceDataset.objects.annotate(
        current=Count("records", filter=Q(records__ended_at__isnull=True)),
        ended=Count("records", filter=Q(records__ended_at__isnull=False)),
    ).order_by("code")


def latest_load(dataset_code: str) -> DatasetLoad | None:
    """The dataset's last successful load (its current snapshot), or None."""
    return (
        DatasetLoad.objects.filter(dataset__code=dataset_code, status=DatasetLoad.Status.LOADED)
        .order_by("-started_at", "-id")
        .first()
    )
