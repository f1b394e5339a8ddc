"""Vehicles for parking permits: the DVLA Vehicle Enquiry Service.

One interface (``VehicleLookup.lookup(vrm) -> VehicleDetails``) with two implementations, chosen
by the ``BOROUGH_VEHICLE_LOOKUP`` setting: ``DvlaVehicleEnquiry`` calls the real Vehicle Enquiry
Service (VES); ``LocalVehicleLookup`` answers from the synthetic borough's ``vehicles.csv`` and
the DVLA test registrations, for development and CI. ``get_vehicle_lookup()`` gives the
configured one. Registration marks (``parse_vrm`` and the errors a lookup raises for a mark that
is not one) are in ``registrations.py``.

A registration number is personal data when it is linked to a resident, so nothing here logs it
or puts it in an exception message: logs carry only the outcome and HTTP status.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import requests
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from borough.parking.registrations import (
    MESSAGE_NOT_REAL,
    InvalidRegistration,
    VehicleLookupError,
    checked_vrm,
    normalise_vrm,
)

logger = logging.getLogger(__name__)

LONDON = ZoneInfo("Europe/London")

MESSAGE_NOT_FOUND = (
    "We could not find a vehicle with that registration number. Check it and try again"
)


class VehicleNotFound(VehicleLookupError):
    """DVLA has no vehicle with this registration number (VES 404)."""

    def __init__(self, message: str = MESSAGE_NOT_FOUND) -> None:
        super().__init__(message)


class VehicleLookupUnavailable(VehicleLookupError):
    """The lookup could not be made now: throttled, DVLA down, network failure, key refused.

    ``retry_after`` is DVLA's ``Retry-After`` in seconds, when it sent one.
    """

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# --- What VES tells us about a vehicle -----------------------------------------------------


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _date(value: Any) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _month(value: Any) -> str | None:
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", value):
        return value
    return None


@dataclass(frozen=True)
class VehicleDetails:
    """A vehicle as the DVLA Vehicle Enquiry Service describes it. Every field but the
    registration number may be missing (``None``). ``raw`` is the JSON as received: store it
    with anything priced from it, as the record of why a band was chosen."""

    registration_number: str
    tax_status: str | None = None  # Taxed | Untaxed | SORN | Not Taxed for on Road Use
    tax_due_date: dt.date | None = None
    mot_status: str | None = None  # Valid | Not valid | No details held by DVLA | ...
    mot_expiry_date: dt.date | None = None
    make: str | None = None
    colour: str | None = None
    fuel_type: str | None = None  # PETROL, DIESEL, ELECTRICITY, HYBRID ELECTRIC, ...
    co2_emissions: int | None = None  # g/km
    engine_capacity: int | None = None  # cc
    year_of_manufacture: int | None = None
    month_of_first_registration: str | None = None  # "YYYY-MM"
    real_driving_emissions: str | None = None  # "1" or "2" (RDE2)
    euro_status: str | None = None
    marked_for_export: bool | None = None
    type_approval: str | None = None  # M1, N1, ...
    wheelplan: str | None = None
    revenue_weight: int | None = None  # kg
    date_of_last_v5c_issued: dt.date | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_ves_json(cls, data: Mapping[str, Any]) -> VehicleDetails:
        """From a VES 200 body. Raises ``ValueError`` if it has no ``registrationNumber``."""
        if not isinstance(data, Mapping) or not _str(data.get("registrationNumber")):
            raise ValueError("a VES vehicle needs a registrationNumber")
        export = data.get("markedForExport")
        return cls(
            registration_number=str(data["registrationNumber"]),
            tax_status=_str(data.get("taxStatus")),
            tax_due_date=_date(data.get("taxDueDate")),
            mot_status=_str(data.get("motStatus")),
            mot_expiry_date=_date(data.get("motExpiryDate")),
            make=_str(data.get("make")),
            colour=_str(data.get("colour")),
            fuel_type=_str(data.get("fuelType")),
            co2_emissions=_int(data.get("co2Emissions")),
            engine_capacity=_int(data.get("engineCapacity")),
            year_of_manufacture=_int(data.get("yearOfManufacture")),
            month_of_first_registration=_month(data.get("monthOfFirstRegistration")),
            real_driving_emissions=_str(data.get("realDrivingEmissions")),
            euro_status=_str(data.get("euroStatus")),
            marked_for_export=export if isinstance(export, bool) else None,
            type_approval=_str(data.get("typeApproval")),
            wheelplan=_str(data.get("wheelplan")),
            revenue_weight=_int(data.get("revenueWeight")),
            date_of_last_v5c_issued=_date(data.get("dateOfLastV5CIssued")),
            raw=copy.deepcopy(dict(data)),
        )


class VehicleLookup(Protocol):
    def lookup(self, vrm: str) -> VehicleDetails:
        """The vehicle with this registration number. Raises ``InvalidRegistration``,
        ``VehicleNotFound`` or ``VehicleLookupUnavailable``."""
        ...


def _first_error(body: Any) -> dict[str, Any]:
    """The first error of a VES error body, whichever of its shapes it came in:
    ``{"errors": [...]}``, a bare list, or the gateway's ``{"message": ...}``."""
    if isinstance(body, Mapping):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
            return dict(errors[0])
        if body.get("message"):
            return {"title": str(body["message"])}
    if isinstance(body, list) and body and isinstance(body[0], Mapping):
        return dict(body[0])
    return {}


