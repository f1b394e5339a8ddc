"""Sealing the data-use log, and ``verify`` finding tampering by position."""

import base64
import importlib
import json
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from borough.transparency import merkle
from borough.transparency.checkpoint import Checkpoint, Signer, open_checkpoint, sign_checkpoint
from borough.transparency.log_verify import verify_log
from borough.transparency.models import DataUseEvent, LogCheckpoint, SealedLeaf
from borough.transparency.sealing import (
    SealRefused,
    event_leaf_hash,
    event_rows,
    format_time,
    leaf_bytes,
    leaf_dict,
    seal,
    seal_all,
)

pytestmark = pytest.mark.django_db

TRIGGERS = importlib.import_module("borough.transparency.migrations.0003_append_only_triggers")
ALL_TABLES = importlib.import_module(
    "borough.transparency.migrations.0015_stored_tiles_append_only"
).TABLES

EVENTS = DataUseEvent._meta.db_table
LEAVES = SealedLeaf._meta.db_table
ORIGIN = "test.example/borough/data-use-log"


@pytest.fixture(autouse=True)
def signing_key(settings):
    signer = Signer.generate(ORIGIN)
    settings.TRANSPARENCY_LOG_SIGNING_KEY = signer.private_key_text()
    settings.TRANSPARENCY_LOG_VERIFIER_KEY = ""
    settings.TRANSPARENCY_LOG_ORIGIN = "test.example/borough/data-use-log"
    return signer


def _row(pk: int) -> tuple:
    (row,) = event_rows("e.id = %s", [pk], 1)
    return row


def _record(verification, n: int) -> list[DataUseEvent]:
    return verification(*[f"R-{i}" for i in range(n)])


def tamper(sql: str, params=()) -> None:
    """Run raw SQL as someone with direct database access would, past the append-only triggers.

    Dropping the triggers inside the test's transaction is undone when the test ends.
    """
    with connection.cursor() as cursor:
        for statement in TRIGGERS._drop(connection.vendor, ALL_TABLES):
            cursor.execute(statement)
        cursor.execute(sql, params)


def test_the_leaf_is_canonical_json_anyone_can_recompute(verification):
    (event,) = verification("R-1")
    row = _row(event.pk)
    data = leaf_bytes(7, row)
    decoded = json.loads(data)
    assert list(decoded) == sorted(decoded)
    assert decoded["position"] == 7
    assert decoded["v"] == 1
    assert decoded["subject_resident_id"] == "R-1"
    assert decoded["occurred_at"].endswith("Z")
    assert decoded["action_id"] == str(event.action_id)
    assert "id" not in decoded
    fields = {f.attname for f in DataUseEvent._meta.concrete_fields} - {
        "id",
        "restriction_reason_code",
        "hidden_until",
    }
    assert set(decoded) == {
        f.removesuffix("_id") if f == "actor_user_id" else f for f in fields
    } | {
        "position",
        "v",
    }
    assert (
        json.dumps(decoded, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        == data
    )


def test_the_leaf_format_byte_for_byte():
    from datetime import datetime, timedelta, timezone

    row = (
        41,
        "verification",
        "12345678-1234-5678-1234-567812345678",
        "service",
        "Parking permits service",
        None,
        ["council_tax", "electoral_register"],
        "public_task",
        "Public task — UK GDPR 6(1)(e)",
        format_time(datetime(2026, 3, 27, 10, 30, 0, 5, tzinfo=timezone(timedelta(hours=1)))),
        "verified",
        "parking_permit_residency_check",
        "To check you live at the address",
        "PP-2026-000123",
        "parking",
        "R-1",
    )
    assert (
        leaf_bytes(0, row)
        == (
            '{"action":"verification","action_id":"12345678-1234-5678-1234-567812345678",'
            '"actor_kind":"service","actor_label":"Parking permits service","actor_user":null,'
            '"datasets_read":["council_tax","electoral_register"],"lawful_basis":"public_task",'
            '"lawful_basis_text":"Public task — UK GDPR 6(1)(e)",'
            '"occurred_at":"2026-03-27T09:30:00.000005Z","outcome":"verified","position":0,'
            '"purpose":"parking_permit_residency_check",'
            '"purpose_text":"To check you live at the address","reference":"PP-2026-000123",'
            '"service":"parking","subject_resident_id":"R-1","v":1}'
        ).encode()
    )


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ((2026, 3, 27, 10, 30), "2026-03-27T10:30:00.000000Z"),  # GMT
        ((2026, 7, 1, 0, 5, 9, 120), "2026-06-30T23:05:09.000120Z"),  # BST, with microseconds
    ],
)
def test_the_database_gives_the_leaf_its_canonical_values(verification, at, parts, expected):
    at(*parts)
    (event,) = verification("R-1")
    row = _row(event.pk)
    assert row[9] == expected
    assert row[2] == str(event.action_id)
    assert row[6] == ["council_tax", "electoral_register"]


