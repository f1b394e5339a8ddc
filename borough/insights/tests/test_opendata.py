"""Publishing open data: protected before anything is written, atomically, with a dictionary and
the licence; the public index and its downloads; an impostor finds nobody in them."""

import csv
import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from borough.insights import opendata
from borough.insights.disclosure import CONFIDENTIAL, DisclosureError
from borough.insights.tests import fixtures
from borough.insights.tests.attack import hidden_ranges

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 25)


@pytest.fixture
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.BOROUGH_WAREHOUSE_DIR = str(tmp_path / "warehouse")
    return tmp_path


@pytest.fixture
def permits(db, data_dir):
    """The small borough, and the warehouse built from it."""
    from django.utils import timezone

    from borough.insights import build

    made = fixtures.make_permits(TODAY)
    fixtures.make_rent_accounts(12, dt.date(2026, 11, 2), 4, due_day=20)
    build.build()
    return made, timezone.localdate()


def _publish(permits):
    today = permits[1]
    return opendata.publish(today - dt.timedelta(days=30), today)


def _rows(path):
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_publish_writes_each_table_with_its_dictionary_and_the_licence(data_dir, permits):
    release = _publish(permits)
    folder = data_dir / "open-data" / "releases" / release.name
    names = {t["name"] for t in release.tables}
    assert {
        "permits-by-ward-and-band",
        "permits-by-zone-and-band",
        "rent-accounts-paying-by-method-and-month",
        "rent-accounts-in-arrears-by-ward",
    } <= names
    for table in release.tables:
        rows = _rows(folder / table["file"])
        assert rows and list(rows[0])[-1] == "count"
        dictionary = json.loads((folder / table["dictionary"]).read_text())
        assert dictionary["dc:license"]["@id"] == opendata.OGL_URL
        assert dictionary["tableSchema"]["columns"][-1]["null"] == CONFIDENTIAL
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["licence"]["name"] == "Open Government Licence v3.0"
    assert json.loads((data_dir / "open-data" / "current.json").read_text()) == {
        "release": release.name
    }


def test_no_published_cell_reveals_fewer_than_the_threshold_even_across_tables(data_dir, permits):
    release = _publish(permits)
    folder = data_dir / "open-data" / "releases" / release.name
    by_ward = _rows(folder / "permits-by-ward-and-band.csv")
    by_zone = _rows(folder / "permits-by-zone-and-band.csv")
    for row in by_ward + by_zone:
        assert row["count"] == CONFIDENTIAL or int(row["count"]) == 0 or int(row["count"]) >= 10
    # Canal ward has 3 permits: hidden, and so is what would give it away.
    canal = [r for r in by_ward if r["ward"] == "Canal"]
    assert canal and all(r["count"] in (CONFIDENTIAL, "0") for r in canal)
    import pandas as pd

    levels = {
        "ward": sorted({r["ward"] for r in by_ward} - {"Total"}),
        "zone": sorted({r["zone"] for r in by_zone} - {"Total"}),
        "band": sorted({r["band"] for r in by_ward} - {"Total"}),
    }
    tables = [
        (("ward", "band"), pd.DataFrame(by_ward)),
        (("zone", "band"), pd.DataFrame(by_zone)),
    ]
    for _, row, low, high in hidden_ranges(tables, levels, round_to=5):
        assert high - low >= 10, (row.to_dict(), low, high)


def test_a_table_failing_its_check_writes_nothing_and_the_last_release_stays(
    data_dir, permits, monkeypatch
):
    first = _publish(permits)
    calls = []

    def refuse(counts, specs, rule):
        calls.append(specs)
        if len(calls) == 2:
            raise DisclosureError("2 hidden cell(s) could be worked out")
        return real(counts, specs, rule)

    real = opendata.protect_tables
    monkeypatch.setattr(opendata, "protect_tables", refuse)
    before = sorted(p.name for p in (data_dir / "open-data" / "releases").iterdir())
    with pytest.raises(DisclosureError):
        _publish(permits)
    assert sorted(p.name for p in (data_dir / "open-data" / "releases").iterdir()) == before
    assert opendata.current_release().name == first.name


