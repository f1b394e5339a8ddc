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


# -- CI's PostgreSQL run takes only the tests that use the database (--database-tests-only) ------


def test_a_test_without_the_database_is_not_counted_as_using_it(request):
    from conftest import uses_database

    assert not uses_database(request.node)


def test_a_test_asking_for_db_uses_the_database(request, db):
    from conftest import uses_database

    assert uses_database(request.node)


@pytest.mark.django_db
def test_a_test_marked_django_db_uses_the_database(request):
    from conftest import uses_database

    assert uses_database(request.node)


@pytest.fixture
def _through_a_fixture(transactional_db):
    return None


def test_a_test_reaching_the_database_through_a_fixture_uses_it(request, _through_a_fixture):
    from conftest import uses_database

    assert uses_database(request.node)


def test_database_tests_only_deselects_the_others(tmp_path):
    source = (
        "import pytest\n\n"
        "def test_pure():\n    assert True\n\n"
        "@pytest.mark.django_db\ndef test_with_db():\n    assert True\n"
    )
    (tmp_path / "conftest.py").write_text(ROOT_CONFTEST.read_text())
    (tmp_path / "test_sample.py").write_text(source)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "borough.test_settings"}
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT_CONFTEST.parent), env.get("PYTHONPATH", "")])
    )
    args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q"]
    collected = subprocess.run(
        [*args, "--database-tests-only", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    assert "test_sample.py::test_with_db" in collected
    assert "test_pure" not in collected
    assert "1/2 tests collected (1 deselected)" in collected
