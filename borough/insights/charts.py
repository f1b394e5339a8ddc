"""Charts drawn on the server: a table of figures becomes an accessible SVG, a GOV.UK table and a
CSV download, all from the same rows.

Altair writes the Vega-Lite spec and vl-convert draws it as SVG, so there is no JavaScript in the
browser and no hand-built SVG. vl-convert's SVG uses presentation attributes, never ``style``
attributes or a ``<style>`` element, so the Content-Security-Policy (``style-src 'self'``) lets
it through. We change only the opening ``<svg>`` tag: it becomes ``role="img"`` named by a
``<title>`` and described by a ``<desc>`` (the chart's sentence and its highest and lowest
figures), its marks lose Vega's own ARIA roles, and it loses its fixed width and height so that the stylesheet can fit it to the screen.

A cell the disclosure rule hides (``SUPPRESSED``) shows as ``[c]`` in the table and the CSV, and
as a gap in the chart.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import altair as alt
import vl_convert
from markupsafe import Markup, escape

#: A cell hidden by the disclosure rule: shown as the standard "[c]" (confidential) symbol.
SUPPRESSED = "[c]"

#: GOV.UK Design System colours, each at least 3:1 against white (WCAG 2.2 1.4.11).
COLOURS = ["#1d70b8", "#00703c", "#d4351c", "#4c2c92", "#003078", "#505a5f", "#912b88", "#b58840"]
TEXT_COLOUR = "#0b0c0c"

Kind = Literal["text", "count", "pence", "percent", "days", "hours", "number", "rating"]


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: Kind = "text"
    #: A count, or a share as a fraction, of some of the row's ``people``: the rest of them
    #: (people minus this) can be worked out, so the disclosure rule checks both.
    part: bool = False


def format_cell(value: Any, kind: Kind) -> str:
    """A cell as the table and the CSV show it."""
    if value is None:
        return ""
    if value == SUPPRESSED:
        return SUPPRESSED
    if kind == "count":
        return f"{int(value):,}"
    if kind == "pence":
        pounds, pence = divmod(abs(int(value)), 100)
        return f"{'-' if int(value) < 0 else ''}£{pounds:,}.{pence:02d}"
    if kind == "percent":
        return f"{float(value) * 100:.1f}%"
    if kind in ("days", "hours", "number"):
        return f"{float(value):,.1f}"
    if kind == "rating":
        return f"{float(value):.2f}"
    return str(value)


def _plot_value(value: Any, kind: Kind) -> Any:
    """The number a chart draws for a cell: pounds for pence, a percentage for a share."""
    if value is None or value == SUPPRESSED:
        return None
    if kind == "pence":
        return int(value) / 100
    if kind == "percent":
        return float(value) * 100
    return value


AXIS_TITLE_SUFFIX = {"pence": " (£)", "percent": " (%)"}


@dataclass
class Chart:
    """One chart: its rows, how to draw them, and what it shows in a plain sentence.

    ``x`` is the column along the bottom (or down the side for ``bar-horizontal``), ``y`` the
    figure drawn, ``series`` an optional column that splits the figures by colour.
    """

    slug: str
    title: str
    sentence: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    x: str
    y: str
    series: str | None = None
    mark: Literal["bar", "line", "bar-horizontal"] = "bar"
    notes: list[str] = field(default_factory=list)
    #: The published build's folder whose drawings ahead (``KEPT_FOLDER``) this chart may use.
    drawings: str = ""
    _svg: Markup | None = field(default=None, init=False, repr=False, compare=False)

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    @property
    def header(self) -> list[str]:
        return [c.label for c in self.columns]

    @property
    def table(self) -> list[list[str]]:
        """The rows as the GOV.UK table and the CSV show them."""
        return [[format_cell(row.get(c.key), c.kind) for c in self.columns] for row in self.rows]

    @property
    def numeric_columns(self) -> list[bool]:
        return [c.kind != "text" for c in self.columns]

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(self.header)
        writer.writerows(self.table)
        return out.getvalue()

    @property
    def drawn_rows(self) -> list[dict[str, Any]]:
        """The rows with a figure to draw (not missing, not suppressed)."""
        return [
            row for row in self.rows if row.get(self.y) is not None and row[self.y] != SUPPRESSED
        ]

    @property
    def hidden_figures(self) -> int:
        """How many of the chart's figures are withheld (``[c]``) and so not drawn: a gap in
        the chart that the page has to explain."""
        return sum(1 for row in self.rows if row.get(self.y) == SUPPRESSED)

    def description(self) -> str:
        """The text alternative: the sentence, then the highest and lowest figures drawn, and
        how many are withheld."""
        y = self.column(self.y)
        drawn = self.drawn_rows
        if not drawn:
            return f"{self.sentence} There are no figures to draw for these filters."
        hidden = self.hidden_figures
        withheld = (
            f" {hidden} figure{'' if hidden == 1 else 's'} withheld ([c]) and not drawn."
            if hidden
            else ""
        )

        def label(row: dict) -> str:
            parts = [format_cell(row.get(self.x), self.column(self.x).kind)]
            if self.series:
                parts.append(format_cell(row.get(self.series), "text"))
            return ", ".join(p for p in parts if p)

        high = max(drawn, key=lambda r: float(r[self.y]))
        low = min(drawn, key=lambda r: float(r[self.y]))
        text = (
            f"{self.sentence} Highest {y.label.lower()}: {format_cell(high[self.y], y.kind)} "
            f"({label(high)})."
        )
        if low is not high:
            text += f" Lowest: {format_cell(low[self.y], y.kind)} ({label(low)})."
        return text + withheld + " The table gives every figure."

    def spec(self) -> dict:
        x, y = self.column(self.x), self.column(self.y)
        values = []
        for row in self.rows:
            value = {
                "x": format_cell(row.get(self.x), x.kind),
                "y": _plot_value(row.get(self.y), y.kind),
            }
            if self.series:
                value["series"] = format_cell(row.get(self.series), "text")
            values.append(value)
        order = list(dict.fromkeys(v["x"] for v in values))
        y_title = y.label + AXIS_TITLE_SUFFIX.get(y.kind, "")
        x_axis = alt.X("x:N", title=x.label, sort=order, axis=alt.Axis(labelLimit=140))
        y_axis = alt.Y("y:Q", title=y_title)
        if self.mark == "bar-horizontal":
            x_axis, y_axis = (
                alt.X("y:Q", title=y_title),
                alt.Y("x:N", title=x.label, sort=order, axis=alt.Axis(labelLimit=160)),
            )
        encoding: dict = {"x": x_axis, "y": y_axis}
        colour: dict = {"color": COLOURS[0]}
        if self.series:
            series_order = list(dict.fromkeys(v["series"] for v in values))
            colour = {}
            encoding["color"] = alt.Color(
                "series:N",
                title=self.column(self.series).label,
                sort=series_order,
                scale=alt.Scale(domain=series_order, range=COLOURS[: len(series_order)]),
                legend=alt.Legend(orient="bottom", direction="vertical", labelLimit=260),
            )
            if self.mark == "bar":
                encoding["xOffset"] = alt.XOffset("series:N", sort=series_order)
            elif self.mark == "bar-horizontal":
                encoding["yOffset"] = alt.YOffset("series:N", sort=series_order)
        base = alt.Chart(alt.Data(values=values))
        if self.mark == "line":
            point = alt.OverlayMarkDef(filled=True, size=60, **colour)
            chart = base.mark_line(point=point, strokeWidth=3, **colour)
        else:
            chart = base.mark_bar(**colour)
        chart = chart.encode(**encoding)
        size = {"width": 560, "height": 260}
        if self.mark == "bar-horizontal":
            size = {"width": 480, "height": {"step": 22}}
        return (
            chart.properties(**size)
            .configure(font="arial, sans-serif", aria=False, background="white")
            .configure_axis(
                labelFontSize=13,
                titleFontSize=14,
                labelColor=TEXT_COLOUR,
                titleColor=TEXT_COLOUR,
                domainColor="#505a5f",
                tickColor="#505a5f",
                gridColor="#d9dbdc",
            )
            .configure_legend(
                labelFontSize=13, titleFontSize=14, labelColor=TEXT_COLOUR, titleColor=TEXT_COLOUR
            )
            .configure_view(stroke=None)
            # The spec is made here from known columns: checking it against Vega-Lite's JSON
            # schema on every page would cost more than drawing it.
            .to_dict(validate=False)
        )

    def spec_json(self) -> str:
        return json.dumps(self.spec(), sort_keys=True)

    def svg(self) -> Markup:
        """The chart drawn, made once for this chart (charts are kept with a build's results):
        the drawing made ahead for its build when there is one, else drawn now."""
        if self._svg is None:
            spec = self.spec_json()
            drawn = kept_drawing(self.drawings, spec) if self.drawings else None
            if drawn is None:
                drawn = draw_svg(spec)
            self._svg = accessible_svg(drawn, self.slug, self.title, self.description())
        return self._svg


@lru_cache(maxsize=512)
def draw_svg(spec_json: str) -> str:
    """vl-convert's SVG for a Vega-Lite spec. The spec holds the figures, so the cache key is
    the query's result under its filters in one build of the warehouse."""
    return vl_convert.vegalite_to_svg(json.loads(spec_json))


#: Where a build's folder keeps the charts drawn ahead for it (``borough.insights.drawings``).
KEPT_FOLDER = "drawn-charts"


def _kept_path(build: str | Path, spec_json: str) -> Path:
    name = hashlib.sha256(spec_json.encode()).hexdigest()
    return Path(build) / KEPT_FOLDER / f"{name}.svg"


def kept_drawing(build: str | Path, spec_json: str) -> str | None:
    """vl-convert's SVG for this spec if it was drawn ahead for ``build``, else None.

    The rule that keeps a drawing from ever showing a stale figure: it is found by the SHA-256
    of the whole spec, which holds every figure, label and colour drawn, so it is served only
    for exactly what it shows; and it lives in its build's own folder, so a new build (a new
    folder) starts with none."""
    try:
        return _kept_path(build, spec_json).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def keep_drawing(build: str | Path, spec_json: str, svg: str) -> bool:
    """Keep ``svg`` as the drawing of this spec for ``build``; False if it was already kept.
    Written to a temporary name and renamed, so a page never reads half a drawing."""
    path = _kept_path(build, spec_json)
    if path.exists():
        return False
    path.parent.mkdir(exist_ok=True)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp")
    tmp.write_text(svg, encoding="utf-8")
    os.replace(tmp, path)
    return True


_SVG_OPEN = re.compile(r"\A<svg\b([^>]*)>")
_SIZE_AND_CLASS = re.compile(r'\s(?:width|height|class)="[^"]*"')
# Vega's own ARIA roles and labels on the marks inside: the image's title and description stand
# for the whole chart, and the table gives the figures.
_INNER_ARIA = re.compile(r'\s(?:role|aria-[a-z]+)="[^"]*"')


def accessible_svg(svg: str, slug: str, title: str, description: str) -> Markup:
    """vl-convert's SVG as an image with a text alternative: ``role="img"`` labelled by its
    ``<title>`` and described by its ``<desc>``; the fixed size goes so that CSS fits it."""
    match = _SVG_OPEN.match(svg)
    if not match:
        raise ValueError("vl-convert did not return an <svg> element")
    attributes = _SIZE_AND_CLASS.sub("", match.group(1))
    ident = "chart-" + re.sub(r"[^a-z0-9-]", "-", slug.lower())
    ident += "-" + hashlib.sha1(slug.encode(), usedforsecurity=False).hexdigest()[:6]
    opening = (
        f'<svg{attributes} role="img" focusable="false" class="borough-chart__svg" '
        f'aria-labelledby="{ident}-title" aria-describedby="{ident}-desc">'
        f'<title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{escape(description)}</desc>'
    )
    inner = _INNER_ARIA.sub("", svg[match.end() :])
    return Markup(opening + inner)  # noqa: S704 - escaped above; the rest is vl-convert's
