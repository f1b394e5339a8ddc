"""FEBRL4 through the product, with no code written for it: two declarations
(``fixtures/febrl4/febrl4a.toml``, ``febrl4b.toml``), ``borough residents load`` for each
file, ``borough residents link``, then pairwise precision, recall and F1 of the resident index
against FEBRL's truth (``rec-N-org`` in dataset4a is ``rec-N-dup-0`` in dataset4b; no other
pair is the same person). The data and where it comes from: ``fixtures/febrl4/SOURCE.md``.

Splink reaches pairwise F1 0.9996 on FEBRL4; Borough must reach 0.99. About 20 s on SQLite.
"""

import gzip
import shutil
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import call_command

from borough.residents.models import DatasetLoad, SourceRecord
from borough.residents.queries import records_for_linkage

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "febrl4"
F1_FLOOR = 0.99

pytestmark = pytest.mark.django_db


@pytest.fixture
def febrl4(tmp_path, monkeypatch, settings, capsys):
    """Both FEBRL4 files loaded with ``borough residents load``; the load's output."""
    monkeypatch.setenv("BOROUGH_DATASETS_DIR", str(FIXTURE))
    settings.DATA_DIR = tmp_path / "data"
    out = {}
    for part in ("a", "b"):
        export = tmp_path / f"dataset4{part}.csv"
        with gzip.open(FIXTURE / f"dataset4{part}.csv.gz", "rb") as source:
            with export.open("wb") as target:
                shutil.copyfileobj(source, target)
        call_command("residents", "load", f"febrl4{part}", str(export))
        out[part] = capsys.readouterr().out
    return out


def test_every_febrl4_row_loads_through_its_declaration(febrl4):
    assert "5,000 rows, 5,000 records; 5,000 new" in febrl4["a"]
    assert "5,000 rows, 5,000 records; 5,000 new" in febrl4["b"]
    # 5,000 postcode warnings do not hide the others: counted by column, and each column's
    # first ten kept
    assert "(5,000 in postcode, 64 in date_of_birth, 2 in given_name + surname;" in febrl4["b"]
    load = DatasetLoad.objects.filter(dataset__code="febrl4b").latest("started_at")
    kept = Counter(w["column"] for w in load.warnings)
    assert kept == {"postcode": 10, "date_of_birth": 10, "given_name + surname": 2}
    records = SourceRecord.objects.filter(ended_at__isnull=True)
    assert records.count() == 10_000
    # Australian postcodes (four digits) are kept as text: none is lost.
    assert not records.filter(postcode="").exists()
    assert records.get(record_ref="rec-1070-org").postcode == "4223"
    # A given name or a surname missing is a record with that part blank; three rows have
    # neither (name_required = false): they are records too, known by the rest.
    assert records.filter(first_name_std="").count() == 112 + 234
    assert records.filter(first_name_std="", surname_std="").count() == 3
    # Dates of birth: every year kept (1900 too); 64 typed impossibly in dataset4b
    # (19450493) are kept as given and left blank (not_a_date = "blank").
    assert records.filter(date_of_birth__year=1900).count() > 0
    impossible = records.filter(date_of_birth__isnull=True).exclude(date_of_birth_given="")
    assert impossible.count() == 64
    assert impossible.get(record_ref="rec-3978-dup-0").date_of_birth_given == "19450493"
    # Street number, street, locality, suburb and state make the address text.
    assert records.get(record_ref="rec-1070-org").address_text == (
        "8 stanley street miami winston hills nsw"
    )
    # Each file holds each person once: neither's records are linked to each other.
    table = records_for_linkage()
    assert table.column("link_only").to_pylist() == [True] * 10_000


def pairwise_scores(index: pd.DataFrame) -> dict:
    """Pairwise precision, recall and F1 of ``index`` (unique_id, resident_id) against FEBRL4's
    truth, with a few missed and wrong pairs. Every pair of records one resident holds is a
    predicted pair; a pair within one file is never true."""
    resident = dict(zip(index["unique_id"], index["resident_id"], strict=True))
    truth = [
        (f"febrl4a:rec-{n}-org", f"febrl4b:rec-{n}-dup-0")
        for n in (uid.split("-")[1] for uid in resident if uid.startswith("febrl4a:"))
    ]
    sizes = Counter(resident.values())
    predicted = sum(n * (n - 1) // 2 for n in sizes.values())
    found = [pair for pair in truth if resident.get(pair[0]) == resident.get(pair[1])]
    correct = len(found)
    precision = correct / predicted if predicted else 0.0
    recall = correct / len(truth)
    f1 = 2 * precision * recall / (precision + recall) if correct else 0.0
    missed = [pair for pair in truth if resident.get(pair[0]) != resident.get(pair[1])]
    true_set = set(truth)
    members: dict[str, list[str]] = {}
    for uid, rid in resident.items():
        if sizes[rid] > 1:
            members.setdefault(rid, []).append(uid)
    wrong = []
    for uids in members.values():
        uids.sort()
        for i, left in enumerate(uids):
            for right in uids[i + 1 :]:
                if (left, right) not in true_set and len(wrong) < 10:
                    wrong.append((left, right))
    return {
        "predicted": predicted,
        "correct": correct,
        "true": len(truth),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "missed": missed[:10],
        "wrong": wrong,
    }


def _describe(scores: dict) -> str:
    lines = [
        f"FEBRL4 pairwise: precision {scores['precision']:.4f}, recall {scores['recall']:.4f}, "
        f"F1 {scores['f1']:.4f} ({scores['correct']:,} of {scores['true']:,} true pairs found, "
        f"{scores['predicted']:,} predicted)",
        "missed (first 10): " + "; ".join(f"{a} ~ {b}" for a, b in scores["missed"]),
        "wrong (first 10): " + "; ".join(f"{a} ~ {b}" for a, b in scores["wrong"]),
    ]
    return "\n".join(lines)


def test_the_pairwise_scores_count_pairs_within_a_file_as_wrong():
    index = pd.DataFrame(
        {
            "unique_id": [
                "febrl4a:rec-1-org",
                "febrl4b:rec-1-dup-0",
                "febrl4a:rec-2-org",
                "febrl4a:rec-3-org",
                "febrl4b:rec-3-dup-0",
                "febrl4b:rec-2-dup-0",
            ],
            "resident_id": ["R1", "R1", "R2", "R2", "R3", "R4"],
        }
    )
    scores = pairwise_scores(index)
    assert (scores["predicted"], scores["correct"], scores["true"]) == (2, 1, 3)
    assert scores["wrong"] == [("febrl4a:rec-2-org", "febrl4a:rec-3-org")]
    assert scores["missed"] == [
        ("febrl4a:rec-2-org", "febrl4b:rec-2-dup-0"),
        ("febrl4a:rec-3-org", "febrl4b:rec-3-dup-0"),
    ]


def test_febrl4_links_with_pairwise_f1_of_at_least_0_99(febrl4, settings, capsys):
    call_command("residents", "link")
    capsys.readouterr()
    index = pd.read_parquet(Path(settings.DATA_DIR) / "linkage" / "residents.parquet")
    assert len(index) == 10_000
    scores = pairwise_scores(index)
    print(_describe(scores))
    assert scores["f1"] >= F1_FLOOR, _describe(scores)
