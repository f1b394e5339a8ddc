"""Borough's JSON API for machine clients, with its OpenAPI document at /api/v1/openapi.json."""

from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from borough.core.middleware import cacheable
from borough.parking.api import router as parking_router
from borough.places.api import router as places_router
from borough.residents.api import router as residents_router

api = NinjaAPI(
    title="Borough API",
    version="1",
    description="Council services on the council's own data. Times are Europe/London; money is integer pence.",
    urls_namespace="api",
    # The OpenAPI document and its Swagger UI page are the same for everyone. Swagger UI's files
    # come from django-ninja's own static files ("ninja" in INSTALLED_APPS), not a CDN.
    docs_decorator=cacheable,
)
api.add_router("/", places_router)
api.add_router("/", residents_router)
api.add_router("/", parking_router)


def _location(error: dict) -> str:
    parts = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path")]
    if parts and parts[0] in ("body", "payload"):
        parts = parts[1:]
    return ".".join(parts)


@api.exception_handler(ValidationError)
def bad_input(request, exc: ValidationError):
    """Malformed input is a 400 that says which field and what is wrong, never a 422 or 500."""
    first = exc.errors[0] if exc.errors else {}
    field = _location(first)
    message = first.get("msg", "The request is not valid")
    if first.get("type") == "missing":
        message = "This field is required"
    elif first.get("type") == "json_invalid":
        message = "The request body is not valid JSON"
    return api.create_response(
        request,
        {"detail": f"{field}: {message}" if field else message, "field": field or None},
        status=400,
    )


@api.exception_handler(AuthenticationError)
def unauthorised(request, exc):
    return api.create_response(
        request,
        {"detail": "Send an API key as 'Authorization: Bearer <key>', or sign in as staff."},
        status=401,
    )