def test_seal_appends_leaves_in_id_order_and_signs_a_checkpoint(verification, signing_key):
    events = _record(verification, 5)
    checkpoint = seal()
    assert checkpoint.size == 5
    leaves = list(SealedLeaf.objects.order_by("position").values_list("event_id", "leaf_hash"))
    assert [e for e, _ in leaves] == sorted(e.pk for e in events)
    root = merkle.root_hash([bytes(h) for _, h in leaves])
    assert bytes(checkpoint.root_hash) == root
    opened = open_checkpoint(checkpoint.note, signing_key.verifier(), ORIGIN)
    assert opened == Checkpoint(ORIGIN, 5, root)
    assert seal() is None  # nothing new


def test_seal_carries_on_from_the_last_checkpoint(verification):
    _record(verification, 3)
    first = seal()
    _record(verification, 4)
    second = seal(limit=2)
    third = seal()
    assert (first.size, second.size, third.size) == (3, 5, 7)
    leaves = [
        bytes(h)
        for h in SealedLeaf.objects.order_by("position").values_list("leaf_hash", flat=True)
    ]
    for cp in (first, second, third):
        assert bytes(cp.root_hash) == merkle.root_hash(leaves, 0, cp.size)
    proof = merkle.consistency_proof(3, leaves, 7)
    merkle.verify_consistency(3, 7, proof, bytes(first.root_hash), bytes(third.root_hash))


def test_an_event_committed_late_with_a_lower_id_is_still_sealed(verification, signing_key):
    (a, b) = _record(verification, 2)
    # As if b committed, and was sealed, before a committed.
    row = _row(b.pk)
    h = event_leaf_hash(0, row)
    SealedLeaf.objects.create(position=0, event_id=b.pk, leaf_hash=h)
    tree = merkle.CompactRange()
    tree.append(h)
    LogCheckpoint.objects.create(
        size=1,
        root_hash=tree.root(),
        compact_range=tree.to_bytes(),
        note=sign_checkpoint(Checkpoint(ORIGIN, 1, tree.root()), signing_key),
        last_event_id=b.pk,
    )
    assert seal().size == 2
    assert SealedLeaf.objects.get(position=1).event_id == a.pk
    assert verify_log().ok


def test_a_clean_log_verifies(verification):
    _record(verification, 6)
    seal(limit=4)
    seal()
    _record(verification, 2)  # recorded but not sealed yet: fine
    report = verify_log()
    assert report.ok, report.problems
    assert (report.events, report.leaves, report.checkpoints, report.unsealed) == (8, 6, 2, 2)


def test_verify_finds_an_altered_event_by_position(verification):
    events = _record(verification, 5)
    seal_all()
    target = sorted(e.pk for e in events)[3]
    tamper(f"UPDATE {EVENTS} SET outcome = %s WHERE id = %s", ["refer", target])
    report = verify_log()
    assert [(p.kind, p.position, p.event_id) for p in report.problems] == [("altered", 3, target)]


def test_verify_finds_a_deleted_event_by_position(verification):
    events = _record(verification, 5)
    seal_all()
    target = sorted(e.pk for e in events)[1]
    tamper(f"DELETE FROM {EVENTS} WHERE id = %s", [target])
    report = verify_log()
    assert [(p.kind, p.position, p.event_id) for p in report.problems] == [("removed", 1, target)]


def test_verify_finds_two_events_swapped(verification):
    events = sorted(_record(verification, 4), key=lambda e: e.pk)
    seal_all()
    a, b = events[0].pk, events[2].pk
    tamper(f"UPDATE {EVENTS} SET subject_resident_id = 'R-x' WHERE id = %s", [a])
    tamper(f"UPDATE {EVENTS} SET subject_resident_id = 'R-0' WHERE id = %s", [b])
    tamper(f"UPDATE {EVENTS} SET subject_resident_id = 'R-2' WHERE id = %s", [a])
    report = verify_log()
    assert [(p.kind, p.position) for p in report.problems] == [("altered", 0), ("altered", 2)]


