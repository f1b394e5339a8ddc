"""The staff dashboards: each renders from the warehouse with its charts, tables and CSVs; the
filters work and bad ones are explained; small counts are suppressed; only the insights area
gets in; no resident's identity shows."""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser

import pytest
from django.test import Client

from borough.core.services import create_staff_account
from borough.core.testing import sign_in_staff
from borough.insights.dashboards import DASHBOARDS
from borough.insights.tests import dashboards_warehouse
from borough.insights.tests.dashboards_warehouse import (
    BROOK,
    REGISTRATION,
    RESIDENT_EMAIL,
    RESIDENT_NAME,
)

pytestmark = pytest.mark.django_db

_small_warehouse_root = dashboards_warehouse._small_warehouse_root
small_warehouse = dashboards_warehouse.small_warehouse
no_warehouse = dashboards_warehouse.no_warehouse


def _staff(username: str, role: str) -> Client:
    user, _ = create_staff_account(username, [role])
    client = Client()
    sign_in_staff(client, user)
    return client


@pytest.fixture
def analyst():
    return _staff("analyst", "data-analyst")


class _Tables(HTMLParser):
    """Every table on a page as rows of cell text, by the table's id."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table = None
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._table = self.tables.setdefault(dict(attrs).get("id", ""), [])
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables(html: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


@pytest.mark.parametrize("slug", list(DASHBOARDS))
def test_each_dashboard_shows_its_charts_with_a_table_a_sentence_and_a_csv(
    analyst, small_warehouse, slug
):
    response = analyst.get(f"/staff/insights/dashboards/{slug}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Showing September 2026 to November 2026, all wards." in html
    svgs = re.findall(r"<svg[^>]*>", html)
    links = re.findall(r'href="(/staff/insights/dashboards/[^"]+\.csv\?[^"]*)"', html)
    # every chart is drawn, or says it has nothing it may draw (this small warehouse's
    # feedback has its satisfied share hidden, a part the rest of which is a small count)
    assert len(svgs) >= 1 and len(links) == len(svgs) + html.count("There is no chart:")
    for svg in svgs:
        assert 'role="img"' in svg and "aria-labelledby" in svg and "aria-describedby" in svg
    found = tables(html)
    for link in links:
        chart = link.split("/")[-1].split(".csv")[0]
        download = analyst.get(link.replace("&amp;", "&"))
        assert download.status_code == 200
        assert download["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(download.content.decode())))
        assert rows == found[f"{chart}-table"], chart


def test_the_applications_dashboard_counts_automatic_decisions_and_suppresses_small_counts(
    analyst, small_warehouse
):
    html = analyst.get("/staff/insights/dashboards/applications").content.decode()
    by_month = tables(html)["applications-by-month-table"]
    assert by_month == [
        ["Month", "Applications decided", "Decided automatically", "Share decided automatically"],
        # 12 of 15 would say 3 were not decided automatically: below the threshold of 10
        ["October 2026", "15", "[c]", "[c]"],
        ["November 2026", "10", "10", "100.0%"],
    ]
    by_ward = tables(html)["applications-by-ward-table"]
    assert ["Brook", "[c]", "[c]", "[c]"] in by_ward
    assert ["Albion", "22", "[c]", "[c]"] in by_ward  # 19 of 22: 3 not
    # the text alternative names the highest and lowest figures
    assert "Highest share decided automatically: 100.0% (November 2026)" in html
    services = tables(html)["verifications-by-service-table"]
    assert ["Council housing rent", "[c]", "[c]", "[c]"] in services


def test_filtering_by_ward_and_period_changes_every_chart_and_its_csv(analyst, small_warehouse):
    query = f"start=2026-10&end=2026-10&ward={BROOK}"
    response = analyst.get(f"/staff/insights/dashboards/applications?{query}")
    html = response.content.decode()
    assert "Showing October 2026, Brook." in html
    assert tables(html)["applications-by-month-table"] == [
        ["Month", "Applications decided", "Decided automatically", "Share decided automatically"],
        ["October 2026", "[c]", "[c]", "[c]"],
    ]
    assert "November 2026" not in tables(html)["time-to-decision-table"].__repr__()
    download = analyst.get(
        f"/staff/insights/dashboards/applications/applications-by-month.csv?{query}"
    )
    assert download.content.decode().splitlines()[1] == "October 2026,[c],[c],[c]"
    assert f"applications-by-month_2026-10_2026-10_{BROOK}.csv" in download["Content-Disposition"]
    # the choices stay chosen
    assert re.search(rf'<option value="{BROOK}" selected', html)


def test_savings_use_the_profile_unit_costs(analyst, small_warehouse):
    html = analyst.get("/staff/insights/dashboards/savings").content.decode()
    # 26 checks answered automatically in October, 20 minutes each at £31.50 an hour
    assert tables(html)["hours-saved-table"][1] == ["October 2026", "26", "8.7", "£273.00"]
    assert "20 minutes of an officer&#39;s time at £31.50 an hour" in html


def test_rent_dashboard_shows_methods_arrears_and_suspense(analyst, small_warehouse):
    html = analyst.get("/staff/insights/dashboards/rent").content.decode()
    found = tables(html)
    assert found["rent-collected-table"][-4:] == [
        ["November 2026", "Direct Debit", "10", "£1,000.00"],
        ["November 2026", "Other", "[c]", "[c]"],  # the 3 Brook tenants
        ["November 2026", "Reversed by the bank", "[c]", "[c]"],
        ["November 2026", "Standing order", "10", "£1,000.00"],
    ]
    assert found["direct-debits-on-time-table"][1] == ["September 2026", "10", "10", "100.0%"]
    # arrears: two Albion accounts missed November: too few to show
    assert found["arrears-trend-table"][1:] == [
        ["September 2026", "0", "£0.00"],
        ["October 2026", "0", "£0.00"],
        ["November 2026", "[c]", "[c]"],
    ]
    assert ["Up to 7 days", "0", "£0.00"] in found["suspense-age-table"]
    # 10 of 12 matched would say 2 were not: below the threshold
    assert found["statement-lines-matched-table"][1] == ["October 2026", "12", "[c]", "[c]"]


def test_feedback_shows_theme_counts_never_the_comments(analyst, small_warehouse):
    html = analyst.get("/staff/insights/dashboards/feedback").content.decode()
    assert "How many of the period&#39;s 8 comments mention each theme" in html
    themes = tables(html)["feedback-themes-table"]
    assert themes[0] == ["Theme", "Comments", "Share of comments"]
    assert "The card payment was quick" not in html


@pytest.mark.parametrize("slug", list(DASHBOARDS))
def test_no_resident_identity_or_key_shows_on_a_dashboard_or_in_a_download(
    analyst, small_warehouse, slug
):
    html = analyst.get(f"/staff/insights/dashboards/{slug}").content.decode()
    downloads = [
        analyst.get(link.replace("&amp;", "&")).content.decode()
        for link in re.findall(r'href="(/staff/insights/dashboards/[^"]+\.csv\?[^"]*)"', html)
    ]
    for text in [html, *downloads]:
        for secret in (RESIDENT_NAME, RESIDENT_EMAIL, REGISTRATION, "resi0000", "acco0000"):
            assert secret.lower() not in text.lower()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "start=2026-11&end=2026-09",
            "The ‘to’ month must be the same as or after the ‘from’ month",
        ),
        ("start=2019-01&end=2026-09", "Select a ‘from’ month from the list"),
        ("start=2026-09&end=2026-11&ward=E05999999", "Select a ward from the list"),
        ("start=&end=2026-11", "Select a ‘from’ month"),
    ],
)
def test_bad_filters_are_explained_and_what_was_chosen_is_kept(
    analyst, small_warehouse, query, message
):
    response = analyst.get(f"/staff/insights/dashboards/parking?{query}")
    assert response.status_code == 400
    html = response.content.decode()
    assert "govuk-error-summary" in html and message in html
    assert "<svg" not in html
    csv_response = analyst.get(f"/staff/insights/dashboards/parking/permits-by-zone.csv?{query}")
    assert csv_response.status_code == 400
    assert message in csv_response.content.decode()


def test_a_kept_month_stays_selected_after_an_error(analyst, small_warehouse):
    html = analyst.get("/staff/insights/dashboards/parking?start=2026-11&end=2026-09").content
    assert re.search(r'<option value="2026-11" selected', html.decode())


def test_staff_without_the_insights_area_residents_and_visitors_are_refused(small_warehouse):
    officer = _staff("parking", "parking-officer")
    assert officer.get("/staff/insights/dashboards/rent").status_code == 403
    assert officer.get("/staff/insights/dashboards/").status_code == 403
    assert officer.get("/staff/insights/dashboards/rent/arrears-by-ward.csv").status_code == 403
    assert Client().get("/staff/insights/dashboards/rent").status_code == 302
    from borough.core.models import User

    resident = Client()
    resident.force_login(User.objects.create_resident(RESIDENT_EMAIL))
    assert resident.get("/staff/insights/dashboards/rent/arrears-by-ward.csv").status_code == 403


def test_guessed_dashboards_and_charts_are_not_found(analyst, small_warehouse):
    assert analyst.get("/staff/insights/dashboards/residents").status_code == 404
    assert analyst.get("/staff/insights/dashboards/rent/permits-by-zone.csv").status_code == 404


def test_the_dashboards_say_when_no_warehouse_has_been_built(analyst, no_warehouse):
    for path in ("/staff/insights/dashboards/", "/staff/insights/dashboards/rent"):
        response = analyst.get(path)
        assert response.status_code == 200
        assert "No warehouse has been built yet" in response.content.decode()
    assert analyst.get("/staff/insights/dashboards/rent/arrears-by-ward.csv").status_code == 404


def test_the_insight_area_links_to_the_dashboards(analyst, small_warehouse):
    html = analyst.get("/staff/insights/").content.decode()
    assert 'href="/staff/insights/dashboards/"' in html
    listing = analyst.get("/staff/insights/dashboards/").content.decode()
    for dashboard in DASHBOARDS.values():
        assert f'href="/staff/insights/dashboards/{dashboard.slug}"' in listing


def test_the_profile_refuses_impossible_insight_figures(tmp_path):
    from pathlib import Path

    from django.core.exceptions import ImproperlyConfigured

    import borough
    from borough.core.profile import load_profile

    northmere = (Path(borough.__file__).parent / "profiles" / "northmere.toml").read_text()
    assert "minutes_per_manual_check = 20" in northmere
    bad = tmp_path / "bad.toml"
    bad.write_text(
        northmere.replace("minutes_per_manual_check = 20", "minutes_per_manual_check = 0")
    )
    with pytest.raises(ImproperlyConfigured, match=r"insights\.minutes_per_manual_check"):
        load_profile(bad)
    bad.write_text(northmere.replace("threshold = 10", "threshold = -1"))
    with pytest.raises(ImproperlyConfigured, match=r"open_data\.threshold"):
        load_profile(bad)


def test_a_new_build_is_shown_at_once_though_results_are_kept(analyst, tmp_path, settings):
    root = tmp_path / "warehouse"
    settings.BOROUGH_WAREHOUSE_DIR = str(root)
    first = dashboards_warehouse.publish(root, "20261201T000000")
    path = "/staff/insights/dashboards/feedback"
    assert tables(analyst.get(path).content.decode())["feedback-ratings-table"][1] == [
        "Very satisfied",
        "[c]",  # 6
    ]
    # The next build: 10 more very satisfied responses in October.
    dashboards_warehouse.publish_next(root, first)
    rows = tables(analyst.get(path).content.decode())["feedback-ratings-table"]
    assert rows[1] == ["Very satisfied", "16"]


def test_a_warehouse_built_before_the_summary_tables_asks_for_a_build(analyst, tmp_path, settings):
    import duckdb

    from borough.insights import aggregates

    root = tmp_path / "warehouse"
    settings.BOROUGH_WAREHOUSE_DIR = str(root)
    folder = dashboards_warehouse.publish(root, "20261130T000000")
    with duckdb.connect(str(folder / "warehouse.duckdb")) as con:
        con.execute("DROP TABLE agg_arrears")
        assert not aggregates.present(con)
    response = analyst.get("/staff/insights/dashboards/rent")
    assert response.status_code == 200
    assert "No warehouse has been built yet" in response.content.decode()


@pytest.mark.parametrize(
    ("people", "automatic", "shown"),
    [
        (25, 24, False),  # 1 not decided automatically
        (25, 3, False),  # 3 decided automatically
        (25, 12, True),  # 12 and 13: both at least 10
        (25, 25, True),  # none left over: a count of nobody tells nothing
        (25, 0, True),
        (20, 10, True),
    ],
)
def test_a_part_of_a_row_is_hidden_when_it_or_the_rest_is_a_small_count(people, automatic, shown):
    from borough.insights.charts import SUPPRESSED, Column
    from borough.insights.dashboards import suppress

    columns = [
        Column("people", "Decided", "count"),
        Column("automatic", "Automatically", "count", part=True),
        Column("share", "Share", "percent", part=True),
        Column("days", "Median days", "days"),
    ]
    row = {"people": people, "automatic": automatic, "share": automatic / people, "days": 2.0}
    (out,) = suppress([row], columns, threshold=10)
    assert out["people"] == people and out["days"] == 2.0  # the row's own count stays
    hidden = out["automatic"] == SUPPRESSED and out["share"] == SUPPRESSED
    assert hidden is not shown
    if shown:
        assert out == row
    # a share alone gives the same count away
    (by_share,) = suppress([{**row, "automatic": None}], columns, threshold=10)
    assert (by_share["share"] == SUPPRESSED) is not shown
