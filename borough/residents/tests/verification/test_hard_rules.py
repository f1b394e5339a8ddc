"""Hard rules beside the match probability: a date of birth that must agree exactly where the
records hold one, and what happens where they hold none. Hand-made records, scored with a model
trained on a synthetic borough (as ``test_engine_decisions``)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from borough.residents.verification.engine import PUBLIC, Applicant, ApplicantError, decide
from borough.residents.verification.policies import PolicyError, parse_policies

from .test_engine_decisions import HOME, TODAY, _index, _record
from .test_same_as_splink import POLICY

PARKING = dataclasses.replace(
    POLICY, must_agree=("date_of_birth",), when_not_held="name_and_address"
)
TENANT = dataclasses.replace(
    POLICY,
    purpose="housing_tenant_verification",
    datasets=("housing_tenancies",),
    must_agree=("date_of_birth",),
    when_not_held="refer",
    opens_account=True,
)
BORN = dt.date(1958, 4, 8)


def _joanna(born: dt.date | None = BORN) -> Applicant:
    return Applicant(first_name="Joanna", surname="O'Brien", date_of_birth=born, uprn=HOME)


def _with_dob(indexed, dob="1958-04-08"):
    return _index(
        indexed,
        [
            _record("housing_tenancies:T1", "R1", "joanna", "obrien", dob),
            _record("electoral_register:E1", "R1", "joanna", "obrien"),
            _record("council_tax:C1#1", "R1", "joanna", "obrien"),
        ],
    )


NEAR_MISSES = {
    "a day out": dt.date(1958, 4, 9),
    "a month out": dt.date(1958, 5, 8),
    "a year out": dt.date(1957, 4, 8),
    "day and month swapped": dt.date(1958, 8, 4),
    "1 January 1970": dt.date(1970, 1, 1),
}


@pytest.mark.parametrize("miss", list(NEAR_MISSES))
@pytest.mark.parametrize("policy", [PARKING, TENANT], ids=["parking", "tenant"])
def test_a_near_miss_date_of_birth_is_referred_never_verified(indexed, miss, policy):
    index = _with_dob(indexed)
    outcome = decide(index, policy, _joanna(NEAR_MISSES[miss]), today=TODAY)
    assert outcome.decision == "refer", outcome.reasons
    assert outcome.resident_id == "R1"
    assert any("date of birth given is not one" in r for r in outcome.reasons), outcome.reasons
    assert outcome.public_reasons == (PUBLIC["refer"],)


@pytest.mark.parametrize("policy", [PARKING, TENANT], ids=["parking", "tenant"])
def test_the_exact_date_of_birth_verifies(indexed, policy):
    outcome = decide(_with_dob(indexed), policy, _joanna(), today=TODAY)
    assert outcome.decision == "verified", outcome.reasons
    assert outcome.unconfirmed == ()
    assert outcome.public_reasons == (PUBLIC["verified"],)


def test_without_the_hard_rule_a_day_out_would_have_verified(indexed):
    """The rule, not the probability, stops the near miss: the model alone lets it through."""
    loose = dataclasses.replace(PARKING, must_agree=())
    outcome = decide(_with_dob(indexed), loose, _joanna(NEAR_MISSES["a day out"]), today=TODAY)
    assert outcome.decision == "verified"


def test_records_holding_no_date_of_birth_settle_residency_on_name_and_address(indexed):
    index = _index(
        indexed,
        [
            _record("electoral_register:E1", "R1", "joanna", "obrien"),
            _record("council_tax:C1#1", "R1", "joanna", "obrien"),
        ],
    )
    outcome = decide(index, PARKING, _joanna(NEAR_MISSES["1 January 1970"]), today=TODAY)
    assert outcome.decision == "verified"
    assert outcome.unconfirmed == ("date_of_birth",)
    assert outcome.public_reasons[1] == PUBLIC["name_and_address"].format(names="date of birth")
    # the same records are not enough to open a tenant's account
    tenant_index = _index(
        indexed,
        [
            _record("housing_tenancies:T1", "R1", "joanna", "obrien"),
            _record("electoral_register:E1", "R1", "joanna", "obrien"),
        ],
    )
    referred = decide(tenant_index, TENANT, _joanna(), today=TODAY)
    assert referred.decision == "refer"
    assert any("None of their records holds a date of birth" in r for r in referred.reasons)


@pytest.mark.parametrize("policy", [PARKING, TENANT], ids=["parking", "tenant"])
def test_records_that_disagree_on_the_date_of_birth_are_for_an_officer(indexed, policy):
    """The resident's records disagree (a typo in one system, or a parent and child the link
    merged): the applicant's date is one of them, but either could be guessed from the other,
    so neither verifies, whichever record is the proof."""
    index = _index(
        indexed,
        [
            _record("housing_tenancies:T1", "R1", "joanna", "obrien", "1958-04-08"),
            _record("housing_benefit:B1", "R1", "joanna", "obrien", "1958-08-04"),
            _record("council_tax:C1#1", "R1", "joanna", "obrien"),
            _record("electoral_register:E1", "R1", "joanna", "obrien"),
        ],
    )
    for born in (dt.date(1958, 4, 8), dt.date(1958, 8, 4)):
        outcome = decide(index, policy, _joanna(born), today=TODAY)
        assert outcome.decision == "refer", outcome.reasons
        assert any("hold more than one date of birth" in r for r in outcome.reasons)
        assert outcome.public_reasons == (PUBLIC["refer"],)


def test_a_surname_that_must_agree_is_checked_like_the_date_of_birth(indexed):
    policy = dataclasses.replace(TENANT, must_agree=("date_of_birth", "surname"))
    index = _index(
        indexed,
        [_record("housing_tenancies:T1", "R1", "joanna", "hill", "1958-04-08")],
    )
    outcome = decide(index, policy, _joanna(), today=TODAY)
    assert outcome.decision == "refer"
    assert any("surname given is not one" in r for r in outcome.reasons)


def test_a_check_that_needs_a_date_of_birth_refuses_details_without_one(indexed):
    with pytest.raises(ApplicantError) as caught:
        decide(_with_dob(indexed), TENANT, _joanna(None), today=TODAY)
    assert caught.value.field == "date_of_birth"


def test_a_close_and_a_far_date_of_birth_are_told_apart_by_nothing_a_caller_sees(indexed):
    index = _with_dob(indexed)
    close = decide(index, PARKING, _joanna(NEAR_MISSES["a day out"]), today=TODAY)
    far = decide(index, PARKING, _joanna(dt.date(1931, 11, 23)), today=TODAY)
    assert (close.decision, close.public_reasons, close.evidence) == (
        far.decision,
        far.public_reasons,
        far.evidence,
    )


# -- the policy file ------------------------------------------------------------------------

_BASE = {
    "title": "t",
    "proves": "tenancy",
    "datasets": ["housing_tenancies"],
    "same_address": True,
    "ended_within_days": 0,
    "min_evidence": 1,
    "verified_probability": 0.99,
    "margin_bits": 6.0,
    "refer_probability": 0.5,
    "roles_see_fields": [],
}


def _parse(**changes):
    raw = {**_BASE, **changes}
    return parse_policies(
        {"housing_tenant_verification": raw},
        where="policies.toml",
        known_datasets={"housing_tenancies"},
    )["housing_tenant_verification"]


def test_a_policy_that_leaves_the_hard_rules_out_gets_the_strict_ones():
    policy = _parse()
    assert policy.must_agree == ("date_of_birth",)
    assert policy.when_not_held == "refer"
    assert policy.caller_evidence == "proof"


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"must_agree": ["shoe_size"]}, "must_agree may name"),
        ({"when_not_held": "verify"}, "when_not_held must be one of"),
        ({"caller_evidence": "everything"}, "caller_evidence must be one of"),
        ({"opens_account": True, "when_not_held": "name_and_address"}, "opens an account"),
        ({"opens_account": True, "must_agree": []}, "date_of_birth in must_agree"),
        ({"opens_account": "yes"}, "opens_account must be a bool"),
    ],
)
def test_a_wrong_hard_rule_is_refused_naming_the_file_and_setting(changes, words):
    with pytest.raises(PolicyError) as caught:
        _parse(**changes)
    assert "policies.toml: [housing_tenant_verification]" in str(caught.value)
    assert words in str(caught.value)


def test_the_shipped_policies_open_an_account_only_with_a_date_of_birth_that_agrees():
    from borough.residents.verification.policies import SHIPPED, load_policies

    shipped = load_policies(SHIPPED)
    tenant = shipped["housing_tenant_verification"]
    assert tenant.opens_account and tenant.when_not_held == "refer"
    assert "date_of_birth" in tenant.must_agree and tenant.caller_evidence == "decision"
    parking = shipped["parking_permit_residency_check"]
    assert "date_of_birth" in parking.must_agree and not parking.opens_account


# -- borough check: a council's policies file, checked before anyone meets it ------------------


def _council_file(tmp_path, text: str):
    path = tmp_path / "policies.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ('must_agree = ["postcode"]', "must_agree may name"),
        ('when_not_held = "name_and_address"\nopens_account = true', "opens an account"),
        ('roles_see_fields = ["Housing oficer"]', "'Housing oficer', which is not a staff role"),
        ("colour = 'green'", "unknown setting 'colour'"),
    ],
)
def test_borough_check_names_a_mistake_in_the_councils_policies_file(
    tmp_path, monkeypatch, change, words
):
    from borough.residents.verification.policies import SHIPPED, check_verification_policies

    text = SHIPPED.read_text(encoding="utf-8")
    start = text.index("[housing_tenant_verification]")
    head, tail = text[:start], text[start:]
    changed = {line.split("=")[0].strip() for line in change.splitlines()}
    kept = "\n".join(
        line for line in tail.splitlines() if line.split("=")[0].strip() not in changed
    )
    path = _council_file(tmp_path, head + kept + "\n" + change + "\n")
    monkeypatch.setenv("BOROUGH_VERIFICATION_POLICIES", str(path))
    errors = check_verification_policies()
    assert [e.id for e in errors] == ["borough.E131"]
    assert str(path) in errors[0].msg and words in errors[0].msg


def test_borough_check_says_when_a_service_has_no_policy(tmp_path, monkeypatch):
    from borough.residents.verification.policies import SHIPPED, check_verification_policies

    text = SHIPPED.read_text(encoding="utf-8")
    path = _council_file(tmp_path, text[: text.index("[housing_tenant_verification]")])
    monkeypatch.setenv("BOROUGH_VERIFICATION_POLICIES", str(path))
    errors = check_verification_policies()
    assert [e.id for e in errors] == ["borough.E132"]
    assert "housing_tenant_verification" in errors[0].msg
    monkeypatch.setenv("BOROUGH_VERIFICATION_POLICIES", str(tmp_path / "missing.toml"))
    assert [e.id for e in check_verification_policies()] == ["borough.E131"]