def _answer(status: int, body: Any, *, retry_after: int | None = None) -> VehicleDetails:
    """The vehicle from a VES status and body, or the error it means. Both implementations
    answer through this, so they cannot disagree about what a response means."""
    if status == 200:
        try:
            return VehicleDetails.from_ves_json(body)
        except ValueError:
            raise VehicleLookupUnavailable(
                "The DVLA Vehicle Enquiry Service sent a vehicle without a registration number"
            ) from None
    if status == 400:
        raise InvalidRegistration(MESSAGE_NOT_REAL)
    if status == 404:
        raise VehicleNotFound()
    if status in {401, 403}:
        raise VehicleLookupUnavailable(
            f"The DVLA Vehicle Enquiry Service refused the API key ({status}): "
            "check BOROUGH_DVLA_API_KEY"
        )
    error = _first_error(body)
    said = ": ".join(str(error[k]) for k in ("code", "title") if error.get(k))
    raise VehicleLookupUnavailable(
        f"The DVLA Vehicle Enquiry Service is unavailable ({status}"
        + (f", {said}" if said else "")
        + "). Try again later",
        retry_after=retry_after,
    )


# --- The real client -----------------------------------------------------------------------

DVLA_BASE_URL = "https://driver-vehicle-licensing.api.gov.uk/vehicle-enquiry"
DVLA_UAT_BASE_URL = "https://uat.driver-vehicle-licensing.api.gov.uk/vehicle-enquiry"
_RETRY_STATUSES = frozenset({429, 503})


def _retry_after(response: requests.Response) -> int | None:
    value = response.headers.get("Retry-After", "")
    return int(value) if value.strip().isdigit() else None


