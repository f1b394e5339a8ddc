"""Every ``borough`` command on a data folder that has not been migrated says what to run, never
a traceback (a council trying its own data before ``borough migrate``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent.parent
STATEMENT = HERE / "borough/housing/tests/statements/data/uk_mt940.sta"


def _borough(data: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "BOROUGH_DATA": str(data), "BOROUGH_ENV": "development"}
    for name in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "borough", *args],
        env=env,
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    "args",
    [
        ("housing", "import-statement", str(STATEMENT)),
        ("residents", "link"),
        ("staff", "unlock", "nobody"),
    ],
    ids=["import-statement", "residents-link", "staff-unlock"],
)
def test_a_command_on_an_unmigrated_folder_says_to_migrate_first(tmp_path, args):
    done = _borough(tmp_path, *args)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "has not been set up" in done.stderr and "borough migrate" in done.stderr
    assert str(tmp_path / "borough.sqlite3") in done.stderr
