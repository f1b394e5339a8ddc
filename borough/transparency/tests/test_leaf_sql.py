"""PostgreSQL's leaf (``leaf_sql``), the fast filter of ``verify``'s pass 1, and pass 2's leaf
reading in chunks: both must find what the Python paths find."""

import importlib
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from borough.transparency import log_verify, merkle
from borough.transparency.leaf_sql import leaf_hash_sql, leaf_text_sql
from borough.transparency.log_verify import verify_log
from borough.transparency.models import DataUseEvent, SealedLeaf
from borough.transparency.sealing import event_rows, leaf_bytes, seal, seal_all

pytestmark = pytest.mark.django_db

TRIGGERS = importlib.import_module("borough.transparency.migrations.0003_append_only_triggers")
GUARDS = importlib.import_module("borough.transparency.migrations.0015_stored_tiles_append_only")
ALL_TABLES = GUARDS.TABLES
#: The free text columns of an event (``actor_kind`` is one of four codes), each set to an awkward string (cut to fit) and a letter.
TEXT_COLUMNS = (
    "action",
    "actor_label",
    "lawful_basis",
    "lawful_basis_text",
    "outcome",
    "purpose",
    "purpose_text",
    "reference",
    "service",
    "subject_resident_id",
)
EVENTS = DataUseEvent._meta.db_table
LEAVES = SealedLeaf._meta.db_table
ORIGIN = "test.example/borough/data-use-log"
LONDON = ZoneInfo("Europe/London")

#: Strings a leaf must carry byte for byte: JSON's own escapes, every other control character
#: (0x01–0x1f; PostgreSQL's text cannot hold 0x00), DEL, characters outside ASCII and outside
#: the BMP, CJK, the separators JavaScript chokes on, the empty string.
AWKWARD = [
    '"',
    "\\",
    '\\"\\u0041"',
    "".join(chr(c) for c in range(1, 0x20)),
    "\x7f",
    "é",
    "😀",
    "漢字かな",
    "\u2028\u2029",
    "",
    'a", "b',
    '", "',
    "plain text, with a comma",
]
#: ``datasets_read`` values that are arrays of strings (PostgreSQL writes them).
STRING_LISTS = [[], ["council_tax"], ["council_tax", "electoral_register", "x"], AWKWARD]
#: Values it leaves to Python (NULL in SQL).
OTHER_DATASETS = [[1, "a"], {"a": "b"}, "council_tax", None, [["a"]], [True]]
#: (London wall-clock time, microsecond): GMT and BST, microseconds 0 and 999999.
TIMES = [
    ((2026, 1, 15, 9, 30, 0), 0),
    ((2026, 7, 1, 0, 30, 5), 999999),
    ((2026, 3, 29, 2, 30, 0), 1),  # the first hour of BST
    ((2025, 10, 26, 1, 30, 0), 500000),  # the repeated hour at the end of BST
]


@pytest.fixture(autouse=True)
def signing_key(settings):
    from borough.transparency.checkpoint import Signer

    signer = Signer.generate(ORIGIN)
    settings.TRANSPARENCY_LOG_SIGNING_KEY = signer.private_key_text()
    settings.TRANSPARENCY_LOG_VERIFIER_KEY = ""
    settings.TRANSPARENCY_LOG_ORIGIN = ORIGIN
    return signer


def tamper(sql: str, params=()) -> None:
    """Raw SQL past the append-only triggers (dropped inside the test's transaction)."""
    with connection.cursor() as cursor:
        for statement in TRIGGERS._drop(connection.vendor, ALL_TABLES):
            cursor.execute(statement)
        cursor.execute(sql, params)


@pytest.fixture
def guards_restored():
    """For a test that commits (``transaction=True``): the triggers ``tamper`` drops are put
    back at the end, as migration 0015 left them."""
    yield
    with connection.cursor() as cursor:
        for statement in [
            *TRIGGERS._drop(connection.vendor, ALL_TABLES),
            *GUARDS.statements(connection.vendor),
        ]:
            cursor.execute(statement)


def _fit(column: str, text: str, letter: str) -> str:
    size = DataUseEvent._meta.get_field(column).max_length
    return text[: size - 1] + letter


def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL writes this leaf; SQLite has only the Python path")


