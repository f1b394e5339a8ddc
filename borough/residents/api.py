"""``POST /api/v1/verifications``: the verification service for machine clients and staff.

Authenticated by an API key (``Authorization: Bearer <key>``, scope ``verify``; ``borough
apiclient create``) or a signed-in staff session (a member of the purpose's service area, or of
Resident records). Bad details are a 400 with a message for each field, never a 500.
"""

from __future__ import annotations

import datetime as dt
import logging
import re

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer

from borough.core.api_clients import client_for_key
from borough.core.ratelimit import api_rate_limited
from borough.core.roles import may_enter
from borough.residents.verification.attempts import TooManyAttempts
from borough.residents.verification.engine import Applicant, ApplicantError
from borough.residents.verification.models import Verification
from borough.residents.verification.policies import PolicyError
from borough.residents.verification.service import (
    VerificationUnavailable,
    may_see_fields,
    policy_for,
    record_values,
    verify,
)
from borough.transparency.coverage import RESIDENT_DATA, data_use
from borough.transparency.models import Action, ActorKind
from borough.transparency.purposes import PURPOSES
from borough.transparency.services import record_data_use

log = logging.getLogger(__name__)

router = Router(tags=["verification"])

_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./:-]{0,63}")


class ApiKeyAuth(HttpBearer):
    openapi_description = "An API key made with `borough apiclient create`, scope `verify`."

    def authenticate(self, request: HttpRequest, token: str):
        client = client_for_key(token)
        if client is None:
            return None
        if "verify" not in client.scopes:
            # a real key for something else: refused for what it is, not as if it were unknown
            raise HttpError(
                403, "This API key may not make verifications (its scope is not verify)."
            )
        request.api_client = client
        return client


class StaffSessionAuth(APIKeyCookie):
    """A signed-in staff member (the session cookie; CSRF checked on POST)."""

    param_name = "sessionid"
    openapi_description = "A signed-in staff member's session (with its CSRF token)."

    def authenticate(self, request: HttpRequest, key: str | None):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "is_staff_member", False):
            request.api_client = None
            return user
        return None


class ApplicantIn(Schema):
    first_name: str
    surname: str
    middle_names: str = ""
    date_of_birth: str | None = None
    uprn: int | None = None
    postcode: str = ""
    address: str = ""
    email: str = ""


class VerificationIn(Schema):
    purpose: str
    applicant: ApplicantIn
    reference: str = ""


class FieldsOut(Schema):
    first_name: str | None = None
    date_of_birth: str | None = None
    surname: str | None = None
    address: str | None = None
    middle_names: str | None = None
    email: str | None = None


class WeightOut(Schema):
    comparison: str
    level: str
    bits: float


class RecordOut(Schema):
    name: str
    date_of_birth: str | None
    address: str
    postcode: str
    uprn: int | None


class EvidenceOut(Schema):
    """A record the decision looked at. Callers outside the policy's ``roles_see_fields`` get
    the proof part only (dataset, reference, dates, current, at the address, counts); the
    match part (``matches_applicant``, ``match_probability``, ``fields``, ``weights``) is for
    those staff, with ``record``."""

    dataset: str
    dataset_title: str
    record_reference: str
    valid_from: str | None
    valid_to: str | None
    current: bool
    at_address: bool | None
    counts_as_proof: bool
    matches_applicant: bool | None = None
    match_probability: float | None = None
    fields: FieldsOut | None = None
    weights: list[WeightOut] | None = None
    record: RecordOut | None = None


class VerificationOut(Schema):
    reference: str
    purpose: str
    decision: str
    resident_id: str | None
    match_probability: float | None
    reasons: list[str]
    unconfirmed: list[str]
    evidence: list[EvidenceOut]
    datasets_read: list[str]
    checked_at: str
    index_linked_at: str


class ErrorOut(Schema):
    detail: str
    field: str | None = None


def _bad(field: str, message: str):
    return 400, {"detail": message, "field": field}


def _date_of_birth(text: str | None) -> dt.date | None:
    if text is None or not text.strip():
        return None
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ApplicantError(
            "applicant.date_of_birth", "Date of birth must be a real date, like 1984-03-27"
        ) from None
    if day > dt.date.today():
        raise ApplicantError("applicant.date_of_birth", "Date of birth must be in the past")
    if day.year < 1900:
        raise ApplicantError("applicant.date_of_birth", "Date of birth must be after 1900")
    return day


