"""An analyst with the whole warehouse cannot find out who anyone is: every value of every table,
in DuckDB and in Parquet, is scanned for the personal details the source holds."""

from __future__ import annotations

import re

import pytest

from borough.insights import schema, warehouse
from borough.insights.build import build
from borough.insights.pseudonyms import pseudonym
from borough.insights.tests.factories import make_small_borough

pytestmark = pytest.mark.django_db

FORBIDDEN_COLUMNS = re.compile(
    r"name$|^first|surname|email|phone|vrm|registration|postcode|address|uprn|reference|"
    r"payer|holder|sort_code|account_number|birth|comments_raw|national"
)


@pytest.fixture
def published(settings, tmp_path):
    settings.BOROUGH_WAREHOUSE_DIR = str(tmp_path / "warehouse")
    small = make_small_borough()
    build()
    return small


def _every_value(con, relation: str) -> list[str]:
    # As text: DuckDB gives Python aware times only through pytz, and text is what is scanned.
    rows = con.execute(f"SELECT CAST(COLUMNS(*) AS VARCHAR) FROM {relation}").fetchall()
    return [str(v) for row in rows for v in row if v is not None]


def test_no_value_in_any_table_is_a_name_contact_registration_address_or_bank_detail(published):
    identifying = {v.lower() for v in published.identifying}
    parquet = warehouse.parquet_path()
    with warehouse.connect() as con:
        for t in schema.TABLES.values():
            relations = [f'"{t.name}"']
            files = list((parquet / t.name).rglob("*.parquet"))
            if files:
                relations.append(f"read_parquet('{parquet / t.name}/**/*.parquet')")
            for relation in relations:
                values = _every_value(con, relation)
                assert values or t.name == "fact_refund" or relation.startswith('"'), relation
                for value in values:
                    lowered = value.lower()
                    found = [s for s in identifying if s in lowered]
                    assert not found, f"{t.name} holds {found} in {value!r}"
        # Feedback comments are kept, less contact details and registrations.
        (comments,) = con.execute("SELECT comments FROM fact_feedback").fetchone()
    assert comments == "Quick! Write to [removed] or [removed], car [removed]"


def test_no_column_is_named_for_a_personal_detail():
    for t in schema.TABLES.values():
        for column in t.column_names:
            if column in {"ward_name", "zone_name", "service_name"}:
                continue  # places and services, not people
            assert not FORBIDDEN_COLUMNS.search(column), f"{t.name}.{column}"


def test_keys_are_keyed_hashes_not_the_source_ids(published, settings):
    account = published.accounts[0]
    key = pseudonym("account", account.pk)
    with warehouse.connect() as con:
        keys = {
            row[0]
            for t in schema.TABLES.values()
            for column in t.column_names
            if column.endswith("_key")
            for row in con.execute(f'SELECT DISTINCT "{column}" FROM "{t.name}"').fetchall()
            if row[0] is not None
        }
        assert con.execute(
            "SELECT count(*) FROM fact_rent_ledger WHERE account_key = ?", [key]
        ).fetchone() == (6,)
    assert keys and not keys & published.raw_ids
    assert all(re.fullmatch(r"[0-9a-f]{16}", k) for k in keys)
    # Another council's key (or a guess at this one's) gives other keys: they cannot be
    # worked out from a resident ID or an account number without the warehouse key.
    settings.BOROUGH_WAREHOUSE_KEY = "a guess at the key"
    assert pseudonym("account", account.pk) != key
    assert pseudonym("resident", "R-Q00000") not in keys
