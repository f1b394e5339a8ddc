"""``GET /api/v1/parking/check?vrm=…&zone=…``: is this vehicle allowed to park here now?

For civil enforcement officers' handheld devices. Authenticated by an API key with scope
``enforcement`` (``borough apiclient create NAME --scope enforcement``; revoking it takes effect
within 5 seconds, ``api_clients.CLIENT_CACHE_SECONDS``) or a signed-in staff member with the
enforcement or parking role. The answer names the permit type and its expiry and nothing more: no
names, no addresses. Every look-up is written to the data-use log.

The zone comes from a per-process copy of the active zones (``enforcement.active_zone``, kept 60 s);
the permit is always read from the database.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer

from borough.core.api_clients import client_for_key
from borough.core.ratelimit import api_rate_limited
from borough.core.roles import may_enter
from borough.parking import enforcement
from borough.parking.registrations import InvalidRegistration, parse_vrm
from borough.transparency.coverage import RESIDENT_DATA, data_use
from borough.transparency.models import ActorKind

router = Router(tags=["parking"])


class EnforcementKeyAuth(HttpBearer):
    openapi_description = "An API key made with `borough apiclient create`, scope `enforcement`."

    def authenticate(self, request: HttpRequest, token: str):
        client = client_for_key(token)
        if client is None:
            return None
        if "enforcement" not in client.scopes:
            # a real key for something else: refused for what it is, not as if it were unknown
            raise HttpError(
                403, "This API key may not make enforcement checks (its scope is not enforcement)."
            )
        request.api_client = client
        return client


class ParkingStaffAuth(APIKeyCookie):
    param_name = "sessionid"
    openapi_description = "A signed-in staff member with the enforcement or parking role."

    def authenticate(self, request: HttpRequest, key: str | None):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and getattr(user, "is_staff_member", False)
            and (may_enter(user, "enforcement") or may_enter(user, "parking"))
        ):
            request.api_client = None
            return user
        return None


class CheckOut(Schema):
    vrm: str
    zone: str
    allowed: bool
    permit_type: str | None = None
    valid_until: str | None = None


class Problem(Schema):
    detail: str
    field: str | None = None


@router.get(
    "/parking/check",
    response={200: CheckOut, 400: Problem, 401: Problem, 429: Problem},
    auth=[EnforcementKeyAuth(), ParkingStaffAuth()],
    summary="Is this vehicle allowed to park in this zone now?",
)
@api_rate_limited("enforcement")
@data_use(touches=RESIDENT_DATA, purposes=["parking_enforcement_check"])
def check(request: HttpRequest, vrm: str, zone: str):
    try:
        registration = parse_vrm(vrm)
    except InvalidRegistration as error:
        return Status(400, {"detail": error.message, "field": "vrm"})
    found = enforcement.active_zone(zone)
    if found is None:
        return Status(400, {"detail": "No controlled parking zone has that code", "field": "zone"})
    client = getattr(request, "api_client", None)
    if client is not None:
        answer = enforcement.check_vehicle(
            registration.vrm,
            found,
            actor=None,
            actor_kind=ActorKind.SYSTEM,
            actor_label=f"API client {client.name}",
        )
    else:
        answer = enforcement.check_vehicle(
            registration.vrm, found, actor=request.auth, actor_kind=ActorKind.STAFF
        )
    return Status(200, answer.as_dict())
