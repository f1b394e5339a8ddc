"""The council profile: everything that makes Borough one council's rather than another's.

A profile is a TOML file (``BOROUGH_PROFILE``). Another council copies the demo profile,
changes it and loads its own data; no code changes. See ``docs/council-profile.md``.
"""

import re
import tomllib
from pathlib import Path
from typing import Annotated

from django.core.exceptions import ImproperlyConfigured
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

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


class Accessibility(_Strict):
    statement_prepared: str
    last_reviewed: str
    known_issues: list[str] = []


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