def test_verify_finds_an_inserted_event(verification):
    events = sorted(_record(verification, 4), key=lambda e: e.pk)
    last = events[-1].pk
    # Leave a gap of IDs below the last event, as rolled-back transactions do, and seal.
    tamper(f"UPDATE {EVENTS} SET id = %s WHERE id = %s", [last + 100, last])
    seal_all()
    # Someone with database access then slips an event into the gap.
    columns = ", ".join(f.column for f in DataUseEvent._meta.concrete_fields if f.column != "id")
    tamper(
        f"INSERT INTO {EVENTS} (id, {columns}) SELECT %s, {columns} FROM {EVENTS} WHERE id = %s",
        [last + 1, events[0].pk],
    )
    report = verify_log()
    assert [(p.kind, p.position, p.event_id) for p in report.problems] == [
        ("inserted", None, last + 1)
    ]


def test_verify_finds_a_leaf_moved_to_another_position(verification):
    events = sorted(_record(verification, 4), key=lambda e: e.pk)
    seal_all()
    # Swap which event positions 1 and 2 point at, keeping their hashes.
    tamper(f"UPDATE {LEAVES} SET event_id = -1 WHERE position = 1")
    tamper(f"UPDATE {LEAVES} SET event_id = %s WHERE position = 2", [events[1].pk])
    tamper(f"UPDATE {LEAVES} SET event_id = %s WHERE position = 1", [events[2].pk])
    report = verify_log()
    found = sorted((p.kind, p.position, p.event_id) for p in report.problems)
    assert found == [("altered", 1, events[2].pk), ("altered", 2, events[1].pk)]


def test_verify_finds_a_rehashed_leaf_by_its_checkpoint(verification):
    events = sorted(_record(verification, 4), key=lambda e: e.pk)
    seal(limit=2)
    seal()
    # Alter event 3 and its leaf hash to match: the signed root catches it.
    tamper(f"UPDATE {EVENTS} SET outcome = 'refer' WHERE id = %s", [events[3].pk])
    row = _row(events[3].pk)
    forged = merkle.leaf_hash(leaf_bytes(3, row))
    tamper(f"UPDATE {LEAVES} SET leaf_hash = %s WHERE position = 3", [forged])
    report = verify_log()
    assert len(report.problems) == 1
    assert "checkpoint 4: the leaves do not give its root" in str(report.problems[0])
    assert "positions 2–3" in str(report.problems[0])


def test_verify_finds_a_checkpoint_with_a_bad_signature(verification):
    _record(verification, 3)
    seal()
    cp = LogCheckpoint.objects.get()
    note = cp.note[:-10] + ("A" if cp.note[-10] != "A" else "B") + cp.note[-9:]
    tamper(f"UPDATE {LogCheckpoint._meta.db_table} SET note = %s WHERE size = 3", [note])
    report = verify_log()
    assert len(report.problems) == 1
    assert "checkpoint 3: its signed note does not verify" in str(report.problems[0])


def test_verify_finds_a_correctly_signed_checkpoint_of_another_root(verification, signing_key):
    _record(verification, 3)
    seal()
    forged = sign_checkpoint(Checkpoint(ORIGIN, 3, bytes(32)), signing_key)
    tamper(f"UPDATE {LogCheckpoint._meta.db_table} SET note = %s WHERE size = 3", [forged])
    report = verify_log()
    assert len(report.problems) == 1
    assert "its signed note says size 3, root " + base64.b64encode(bytes(32)).decode() in str(
        report.problems[0]
    )


def test_verify_refuses_a_checkpoint_by_another_key(verification, settings):
    _record(verification, 2)
    seal()
    settings.TRANSPARENCY_LOG_VERIFIER_KEY = Signer.generate(ORIGIN).verifier_key()
    report = verify_log()
    assert "not signed by" in str(report.problems[0])