def _sql_leaves(position: int) -> dict[int, tuple[bytes | None, bytes | None]]:
    """Each event's leaf text (UTF-8) and leaf hash as PostgreSQL writes them at ``position``."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.id, convert_to({leaf_text_sql('%s::bigint')}, 'UTF8'), "
            f"{leaf_hash_sql('%s::bigint')} FROM {EVENTS} e",
            [position, position],
        )
        return {
            pk: (None if text is None else bytes(text), None if h is None else bytes(h))
            for pk, text, h in cursor.fetchall()
        }


def _row(pk: int) -> tuple:
    (row,) = event_rows("e.id = %s", [pk], 1)
    return row


@pytest.mark.postgres
def test_postgresql_writes_the_leaf_byte_for_byte_for_awkward_values(verification, make_staff):
    _postgresql_only()
    officer = make_staff("Parking officer", username="officer")
    n = len(AWKWARD) * len(TIMES)
    events = sorted(verification(*[f"R-{i}" for i in range(n)]), key=lambda e: e.pk)
    for i, event in enumerate(events):
        text = AWKWARD[i % len(AWKWARD)]
        parts, micro = TIMES[i % len(TIMES)]
        moment = datetime(*parts, micro, tzinfo=LONDON, fold=i % 2)
        assignments = ", ".join(f"{c} = %s" for c in TEXT_COLUMNS)
        tamper(
            f"UPDATE {EVENTS} SET {assignments}, datasets_read = %s, occurred_at = %s, "
            "actor_kind = %s, actor_user_id = %s WHERE id = %s",
            [
                *[_fit(c, text, "abcdefghij"[j]) for j, c in enumerate(TEXT_COLUMNS)],
                json.dumps(STRING_LISTS[i % len(STRING_LISTS)]),
                moment,
                "staff" if i % 3 else "service",
                officer.pk if i % 3 else None,
                event.pk,
            ],
        )
    written = _sql_leaves(12345)
    for event in events:
        expected = leaf_bytes(12345, _row(event.pk))
        assert written[event.pk] == (expected, merkle.leaf_hash(expected)), expected


@pytest.mark.postgres
def test_postgresql_leaves_restricted_events_and_other_datasets_to_python(verification):
    _postgresql_only()
    events = sorted(
        verification(*[f"R-{i}" for i in range(len(OTHER_DATASETS))]), key=lambda e: e.pk
    )
    for event, datasets in zip(events, OTHER_DATASETS, strict=True):
        tamper(
            f"UPDATE {EVENTS} SET datasets_read = %s WHERE id = %s",
            [json.dumps(datasets), event.pk],
        )
    (held,) = verification(
        "R-held",
        purpose="parking_enforcement_check",
        action="enforcement_check",
        restriction_reason_code="enforcement_investigation",
    )
    written = _sql_leaves(0)
    assert all(written[e.pk] == (None, None) for e in events)
    assert written[held.pk][1] is None
    seal_all()
    report = verify_log()
    assert report.ok, report.problems
    assert report.events == DataUseEvent.objects.count()  # the hold writes an event of its own


@pytest.mark.postgres
def test_a_time_before_year_one_is_never_the_sealed_one(verification):
    """``to_char`` drops the era: 2026 BC must not pass for 2026 AD."""
    _postgresql_only()
    events = sorted(verification("R-1", "R-2"), key=lambda e: e.pk)
    seal_all()
    tamper(
        f"UPDATE {EVENTS} SET occurred_at = (to_char(occurred_at AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD HH24:MI:SS.US') || '+00 BC')::timestamptz WHERE id = %s",
        [events[1].pk],
    )
    report = verify_log()
    assert [(p.kind, p.position, p.event_id) for p in report.problems] == [
        ("altered", 1, events[1].pk)
    ]


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.django_db(transaction=True)
def test_tampering_is_found_by_position_through_the_fast_paths(
    verification, monkeypatch, guards_restored, workers
):
    """An altered, a deleted, an inserted and two swapped events, with pass 2 reading the leaves
    in chunks of 4 (several chunks, each a ``string_agg``); on PostgreSQL pass 1 filters in SQL."""
    if workers > 1 and connection.vendor != "postgresql":
        pytest.skip("workers share the database only on PostgreSQL")
    monkeypatch.setattr(log_verify, "CHUNK", 4)
    events = sorted(verification(*[f"R-{i}" for i in range(13)]), key=lambda e: e.pk)
    last = events[-1].pk
    tamper(f"UPDATE {EVENTS} SET id = %s WHERE id = %s", [last + 100, last])
    seal(limit=5)
    seal()
    assert verify_log(workers=workers).ok
    ids = [e.pk for e in events[:-1]]
    tamper(f"UPDATE {EVENTS} SET outcome = 'refer' WHERE id = %s", [ids[2]])
    tamper(f"DELETE FROM {EVENTS} WHERE id = %s", [ids[6]])
    tamper(f"UPDATE {EVENTS} SET subject_resident_id = 'R-x' WHERE id = %s", [ids[8]])
    tamper(f"UPDATE {EVENTS} SET subject_resident_id = 'R-8' WHERE id = %s", [ids[9]])
    tamper(f"UPDATE {EVENTS} SET subject_resident_id = 'R-9' WHERE id = %s", [ids[8]])
    columns = ", ".join(f.column for f in DataUseEvent._meta.concrete_fields if f.column != "id")
    tamper(
        f"INSERT INTO {EVENTS} (id, {columns}) SELECT %s, {columns} FROM {EVENTS} WHERE id = %s",
        [last + 1, ids[0]],
    )
    report = verify_log(workers=workers)
    assert sorted(
        [(p.kind, p.position, p.event_id) for p in report.problems], key=lambda p: p[2]
    ) == [
        ("altered", 2, ids[2]),
        ("removed", 6, ids[6]),
        ("altered", 8, ids[8]),
        ("altered", 9, ids[9]),
        ("inserted", None, last + 1),
    ]
    assert (report.events, report.leaves) == (13, 13)
    connection.close()


@pytest.mark.django_db(transaction=True)
def test_pass_two_reads_a_gap_or_a_bad_leaf_row_by_row_and_reports_it(
    verification, monkeypatch, guards_restored
):
    monkeypatch.setattr(log_verify, "CHUNK", 4)
    verification(*[f"R-{i}" for i in range(10)])
    seal(limit=3)
    seal()
    tamper(f"UPDATE {LEAVES} SET leaf_hash = %s WHERE position = 5", [b"short"])
    report = verify_log()
    assert [(p.kind, p.position) for p in report.problems] == [("altered", 5), ("checkpoint", None)]
    assert "checkpoint 10: the leaves do not give its root" in str(report.problems[1])
    assert "positions 3–9" in str(report.problems[1])
    tamper(f"DELETE FROM {LEAVES} WHERE position = 6")
    report = verify_log()
    assert [(p.kind, p.position) for p in report.problems if p.kind == "leaves"] == [("leaves", 6)]
    assert "positions 6–6 are missing from the sealed leaves" in str(report.problems[-1])
    connection.close()


def test_after_a_checkpoint_that_does_not_match_the_next_is_proved_consistent(verification):
    """A rewritten leaf hash: its checkpoint does not match, the tree carries on from that
    checkpoint's stored right edge, and the next checkpoints are checked with a consistency proof
    from it (and pass). A stored root that is not its right edge's fails that proof."""
    verification(*[f"R-{i}" for i in range(9)])
    for _ in range(3):
        seal(limit=3)
    good = bytes(SealedLeaf.objects.get(position=1).leaf_hash)
    tamper(f"UPDATE {LEAVES} SET leaf_hash = %s WHERE position = 1", [bytes(32)])
    report = verify_log()
    assert [(p.kind, p.position) for p in report.problems] == [("altered", 1), ("checkpoint", None)]
    assert "checkpoint 3: the leaves do not give its root" in str(report.problems[1])
    tamper(f"UPDATE {LEAVES} SET leaf_hash = %s WHERE position = 1", [good])
    tamper("UPDATE transparency_logcheckpoint SET root_hash = %s WHERE size = 3", [bytes(32)])
    found = [str(p) for p in verify_log().problems]
    assert len(found) == 3, found
    assert "checkpoint 3: its signed note says size 3" in found[0]
    assert "checkpoint 3: the leaves do not give its root" in found[1]
    assert "checkpoint 6: not consistent with checkpoint 3" in found[2]
