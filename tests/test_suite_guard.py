"""A test run that executes nothing proves nothing, so it must fail."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT_CONFTEST = Path(__file__).resolve().parent.parent / "conftest.py"


def _run(tmp_path: Path, test_source: str) -> int:
    (tmp_path / "conftest.py").write_text(ROOT_CONFTEST.read_text())
    (tmp_path / "test_sample.py").write_text(test_source)
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    # the root conftest loads a plugin from the project's tests package
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT_CONFTEST.parent), env.get("PYTHONPATH", "")])
    )
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        check=False,
    ).returncode


@pytest.mark.parametrize(
    "source",
    [
        "",  # nothing collected
        "import pytest\n\n@pytest.mark.skip\ndef test_x():\n    assert False\n",  # all skipped
    ],
    ids=["nothing-collected", "everything-skipped"],
)
def test_a_run_that_executes_nothing_fails(tmp_path, source):
    assert _run(tmp_path, source) == pytest.ExitCode.NO_TESTS_COLLECTED


def test_a_run_with_a_passing_test_passes(tmp_path):
    assert _run(tmp_path, "def test_x():\n    assert 1 + 1 == 2\n") == pytest.ExitCode.OK
