import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from borough.core.config import env_bool, load_or_create_secret_key


def _settings_in_subprocess(env: dict, tmp_path: Path, code: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BOROUGH_", "DATABASE_URL"))}
    clean.update({"BOROUGH_DATA": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "-c", f"import borough.settings as s; {code}"],
        env=clean,
        capture_output=True,
        text=True,
        check=False,
    )


def test_development_secret_key_is_generated_once_and_kept(tmp_path):
    key_file = tmp_path / "secret_key"
    first = load_or_create_secret_key(key_file)
    assert len(first) >= 50
    assert load_or_create_secret_key(key_file) == first
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


def test_production_without_secret_key_stops_with_a_clear_message(tmp_path):
    result = _settings_in_subprocess({"BOROUGH_ENV": "production"}, tmp_path, "pass")
    assert result.returncode != 0
    assert "BOROUGH_SECRET_KEY is not set" in result.stderr
    assert not (tmp_path / "secret_key").exists()


BANK_KEY = "Dw7UIA4ZqhUzSlB4wNqkHLbWE6k8SJ5OtYtDhFf1V7c="  # a Fernet key for these tests only


def test_production_with_secret_key_starts_with_debug_off(tmp_path):
    result = _settings_in_subprocess(
        {
            "BOROUGH_ENV": "production",
            "BOROUGH_SECRET_KEY": "x" * 60,
            "BOROUGH_BANK_DETAILS_KEYS": BANK_KEY,
        },
        tmp_path,
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]


def test_production_without_a_bank_details_key_refuses_to_start(tmp_path):
    result = _settings_in_subprocess(
        {"BOROUGH_ENV": "production", "BOROUGH_SECRET_KEY": "x" * 60},
        tmp_path,
        "print(s.DEBUG)",
    )
    assert result.returncode != 0
    assert "BOROUGH_BANK_DETAILS_KEYS is not set" in result.stderr


def test_data_folder_holds_the_sqlite_database_and_debug_is_off_by_default(tmp_path):
    result = _settings_in_subprocess(
        {}, tmp_path, "print(s.DATABASES['default']['NAME']); print(s.DEBUG)"
    )
    assert result.returncode == 0, result.stderr
    name, debug = result.stdout.split()
    assert name == str(tmp_path / "borough.sqlite3")
    assert debug == "False"
    assert (tmp_path / "secret_key").exists()


def test_database_url_points_at_postgresql(tmp_path):
    result = _settings_in_subprocess(
        {"DATABASE_URL": "postgres://council:pw@db.internal:5433/borough"},
        tmp_path,
        "d = s.DATABASES['default']; print(d['ENGINE'], d['HOST'], d['PORT'], d['NAME'])",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "db.internal",
        "5433",
        "borough",
    ]


def test_a_misspelt_debug_flag_is_an_error(monkeypatch):
    monkeypatch.setenv("BOROUGH_DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="BOROUGH_DEBUG"):
        env_bool("BOROUGH_DEBUG", False)


def test_borough_command_fronts_django_management_commands(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOROUGH_", "DATABASE_URL"))}
    env["BOROUGH_DATA"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "borough", "help"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for command in ("migrate", "runserver", "demo", "synth", "places"):
        assert command in result.stdout
