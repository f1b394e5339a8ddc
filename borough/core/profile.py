"""The council profile: everything that makes Borough one council's rather than another's.

A profile is a TOML file (``BOROUGH_PROFILE``). Another council copies the demo profile,
changes it and loads its own data; no code changes. See ``docs/council-profile.md``.
"""

import re
import tomllib
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Literal

from django.core.exceptions import ImproperlyConfigured
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

SERVICES = ("parking", "housing", "transparency", "insights")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Contact(_Strict):
    email: str
    phone: str
    address: str
    opening_hours: str = ""

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
            raise ValueError("must be an email address, like digital@example.gov.uk")
        return value


class Language(_Strict):
    code: Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[a-z]{2,4})?$")]
    name: str


class BankDetails(_Strict):
    """The council's own account that residents pay standing orders into."""

    account_name: str
    bank_name: str
    sort_code: str
    account_number: str
    # The name the sponsoring bank registered for the council's Bacs SUN (at most 18 Bacs
    # characters; checked where a Bacs file is written); empty: the council's name.
    service_user_name: str = ""

    @field_validator("sort_code")
    @classmethod
    def _sort_code(cls, value: str) -> str:
        digits = re.sub(r"[\s-]", "", value)
        if not re.fullmatch(r"\d{6}", digits):
            raise ValueError("must be 6 digits, like 08-99-99")
        return f"{digits[0:2]}-{digits[2:4]}-{digits[4:6]}"

    @field_validator("account_number")
    @classmethod
    def _account_number(cls, value: str) -> str:
        digits = re.sub(r"\s", "", value)
        if not re.fullmatch(r"\d{8}", digits):
            raise ValueError("must be 8 digits")
        return digits


class UnitCosts(_Strict):
    """Costs per transaction, in pence, used by insight to value the service's savings."""

    face_to_face_pence: int = Field(ge=0)
    phone_pence: int = Field(ge=0)
    post_pence: int = Field(ge=0)
    online_pence: int = Field(ge=0)
    officer_hour_pence: int = Field(ge=0)


class Privacy(_Strict):
    data_controller: str
    ico_registration: str
    dpo_email: str
    retention_summary: str = ""


#: A retention period: a whole number of days, months or years, e.g. "6 years".
RETENTION_PERIOD = re.compile(r"^([1-9][0-9]{0,3}) (day|month|year)s?$")


def _period(value: str) -> str:
    if not RETENTION_PERIOD.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a retention period: write a whole number of days, months or "
            'years, such as "6 years" or "18 months"'
        )
    return value


#: The services' own records that ``[retention.records]`` may give a period, with what the
#: period is counted from (``transparency.record_retention``).
RECORD_KINDS = {
    "parking_applications": "the later of the application's decision and its permit's end",
    "rent_tenancies": "the later of the tenancy's end and its rent account's closing",
    "direct_debit_mandates": "the later of the mandate's end and its rent account's closing",
    "verifications": "the check, or its officer's review",
    "visitor_sessions": "the session's end",
}


class Retention(_Strict):
    """How long records are kept (``borough transparency purge``; docs/data-use-log.md).

    ``data_use_events`` is the default for the data-use log; ``purposes`` and ``actions`` give
    other periods for events of a purpose code or an action code (a purpose's period wins over
    an action's). The codes are checked against the log's registry when the purge runs.
    ``records`` gives a period per kind of service record (``RECORD_KINDS``); a kind without
    one is never purged. Source datasets give theirs in their declarations
    (``keep_after_end``)."""

    data_use_events: str = "6 years"
    purposes: dict[str, str] = Field(default_factory=dict)
    actions: dict[str, str] = Field(default_factory=dict)
    records: dict[str, str] = Field(default_factory=dict)

    @field_validator("records")
    @classmethod
    def _record_kinds(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(RECORD_KINDS))
        if unknown:
            raise ValueError(
                f"[retention.records] names unknown kinds of record: {', '.join(unknown)}. "
                f"The kinds are: {', '.join(RECORD_KINDS)}"
            )
        for period in value.values():
            _period(period)
        return value

    @field_validator("data_use_events")
    @classmethod
    def _default_period(cls, value: str) -> str:
        return _period(value)

    @field_validator("purposes", "actions")
    @classmethod
    def _periods(cls, value: dict[str, str]) -> dict[str, str]:
        for period in value.values():
            _period(period)
        return value


