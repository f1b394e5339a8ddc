"""A council that declares only some of the datasets the policies name: the shipped policies go on
with the declared ones, a council's own policy naming an undeclared dataset makes only that
purpose unavailable (503 with the reason, never a 500), and ``borough check`` says what to
change."""

from __future__ import annotations

import json
import shutil

import pytest

from borough.core.api_clients import create_client
from borough.residents.config import SHIPPED_DIR
from borough.residents.verification.policies import (
    SHIPPED,
    check_verification_policies,
    parse_policies,
    policies,
)

from .test_hard_rules import _BASE
from .test_service_and_api import _body, _post

TWO = ("council_tax", "electoral_register")


@pytest.fixture
def two_datasets(tmp_path, monkeypatch):
    """A council that declares council tax and the electoral register, nothing else."""
    folder = tmp_path / "datasets"
    folder.mkdir()
    for code in TWO:
        shutil.copy(SHIPPED_DIR / f"{code}.toml", folder / f"{code}.toml")
    monkeypatch.setenv("BOROUGH_DATASETS_DIR", str(folder))
    return folder


def _own_file(tmp_path, monkeypatch, text: str):
    path = tmp_path / "policies.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("BOROUGH_VERIFICATION_POLICIES", str(path))
    return path


def test_the_shipped_policies_go_on_with_the_declared_datasets(two_datasets):
    found = policies()
    parking = found["parking_permit_residency_check"]
    assert parking.datasets == TWO and parking.left_out == ("housing_tenancies",)
    assert parking.unavailable == ""
    # the tenancy check has no declared dataset left: unavailable, saying what to do
    housing = found["housing_tenant_verification"]
    assert "'housing_tenancies', which this council has not declared" in housing.unavailable
    assert "Declare it" in housing.unavailable


def test_borough_check_says_what_to_change(two_datasets, settings):
    settings.COUNCIL = settings.COUNCIL.__class__(
        **{**settings.COUNCIL.__dict__, "services": ("parking", "housing")}
    )
    found = {(error.id, error.level >= 40): error.msg for error in check_verification_policies()}
    # warnings: the server and every other purpose go on; this one answers "unavailable"
    assert set(found) == {("borough.W134", False), ("borough.W133", False)}
    assert "leaves out dataset 'housing_tenancies'" in found[("borough.W134", False)]
    assert "the API answers 503" in found[("borough.W133", False)]


def test_a_councils_own_policy_naming_an_undeclared_dataset_is_unavailable_alone(
    two_datasets, tmp_path, monkeypatch
):
    text = SHIPPED.read_text(encoding="utf-8")
    _own_file(tmp_path, monkeypatch, text)  # their copy: not adapted, they chose its datasets
    found = policies()
    assert "'housing_tenancies'" in found["parking_permit_residency_check"].unavailable
    _own_file(
        tmp_path,
        monkeypatch,
        text.replace(
            'datasets = ["council_tax", "electoral_register", "housing_tenancies"]',
            'datasets = ["council_tax", "electoral_register"]',
        ),
    )
    found = policies()  # re-read: the file changed
    assert found["parking_permit_residency_check"].unavailable == ""
    assert found["housing_tenant_verification"].unavailable


def test_several_undeclared_datasets_are_all_named():
    raw = {**_BASE, "datasets": ["housing_tenancies", "blue_badges", "libraries"]}
    (policy,) = parse_policies(
        {"housing_tenant_verification": raw}, where="f.toml", known_datasets={"housing_tenancies"}
    ).values()
    assert "datasets 'blue_badges' and 'libraries'" in policy.unavailable
    assert "Declare them" in policy.unavailable


def test_the_api_answers_503_with_the_reason_for_that_purpose_only(
    linked, synth, client, two_datasets
):
    _, key = create_client("Housing system", ["verify"])
    person = synth.adults_at_home(1)[0]
    body = _body(person)
    body["purpose"] = "housing_tenant_verification"
    response = _post(client, body, key)
    assert response.status_code == 503
    assert "housing_tenancies" in response.json()["detail"]
    # parking goes on with the datasets the council has
    response = _post(client, _body(person), key)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["decision"] == "verified"
    assert {e["dataset"] for e in data["evidence"]} <= set(TWO) | {
        "Council tax",
        "Electoral register",
    }, json.dumps(data["evidence"])


@pytest.mark.django_db
def test_a_purpose_left_unavailable_stops_neither_the_data_commands_nor_start_up(
    two_datasets, tmp_path, monkeypatch, settings, capsys
):
    """The council's own policy names a dataset it has not declared: the web server's checks
    warn (they do not stop it), and ``borough residents`` loads and lists data as before."""
    from django.core.management import call_command

    own = tmp_path / "own-policies.toml"
    own.write_text(
        SHIPPED.read_text(encoding="utf-8").replace('"electoral_register"', '"register_typo"'),
        encoding="utf-8",
    )
    monkeypatch.setenv("BOROUGH_VERIFICATION_POLICIES", str(own))
    settings.DATA_DIR = tmp_path / "data"
    # as the command line runs them: with the system checks
    call_command("check")  # warnings only: raises SystemCheckError on an error
    call_command("residents", "datasets", skip_checks=False)
    out = capsys.readouterr()
    assert "council_tax" in out.out
    assert "register_typo" in out.err
