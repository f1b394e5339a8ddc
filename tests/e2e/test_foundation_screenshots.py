"""``--screenshots=DIR`` (or ``BOROUGH_SCREENSHOTS=DIR``): every page a journey opens, at
1280 px and at 320 px, in a folder for review."""

import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.screenshots import screenshot_path

ROOT = Path(__file__).resolve().parents[2]
FEEDBACK_JOURNEY = "tests/e2e/test_foundation_journeys.py::test_feedback_from_the_phase_banner"


def png_width(path: Path) -> int:
    return struct.unpack(">I", path.read_bytes()[16:20])[0]


def test_a_screenshot_is_named_after_its_test_order_page_and_width(tmp_path):
    path = screenshot_path(tmp_path, "test-x", 3, "http://localhost:8000/parking/apply?x=1", 320)
    assert path == tmp_path / "test-x" / "03-parking-apply-320.png"
    start = screenshot_path(tmp_path, "test-x", 1, "http://localhost:8000/", 1280)
    assert start.name == "01-start-1280.png"


@pytest.mark.parametrize("how", ["option", "environment"])
def test_every_page_of_a_journey_is_photographed_at_both_widths(
    tmp_path, how, browser_type_launch_args
):
    # browser_type_launch_args: skipped (or failed in CI) like every journey without Chromium.
    shots = tmp_path / "shots"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "BOROUGH_SCREENSHOTS"}}
    args = [sys.executable, "-m", "pytest", FEEDBACK_JOURNEY, "-p", "no:cacheprovider", "-q"]
    if how == "option":
        args.append(f"--screenshots={shots}")
    else:
        env["BOROUGH_SCREENSHOTS"] = str(shots)
    result = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr

    taken = sorted(p.relative_to(shots).as_posix() for p in shots.rglob("*.png"))
    folder = "test-feedback-from-the-phase-banner-chromium"
    # The journey opens the privacy page, the feedback form and, once sent, the thank-you page.
    assert taken == [
        f"{folder}/01-privacy-1280.png",
        f"{folder}/01-privacy-320.png",
        f"{folder}/02-feedback-1280.png",
        f"{folder}/02-feedback-320.png",
        f"{folder}/03-feedback-sent-1280.png",
        f"{folder}/03-feedback-sent-320.png",
    ]
    for name in taken:
        width = 1280 if name.endswith("-1280.png") else 320
        assert png_width(shots / name) == width


def test_a_heading_that_repeats_the_question_is_noted_for_review(page):
    from tests.e2e.screenshots import DUPLICATED_HEADING

    page.set_content(
        "<main><h1>Is this your vehicle?</h1><form><fieldset>"
        "<legend>Is this your vehicle?</legend></fieldset></form></main>"
    )
    assert page.evaluate(DUPLICATED_HEADING) == "Is this your vehicle?"
    # The GOV.UK way: the legend is the heading.
    page.set_content(
        "<main><form><fieldset><legend><h1>Is this your vehicle?</h1></legend>"
        "</fieldset></form></main>"
    )
    assert page.evaluate(DUPLICATED_HEADING) is None
    page.set_content(
        '<main><h1 class="govuk-label-wrapper"><label>What is your registration?</label></h1>'
        "</main>"
    )
    assert page.evaluate(DUPLICATED_HEADING) is None
    page.set_content("<main><h1>Who you are</h1><label>First name</label></main>")
    assert page.evaluate(DUPLICATED_HEADING) is None
