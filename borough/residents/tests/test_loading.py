"""A new export replaces the last snapshot cleanly; the same file twice changes nothing."""

import pytest

from borough.residents.models import DatasetLoad, SourceRecord
from borough.residents.queries import latest_load, records_ended_since, records_for_linkage
from borough.residents.services import load_dataset

from .conftest import write_csv

pytestmark = pytest.mark.django_db

CODE = "housing_tenancies"


def snapshot() -> list[tuple]:
    return list(
        SourceRecord.objects.order_by("id").values_list(
            "id", "record_ref", "content_hash", "changed_at", "ended_at", "last_seen_load"
        )
    )


@pytest.fixture
def tenancies(synth, gazetteer):
    """The synthetic tenancies, loaded once: (rows, columns, first result)."""
    rows = [dict(r) for r in synth.rows(CODE)]
    first = load_dataset(CODE, synth.file(CODE))
    assert first.ok, first.problem_lines()
    return rows, synth.columns(CODE), first


def test_the_same_file_twice_changes_nothing_and_says_so(tenancies, synth):
    _, _, first = tenancies
    before = snapshot()

    again = load_dataset(CODE, synth.file(CODE))

    assert again.ok
    assert again.status == DatasetLoad.Status.ALREADY_LOADED
    assert "already loaded" in again.summary() and "nothing changed" in again.summary()
    assert (again.created, again.updated, again.ended) == (0, 0, 0)
    assert snapshot() == before
    assert latest_load(CODE) == first.load
    assert DatasetLoad.objects.filter(status="already_loaded").count() == 1


def test_a_new_export_ends_the_missing_record_and_updates_the_changed_one(tenancies, tmp_path):
    rows, columns, first = tenancies
    removed, changed = rows[3], rows[5]
    changed["SURNAME"] = "Featherstonehaugh"
    second_rows = [r for r in rows if r is not removed]

    second = load_dataset(CODE, write_csv(tmp_path / "tenancies.csv", second_rows, columns))

    assert second.ok, second.problem_lines()
    assert second.status == DatasetLoad.Status.LOADED
    assert (second.created, second.updated, second.ended) == (0, 1, 1)
    assert second.unchanged == len(rows) - 2
    assert SourceRecord.objects.count() == len(rows)  # nothing deleted, nothing duplicated
    gone = SourceRecord.objects.get(record_ref=removed["TENANT_REF"])
    assert gone.ended_at == second.load.started_at
    assert gone.last_seen_load == first.load
    now = SourceRecord.objects.get(record_ref=changed["TENANT_REF"])
    assert (now.surname, now.surname_std) == ("Featherstonehaugh", "featherstonehaugh")
    assert now.changed_at == second.load.started_at
    assert now.first_seen_load == first.load and now.last_seen_load == second.load
    untouched = SourceRecord.objects.get(record_ref=rows[0]["TENANT_REF"])
    assert untouched.changed_at == first.load.started_at
    assert untouched.last_seen_load == second.load
    assert SourceRecord.objects.filter(ended_at__isnull=True).count() == len(rows) - 1


def test_linkage_can_take_only_what_changed_since_it_last_ran(tenancies, tmp_path):
    rows, columns, first = tenancies
    removed, changed = rows[3], rows[5]
    changed["FORENAME"] = "Bob"
    load_dataset(
        CODE, write_csv(tmp_path / "t.csv", [r for r in rows if r is not removed], columns)
    )

    since = first.load.started_at
    changed_ids = records_for_linkage(changed_since=since).column("unique_id").to_pylist()
    assert changed_ids == [f"{CODE}:{changed['TENANT_REF']}"]
    assert records_ended_since(since) == [f"{CODE}:{removed['TENANT_REF']}"]
    row = records_for_linkage(changed_since=since).to_pylist()[0]
    assert (row["first_name"], row["first_name_canonical"]) == ("bob", "robert")


def test_a_record_that_comes_back_is_reopened(tenancies, tmp_path):
    rows, columns, _ = tenancies
    removed = rows[3]
    load_dataset(
        CODE, write_csv(tmp_path / "a.csv", [r for r in rows if r is not removed], columns)
    )

    third = load_dataset(CODE, write_csv(tmp_path / "b.csv", rows, columns))

    assert (third.created, third.updated, third.reopened, third.ended) == (0, 0, 1, 0)
    back = SourceRecord.objects.get(record_ref=removed["TENANT_REF"])
    assert back.ended_at is None and back.changed_at == third.load.started_at
    assert SourceRecord.objects.count() == len(rows)


def test_an_export_with_the_same_records_in_another_order_changes_nothing(tenancies, tmp_path):
    rows, columns, _ = tenancies
    before = [r[:5] for r in snapshot()]  # last_seen_load moves on; nothing else does

    result = load_dataset(CODE, write_csv(tmp_path / "copy.csv", rows[::-1], columns))

    assert result.status == DatasetLoad.Status.LOADED
    assert (result.created, result.updated, result.ended, result.unchanged) == (
        0,
        0,
        0,
        len(rows),
    )
    assert [r[:5] for r in snapshot()] == before


def test_force_loads_the_same_file_again(tenancies, synth):
    result = load_dataset(CODE, synth.file(CODE), force=True)
    assert result.status == DatasetLoad.Status.LOADED
    assert result.unchanged == result.records


# One load for both cases: each batch of address matching costs a few seconds.
def test_addresses_without_a_usable_uprn_are_matched_or_listed(tenancies, tmp_path):
    rows, columns, _ = tenancies
    lost = rows[0]
    lost["UPRN"] = ""
    lost["ADDRESS"] = "THE LIGHTHOUSE, NOWHERE SPIT"
    lost["POSTCODE"] = "ZE3 9JZ"
    wrong = next(r for r in rows[1:] if r["UPRN"])
    true_uprn = int(wrong["UPRN"])
    wrong["UPRN"] = "999999999999"

    result = load_dataset(CODE, write_csv(tmp_path / "t.csv", rows, columns))

    assert result.ok
    # An address that matches nothing is kept without a UPRN, and listed.
    record = SourceRecord.objects.get(record_ref=lost["TENANT_REF"])
    assert (record.uprn, record.uprn_method) == (None, "")
    assert record.uprn_note
    listed = {u.record_ref: u for u in result.unmatched}
    assert listed[record.record_ref].address == "THE LIGHTHOUSE, NOWHERE SPIT"
    assert listed[record.record_ref].row == 2
    assert any("THE LIGHTHOUSE" in line for line in result.unmatched_lines())
    assert result.load.uprn_unmatched == result.uprn_unmatched >= 1
    # A source UPRN that is not in the gazetteer is a warning; the address is matched.
    assert any("999999999999 is not in the gazetteer" in line for line in result.warning_lines())
    record = SourceRecord.objects.get(record_ref=wrong["TENANT_REF"])
    assert record.uprn_given == "999999999999"
    assert (record.uprn, record.uprn_method) == (true_uprn, "address-match")