@pytest.mark.parametrize("change", ["right edge", "bad signature", "another root"])
def test_seal_refuses_to_extend_a_checkpoint_that_was_changed_after_signing(
    verification, signing_key, change
):
    _record(verification, 3)
    seal()
    table = LogCheckpoint._meta.db_table
    cp = LogCheckpoint.objects.get()
    if change == "right edge":
        other = merkle.CompactRange()
        for i in range(3):
            other.append(bytes([i]) * 32)
        tamper(f"UPDATE {table} SET compact_range = %s WHERE size = 3", [other.to_bytes()])
        why = "its stored right edge does not give its root hash"
    elif change == "bad signature":
        note = cp.note[:-10] + ("A" if cp.note[-10] != "A" else "B") + cp.note[-9:]
        tamper(f"UPDATE {table} SET note = %s WHERE size = 3", [note])
        why = "its signed note does not verify"
    else:
        forged = sign_checkpoint(Checkpoint(ORIGIN, 3, bytes(32)), signing_key)
        tamper(f"UPDATE {table} SET note = %s WHERE size = 3", [forged])
        why = "its signed note gives another size or root hash"
    _record(verification, 2)
    with pytest.raises(SealRefused, match=why):
        seal()
    with pytest.raises(CommandError, match="Not sealing: the last checkpoint \\(size 3\\)"):
        call_command("transparency", "seal")
    assert LogCheckpoint.objects.count() == 1 and SealedLeaf.objects.count() == 3


def test_the_commands_seal_and_verify(verification, capsys):
    events = sorted(_record(verification, 3), key=lambda e: e.pk)
    call_command("transparency", "seal")
    assert "Sealed 3 event(s)" in capsys.readouterr().out
    call_command("transparency", "verify")
    assert "The data-use log verifies: 3 event(s)" in capsys.readouterr().out
    tamper(f"DELETE FROM {EVENTS} WHERE id = %s", [events[0].pk])
    with pytest.raises(CommandError, match="does NOT verify"):
        call_command("transparency", "verify")
    assert f"removed: position 0, event {events[0].pk}" in capsys.readouterr().err


def test_keygen_prints_a_key_pair(capsys):
    call_command("transparency", "keygen", "--name", "example.org/log")
    out = capsys.readouterr().out
    skey = out.split("BOROUGH_LOG_SIGNING_KEY=")[1].split()[0]
    assert Signer.from_key(skey).verifier_key() in out


