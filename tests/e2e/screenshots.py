"""Screenshots of every page the browser journeys open, at desktop width and at 320 px, for review.

    python -m pytest -m e2e --screenshots=var/screenshots
    BOROUGH_SCREENSHOTS=var/screenshots python -m pytest tests/e2e/test_parking_journeys.py

Loaded by the root ``conftest.py`` (``pytest_plugins``) so that the option exists however pytest
is started. When the folder is given, every action of a journey that can open a page
(``goto``, ``click``, ``press``, going back, forward or reloading) is followed, if the page's main
frame navigated, by two full-page screenshots: ``DIR/<test>/<NN>-<path>-1280.png`` and ``-320.png``;
a page whose heading says what its form's legend or label says is noted in
``DIR/duplicated-headings.txt``.
The page's own width is put back afterwards, so the journey goes on as it would have. Event
handlers cannot take the screenshots themselves: in Playwright's sync API they run beside the
journey, which would go on clicking while the page is being resized.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

WIDTHS = (1280, 320)
# Actions of Playwright's sync API that can take the page somewhere new.
PAGE_ACTIONS = ("goto", "go_back", "go_forward", "reload", "click", "press")
LOCATOR_ACTIONS = ("click", "press", "dblclick")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--screenshots",
        metavar="DIR",
        default=os.environ.get("BOROUGH_SCREENSHOTS") or None,
        help="write a screenshot of every page the browser journeys open, at 1280 and 320 px, "
        "into DIR (or set BOROUGH_SCREENSHOTS=DIR)",
    )


@dataclass
class _Shots:
    folder: Path
    test: str = "session"
    taken: int = 0


_shots: _Shots | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _shots
    folder = config.getoption("--screenshots", default=None)
    if folder:
        _shots = _Shots(Path(folder).resolve())
        _shots.folder.mkdir(parents=True, exist_ok=True)
        _install()


def pytest_runtest_setup(item: pytest.Item) -> None:
    if _shots is not None:
        _shots.test = _slug(item.nodeid.split("::", 1)[-1]) or "test"
        _shots.taken = 0


def pytest_report_header(config: pytest.Config) -> str | None:
    if _shots is not None:
        return f"screenshots of every journey page: {_shots.folder}"
    return None


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:150]


def screenshot_path(folder: Path, test: str, number: int, url: str, width: int) -> Path:
    """Where the screenshot of ``url`` at ``width`` goes: one folder a test, numbered in order."""
    path = re.sub(r"^[a-z]+://[^/]+", "", url).split("?", 1)[0].split("#", 1)[0]
    return folder / test / f"{number:02d}-{_slug(path) or 'start'}-{width}.png"


def _watch(page) -> dict:
    """Note, from the page's events, when its main frame goes to a new document."""
    impl = page._impl_obj
    state = getattr(impl, "_borough_navigation", None)
    if state is None:
        state = impl._borough_navigation = {"navigated": False}

        def navigated(frame) -> None:
            if frame.parent_frame is None:
                state["navigated"] = True

        page.on("framenavigated", navigated)
    return state


# The page's <h1> when a legend or label of its form says the same words (a page whose only
# question should be its heading: ``field(..., {"page_heading": true})``), else null.
DUPLICATED_HEADING = """() => {
  const h1 = document.querySelector("main h1");
  if (!h1) return null;
  const text = h1.innerText.trim().toLowerCase();
  const same = [...document.querySelectorAll("main legend, main label")].filter(
    (e) => !e.contains(h1) && !h1.contains(e) && e.innerText.trim().toLowerCase() === text);
  return same.length ? h1.innerText.trim() : null;
}"""


def _note_duplicated_heading(page, number: int) -> None:
    heading = page.evaluate(DUPLICATED_HEADING)
    if heading:
        with (_shots.folder / "duplicated-headings.txt").open("a", encoding="utf-8") as out:
            out.write(
                f"{_shots.test}/{number:02d} {page.url}: heading and question both say {heading!r}\n"
            )


def _take(page) -> None:
    if _shots is None or not page.url.startswith("http"):
        return
    try:
        page.wait_for_load_state("load")
        own = page.viewport_size or {"width": 1280, "height": 720}
        _shots.taken += 1
        _note_duplicated_heading(page, _shots.taken)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": own["height"]})
            path = screenshot_path(_shots.folder, _shots.test, _shots.taken, page.url, width)
            path.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(path), full_page=True)
        page.set_viewport_size(own)
    except Exception:  # noqa: S110
        # A screenshot never fails a journey (a page that closed, a download).
        pass


def _after(method, page_of):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        page = page_of(self)
        state = _watch(page)
        state["navigated"] = False
        try:
            return method(self, *args, **kwargs)
        finally:
            if state["navigated"]:
                state["navigated"] = False
                _take(page)

    wrapper._borough_screenshots = True
    return wrapper


def _install() -> None:
    from playwright.sync_api import Locator, Page

    for cls, names, page_of in (
        (Page, PAGE_ACTIONS, lambda page: page),
        (Locator, LOCATOR_ACTIONS, lambda locator: locator.page),
    ):
        for name in names:
            method = getattr(cls, name)
            if not getattr(method, "_borough_screenshots", False):
                setattr(cls, name, _after(method, page_of))