def test_a_write_that_fails_half_way_leaves_nothing_and_the_last_release_stays(
    data_dir, permits, monkeypatch
):
    first = _publish(permits)
    calls = []
    real = opendata._dictionary

    def disk_full(*args):
        calls.append(1)
        if len(calls) == 3:
            raise OSError("No space left on device")
        return real(*args)

    monkeypatch.setattr(opendata, "_dictionary", disk_full)
    with pytest.raises(OSError):
        _publish(permits)
    assert [p.name for p in (data_dir / "open-data" / "releases").iterdir()] == [first.name]
    assert opendata.current_release().name == first.name


def test_the_index_lists_the_tables_and_downloads_them(data_dir, permits, client):
    assert (
        "Nothing has been published yet"
        in client.get(reverse("insights:open-data")).content.decode()
    )
    release = _publish(permits)
    page = client.get(reverse("insights:open-data"))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Open Government Licence v3.0" in body
    for table in release.tables:
        assert table["title"] in body
        assert reverse("insights:open-data-file", kwargs={"file_name": table["file"]}) in body
    download = client.get(
        reverse("insights:open-data-file", kwargs={"file_name": "permits-by-ward-and-band.csv"})
    )
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    assert "attachment" in download["Content-Disposition"]
    text = b"".join(download.streaming_content).decode()
    assert text.startswith("ward,band,count")


@pytest.mark.parametrize(
    "name",
    ["manifest.json", "..%2Fcurrent.json", "secret_key", "no-such-table.csv", "PERMITS.CSV"],
)
def test_only_the_files_the_release_lists_can_be_downloaded(data_dir, permits, client, name):
    _publish(permits)
    (data_dir / "secret_key").write_text("x")
    response = client.get(f"/open-data/{name}")
    assert response.status_code == 404


def test_no_open_data_file_or_page_names_a_resident(data_dir, permits, client):
    release = _publish(permits)
    folder = data_dir / "open-data" / "releases" / release.name
    texts = [p.read_text() for p in folder.iterdir()]
    texts.append(client.get(reverse("insights:open-data")).content.decode())
    for text in texts:
        for secret in fixtures.SECRETS:
            assert secret.lower() not in text.lower()


def test_the_command_publishes_and_refuses_a_bad_period(data_dir, permits):
    out = io.StringIO()
    call_command("insights", "publish", "--from", "2026-01-01", "--to", "2026-06-30", stdout=out)
    assert "Published" in out.getvalue()
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("insights", "publish", "--from", "1 April", "--to", "2026-06-30")
    with pytest.raises(CommandError, match="ends before it starts"):
        call_command("insights", "publish", "--from", "2026-06-30", "--to", "2026-01-01")
    with pytest.raises(CommandError, match="both --from and --to"):
        call_command("insights", "publish", "--from", "2026-06-30")


def test_publishing_again_with_nothing_changed_writes_no_new_release(data_dir, permits):
    releases = data_dir / "open-data" / "releases"
    first = _publish(permits)
    again = _publish(permits)
    assert again.unchanged and not first.unchanged
    assert again.name == first.name
    assert [p.name for p in releases.iterdir()] == [first.name]
    out = io.StringIO()
    today = permits[1]
    period = ["--from", (today - dt.timedelta(days=30)).isoformat(), "--to", today.isoformat()]
    call_command("insights", "publish", *period, stdout=out)
    assert f"Nothing has changed since release {first.name}" in out.getvalue()
    assert len(list(releases.iterdir())) == 1
    # another period is another release, and becomes the current one
    other = opendata.publish(today - dt.timedelta(days=60), today)
    assert not other.unchanged and other.name != first.name
    assert opendata.current_release().name == other.name
    assert len(list(releases.iterdir())) == 2


def test_without_a_warehouse_nothing_is_published(data_dir, db):
    with pytest.raises(DisclosureError, match="borough insights build"):
        opendata.publish(dt.date(2026, 1, 1), dt.date(2026, 6, 30))
    assert not (data_dir / "open-data" / "current.json").exists()


def test_the_default_period_is_the_last_twelve_whole_months():
    assert opendata.default_period(dt.date(2026, 12, 7)) == (
        dt.date(2025, 12, 1),
        dt.date(2026, 11, 30),
    )
    assert opendata.default_period(dt.date(2026, 1, 15)) == (
        dt.date(2025, 1, 1),
        dt.date(2025, 12, 31),
    )
