"""Charts drawn on the server: an image with a text alternative, no styles or scripts the
Content-Security-Policy would block, and a CSV that is exactly the table."""

from __future__ import annotations

import csv
import io
import re

import pytest

from borough.insights.charts import SUPPRESSED, Chart, Column, accessible_svg, format_cell


def _chart(**kwargs) -> Chart:
    defaults = {
        "slug": "rent-collected",
        "title": "Rent collected, by payment method",
        "sentence": "Money paid into rent accounts each month.",
        "columns": [
            Column("month", "Month"),
            Column("method", "Payment method"),
            Column("people", "Accounts", "count"),
            Column("collected_pence", "Collected", "pence"),
        ],
        "rows": [
            {
                "month": "October 2026",
                "method": "Direct Debit",
                "people": 1200,
                "collected_pence": 12345678,
            },
            {
                "month": "October 2026",
                "method": "Other",
                "people": SUPPRESSED,
                "collected_pence": SUPPRESSED,
            },
            {
                "month": "November 2026",
                "method": "Direct Debit",
                "people": 1180,
                "collected_pence": 11000050,
            },
        ],
        "x": "month",
        "y": "collected_pence",
        "series": "method",
    }
    return Chart(**{**defaults, **kwargs})


def test_the_svg_is_an_image_named_and_described_with_its_highest_and_lowest_figures():
    svg = str(_chart().svg())
    opening = re.match(r"<svg[^>]*>", svg).group(0)
    assert 'role="img"' in opening
    title_id = re.search(r'aria-labelledby="([^"]+)"', opening).group(1)
    desc_id = re.search(r'aria-describedby="([^"]+)"', opening).group(1)
    assert f'<title id="{title_id}">Rent collected, by payment method</title>' in svg
    description = re.search(rf'<desc id="{desc_id}">([^<]+)</desc>', svg).group(1)
    assert description == (
        "Money paid into rent accounts each month. Highest collected: £123,456.78 "
        "(October 2026, Direct Debit). Lowest: £110,000.50 (November 2026, Direct Debit). "
        "1 figure withheld ([c]) and not drawn. The table gives every figure."
    )
    # it fits its column (no fixed size) and carries nothing the CSP would block
    assert "width=" not in opening and "height=" not in opening and "viewBox" in opening
    assert "style=" not in svg and "<style" not in svg and "<script" not in svg
    assert svg.count("class=") >= 1 and opening.count("class=") == 1


def test_a_suppressed_cell_shows_as_c_in_the_table_and_the_csv_and_is_not_drawn():
    chart = _chart()
    assert chart.table[1] == ["October 2026", "Other", "[c]", "[c]"]
    assert chart.spec()["data"]["values"][1]["y"] is None
    assert "Other" not in chart.description()


def test_the_page_says_why_a_chart_has_a_gap_where_a_figure_is_withheld():
    from django.template import engines

    env = engines["jinja2"].env
    page = env.from_string(
        '{% from "insights/dashboards/_chart.html" import chart_section %}'
        '{{ chart_section(chart, "/rent.csv", 10) }}'
    )
    with_gap = page.render(chart=_chart())
    assert "1 figure in this chart stands for, or would give away, fewer than 10 people" in with_gap
    assert "a gap there is not a zero" in with_gap
    full = _chart(rows=[r for r in _chart().rows if r["people"] != SUPPRESSED])
    assert full.hidden_figures == 0
    assert "a gap there is not a zero" not in page.render(chart=full)
    assert "withheld" not in full.description()


def test_the_csv_is_exactly_the_table():
    chart = _chart()
    rows = list(csv.reader(io.StringIO(chart.csv())))
    assert rows == [chart.header, *chart.table]
    assert rows[1] == ["October 2026", "Direct Debit", "1,200", "£123,456.78"]


def test_titles_and_sentences_are_escaped_in_the_svg():
    svg = str(accessible_svg('<svg width="10" height="5"><g/></svg>', "x", "A <b> & C", "D > E"))
    assert '<title id="chart-x-' in svg and "A &lt;b&gt; &amp; C" in svg and "D &gt; E" in svg
    with pytest.raises(ValueError):
        accessible_svg("<p>not a chart</p>", "x", "t", "d")


def test_a_chart_with_nothing_to_draw_says_so():
    chart = _chart(
        rows=[
            {
                "month": "October 2026",
                "method": "Other",
                "people": SUPPRESSED,
                "collected_pence": SUPPRESSED,
            }
        ]
    )
    assert chart.description().endswith("There are no figures to draw for these filters.")


@pytest.mark.parametrize(
    ("value", "kind", "shown"),
    [(-1505, "pence", "-£15.05"), (0.8333, "percent", "83.3%"), (12345, "count", "12,345"),
     (None, "count", ""), (SUPPRESSED, "pence", "[c]"), (4.256, "rating", "4.26")],
)  # fmt: skip
def test_cells_are_written_as_people_read_them(value, kind, shown):
    assert format_cell(value, kind) == shown
