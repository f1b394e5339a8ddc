"""A large statement is read in a second process while its lines are matched here: the result,
the errors and the postings are exactly those of reading it in one process."""

from __future__ import annotations

import multiprocessing
from dataclasses import replace
from pathlib import Path

import pytest
from django.db import transaction

from borough.housing import statement_import
from borough.housing.models import BankLine, LedgerEntry
from borough.housing.statements import StatementError, parallel, parse_statement
from borough.housing.tests.test_reconcile import _file

DATA = Path(__file__).parent / "data"
FILES = sorted(DATA.iterdir())


@pytest.fixture
def in_a_second_process(monkeypatch):
    """Every file, however small, read by a forked reader."""
    monkeypatch.setattr(parallel, "PARALLEL_FROM_BYTES", 0)


def _alongside(source, **kwargs):
    seen = []
    statement = parallel.parse_statement_alongside(source, each_line=seen.append, **kwargs)
    return statement, seen


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_a_file_read_in_a_second_process_is_the_file_read_here(path, in_a_second_process):
    here = parse_statement(path)
    statement, seen = _alongside(path)
    assert statement == here
    # each line handed over as it was read, in order, before its hash was known
    assert seen == [replace(line, line_hash="") for line in here.lines]
    assert multiprocessing.active_children() == []


def test_the_file_as_bytes_and_the_small_file_read_here_give_the_same(in_a_second_process):
    path = DATA / "uk_camt053.xml"
    statement, seen = _alongside(path.read_bytes(), name=path.name)
    assert statement == parse_statement(path)
    parallel.PARALLEL_FROM_BYTES = 10**12  # (monkeypatch puts it back) now read here
    again, seen_here = _alongside(path)
    assert (again, seen_here) == (statement, seen)


def test_a_refused_file_gives_the_same_message_from_the_second_process(in_a_second_process):
    text = (DATA / "uk_mt940.sta").read_text()
    closing = next(line for line in text.splitlines() if line.startswith(":62F:"))
    broken = text.replace(closing, closing[:-1] + ("1" if closing[-1] != "1" else "2")).encode()
    with pytest.raises(StatementError) as here:
        parse_statement(broken, name="broken.sta")
    with pytest.raises(StatementError) as there:
        _alongside(broken, name="broken.sta")
    assert str(there.value) == str(here.value)
    assert "do not reconcile" in str(there.value)
    assert multiprocessing.active_children() == []


def test_a_problem_while_the_lines_are_used_stops_the_reader(in_a_second_process):
    def refuse(line):
        raise KeyError("no")

    with pytest.raises(KeyError):
        parallel.parse_statement_alongside(DATA / "uk_rents_camt053.xml", each_line=refuse)
    assert multiprocessing.active_children() == []


def test_a_reader_that_dies_is_an_error_not_a_statement(in_a_second_process, monkeypatch):
    monkeypatch.setattr(parallel, "parse_statement", _die)
    with pytest.raises(RuntimeError, match="reading the file failed"):
        _alongside(DATA / "uk_mt940.sta")


def _die(*args, **kwargs):
    raise MemoryError("the reader ran out of memory")


class _Undo(Exception):
    pass


def _imported(data: bytes) -> tuple[list, list]:
    """What importing ``data`` writes, rolled back afterwards."""
    written: list = []
    try:
        with transaction.atomic():
            statement_import.import_statement(data, file_name="big.xml")
            written.append(
                sorted(
                    BankLine.objects.values_list(
                        "line_hash", "outcome", "method", "confidence", "reason", "payer_bank_key"
                    )
                )
            )
            written.append(
                sorted(LedgerEntry.objects.values_list("source_key", "account_id", "amount_pence"))
            )
            raise _Undo
    except _Undo:
        pass
    return written[0], written[1]


def test_an_import_read_in_a_second_process_posts_what_one_read_here_posts(borough, monkeypatch):
    made, _ = borough
    data = _file(made, made.lines)
    here = _imported(data)
    assert BankLine.objects.count() == 0
    monkeypatch.setattr(parallel, "PARALLEL_FROM_BYTES", 0)
    there = _imported(data)
    assert there == here
    assert len(here[0]) == len([line for line in made.lines if line.amount_pence > 0])
    assert any(source.startswith("statement:") for source, _, _ in here[1])