_text = st.text(max_size=20)


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    position=st.integers(0, 2**40),
    strings=st.lists(_text, min_size=13, max_size=13),
    user=st.none() | st.integers(1, 2**40),
    datasets=st.lists(_text, max_size=4) | st.lists(st.integers(), max_size=2),
)
def test_the_fast_leaf_writer_equals_canonical_json(position, strings, user, datasets):
    row = (1, *strings[:4], user, datasets, *strings[4:])
    expected = json.dumps(
        leaf_dict(position, row), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()
    assert leaf_bytes(position, row) == expected


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_sealers_at_once_never_give_one_position_twice(verification, signing_key):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent writers")
    for _ in range(3):
        _record(verification, 100)
    barrier = threading.Barrier(4)
    errors, made = [], []

    def sealer():
        barrier.wait()
        try:
            while (checkpoint := seal(signer=signing_key, limit=25)) is not None:
                made.append(checkpoint.size)
        except Exception as e:
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=sealer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(made) == list(range(25, 301, 25))
    positions = list(SealedLeaf.objects.order_by("position").values_list("position", flat=True))
    assert positions == list(range(300))
    assert SealedLeaf.objects.values("event_id").distinct().count() == 300
    assert verify_log().ok


def test_the_sealer_job_seals_every_interval_until_stopped(verification, monkeypatch, capsys):
    _record(verification, 2)
    naps = []

    def sleep(seconds):
        naps.append(seconds)
        if len(naps) == 1:
            _record(verification, 3)
            return
        raise KeyboardInterrupt

    # the module's own name for sleep, not time.sleep: patching the time module would also put
    # other threads (Spark's py4j gateway, left from an earlier test) to this function
    monkeypatch.setattr("borough.transparency.cli.seal.sleep", sleep)
    # the job recycles stale connections between rounds; inside the test's transaction on
    # PostgreSQL that would close the connection the test's events live in
    monkeypatch.setattr("borough.transparency.cli.seal.close_old_connections", lambda: None)
    call_command("transparency", "seal", "--every", "2.5")
    out = capsys.readouterr().out
    assert naps == [2.5, 2.5]
    assert "Sealed 2 event(s)" in out
    assert "Sealed 3 event(s)" in out and "the log has 5" in out
    assert out.rstrip().endswith("Stopped.")


def test_verify_checks_signatures_with_a_given_verifier_key(verification, signing_key, capsys):
    _record(verification, 2)
    seal()
    call_command("transparency", "verify", "--key", signing_key.verifier_key())
    assert "verifies" in capsys.readouterr().out
    other = Signer.generate(ORIGIN).verifier_key()
    with pytest.raises(CommandError, match="does NOT verify"):
        call_command("transparency", "verify", "--key", other)
    assert "not signed by" in capsys.readouterr().err
    with pytest.raises(CommandError, match="--key"):
        call_command("transparency", "verify", "--key", "not-a-key")


@pytest.mark.django_db(transaction=True)
def test_verify_in_several_processes_finds_what_one_process_finds(
    verification, signing_key, capsys
):
    """PostgreSQL only: pass 1 split by event ID range over worker processes."""
    if connection.vendor != "postgresql":
        pytest.skip(
            "workers share the database only on PostgreSQL (SQLite's test one is in memory)"
        )
    events = _record(verification, 40)
    seal_all()
    # A sealed leaf whose event never existed, inside the second worker's range.
    SealedLeaf.objects.create(
        position=SealedLeaf.objects.count(), event_id=events[-1].pk + 3, leaf_hash=b"\0" * 32
    )
    # And a checkpoint over it whose root is not the tree's (pass 2, run by the parent process
    # while the workers run pass 1).
    forged = sign_checkpoint(Checkpoint(ORIGIN, 41, bytes(32)), signing_key)
    LogCheckpoint.objects.create(
        size=41,
        root_hash=bytes(32),
        compact_range=bytes(96),
        note=forged,
        last_event_id=events[-1].pk + 3,
    )
    one = verify_log()
    several = verify_log(workers=3)
    assert [str(p) for p in several.problems] == [str(p) for p in one.problems]
    assert [p.kind for p in one.problems] == ["removed", "checkpoint"]
    assert "checkpoint 41: the leaves do not give its root" in str(one.problems[1])
    assert (several.events, several.leaves) == (one.events, one.leaves) == (40, 41)
    with pytest.raises(CommandError):
        call_command("transparency", "verify", "--workers", "2")
    assert "position 40" in capsys.readouterr().err


#: Values a leaf must carry byte for byte: JSON's own escapes, every other control character,
#: characters outside ASCII and outside the BMP, the separators JavaScript chokes on.
HOSTILE = [
    '"',
    "\\",
    '\\"\\u0041',
    "\n\r\t\b\f",
    "\x01\x1f\x7f\x80",
    "é — €, 😀",
    "\u2028\u2029\ufeff",
    "</script><!--",
    "'; DROP TABLE x; --",
    " ",
    "",
]
HOSTILE_DATASETS = [
    ["council_tax", '"', "\\"],
    [],
    ["😀\n"],
    [1, 2.5, None, True, {"b": 1, "a": ["\u2028"]}],
    {"z": "\t", "a": 1.0},
    "a string",
    [10**20, -0.0, 1e-7],
]


def test_verify_recomputes_leaves_of_hostile_values_byte_for_byte(verification):
    """The sealer and the verifier (on PostgreSQL a different path: rows streamed from a
    server-side cursor, ``datasets_read`` as ``jsonb`` text) write the same leaf for any value
    the database can hold; and a change to any of them is still found."""
    events = sorted(_record(verification, len(HOSTILE)), key=lambda e: e.pk)
    for i, (event, text) in enumerate(zip(events, HOSTILE, strict=True)):
        datasets = HOSTILE_DATASETS[i % len(HOSTILE_DATASETS)]
        tamper(
            f"UPDATE {EVENTS} SET actor_label = %s, purpose_text = %s, lawful_basis_text = %s, "
            "reference = %s, outcome = %s, subject_resident_id = %s, datasets_read = %s "
            "WHERE id = %s",
            [text, text, text + "x", text, text, text, json.dumps(datasets), event.pk],
        )
    seal_all()
    for event in events:
        row = _row(event.pk)
        assert json.loads(leaf_bytes(0, row))["actor_label"] == row[4]
    report = verify_log()
    assert report.ok, report.problems
    assert report.events == len(HOSTILE)
    target = events[5].pk
    tamper(f"UPDATE {EVENTS} SET actor_label = %s WHERE id = %s", ["é — €, 😀 ", target])
    report = verify_log()
    assert [(p.kind, p.position, p.event_id) for p in report.problems] == [("altered", 5, target)]
