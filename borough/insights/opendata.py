"""Publishing open data: the aggregate tables, protected, with a data dictionary and the licence.

``publish`` counts every table from the warehouse (``opendata_tables``), protects each publication's tables
together (``disclosure.protect_tables``) and only then writes anything: a table that fails the
audit stops the whole release and nothing is written. A release is a new folder under
``DATA_DIR/open-data/releases``; the public index reads ``current.json``, which is replaced in
one step (``os.replace``) after every file of the release is on disk, so a reader sees the old
release or the new one, never half of one. Publishing again when no file would differ from the
current release's (the same period, rule and counts) writes nothing and returns the current
release, marked ``unchanged``: a daily job does not pile up identical releases.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from borough.insights.disclosure import CONFIDENTIAL, DisclosureError, Rule, protect_tables
from borough.insights.opendata_tables import PUBLICATIONS, Publication
from borough.insights.warehouse import WarehouseMissing

OGL_NAME = "Open Government Licence v3.0"
OGL_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
RELEASE_NAME = re.compile(r"^\d{8}T\d{6}(-\d+)?$")
FILE_NAME = re.compile(r"^[a-z0-9-]+\.csv(-metadata\.json)?$")

__all__ = ["OGL_NAME", "OGL_URL", "Release", "current_release", "file_path", "publish"]


def root() -> Path:
    return Path(settings.DATA_DIR) / "open-data"


@dataclass(frozen=True)
class Release:
    name: str
    manifest: dict
    #: True when ``publish`` found nothing to change and wrote nothing.
    unchanged: bool = False

    @property
    def tables(self) -> list[dict]:
        return self.manifest["tables"]


def default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last 12 whole months before ``today``'s month."""
    end = today.replace(day=1) - dt.timedelta(days=1)
    months = end.year * 12 + end.month - 1 - 11
    return dt.date(months // 12, months % 12 + 1, 1), end


def _dictionary(publication: Publication, spec, title: str, how: str, rule: Rule) -> dict:
    """CSV on the Web (W3C) metadata: what each column means, the licence, the ``[c]`` symbol."""
    columns = [
        {
            "name": dim,
            "titles": dim,
            "datatype": "string",
            "dc:description": publication.dimensions[dim] + ' ("Total": all of them)',
        }
        for dim in spec.dimensions
    ]
    columns.append(
        {
            "name": "count",
            "titles": "count",
            "datatype": "integer",
            "null": CONFIDENTIAL,
            "dc:description": (
                f"{how} Rounded to the nearest {rule.round_to}. {CONFIDENTIAL}: hidden because "
                f"it counts fewer than {rule.threshold}, or because it would let a hidden "
                "figure be worked out."
            ),
        }
    )
    return {
        "@context": "http://www.w3.org/ns/csvw",
        "url": f"{spec.name}.csv",
        "dc:title": title,
        "dc:description": how,
        "dc:license": {"@id": OGL_URL},
        "tableSchema": {"columns": columns},
    }


def _write_release(staging: Path, protected, published_at, start, end, rule) -> dict:
    entries = []
    for publication, spec, title, how, table in protected:
        frame = table.long()
        frame.to_csv(staging / f"{spec.name}.csv", index=False, quoting=csv.QUOTE_MINIMAL)
        dictionary = _dictionary(publication, spec, title, how, rule)
        (staging / f"{spec.name}.csv-metadata.json").write_text(
            json.dumps(dictionary, indent=2), encoding="utf-8"
        )
        entries.append(
            {
                "name": spec.name,
                "title": title,
                "how_counted": how,
                "file": f"{spec.name}.csv",
                "dictionary": f"{spec.name}.csv-metadata.json",
                "rows": len(frame),
                "hidden": table.hidden_primary + table.hidden_secondary,
            }
        )
    manifest = {
        "published_at": published_at.isoformat(),
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "licence": {"name": OGL_NAME, "url": OGL_URL},
        "rule": {"threshold": rule.threshold, "round_to": rule.round_to},
        "tables": entries,
    }
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


def publish(
    start: dt.date | None = None, end: dt.date | None = None, rule: Rule | None = None
) -> Release:
    """Count, protect and write every open-data table for ``start``..``end`` (inclusive).

    Raises ``DisclosureError`` (and writes nothing) if any table fails the disclosure audit or
    the period is wrong."""
    today = timezone.localdate()
    if start is None or end is None:
        start, end = default_period(today)
    if end < start:
        raise DisclosureError("The period ends before it starts")
    if end > today:
        raise DisclosureError("The period cannot end after today")
    rule = rule or Rule.from_profile()

    protected = []  # everything is checked before anything is written
    for publication in PUBLICATIONS:
        specs = [spec for spec, _, _ in publication.tables]
        try:
            counts = publication.counts(start, end)
        except WarehouseMissing as error:
            raise DisclosureError(str(error)) from None
        tables = protect_tables(counts, specs, rule)
        for (spec, title, how), table in zip(publication.tables, tables, strict=True):
            protected.append((publication, spec, title, how, table))

    published_at = timezone.localtime()
    base = root() / "releases"
    base.mkdir(parents=True, exist_ok=True)
    stamp = published_at.strftime("%Y%m%dT%H%M%S")
    name, n = stamp, 1
    while (base / name).exists():
        n += 1
        name = f"{stamp}-{n}"
    folder = base / name
    staging = Path(tempfile.mkdtemp(dir=base, prefix=".staging-"))
    try:
        manifest = _write_release(staging, protected, published_at, start, end, rule)
        current = current_release()
        if current is not None and _same_files(staging, root() / "releases" / current.name):
            shutil.rmtree(staging, ignore_errors=True)
            return Release(current.name, current.manifest, unchanged=True)
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # a failed write leaves nothing behind
        raise
    pointer = root() / ".current.json.tmp"
    pointer.write_text(json.dumps({"release": name}), encoding="utf-8")
    os.replace(pointer, root() / "current.json")
    return Release(name, manifest)


def _same_files(staging: Path, folder: Path) -> bool:
    """Whether the staged release holds the same files, byte for byte, as ``folder``, apart from
    the manifest's publication time."""

    def files(where: Path) -> dict[str, bytes]:
        found = {p.name: p.read_bytes() for p in where.iterdir() if p.is_file()}
        manifest = json.loads(found.pop("manifest.json", b"{}") or b"{}")
        manifest.pop("published_at", None)
        found["manifest.json"] = json.dumps(manifest, sort_keys=True).encode()
        return found

    try:
        return files(staging) == files(folder)
    except (OSError, ValueError):
        return False


def current_release() -> Release | None:
    try:
        name = json.loads((root() / "current.json").read_text(encoding="utf-8"))["release"]
    except (FileNotFoundError, ValueError, KeyError):
        return None
    if not RELEASE_NAME.match(str(name)):
        return None
    manifest = root() / "releases" / name / "manifest.json"
    try:
        return Release(name, json.loads(manifest.read_text(encoding="utf-8")))
    except (FileNotFoundError, ValueError):
        return None


def file_path(release: Release, file_name: str) -> Path | None:
    """The path of one of the release's files, or None: only names the manifest lists."""
    if not FILE_NAME.match(file_name):
        return None
    listed = {t["file"] for t in release.tables} | {t["dictionary"] for t in release.tables}
    if file_name not in listed:
        return None
    return root() / "releases" / release.name / file_name