@router.post(
    "/verifications",
    response={
        200: VerificationOut,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        429: ErrorOut,
        503: ErrorOut,
    },
    auth=[ApiKeyAuth(), StaffSessionAuth()],
    summary="Verify a resident's details for a purpose",
    operation_id="create_verification",
)
@api_rate_limited("verify")
@data_use(
    touches=RESIDENT_DATA,
    purposes=[
        "parking_permit_residency_check",
        "housing_tenant_verification",
        "staff_view_records",
    ],
)
def create_verification(request: HttpRequest, body: VerificationIn, response: HttpResponse):
    """Check an applicant's details against the council's linked records for a purpose.

    The purpose's policy (``GET`` it from the council's configuration; e.g.
    ``parking_permit_residency_check``) says which records prove it. The answer is
    ``verified``, ``refer`` (an officer should decide) or ``not_found``, with the resident
    matched, plain-English reasons and the evidence: datasets, record references, dates, whether
    each record is current and at the address, and which fields agreed. Personal fields of the
    records (``record``) are given only to staff whose role the policy allows. Every call is
    written to the data-use log.

    Failed checks are limited per details given and per resident matched (``429`` with
    ``Retry-After``: the caller learns nothing more about the details until then)."""
    if body.purpose not in PURPOSES:
        return _bad("purpose", f"Unknown purpose. Use one of: {', '.join(sorted(PURPOSES))}")
    if body.reference and not _REFERENCE.fullmatch(body.reference):
        return _bad(
            "reference",
            "reference must be your own opaque reference: letters, digits and _ . / : - only",
        )
    client = getattr(request, "api_client", None)
    user = None if client is not None else request.auth
    try:
        policy = policy_for(body.purpose)
    except ApplicantError as error:
        return _bad(error.field, error.message)
    except PolicyError as error:
        log.error("verification policies: %s", error)
        return 503, {"detail": "Verification is not available: its configuration has a mistake."}
    except VerificationUnavailable as error:
        return 503, {"detail": str(error)}
    if client is not None and client.purposes and body.purpose not in client.purposes:
        return 403, {"detail": "This API key may not verify for that purpose."}
    if user is not None:
        service = PURPOSES[body.purpose].service
        if not (may_enter(user, "residents") or (service and may_enter(user, service))):
            return 403, {"detail": "Your role may not verify for that purpose."}
    a = body.applicant
    try:
        applicant = Applicant(
            first_name=a.first_name,
            surname=a.surname,
            middle_names=a.middle_names,
            date_of_birth=_date_of_birth(a.date_of_birth),
            uprn=a.uprn,
            postcode=a.postcode,
            address=a.address,
            email=a.email,
        )
        if client is not None:
            verification = verify(
                applicant,
                body.purpose,
                actor=None,
                actor_kind=ActorKind.SERVICE,
                actor_label=client.name[:120],
                caller_reference=body.reference,
            )
        else:
            verification = verify(
                applicant,
                body.purpose,
                actor=user,
                actor_kind=ActorKind.STAFF,
                caller_reference=body.reference,
            )
    except ApplicantError as error:
        field = (
            error.field
            if "." in error.field or error.field == "purpose"
            else f"applicant.{error.field}"
        )
        return _bad(field, error.message)
    except PolicyError as error:
        log.error("verification policies: %s", error)
        return 503, {"detail": "Verification is not available: its configuration has a mistake."}
    except TooManyAttempts as refusal:
        response["Retry-After"] = str(refusal.retry_after_seconds)
        return 429, {
            "detail": "Too many failed checks of these details. Try again after "
            f"{refusal.until.isoformat(timespec='seconds')}, or refer the applicant to an officer."
        }
    except VerificationUnavailable as error:
        return 503, {"detail": str(error)}
    if may_see_fields(user, policy):
        return 200, verification_out(verification, user)
    return 200, verification_out(verification, level=policy.caller_evidence)


#: The parts of a piece of evidence any caller may see: what proved it, not how well each field
#: matched (which would let a caller narrow down someone's date of birth guess by guess).
PROOF_KEYS = (
    "dataset",
    "dataset_title",
    "record_reference",
    "valid_from",
    "valid_to",
    "current",
    "at_address",
    "counts_as_proof",
)


def verification_out(verification: Verification, viewer=None, *, level: str = "proof") -> dict:
    """The response body. With ``viewer`` (staff allowed by the policy): everything, with the
    records' fields, and that view is recorded. ``level="staff"``: everything but the records'
    fields (the staff pages). Otherwise the policy's ``caller_evidence`` level: ``proof`` (the
    proof part of each record) or ``decision`` (no records), with the reasons written for the
    public and no probabilities."""
    if viewer is None and level != "staff":
        evidence = (
            [{k: e.get(k) for k in PROOF_KEYS} for e in verification.evidence]
            if level == "proof"
            else []
        )
        return {
            "reference": verification.reference,
            "purpose": verification.purpose,
            "decision": verification.decision,
            # who the details matched is said only when they are verified: a referral's
            # resident ID would tell a caller with a name and an address who lives there
            "resident_id": (verification.resident_id or None)
            if verification.decision == "verified"
            else None,
            "match_probability": None,
            "reasons": verification.public_reasons,
            "unconfirmed": verification.unconfirmed,
            "evidence": evidence,
            "datasets_read": verification.datasets_read,
            "checked_at": verification.requested_at.isoformat(),
            "index_linked_at": verification.index_linked_at,
        }
    values = {}
    if viewer is not None and verification.evidence:
        values = record_values([e["unique_id"] for e in verification.evidence])
        record_data_use(
            subject_resident_ids=[verification.resident_id] if verification.resident_id else [],
            actor=viewer,
            actor_kind=ActorKind.STAFF,
            purpose="staff_view_records",
            service="residents",
            action=Action.VIEWED_RECORDS,
            datasets=sorted({e["dataset"] for e in verification.evidence}),
            reference=verification.reference,
        )
    return {
        "reference": verification.reference,
        "purpose": verification.purpose,
        "decision": verification.decision,
        "resident_id": verification.resident_id or None,
        "match_probability": verification.match_probability,
        "reasons": verification.reasons,
        "unconfirmed": verification.unconfirmed,
        "evidence": [
            {
                **{k: v for k, v in e.items() if k != "unique_id"},
                "record": values.get(e["unique_id"]),
            }
            for e in verification.evidence
        ],
        "datasets_read": verification.datasets_read,
        "checked_at": verification.requested_at.isoformat(),
        "index_linked_at": verification.index_linked_at,
    }
