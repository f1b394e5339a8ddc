"""Borough's JSON API for machine clients, with its OpenAPI document at /api/v1/openapi.json."""

from ninja import NinjaAPI

from borough.places.api import router as places_router

api = NinjaAPI(
    title="Borough API",
    version="1",
    description="Council services on the council's own data. Times are Europe/London; money is integer pence.",
    urls_namespace="api",
)
api.add_router("/", places_router)
