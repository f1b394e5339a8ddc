"""The browser journeys on a machine without Chromium: skipped with one line saying how to run
them, except in CI (``CI=true``), where a missing browser fails the run."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ONE_JOURNEY = "tests/e2e/test_foundation_journeys.py::test_feedback_from_the_phase_banner"
# A run in which nothing passes fails by design (conftest.py): one test without a browser runs too.
NO_BROWSER = "tests/e2e/test_foundation_browser_setup.py::test_ci_script_says_it_is_ci_before_running_the_journeys"


def run_one_journey(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"CI", "DATABASE_URL", "BOROUGH_SCREENSHOTS", "PYTEST_ADDOPTS"}
    }
    clean.update(BOROUGH_CHROMIUM=str(tmp_path / "no-chromium-here"), BOROUGH_DATA=str(tmp_path))
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", ONE_JOURNEY, NO_BROWSER, "-p", "no:cacheprovider", "-q"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_without_chromium_the_journeys_are_skipped_with_one_line_saying_how_to_run_them(tmp_path):
    result = run_one_journey(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    skipped = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1, result.stdout
    assert "apt-get install chromium" in skipped[0]
    assert "BOROUGH_CHROMIUM" in skipped[0]
    assert "no-chromium-here" in skipped[0]
    assert "1 passed, 1 skipped" in result.stdout


@pytest.mark.parametrize("ci", ["true", "1"])
def test_in_ci_a_missing_chromium_fails_the_journeys(tmp_path, ci):
    result = run_one_journey(tmp_path, CI=ci)
    assert result.returncode != 0, result.stdout
    assert "skipped" not in result.stdout.splitlines()[-1]
    assert "browser journeys cannot run in CI: Chromium is not at" in result.stdout


def test_ci_script_says_it_is_ci_before_running_the_journeys():
    script = (ROOT / ".ci/run").read_text()
    assert "export CI=true" in script
    assert script.index("export CI=true") < script.index("python -m pytest")
