"""The verification service on the loaded and linked synthetic borough: decisions, the data-use
log, the stored verification, and ``POST /api/v1/verifications`` with its errors."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from borough.core.api_clients import create_client, revoke
from borough.residents.verification.engine import Applicant, ApplicantError
from borough.residents.verification.models import Verification
from borough.residents.verification.service import HOLDER, verify
from borough.transparency.queries import events

pytestmark = pytest.mark.django_db

URL = "/api/v1/verifications"
PURPOSE = "parking_permit_residency_check"


def _applicant(person, **changes) -> Applicant:
    values = dict(
        first_name=person["first_name"],
        middle_names=person["middle_names"],
        surname=person["surname"],
        date_of_birth=dt.date.fromisoformat(person["date_of_birth"]),
        uprn=int(person["current_uprn"]),
    )
    values.update(changes)
    return Applicant(**values)


def test_residents_at_home_are_mostly_verified_with_evidence_and_logged(linked, synth):
    people = synth.adults_at_home(40)
    decisions = []
    for person in people:
        v = verify(_applicant(person), PURPOSE, actor_label="Parking permits service")
        decisions.append(v.decision)
        if v.decision == "verified":
            assert v.resident_id.startswith("R")
            proof = [e for e in v.evidence if e["counts_as_proof"]]
            assert proof and all(e["at_address"] and e["current"] for e in proof)
            assert proof[0]["dataset"] in ("council_tax", "electoral_register", "housing_tenancies")
            assert any("Proof: a current" in r for r in v.reasons)
    assert decisions.count("verified") >= 0.8 * len(people), decisions
    logged = events().filter(action="verification", purpose=PURPOSE)
    assert logged.count() >= len(people)
    event = logged.filter(outcome="verified").first()
    assert event.actor_kind == "service" and event.actor_label == "Parking permits service"
    assert event.reference.startswith("V-") and event.subject_resident_id.startswith("R")
    assert set(event.datasets_read) & {"council_tax", "electoral_register"}
    # metadata only: no name, date of birth or address of anyone in the log
    person = people[0]
    dumped = json.dumps(list(events().values()), default=str).lower()
    assert person["surname"].lower() not in dumped
    assert person["date_of_birth"] not in dumped


def test_the_wrong_address_is_referred_with_the_reason(linked, synth):
    person = synth.adults_at_home(1)[0]
    other = next(
        int(r["UPRN"])
        for r in synth.rows("council_tax")
        if r["UPRN"] and int(r["UPRN"]) != int(person["current_uprn"])
    )
    v = verify(_applicant(person, uprn=other), PURPOSE)
    assert v.decision == "refer"
    assert v.review == "open"
    assert any("no current" in r.lower() for r in v.reasons), v.reasons


def test_someone_not_in_the_records_is_not_found(linked, synth):
    person = synth.adults_at_home(1)[0]
    v = verify(
        Applicant(
            first_name="Peregrine",
            surname="Quixlewhistle",
            date_of_birth=dt.date(1961, 2, 3),
            uprn=int(person["current_uprn"]),
        ),
        PURPOSE,
    )
    assert v.decision == "not_found" and v.resident_id == ""
    event = events().get(reference=v.reference)
    assert event.subject_resident_id == "" and event.outcome == "not_found"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"first_name": "  "}, "first_name"),
        ({"surname": "!!"}, "surname"),
        ({"postcode": "NOT A CODE"}, "postcode"),
    ],
)
def test_bad_details_are_refused_before_anything_is_read(linked, synth, changes, field):
    person = synth.adults_at_home(1)[0]
    with pytest.raises(ApplicantError) as caught:
        verify(_applicant(person, **changes), PURPOSE)
    assert caught.value.field == field
    assert not Verification.objects.exists() and not _recorded_since_the_link()


# -- the API -------------------------------------------------------------------------------


def _body(person, **changes):
    applicant = {
        "first_name": person["first_name"],
        "middle_names": person["middle_names"],
        "surname": person["surname"],
        "date_of_birth": person["date_of_birth"],
        "uprn": int(person["current_uprn"]),
    }
    applicant.update(changes)
    return {"purpose": PURPOSE, "applicant": applicant, "reference": "APP-123"}


def _post(client, body, key=None):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.post(URL, json.dumps(body), content_type="application/json", headers=headers)


def test_api_key_client_gets_a_decision_without_personal_fields(linked, synth, client):
    _, key = create_client("Parking back office", ["verify"])
    person = synth.adults_at_home(1)[0]
    response = _post(client, _body(person), key)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["decision"] == "verified"
    assert data["reference"].startswith("V-")
    assert data["evidence"] and all(e["record"] is None for e in data["evidence"])
    assert person["surname"].lower() not in json.dumps(data).lower()
    event = events().get(reference=data["reference"])
    assert event.actor_kind == "service" and event.actor_label == "Parking back office"
    stored = Verification.objects.get(reference=data["reference"])
    assert stored.caller_reference == "APP-123"


def test_same_answer_in_process_and_over_http(linked, synth, client):
    _, key = create_client("Checker", ["verify"])
    for person in synth.adults_at_home(10):
        direct = verify(_applicant(person), PURPOSE)
        over_http = _post(client, _body(person), key).json()
        assert over_http["decision"] == direct.decision
        # the resident is named to a machine client only when the details are verified
        expected = direct.resident_id if direct.decision == "verified" else ""
        assert (over_http["resident_id"] or "") == expected
        # a machine client is told the decision, not how probable the match was
        assert over_http["match_probability"] is None
        assert over_http["reasons"] == direct.public_reasons


def test_staff_allowed_by_the_policy_see_the_records_and_that_view_is_logged(
    linked, synth, client, make_staff, sign_in_staff
):
    sign_in_staff(client, make_staff("Parking officer"))
    person = synth.adults_at_home(1)[0]
    data = _post(client, _body(person)).json()
    assert data["decision"] == "verified"
    shown = [e["record"] for e in data["evidence"] if e["record"]]
    assert shown and any(person["surname"].lower() in (r["name"] or "").lower() for r in shown)
    assert events().filter(reference=data["reference"], purpose="staff_view_records").exists()


def test_staff_of_another_service_may_not_verify(linked, synth, client, make_staff, sign_in_staff):
    sign_in_staff(client, make_staff("Finance officer"))
    response = _post(client, _body(synth.adults_at_home(1)[0]))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"date_of_birth": "1980-02-30"}, "applicant.date_of_birth", "real date"),
        ({"date_of_birth": "30/01/1980"}, "applicant.date_of_birth", "real date"),
        ({"date_of_birth": "2999-01-01"}, "applicant.date_of_birth", "in the past"),
        ({"first_name": ""}, "applicant.first_name", "Enter a first name"),
        ({"surname": "   "}, "applicant.surname", "Enter a surname"),
        ({"postcode": "XYZ"}, "applicant.postcode", "real postcode"),
        ({"uprn": "abc"}, "applicant.uprn", ""),
    ],
)
def test_api_bad_details_are_400_with_the_field(linked, synth, client, change, field, words):
    _, key = create_client("Bad input", ["verify"])
    body = _body(synth.adults_at_home(1)[0], **change)
    response = _post(client, body, key)
    assert response.status_code == 400, response.content
    data = response.json()
    assert data["field"] == field and words in data["detail"]
    assert not _recorded_since_the_link()


def test_api_unknown_purpose_missing_fields_and_bad_json_are_400(linked, synth, client):
    _, key = create_client("Bad input", ["verify"])
    body = _body(synth.adults_at_home(1)[0])
    body["purpose"] = "curiosity"
    response = _post(client, body, key)
    assert response.status_code == 400 and "Unknown purpose" in response.json()["detail"]
    del body["applicant"]["surname"]
    body["purpose"] = PURPOSE
    response = _post(client, body, key)
    assert response.status_code == 400 and response.json()["field"] == "applicant.surname"
    response = client.post(
        URL,
        "{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 400


def test_api_refuses_no_key_a_wrong_key_and_a_revoked_key(linked, synth, client):
    body = _body(synth.adults_at_home(1)[0])
    assert _post(client, body).status_code == 401
    assert _post(client, body, "brgh_not-a-key").status_code == 401
    _, key = create_client("Soon revoked", ["verify"])
    assert _post(client, body, key).status_code == 200
    revoke("Soon revoked")
    assert _post(client, body, key).status_code == 401


def test_api_key_limited_to_purposes(linked, synth, client):
    _, key = create_client("Housing only", ["verify"], ["housing_tenant_verification"])
    assert _post(client, _body(synth.adults_at_home(1)[0]), key).status_code == 403


def test_before_any_link_the_api_says_so(settings, tmp_path, db, client):
    settings.DATA_DIR = tmp_path
    HOLDER.clear()
    _, key = create_client("Early", ["verify"])
    response = _post(
        client,
        {"purpose": PURPOSE, "applicant": {"first_name": "A", "surname": "B"}},
        key,
    )
    assert response.status_code == 503 and "residents link" in response.json()["detail"]


def test_openapi_documents_the_endpoint(client):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/verifications"]["post"]
    assert operation["operationId"] == "create_verification"
    assert {"200", "400", "401"} <= set(operation["responses"])


# -- what a machine client is told -----------------------------------------------------------

_MATCH_KEYS = {"matches_applicant", "match_probability", "fields", "weights"}


def _tenant_body(synth, **changes):
    row = next(
        r
        for r in synth.rows("housing_tenancies")
        if r["LEAD_TENANT"] == "Y" and not r["TENANCY_END"] and r["DATE_OF_BIRTH"]
    )
    born = dt.datetime.strptime(row["DATE_OF_BIRTH"].title(), "%d-%b-%Y").date()
    applicant = {
        "first_name": row["FORENAME"],
        "surname": row["SURNAME"],
        "date_of_birth": born.isoformat(),
        "uprn": int(row["UPRN"]),
    }
    applicant.update(changes)
    return {"purpose": "housing_tenant_verification", "applicant": applicant}, born


def test_a_machine_client_sees_no_field_by_field_match_or_probability(linked, synth, client):
    _, key = create_client("Parking back office", ["verify"])
    person = synth.adults_at_home(1)[0]
    data = _post(client, _body(person), key).json()
    assert data["match_probability"] is None
    assert data["evidence"], data
    for item in data["evidence"]:
        assert all(item.get(k) is None for k in _MATCH_KEYS), item
    assert not any("date of birth" in r.lower() for r in data["reasons"])


def test_a_tenant_check_tells_a_machine_client_the_decision_and_no_records(linked, synth, client):
    _, key = create_client("Housing system", ["verify"])
    body, _ = _tenant_body(synth)
    data = _post(client, body, key).json()
    assert data["decision"] == "verified", data
    assert data["evidence"] == [] and data["match_probability"] is None


def test_over_the_api_a_date_of_birth_a_day_out_does_not_verify_a_tenant(linked, synth, client):
    _, key = create_client("Housing system", ["verify"])
    body, born = _tenant_body(synth)
    body["applicant"]["date_of_birth"] = (born + dt.timedelta(days=1)).isoformat()
    day_out = _post(client, body, key).json()
    assert day_out["decision"] == "refer"
    body["applicant"]["date_of_birth"] = born.replace(year=born.year - 30).isoformat()
    far_out = _post(client, body, key).json()
    # nothing in the answer tells a guess a day out from one thirty years out, nor who matched
    same = ("decision", "resident_id", "match_probability", "reasons", "evidence", "unconfirmed")
    assert {k: day_out[k] for k in same} == {k: far_out[k] for k in same}
    assert day_out["resident_id"] is None


def test_staff_in_the_policys_roles_still_see_how_each_field_matched(
    sign_in_staff, linked, synth, client, make_staff
):
    sign_in_staff(client, make_staff("Housing officer"))
    body, born = _tenant_body(synth)
    body["applicant"]["date_of_birth"] = (born + dt.timedelta(days=1)).isoformat()
    data = _post(client, body).json()
    assert data["decision"] == "refer"
    assert data["match_probability"] > 0.5
    assert any("date of birth given is not one" in r for r in data["reasons"])


def test_a_machine_client_guessing_one_persons_date_of_birth_is_stopped(linked, synth, client):
    from borough.residents.verification.attempts import LIMITS

    _, key = create_client("Compromised system", ["verify"])
    body, born = _tenant_body(synth)
    for n in range(LIMITS["details"].failures):
        body["applicant"]["date_of_birth"] = (born + dt.timedelta(days=n + 1)).isoformat()
        assert _post(client, body, key).status_code == 200
    body["applicant"]["date_of_birth"] = born.isoformat()
    refused = _post(client, body, key)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "decision" not in refused.json()
    # a second key does not start again
    _, other = create_client("Another system", ["verify"])
    assert _post(client, body, other).status_code == 429


def test_a_broken_policies_file_is_a_503_with_a_message_not_a_500(
    linked, synth, client, tmp_path, monkeypatch
):
    path = tmp_path / "policies.toml"
    path.write_text("[parking_permit_residency_check]\ntitle = 1\n", encoding="utf-8")
    monkeypatch.setenv("BOROUGH_VERIFICATION_POLICIES", str(path))
    _, key = create_client("Parking back office", ["verify"])
    response = _post(client, _body(synth.adults_at_home(1)[0]), key)
    assert response.status_code == 503
    assert "configuration has a mistake" in response.json()["detail"]


def test_a_key_for_enforcement_only_is_refused_as_the_wrong_scope(linked, synth, client):
    _, key = create_client("Handhelds", ["enforcement"])
    response = _post(client, _body(synth.adults_at_home(1)[0]), key)
    assert response.status_code == 403 and "scope" in response.json()["detail"]


def _recorded_since_the_link():
    """Events beyond those the fixture's link wrote (one a resident placed in the index)."""
    return events().exclude(purpose="residents_index_maintenance").exists()
