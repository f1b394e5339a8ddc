"""Loading source datasets: every change to ``SourceDataset``, ``DatasetLoad`` and ``SourceRecord``.

``load_dataset`` enforces these rules:

- **All or nothing.** The whole file is read and checked first; if any row has a problem
  nothing is written, and the result lists the problems by file, row (the header is row 1)
  and column, the first 50 (10 a column) and "and N more". Then it is written in one
  transaction (from memory, or for a very big file by reading it again). What is a problem and what only a warning is in ``rows.py``.
- **The file must be readable.** In the declared encoding (CSV), every mapped column in the
  header, at least one record.
- **A load is a snapshot.** Afterwards the dataset's current records are exactly the file's:
  new records are created, changed ones updated, and records the file no longer holds are
  ended (``ended_at`` set, never deleted). A record that comes back is reopened. Every
  created, changed, ended or reopened record gets ``changed_at`` = the load's start.
- **Idempotent.** Loading the dataset's last loaded file again, under the same declaration,
  changes nothing and says so.
- **Addresses get UPRNs.** A source UPRN that is in the gazetteer is used as it is
  (``uprn_method = "source"``); otherwise the address is matched (``addresses.py``). An
  address that matches nothing is kept without a UPRN and listed in the result.

Every attempt is recorded as a ``DatasetLoad``, including failed ones.
"""

import os
from collections.abc import Iterator
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from borough.residents.addresses import AddressMatcher, address_matcher
from borough.residents.config import DatasetConfig, dataset_config, declared_datasets
from borough.residents.data_use import record_load
from borough.residents.loader import Loader
from borough.residents.models import DatasetLoad, SourceDataset
from borough.residents.reading import FileRejected, hash_and_check_encoding
from borough.residents.results import LoadResult

__all__ = ["LoadResult", "load_dataset", "load_many", "sync_dataset", "sync_datasets"]


def sync_dataset(config: DatasetConfig) -> SourceDataset:
    """The dataset's row, created or brought up to date from its declaration."""
    dataset, _ = SourceDataset.objects.update_or_create(
        code=config.code,
        defaults={
            "title": config.title,
            "owner": config.owner,
            "description": config.description,
            "purpose": config.purpose,
            "kept_for": config.kept_for,
            "keep_after_end": config.keep_after_end,
            "asset_owner": config.asset_owner,
            "lawful_basis": config.lawful_basis,
            "lawful_basis_reference": config.lawful_basis_reference,
            "proves": list(config.proves),
            "config_path": str(config.path),
            "config_sha256": config.sha256,
            "declared": True,
            "synced_at": timezone.now(),
        },
    )
    return dataset


@transaction.atomic
def sync_datasets() -> list[SourceDataset]:
    """Every declared dataset synced; datasets whose declaration has gone marked undeclared."""
    configs = declared_datasets()
    synced = [sync_dataset(config) for config in configs]
    SourceDataset.objects.exclude(code__in=[c.code for c in configs]).update(declared=False)
    return synced


def load_dataset(
    dataset_code: str,
    path: str | os.PathLike,
    *,
    loaded_by=None,
    via: str = "command line",
    force: bool = False,
    matcher: AddressMatcher | None = None,
    set_aside_share: float | None = None,
) -> LoadResult:
    """Load an export of a declared dataset as its new snapshot. See the module's rules.

    ``force`` loads a file again even if it was the last one loaded (after a gazetteer
    update, to match addresses again). ``set_aside_share`` (only when asked, e.g. 0.001):
    rows with problems are left out and listed (``LoadResult.set_aside``) instead of refusing
    the file, so long as they are at most that share of its rows (at least one row); more, and
    nothing is loaded. Raises ``DatasetConfigError`` if there is no such dataset,
    ``FileNotFoundError`` if there is no such file.
    """
    config = dataset_config(dataset_code)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(path)
    dataset = sync_dataset(config)
    started = timezone.now()
    load = DatasetLoad(
        dataset=dataset,
        file_name=path.name,
        config_sha256=config.sha256,
        started_at=started,
        loaded_by=loaded_by,
        via=via,
    )
    result = LoadResult(dataset=config.code, file_name=path.name, status="")
    try:
        load.sha256 = hash_and_check_encoding(path, config)
        previous = _last_loaded(dataset, load.sha256, config)
        if previous and not force:
            result.status = DatasetLoad.Status.ALREADY_LOADED
            result.already_loaded_on = previous.started_at
            result.rows, result.records = previous.rows, previous.records
            result.unchanged = previous.records
            return _finish(load, result)
        loader = Loader(config, dataset, path, load, result, matcher, set_aside_share)
        if loader.check():
            with transaction.atomic():  # the records and the load's counts, together
                loader.write()
                record_load(load, loaded_by=loaded_by)
                result.status = DatasetLoad.Status.LOADED
                return _finish(load, result)
    except FileRejected as rejected:
        result.problems, result.problem_count = [rejected.problem], 1
    result.status = DatasetLoad.Status.FAILED
    return _finish(load, result)


def _last_loaded(dataset: SourceDataset, digest: str, config: DatasetConfig) -> DatasetLoad | None:
    latest = (
        DatasetLoad.objects.filter(dataset=dataset, status=DatasetLoad.Status.LOADED)
        .order_by("-started_at", "-id")
        .first()
    )
    if latest and latest.sha256 == digest and latest.config_sha256 == config.sha256:
        return latest
    return None


def _finish(load: DatasetLoad, result: LoadResult) -> LoadResult:
    load.status = result.status
    for name in (
        "rows",
        "records",
        "created",
        "updated",
        "unchanged",
        "ended",
        "reopened",
        "uprn_from_source",
        "uprn_from_address",
        "uprn_unmatched",
    ):
        setattr(load, name, getattr(result, name))
    load.error_count = result.problem_count
    load.errors = [p.as_dict() for p in (*result.problem_notes, *result.problems)]
    load.warning_count = result.warning_count
    load.warnings = [p.as_dict() for p in result.warnings]
    load.unmatched_addresses = [u.__dict__ for u in result.unmatched]
    load.set_aside_rows = result.set_aside_rows
    load.set_aside = [p.as_dict() for p in result.set_aside]
    load.finished_at = timezone.now()
    load.save()
    result.load = load
    return result


def load_many(
    pairs: list[tuple[str, str | os.PathLike]],
    *,
    loaded_by=None,
    via: str = "command line",
    force: bool = False,
) -> Iterator[LoadResult]:
    """Load several datasets' exports in turn, yielding each ``LoadResult``.

    The addresses of every file that needs loading are matched together first (in runs of
    ``addresses.MATCH_BATCH``): the matcher costs a few seconds a run, whatever its size.
    """
    matcher = address_matcher()
    keys: list[tuple[str, str]] = []
    for code, path in pairs:
        config, path = dataset_config(code), Path(path)
        if not path.is_file():
            continue
        try:
            digest = hash_and_check_encoding(path, config)
            dataset = SourceDataset.objects.filter(code=code).first()
            if not force and dataset and _last_loaded(dataset, digest, config):
                continue
            load = DatasetLoad(started_at=timezone.now())
            keys += Loader(config, None, path, load, LoadResult(code, path.name, "")).address_keys(
                matcher.gazetteer
            )
        except FileRejected:
            continue  # load_dataset will say why
    matcher.match(keys)
    for code, path in pairs:
        yield load_dataset(code, path, loaded_by=loaded_by, via=via, force=force, matcher=matcher)
