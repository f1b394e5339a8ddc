"""The gazetteer's JSON endpoints, mounted at /api/v1/ by borough/api.py."""

from ninja import Query, Router, Schema, Status

from borough.places.models import Property
from borough.places.postcodes import EMPTY_MESSAGE, InvalidPostcode, normalise_postcode
from borough.places.queries import addresses_at
from borough.transparency.coverage import data_use

router = Router(tags=["addresses"])


class AddressOut(Schema):
    uprn: int
    single_line: str
    lines: list[str]
    postcode: str
    ward_code: str
    ward_name: str
    latitude: float | None
    longitude: float | None
    residential: bool
    car_free: bool
    parent_uprn: int | None

    @staticmethod
    def from_property(prop: Property) -> "AddressOut":
        return AddressOut(
            uprn=prop.uprn,
            single_line=prop.single_line(),
            lines=prop.lines(),
            postcode=prop.postcode,
            ward_code=prop.ward_code,
            ward_name=prop.ward_name,
            latitude=prop.latitude,
            longitude=prop.longitude,
            residential=prop.is_residential,
            car_free=prop.car_free,
            parent_uprn=prop.parent_id,
        )


class AddressListOut(Schema):
    postcode: str
    addresses: list[AddressOut]


class ErrorOut(Schema):
    detail: str


@router.get(
    "/addresses",
    response={200: AddressListOut, 400: ErrorOut},
    summary="Addresses at a postcode",
    operation_id="addresses_at_postcode",
)
@data_use(none="The gazetteer holds addresses (UPRNs), not people")
def list_addresses(
    request,
    postcode: str | None = Query(
        None, description="A UK postcode in any case or spacing", examples=["E8 1DY"]
    ),
):
    """The addresses the council holds at a postcode, in natural order (Flat 2 before Flat 10).

    ``postcode`` may be in any case and spacing (``e81dy``). A postcode that is not in the UK
    format, or a missing one, is a 400 with a ``detail`` message to show a person. A valid
    postcode with no addresses is a 200 with an empty list. Building shells, historical
    addresses and properties no longer in the council's export are left out.
    """
    if not postcode or not postcode.strip():
        return Status(400, ErrorOut(detail=EMPTY_MESSAGE))
    try:
        normalised = normalise_postcode(postcode)
    except InvalidPostcode as error:
        return Status(400, ErrorOut(detail=error.message))
    return Status(
        200,
        AddressListOut(
            postcode=normalised,
            addresses=[AddressOut.from_property(prop) for prop in addresses_at(normalised)],
        ),
    )
