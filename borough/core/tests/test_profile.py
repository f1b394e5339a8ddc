from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from borough.core.profile import load_profile

DEMO = Path(settings.BASE_DIR) / "profiles" / "northmere.toml"


def test_the_demo_borough_profile_loads():
    profile = load_profile(DEMO)
    assert profile.name == "London Borough of Northmere"
    assert profile.languages[0].code == "en-gb"
    assert profile.bank.sort_code == "08-99-99"
    assert profile.offers("parking")


def _write(tmp_path, text):
    path = tmp_path / "profile.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_another_council_changes_the_profile_not_the_code(tmp_path):
    text = DEMO.read_text(encoding="utf-8").replace(
        'name = "London Borough of Northmere"', 'name = "Anytown Borough Council"'
    )
    text = text.replace(
        'services = ["parking", "housing", "transparency", "insights"]', 'services = ["parking"]'
    )
    profile = load_profile(_write(tmp_path, text))
    assert profile.name == "Anytown Borough Council"
    assert profile.offers("parking") and not profile.offers("housing")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('sort_code = "08-99-99"', 'sort_code = "08-99"'),
            "bank.sort_code: Value error, must be 6 digits",
        ),
        (('services = ["parking"', 'services = ["bins"'), "unknown service bins"),
        (('email = "digital@northmere.example"', 'email = "not an email"'), "contact.email"),
        (("online_pence = 17", "online_pence = -1"), "unit_costs.online_pence"),
    ],
)
def test_a_bad_profile_names_the_file_and_the_field(tmp_path, change, message):
    path = _write(tmp_path, DEMO.read_text(encoding="utf-8").replace(*change))
    with pytest.raises(ImproperlyConfigured) as error:
        load_profile(path)
    assert str(path) in str(error.value)
    assert message in str(error.value)


def test_a_missing_profile_says_how_to_set_one(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="BOROUGH_PROFILE"):
        load_profile(tmp_path / "nowhere.toml")


def test_a_profile_that_is_not_toml_says_so(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="not valid TOML"):
        load_profile(_write(tmp_path, "name = \n"))


def test_the_borough_command_names_a_wrong_profile_without_a_traceback(tmp_path):
    import os
    import subprocess
    import sys

    profile = tmp_path / "council.toml"
    profile.write_text('colour = "green"\n', encoding="utf-8")
    env = {**os.environ, "BOROUGH_PROFILE": str(profile), "BOROUGH_DATA": str(tmp_path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, "-m", "borough", "check"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert str(profile) in done.stderr and "colour: Extra inputs are not permitted" in done.stderr
