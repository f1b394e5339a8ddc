"""A resident's entry and its inclusion proof: it verifies, and nobody else can fetch it."""

import base64
import hashlib
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from borough.residents.verification.models import Verification
from borough.transparency import merkle, tiles
from borough.transparency.checkpoint import Signer, open_checkpoint
from borough.transparency.models import SealedLeaf
from borough.transparency.proofs import inclusion_proof_for_event
from borough.transparency.sealing import seal_all
from borough.transparency.tests.resident_world import confirm_by_post
from borough.transparency.visibility import release_event

pytestmark = pytest.mark.django_db

ORIGIN = "test.example/borough/data-use-log"


@pytest.fixture(autouse=True)
def signing_key(settings):
    signer = Signer.generate(ORIGIN)
    settings.TRANSPARENCY_LOG_SIGNING_KEY = signer.private_key_text()
    settings.TRANSPARENCY_LOG_VERIFIER_KEY = ""
    settings.TRANSPARENCY_LOG_ORIGIN = ORIGIN
    return signer


def _verified(user, resident_id: str, decision="verified", review=""):
    confirm_by_post(user, resident_id)
    return Verification.objects.create(
        purpose="parking_permit_residency_check",
        requested_at=timezone.now(),
        actor_kind="resident",
        actor_user=user,
        applicant={},
        decision=decision,
        review=review,
        resident_id=resident_id,
        match_probability=0.99,
        index_linked_at="run-1",
        seconds=0.1,
    )


def _url(pk: int) -> str:
    return reverse("transparency:entry-proof", args=[pk])


def _check(proof: dict, signer: Signer) -> None:
    """What anyone holding the answer and the published verifier key can check."""
    checkpoint = open_checkpoint(proof["checkpoint"], signer.verifier(), ORIGIN)
    assert checkpoint.size == proof["tree_size"]
    leaf = merkle.leaf_hash(proof["entry"].encode())
    assert base64.b64decode(proof["leaf_hash"]) == leaf
    path = [base64.b64decode(h) for h in proof["inclusion_proof"]]
    merkle.verify_inclusion(proof["leaf_index"], checkpoint.size, leaf, path, checkpoint.root)


@pytest.fixture
def log(verification, resident):
    _verified(resident, "R-1")
    mine = verification("R-0", "R-1", "R-2")[1]
    verification(*[f"R-{n}" for n in range(3, 12)])
    return mine


def test_the_url():
    assert _url(41) == "/your-data/entry/41/proof.json"


def test_a_resident_fetches_their_entrys_proof_and_it_verifies(client, resident, log, signing_key):
    seal_all()
    client.force_login(resident)
    response = client.get(_url(log.pk))
    assert response.status_code == 200
    proof = response.json()
    assert json.loads(proof["entry"])["subject_resident_id"] == "R-1"
    assert proof["leaf_index"] == 1 and proof["tree_size"] == 12
    _check(proof, signing_key)
    # A tampered proof does not verify.
    proof["leaf_index"] = 2
    with pytest.raises(merkle.ProofError):
        _check(proof, signing_key)


def test_another_residents_entry_a_guess_or_an_unsealed_one_is_not_found(
    client, resident, log, verification
):
    seal_all()
    (unsealed,) = verification("R-1")
    client.force_login(resident)
    others = SealedLeaf.objects.exclude(event_id=log.pk).values_list("event_id", flat=True)
    for pk in [*others, unsealed.pk, 999_999, 0]:
        response = client.get(_url(pk))
        assert response.status_code == 404, pk
        assert "R-" not in response.content.decode()


def test_without_a_passed_verification_nothing_is_found(client, log):
    from borough.core.models import User

    seal_all()
    someone = User.objects.create_resident("someone@example.org")
    _verified(someone, "R-1", decision="refer", review="open")
    _verified(someone, "R-2", decision="not_found")
    client.force_login(someone)
    assert client.get(_url(log.pk)).status_code == 404


def test_a_held_back_entry_is_not_found_until_released_then_comes_with_its_salt(
    client, resident, verification, dpo, signing_key
):
    _verified(resident, "R-1")
    (held,) = verification(
        "R-1",
        purpose="parking_enforcement_check",
        action="enforcement_check",
        restriction_reason_code="fraud_investigation",
    )
    seal_all()
    client.force_login(resident)
    assert client.get(_url(held.pk)).status_code == 404
    release_event(held.pk, officer=dpo, reason="Closed.")
    proof = client.get(_url(held.pk)).json()
    _check(proof, signing_key)
    salt, body = base64.b64decode(proof["salt"]), proof["body"].encode()
    commitment = base64.b64encode(hashlib.sha256(salt + body).digest()).decode()
    assert json.loads(proof["entry"]) == {"commitment": commitment, "v": 2}
    assert json.loads(body)["restriction_reason_code"] == "fraud_investigation"


def test_anonymous_visitors_and_staff_are_refused(client, log, dpo, sign_in_staff):
    seal_all()
    assert client.get(_url(log.pk)).status_code == 302
    sign_in_staff(client, dpo)
    assert client.get(_url(log.pk)).status_code == 403


def test_the_path_read_from_tiles_is_the_path_from_the_leaves(verification, monkeypatch):
    monkeypatch.setattr(tiles, "HEIGHT", 2)
    monkeypatch.setattr(tiles, "WIDTH", 4)
    for start in (0, 40, 70):
        verification(*[f"R-{n}" for n in range(start, start + (40 if start < 70 else 17))])
        seal_all()
    leaves = [
        bytes(h)
        for h in SealedLeaf.objects.order_by("position").values_list("leaf_hash", flat=True)
    ]
    assert len(leaves) == 97
    for position in (0, 1, 50, 63, 64, 95, 96):
        event_id = SealedLeaf.objects.get(position=position).event_id
        proof = inclusion_proof_for_event(event_id)
        expected = merkle.inclusion_proof(position, leaves)
        assert [base64.b64decode(h) for h in proof["inclusion_proof"]] == expected