class Accessibility(_Strict):
    statement_prepared: str
    last_reviewed: str
    known_issues: list[str] = []


Pence = Annotated[int, Field(ge=0)]

# The 13 DVLA vehicle excise duty bands, A to M, by CO2 in g/km (the top band has no limit).
VED_BANDS = (
    ("A", 0),
    ("B", 50),
    ("C", 75),
    ("D", 90),
    ("E", 100),
    ("F", 110),
    ("G", 130),
    ("H", 150),
    ("I", 170),
    ("J", 190),
    ("K", 225),
    ("L", 255),
    ("M", None),
)


class EmissionBand(_Strict):
    """A price band: every CO2 figure up to ``max_co2`` g/km not in an earlier band."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,10}$")]
    max_co2: Annotated[int, Field(ge=0)] | None = None


class EngineSizeBand(_Strict):
    """Engines up to ``max_cc`` (not in an earlier row) go in ``band`` when CO2 is unknown."""

    max_cc: Annotated[int, Field(ge=1)] | None = None
    band: str


class PermitType(_Strict):
    """A kind of permit the council sells, and how it is priced.

    Priced by emissions: ``band_prices_pence`` holds a 12-month price for every band, and a
    shorter permit costs that pro rata. Otherwise ``prices_pence`` holds one price per duration.
    """

    code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$")]
    name: Annotated[str, Field(min_length=1)]
    durations_months: Annotated[list[Annotated[int, Field(ge=1, le=12)]], Field(min_length=1)]
    priced_by_emissions: bool = False
    band_prices_pence: dict[str, Pence] = {}
    prices_pence: dict[int, Pence] = {}
    needs_vehicle: bool = True
    max_per_household: Annotated[int, Field(ge=1)] | None = None
    counts_as_resident_permit: bool = False
    diesel_surcharge: bool = False

    @field_validator("durations_months")
    @classmethod
    def _durations(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("lists a duration twice")
        return sorted(value)

    @model_validator(mode="after")
    def _prices_match_the_pricing(self) -> "PermitType":
        where = f"permit type {self.code}"
        if self.priced_by_emissions:
            if self.prices_pence:
                raise ValueError(
                    f"{where} is priced by emissions, so give band_prices_pence, not prices_pence"
                )
            if not self.needs_vehicle:
                raise ValueError(f"{where} is priced by emissions, so needs_vehicle must be true")
        else:
            if self.band_prices_pence:
                raise ValueError(
                    f"{where} has band_prices_pence but priced_by_emissions is not true"
                )
            missing = [d for d in self.durations_months if d not in self.prices_pence]
            extra = sorted(set(self.prices_pence) - set(self.durations_months))
            if missing:
                raise ValueError(
                    f"{where}: prices_pence has no price for "
                    + ", ".join(f"{d} months" for d in missing)
                )
            if extra:
                raise ValueError(
                    f"{where}: prices_pence prices "
                    + ", ".join(f"{d} months" for d in extra)
                    + ", which is not in durations_months"
                )
        if self.diesel_surcharge and not self.needs_vehicle:
            raise ValueError(f"{where}: diesel_surcharge needs needs_vehicle = true")
        return self


class Parking(_Strict):
    """Permit prices, surcharges, refunds, verification and visitor rules (``[parking]``).

    Every key has a default, so a profile without ``[parking]`` still loads; with no
    ``permit_types`` the council sells no permits. See ``docs/council-profile.md``.
    """

    permit_types: list[PermitType] = []
    bands: Annotated[list[EmissionBand], Field(min_length=1)] = Field(
        default_factory=lambda: [EmissionBand(name=n, max_co2=c) for n, c in VED_BANDS]
    )
    zero_emission_fuel_types: list[str] = ["ELECTRICITY"]
    diesel_fuel_types: list[str] = ["DIESEL"]
    diesel_surcharge_pence: Pence = 0
    rde2_exempt: bool = True
    engine_size_bands: list[EngineSizeBand] = []
    unknown_vehicle_band: str | None = None
    pre_2001_up_one_band: bool = False
    additional_vehicle_surcharge_pence: Pence = 0
    max_resident_permits_per_household: Annotated[int, Field(ge=1)] = 2
    refund_admin_fee_pence: Pence = 0
    minimum_refund_pence: Pence = 0
    unverified_proof_days: Annotated[int, Field(ge=1)] = 30
    # Proof of address uploads: documents a permit may hold (not counting refused ones), each
    # file's size and their total.
    proof_max_files: Annotated[int, Field(ge=1, le=20)] = 5
    proof_max_file_mb: Annotated[int, Field(ge=1, le=50)] = 10
    proof_max_total_mb: Annotated[int, Field(ge=1, le=200)] = 20
    unverified_policy: Literal["issue_then_proof", "wait_for_officer"] = "issue_then_proof"
    # An applicant the records do not know at all ("not found"): an officer decides first,
    # unless the council chooses to issue at once and ask for proof.
    not_found_policy: Literal["issue_then_proof", "wait_for_officer"] = "wait_for_officer"
    visitor_hours_per_year: Annotated[int, Field(ge=0)] = 0
    visitor_session_max_hours: Annotated[int, Field(ge=1)] = 24
    visitor_price_per_hour_pence: Pence = 0
    renewal_window_days: Annotated[int, Field(ge=1)] = 42
    reminder_days_before_expiry: list[Annotated[int, Field(ge=1)]] = [42, 14]

    @field_validator("bands")
    @classmethod
    def _bands_increase(cls, value: list[EmissionBand]) -> list[EmissionBand]:
        names = [b.name for b in value]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"band {', '.join(twice)} appears more than once")
        for earlier, later in pairwise(value):
            if earlier.max_co2 is None:
                raise ValueError(
                    f"only the last band may leave out max_co2, but band {earlier.name} does"
                )
            if later.max_co2 is not None and later.max_co2 <= earlier.max_co2:
                raise ValueError(
                    f"max_co2 must increase from band to band, but band {later.name} "
                    f"({later.max_co2}) is not above band {earlier.name} ({earlier.max_co2})"
                )
        if value[-1].max_co2 is not None:
            raise ValueError(
                f"the last band ({value[-1].name}) must have no max_co2, so every car has a band"
            )
        return value

    @field_validator("engine_size_bands")
    @classmethod
    def _engine_sizes_increase(cls, value: list[EngineSizeBand]) -> list[EngineSizeBand]:
        for earlier, later in pairwise(value):
            if earlier.max_cc is None:
                raise ValueError("only the last row may leave out max_cc")
            if later.max_cc is not None and later.max_cc <= earlier.max_cc:
                raise ValueError(
                    f"max_cc must increase from row to row, but {later.max_cc} "
                    f"is not above {earlier.max_cc}"
                )
        return value

    @field_validator("zero_emission_fuel_types", "diesel_fuel_types")
    @classmethod
    def _upper(cls, value: list[str]) -> list[str]:
        return [v.strip().upper() for v in value]

    @field_validator("reminder_days_before_expiry")
    @classmethod
    def _reminders(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("lists a day twice")
        return sorted(value, reverse=True)

    @model_validator(mode="after")
    def _references_agree(self) -> "Parking":
        bands = [b.name for b in self.bands]
        codes = [t.code for t in self.permit_types]
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if twice:
            raise ValueError(f"permit_types: code {', '.join(twice)} is used more than once")
        for row in self.engine_size_bands:
            if row.band not in bands:
                raise ValueError(
                    f"engine_size_bands: band {row.band} is not one of the bands "
                    f"({', '.join(bands)})"
                )
        if self.unknown_vehicle_band is not None and self.unknown_vehicle_band not in bands:
            raise ValueError(
                f"unknown_vehicle_band {self.unknown_vehicle_band} is not one of the bands "
                f"({', '.join(bands)})"
            )
        for permit in self.permit_types:
            if not permit.priced_by_emissions:
                continue
            missing = [b for b in bands if b not in permit.band_prices_pence]
            unknown = sorted(set(permit.band_prices_pence) - set(bands))
            if missing:
                raise ValueError(
                    f"permit type {permit.code}: band_prices_pence has no price for band "
                    + ", ".join(missing)
                )
            if unknown:
                raise ValueError(
                    f"permit type {permit.code}: band_prices_pence prices band "
                    + ", ".join(unknown)
                    + f", which is not one of the bands ({', '.join(bands)})"
                )
        late = [d for d in self.reminder_days_before_expiry if d > self.renewal_window_days]
        if late:
            raise ValueError(
                f"reminder_days_before_expiry: {', '.join(map(str, late))} days is before "
                f"renewal opens (renewal_window_days = {self.renewal_window_days})"
            )
        return self

    def permit_type(self, code: str) -> PermitType | None:
        return next((t for t in self.permit_types if t.code == code), None)

    @property
    def worst_band(self) -> str:
        return self.bands[-1].name


class ChargeType(_Strict):
    """A weekly charge on a rent account, with the housing system's code (``DBR`` basic rent)."""

    code: Annotated[str, Field(pattern=r"^[A-Z0-9]{2,4}$")]
    name: Annotated[str, Field(min_length=1)]


