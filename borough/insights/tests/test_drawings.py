"""Charts drawn ahead for a build: the first view after a build is served from them and is the
same page as one drawn from nothing; a new build starts with none and never shows the old
build's figures; a view no one drew ahead is still drawn."""

from __future__ import annotations

import re
import shutil

import pytest
from django.core.management import call_command
from django.test import Client

from borough.core.services import create_staff_account
from borough.core.testing import sign_in_staff
from borough.insights import charts, drawings
from borough.insights.charts import KEPT_FOLDER
from borough.insights.charts import draw_svg as DRAW_SVG
from borough.insights.dashboards import DASHBOARDS, RESULTS
from borough.insights.tests import dashboards_warehouse
from borough.insights.tests.dashboards_warehouse import ALBION, BROOK
from borough.insights.tests.factories import make_small_borough

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst():
    user, _ = create_staff_account("analyst", ["data-analyst"])
    client = Client()
    sign_in_staff(client, user)
    return client


@pytest.fixture
def published(tmp_path, settings):
    root = tmp_path / "warehouse"
    settings.BOROUGH_WAREHOUSE_DIR = str(root)
    RESULTS.clear()
    DRAW_SVG.cache_clear()
    yield root, dashboards_warehouse.publish(root, "20261201T000000")
    RESULTS.clear()
    DRAW_SVG.cache_clear()


def _from_nothing(client, path: str) -> str:
    """The page as the first view in a new process draws it: nothing kept in this one."""
    RESULTS.clear()
    DRAW_SVG.cache_clear()
    response = client.get(path)
    assert response.status_code == 200, path
    # Each response has its own Content-Security-Policy nonce; the rest must be the same.
    return re.sub(r'nonce="[^"]*"', 'nonce=""', response.content.decode())


def _no_drawing(monkeypatch):
    """Make drawing a chart in the request fail, so a page shows only what was drawn ahead."""

    def refuse(spec_json):
        raise AssertionError("a chart was drawn in the request")

    monkeypatch.setattr(charts, "draw_svg", refuse)


def _pages() -> list[str]:
    wards = ["", f"?ward={ALBION}", f"?ward={BROOK}", "?ward=not-known"]
    return [f"/staff/insights/dashboards/{slug}{query}" for slug in DASHBOARDS for query in wards]


def test_every_default_and_ward_view_is_served_from_the_drawings_and_is_the_same_page(
    analyst, published, monkeypatch
):
    _, build = published
    drawn_now = {path: _from_nothing(analyst, path) for path in _pages()}
    shutil.rmtree(build / KEPT_FOLDER, ignore_errors=True)

    result = drawings.draw_ahead()
    # The default view, the two wards and "not known": the five dashboards' 20 charts each.
    assert (result.views, result.charts, result.skipped) == (4, 80, "")
    kept = sorted((build / KEPT_FOLDER).glob("*.svg"))
    assert len(kept) == result.drawn > 0
    assert not list((build / KEPT_FOLDER).glob("*.tmp"))
    assert drawings.draw_ahead().drawn == 0  # drawn once: a second run only reads

    _no_drawing(monkeypatch)
    for path, html in drawn_now.items():
        assert _from_nothing(analyst, path) == html, path


def test_a_chart_with_withheld_figures_is_kept_with_its_gap(analyst, published, monkeypatch):
    drawings.draw_ahead()
    _no_drawing(monkeypatch)
    # Albion's view has a chart that draws some of its figures and withholds others
    html = _from_nothing(analyst, f"/staff/insights/dashboards/applications?ward={ALBION}")
    assert "[c]" in html and "withheld ([c]) and not drawn" in html


def test_a_view_not_drawn_ahead_is_drawn_in_the_request(analyst, published, monkeypatch):
    drawings.draw_ahead(wards=False)
    # Applications' charts depend on the ward (feedback's do not, so its ward views are the
    # default view's drawings).
    path = f"/staff/insights/dashboards/applications?ward={ALBION}"
    assert "<svg" in _from_nothing(analyst, path)
    _no_drawing(monkeypatch)
    with pytest.raises(AssertionError, match="drawn in the request"):
        _from_nothing(analyst, path)
    assert "<svg" in _from_nothing(analyst, "/staff/insights/dashboards/applications")


def test_a_new_build_starts_with_no_drawings_and_shows_its_own_figures(
    analyst, published, monkeypatch
):
    root, first = published
    path = "/staff/insights/dashboards/feedback"
    drawings.draw_ahead()
    before = _from_nothing(analyst, path)
    assert "Very satisfied" in before
    # The next build: 10 more very satisfied responses.
    second = dashboards_warehouse.publish_next(root, first)
    assert not (second / KEPT_FOLDER).exists()
    # The old build is no longer published: nothing is drawn for it.
    assert drawings.draw_ahead(first).skipped == "not the published build"

    after = _from_nothing(analyst, path)  # drawn in the request: nothing kept for this build
    assert after != before and "16" in after
    drawings.draw_ahead()
    _no_drawing(monkeypatch)
    assert _from_nothing(analyst, path) == after


def test_the_build_command_draws_the_charts_ahead(settings, tmp_path, capsys):
    settings.BOROUGH_WAREHOUSE_DIR = str(tmp_path / "warehouse")
    make_small_borough()
    call_command("insights", "build", quiet=True)
    said = capsys.readouterr().out
    build = tmp_path / "warehouse" / "current"
    kept = list((build / KEPT_FOLDER).glob("*.svg"))
    assert kept and f"Drew {len(kept):,} of " in said, said
