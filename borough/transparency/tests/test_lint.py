"""Only the transparency app may touch the event model: ruff's banned-api rule (TID251)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
BYPASS = "from borough.transparency.models import DataUseEvent\n\nDataUseEvent.objects.create()\n"


def _ruff(source: str, pretend_path: str) -> list[str]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--config",
            "pyproject.toml",
            "--output-format",
            "json",
            "--stdin-filename",
            pretend_path,
            "-",
        ],
        input=source,
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    return [item["code"] for item in json.loads(result.stdout)]


@pytest.mark.parametrize(
    "path", ["borough/parking/services.py", "borough/housing/views.py", "tests/test_x.py"]
)
def test_importing_the_event_model_outside_transparency_is_refused(path):
    assert "TID251" in _ruff(BYPASS, path)


def test_reaching_the_model_through_its_module_is_refused_too():
    source = "import borough.transparency.models as m\n\nm.DataUseEvent.objects.create()\n"
    assert "TID251" in _ruff(source, "borough/parking/services.py")


def test_transparency_itself_may_use_the_model():
    assert "TID251" not in _ruff(BYPASS, "borough/transparency/services.py")


def test_calling_the_service_is_allowed_everywhere():
    source = 'from borough.transparency.services import record_data_use\n\n__all__ = ["record_data_use"]\n'
    assert _ruff(source, "borough/parking/services.py") == []
