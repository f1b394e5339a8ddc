"""Browser journeys in Debian's Chromium, driven by Playwright (never a downloaded browser)."""

import os
import shutil
from pathlib import Path

import pytest

# pytest-django's live server and sync Playwright share a thread with an event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("BOROUGH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium is not at {CHROMIUM}. Install Debian's package (apt-get install chromium) "
            "or set BOROUGH_CHROMIUM; the browser journeys never download a browser."
        )
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(params=[True, False], ids=["with-js", "without-js"])
def any_page(request, browser):
    """A page with JavaScript on, and one with it off: every journey works without it.
    ``page.javascript`` says which."""
    context = browser.new_context(java_script_enabled=request.param)
    page = context.new_page()
    page.javascript = request.param
    yield page
    context.close()
