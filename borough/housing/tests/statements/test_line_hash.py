from dataclasses import replace
from pathlib import Path

import pytest

from borough.housing.matching.synthetic import as_statement, generate, write_mt940
from borough.housing.statements import parse_statement, with_line_hashes

DATA = Path(__file__).parent / "data"
ACCOUNT = "601613 31926819"


def test_the_same_statement_imported_twice_has_the_same_line_hashes():
    first = parse_statement(DATA / "uk_rents_camt053.xml")
    second = parse_statement((DATA / "uk_rents_camt053.xml").read_bytes())
    assert [line.line_hash for line in first.lines] == [line.line_hash for line in second.lines]
    assert len({line.line_hash for line in first.lines}) == len(first.lines)


def test_overlapping_statements_share_the_hashes_of_the_lines_they_share():
    lines = generate(300, seed=4).lines
    days = sorted({line.booking_date for line in lines})
    early = [line for line in lines if line.booking_date <= days[20]]
    late = [line for line in lines if line.booking_date >= days[10]]
    a = parse_statement(write_mt940(as_statement(early, ACCOUNT, "A", 0)))
    b = parse_statement(write_mt940(as_statement(late, ACCOUNT, "B", 0)))
    overlap = {line.line_hash for line in a.lines} & {line.line_hash for line in b.lines}
    expected = sum(days[10] <= line.booking_date <= days[20] for line in lines)
    assert len(overlap) == expected > 0
    both = {line.line_hash for line in a.lines} | {line.line_hash for line in b.lines}
    assert len(both) == len(lines)  # importing both posts every line exactly once


def test_two_identical_payments_on_one_day_without_bank_refs_get_two_hashes():
    line = replace(generate(10, seed=1).lines[0], bank_ref=None)
    hashed = with_line_hashes(ACCOUNT, [line, line])
    assert hashed[0].line_hash != hashed[1].line_hash
    # ...and the same two, seen again in another statement, get the same two hashes.
    assert [h.line_hash for h in with_line_hashes(ACCOUNT, [line, line])] == [
        h.line_hash for h in hashed
    ]


def test_the_hash_changes_with_amount_reference_payer_date_bank_ref_and_account():
    line = generate(10, seed=1).lines[0]
    base = with_line_hashes(ACCOUNT, [line])[0].line_hash
    variants = [
        replace(line, amount_pence=line.amount_pence + 1),
        replace(line, reference=line.reference + " X"),
        replace(line, payer_name="SOMEONE ELSE"),
        replace(line, booking_date=line.booking_date.replace(year=2025)),
        replace(line, bank_ref="OTHER"),
    ]
    for variant in variants:
        assert with_line_hashes(ACCOUNT, [variant])[0].line_hash != base
    assert with_line_hashes("GB29NWBK20000055555555", [line])[0].line_hash != base


@pytest.mark.parametrize(
    "written",
    [
        "60161331926819",
        "60-16-13 31926819",
        "601613 31926819",
        "GB29NWBK60161331926819",
        "GB29 NWBK 6016 1331 9268 19",
        "gb29nwbk60161331926819",
    ],
)
def test_one_account_written_any_way_gives_one_hash(written):
    """A bank that writes the council's account as an IBAN in one file and as sort code and
    number in another must not make one payment two (it would be posted twice)."""
    line = generate(10, seed=1).lines[0]
    assert (
        with_line_hashes(written, [line])[0].line_hash
        == with_line_hashes("601613 31926819", [line])[0].line_hash
    )


def test_the_hash_ignores_case_and_spacing_in_the_reference():
    line = generate(10, seed=1).lines[0]
    spaced = replace(line, reference="  " + line.reference.lower().replace(" ", "   ") + " ")
    assert (
        with_line_hashes(ACCOUNT, [spaced])[0].line_hash
        == with_line_hashes(ACCOUNT, [line])[0].line_hash
    )