class Housing(_Strict):
    """Council housing rent (``docs/council-profile.md``, "housing")."""

    #: Week numbers of the rent year with no charge (week 1 starts on the first Monday in April).
    rent_free_weeks: list[Annotated[int, Field(ge=1, le=53)]] = []
    #: A 53rd Monday in the rent year: ``charge`` it like any week, or make it ``free``.
    week_53: Annotated[str, Field(pattern=r"^(charge|free)$")] = "charge"
    #: The scheme of the check character on payment references (``housing/matching``).
    payment_reference_scheme: str = "localgov-housing-rents"
    charge_types: list[ChargeType] = [
        ChargeType(code="DBR", name="Rent"),
        ChargeType(code="DSC", name="Service charge"),
    ]

    @field_validator("charge_types")
    @classmethod
    def _unique_codes(cls, value: list[ChargeType]) -> list[ChargeType]:
        codes = [c.code for c in value]
        if len(set(codes)) != len(codes):
            raise ValueError("each charge type code may appear once")
        return value


class OpenData(_Strict):
    """Disclosure control for open data (``docs/open-data.md``): counts from 1 to
    ``threshold - 1`` are hidden, and published counts are rounded to the nearest ``round_to``."""

    threshold: Annotated[int, Field(ge=1, le=1000)] = 10
    round_to: Annotated[int, Field(ge=1, le=100)] = 5


