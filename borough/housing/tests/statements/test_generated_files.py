"""The parsers read back what the synthetic borough writes, line for line."""

import pytest

from borough.housing.matching.synthetic import generate, write_camt053, write_mt940
from borough.housing.statements import StatementError, parse_statement

FIELDS = (
    "booking_date",
    "amount_pence",
    "currency",
    "reference",
    "payer_name",
    "payer_sort_code",
    "payer_account",
    "bank_ref",
)


@pytest.fixture(scope="module")
def statement():
    return generate(1500, seed=11).statement(opening_pence=-50_000)


@pytest.mark.parametrize(
    ("writer", "format"), [(write_camt053, "camt.053"), (write_mt940, "mt940")]
)
def test_generated_statement_round_trips(statement, writer, format):
    parsed = parse_statement(writer(statement), name=f"generated.{format}")
    assert parsed.format == format
    assert parsed.opening_balance_pence == statement.opening_balance_pence
    assert parsed.closing_balance_pence == statement.closing_balance_pence
    assert len(parsed.lines) == len(statement.lines)
    for got, want in zip(parsed.lines, statement.lines, strict=True):
        assert [getattr(got, f) for f in FIELDS] == [getattr(want, f) for f in FIELDS]


def test_generated_mt940_has_one_block_per_day(statement):
    days = {line.booking_date for line in statement.lines}
    assert write_mt940(statement).count(b":20:") == len(days)


def test_a_tampered_generated_file_is_rejected(statement):
    data = write_mt940(statement)
    first_61 = data.index(b":61:")
    amount_at = data.index(b"C", first_61 + 14)
    tampered = data[: amount_at + 1] + b"9" + data[amount_at + 1 :]
    with pytest.raises(StatementError, match="reconcile"):
        parse_statement(tampered)