class DvlaVehicleEnquiry:
    """The DVLA Vehicle Enquiry Service: ``POST {base_url}/v1/vehicles``.

    Throttling (429) and maintenance (503) get one retry after a short pause, unless DVLA asks
    us to wait longer than ``max_retry_wait`` seconds; the resident is waiting on the page.
    Vehicles found are cached in this process for ``cache_seconds``, so the several pages of
    one application make one request.
    """

    def __init__(
        self,
        api_key: str,
        base_url: str = DVLA_BASE_URL,
        timeout: float = 5,
        *,
        session: requests.Session | None = None,
        cache_seconds: float = 300,
        cache_size: int = 256,
        retry_delay: float = 0.5,
        max_retry_wait: float = 2,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not api_key:
            raise ImproperlyConfigured("The DVLA Vehicle Enquiry Service needs an API key")
        self.url = base_url.rstrip("/") + "/v1/vehicles"
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.headers.update({"x-api-key": api_key, "Accept": "application/json"})
        self.cache_seconds = cache_seconds
        self.cache_size = cache_size
        self.retry_delay = retry_delay
        self.max_retry_wait = max_retry_wait
        self._clock = clock
        self._sleep = sleep
        self._cache: OrderedDict[str, tuple[float, VehicleDetails]] = OrderedDict()
        self._lock = threading.Lock()

    def lookup(self, vrm: str) -> VehicleDetails:
        vrm = checked_vrm(vrm)
        cached = self._cached(vrm)
        if cached is not None:
            return cached
        details = self._request(vrm)
        self._remember(vrm, details)
        return details

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def _cached(self, vrm: str) -> VehicleDetails | None:
        with self._lock:
            entry = self._cache.get(vrm)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                del self._cache[vrm]
                return None
            self._cache.move_to_end(vrm)
            return entry[1]

    def _remember(self, vrm: str, details: VehicleDetails) -> None:
        if self.cache_seconds <= 0 or self.cache_size <= 0:
            return
        with self._lock:
            self._cache[vrm] = (self._clock() + self.cache_seconds, details)
            self._cache.move_to_end(vrm)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    def _request(self, vrm: str) -> VehicleDetails:
        for attempt in (1, 2):
            try:
                response = self.session.post(
                    self.url, json={"registrationNumber": vrm}, timeout=self.timeout
                )
            except requests.Timeout:
                logger.warning("DVLA vehicle enquiry: timed out after %ss", self.timeout)
                raise VehicleLookupUnavailable(
                    "The DVLA Vehicle Enquiry Service did not answer in time. Try again later"
                ) from None
            except requests.RequestException as exc:
                logger.warning("DVLA vehicle enquiry: network error (%s)", type(exc).__name__)
                raise VehicleLookupUnavailable(
                    "Could not reach the DVLA Vehicle Enquiry Service. Try again later"
                ) from None
            retry_after = _retry_after(response)
            wait = self.retry_delay if retry_after is None else retry_after
            if response.status_code in _RETRY_STATUSES and attempt == 1:
                if wait <= self.max_retry_wait:
                    logger.info(
                        "DVLA vehicle enquiry: status %s, retrying in %ss",
                        response.status_code,
                        wait,
                    )
                    self._sleep(wait)
                    continue
            return self._outcome(response, retry_after)
        raise AssertionError("unreachable")  # pragma: no cover

    def _outcome(self, response: requests.Response, retry_after: int | None) -> VehicleDetails:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        error = _first_error(body) if status != 200 else {}
        try:
            details = _answer(status, body, retry_after=retry_after)
        except (InvalidRegistration, VehicleNotFound):
            logger.info("DVLA vehicle enquiry: status %s %s", status, error.get("code", "-"))
            raise
        except VehicleLookupUnavailable:
            log = logger.error if status in {401, 403} else logger.warning
            log("DVLA vehicle enquiry: status %s %s", status, error.get("code", "-"))
            raise
        logger.info("DVLA vehicle enquiry: status 200, vehicle found")
        return details


# --- The local implementation --------------------------------------------------------------


def _years_from(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _test_registrations(today: dt.date) -> dict[str, tuple[int, Any]]:
    """How the DVLA test environment answers its published test registrations."""
    next_year = _years_from(today, 1).isoformat()
    last_year = _years_from(today, -1).isoformat()
    ford = {
        "make": "FORD",
        "colour": "RED",
        "fuelType": "PETROL",
        "co2Emissions": 300,
        "engineCapacity": 2000,
        "yearOfManufacture": 2019,
        "monthOfFirstRegistration": "2019-03",
        "monthOfFirstDvlaRegistration": "2019-03",
        "markedForExport": False,
        "typeApproval": "M1",
        "wheelplan": "2 AXLE RIGID BODY",
        "revenueWeight": 0,
        "realDrivingEmissions": "1",
        "euroStatus": "EURO1",
        "dateOfLastV5CIssued": "2019-05-20",
    }

    def error(status: int, code: str, title: str, detail: str = "") -> tuple[int, Any]:
        return status, {
            "errors": [{"status": str(status), "code": code, "title": title, "detail": detail}]
        }

    return {
        "AA19MOT": (
            200,
            {
                "registrationNumber": "AA19MOT",
                "taxStatus": "Taxed",
                "taxDueDate": next_year,
                "motStatus": "Valid",
                "motExpiryDate": next_year,
                **ford,
            },
        ),
        "AA19SRN": (
            200,
            {
                "registrationNumber": "AA19SRN",
                "taxStatus": "SORN",
                "motStatus": "Not valid",
                "motExpiryDate": last_year,
                **ford,
            },
        ),
        "L2WPS": (
            200,
            {
                "registrationNumber": "L2WPS",
                "taxStatus": "Untaxed",
                "taxDueDate": last_year,
                "motStatus": "Valid",
                "motExpiryDate": next_year,
                "make": "LAND ROVER",
                "colour": "BLUE",
                "fuelType": "DIESEL",
                "co2Emissions": 224,
                "engineCapacity": 2179,
                "yearOfManufacture": 2012,
                "monthOfFirstRegistration": "2012-06",
                "markedForExport": False,
                "typeApproval": "M1",
                "wheelplan": "2 AXLE RIGID BODY",
                "revenueWeight": 2505,
                "dateOfLastV5CIssued": "2020-11-02",
            },
        ),
        "ER19BAD": error(
            400, "ENQ103", "Bad Request", "Invalid format for field - vehicle registration number"
        ),
        "ER19NFD": error(404, "404", "Vehicle Not Found", "Record for vehicle not found"),
        "ER19THR": error(429, "429", "Too Many Requests"),
        "ER19ERR": error(500, "ENQ108", "Internal Server Error", "System Error occurred"),
        "ER19MNT": error(503, "503", "System currently down for maintenance"),
    }


def _ves_json_from_row(row: Mapping[str, str]) -> dict[str, Any]:
    """A synthetic vehicle as VES would send it: the same field names, absent when empty,
    and nothing VES does not return (no model, no keeper)."""
    body: dict[str, Any] = {"registrationNumber": normalise_vrm(row["registration"])}
    for column, key, convert in (
        ("tax_status", "taxStatus", str),
        ("mot_status", "motStatus", str),
        ("make", "make", str),
        ("colour", "colour", str),
        ("fuel_type", "fuelType", str),
        ("co2_emissions", "co2Emissions", int),
        ("engine_capacity", "engineCapacity", int),
        ("year_of_manufacture", "yearOfManufacture", int),
        ("month_of_first_registration", "monthOfFirstRegistration", str),
    ):
        value = (row.get(column) or "").strip()
        if value:
            body[key] = convert(value)
    return body


class LocalVehicleLookup:
    """The same contract as ``DvlaVehicleEnquiry``, answered without a network: the synthetic
    borough's vehicles from ``path`` (a ``vehicles.csv`` written by ``borough synth``, read
    once, on first use), and DVLA's test registrations (``AA19MOT``, ``ER19NFD``...) answered
    as the DVLA test environment answers them. Anything else is not found."""

    def __init__(
        self,
        path: str | Path,
        *,
        setting: str = "BOROUGH_VEHICLES_FILE",
        today: Callable[[], dt.date] | None = None,
    ) -> None:
        self.path = Path(path)
        self.setting = setting
        self._today = today or (lambda: dt.datetime.now(LONDON).date())
        self._vehicles: dict[str, dict[str, Any]] | None = None
        self._lock = threading.Lock()

    def lookup(self, vrm: str) -> VehicleDetails:
        vrm = checked_vrm(vrm)
        test = _test_registrations(self._today()).get(vrm)
        if test is not None:
            return _answer(*test)
        body = self._load().get(vrm)
        if body is None:
            raise VehicleNotFound()
        return _answer(200, body)

    def _load(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            if self._vehicles is None:
                if not self.path.is_file():
                    raise ImproperlyConfigured(
                        f"The vehicles file {self.path} does not exist. Set {self.setting} to "
                        "a vehicles.csv made by `borough synth --out <folder>`, or set "
                        "BOROUGH_VEHICLE_LOOKUP to 'dvla'."
                    )
                vehicles: dict[str, dict[str, Any]] = {}
                with open(self.path, encoding="utf-8", newline="") as f:
                    for row in csv.DictReader(f):
                        body = _ves_json_from_row(row)
                        vehicles.setdefault(body["registrationNumber"], body)
                self._vehicles = vehicles
            return self._vehicles


# --- Choosing one from settings ------------------------------------------------------------

_SETTINGS = frozenset(
    {
        "BOROUGH_VEHICLE_LOOKUP",
        "BOROUGH_DVLA_API_KEY",
        "BOROUGH_DVLA_BASE_URL",
        "BOROUGH_VEHICLES_FILE",
        "DATA_DIR",
    }
)
_instance: VehicleLookup | None = None
_instance_lock = threading.Lock()


def _from_settings() -> VehicleLookup:
    from django.conf import settings

    kind = getattr(settings, "BOROUGH_VEHICLE_LOOKUP", "local") or "local"
    if kind == "local":
        default = Path(settings.DATA_DIR) / "synth" / "vehicles.csv"
        return LocalVehicleLookup(getattr(settings, "BOROUGH_VEHICLES_FILE", None) or default)
    if kind == "dvla":
        api_key = getattr(settings, "BOROUGH_DVLA_API_KEY", "")
        if not api_key:
            raise ImproperlyConfigured(
                "BOROUGH_VEHICLE_LOOKUP is 'dvla' but BOROUGH_DVLA_API_KEY is not set: "
                "set it to the key from the DVLA developer portal."
            )
        base_url = getattr(settings, "BOROUGH_DVLA_BASE_URL", "") or DVLA_BASE_URL
        return DvlaVehicleEnquiry(api_key, base_url=base_url)
    raise ImproperlyConfigured(f"BOROUGH_VEHICLE_LOOKUP is {kind!r}; set it to 'local' or 'dvla'.")


def get_vehicle_lookup() -> VehicleLookup:
    """The vehicle lookup the settings choose, made once per process (so the DVLA client's
    cache and connection pool, and the local file's index, are shared)."""
    global _instance
    with _instance_lock:
        if _instance is None:
            _instance = _from_settings()
        return _instance


def reset_vehicle_lookup() -> None:
    """Forget the lookup made by ``get_vehicle_lookup``; the next call reads the settings
    again. Changing one of its settings in a test (``override_settings``) does this too."""
    global _instance
    with _instance_lock:
        _instance = None


@receiver(setting_changed)
def _vehicle_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in _SETTINGS:
        reset_vehicle_lookup()