class Insights(_Strict):
    """Insight (``[insights]``): what a check by hand costs.

    An application settled by automatic verification saves ``minutes_per_manual_check`` of an
    officer's time, valued at ``unit_costs.officer_hour_pence``. The disclosure rule of the
    dashboards, the public page and open data is ``[open_data] threshold``.
    """

    minutes_per_manual_check: Annotated[int, Field(ge=1, le=480)] = 20


class CouncilProfile(_Strict):
    name: str
    short_name: str
    website: str
    service_name: str = "Council services"
    phase: Annotated[str, Field(pattern=r"^(alpha|beta|live)$")] = "beta"
    contact: Contact
    languages: Annotated[list[Language], Field(min_length=1)]
    services: list[str]
    bank: BankDetails
    unit_costs: UnitCosts
    privacy: Privacy
    accessibility: Accessibility
    parking: Parking = Field(default_factory=Parking)
    housing: Housing = Field(default_factory=Housing)
    open_data: OpenData = Field(default_factory=OpenData)
    retention: Retention = Field(default_factory=Retention)
    insights: Insights = Field(default_factory=Insights)

    @field_validator("services")
    @classmethod
    def _services(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(SERVICES))
        if unknown:
            raise ValueError(
                f"unknown service {', '.join(unknown)}; choose from {', '.join(SERVICES)}"
            )
        return value

    @field_validator("languages")
    @classmethod
    def _english_first(cls, value: list[Language]) -> list[Language]:
        if value[0].code not in {"en", "en-gb"}:
            raise ValueError("the first language must be English (code 'en-gb')")
        return value

    def offers(self, service: str) -> bool:
        return service in self.services


def load_profile(path: str | Path) -> CouncilProfile:
    """Read and check a council profile, with an error that names the file and the field."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ImproperlyConfigured(
            f"Council profile {path} does not exist. Set BOROUGH_PROFILE to your profile's path."
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ImproperlyConfigured(f"Council profile {path} is not valid TOML: {exc}") from None
    try:
        return CouncilProfile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ImproperlyConfigured(f"Council profile {path} has problems: {problems}") from None
