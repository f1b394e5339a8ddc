"""Loading a council's housing-system exports: tenancies with their tenants, and rent accounts
with their payment references and weekly charges (``borough housing load FILE ACCOUNTS``).

Two CSV files, their columns named by a mapping (``housing/mappings/*.toml``; the default,
``universal-housing``, is the shape the synthetic borough writes):

- **tenancies**: one row per tenant: tenancy reference, tenant reference, lead tenant flag,
  UPRN, tenure, start and end dates, names, date of birth, email;
- **accounts**: one row per tenancy: tenancy reference, payment reference (blank: Borough
  issues one with the check character of the profile's scheme), and one column per charge type
  of the profile holding the weekly charge in pence.

The rules: both files are read and checked whole first; any problem (a missing column, an
unknown UPRN, an unreadable date, an unknown tenure, a payment reference whose check character
is wrong, a charge that is not a whole number of pence, an account for no tenancy) loads
nothing (a tenant's row without a UPRN takes its tenancy's from the other tenants' rows, or
its address is matched to the gazetteer when the mapping names address and postcode) and is reported with the file, row and column. A tenancy already loaded is left as it
is, except that an end date now given closes it and its account; loading the same files again
changes nothing. Tenants are linked to the resident index through their tenant reference, as
the ``housing_tenancies`` source dataset holds them (``housing_tenancies:<TENANT_REF>``).
"""

from __future__ import annotations

import csv
import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from borough.housing.matching.references import get_scheme
from borough.housing.models import ChargeRate, RentAccount, Tenancy, Tenant
from borough.places.models import Property

MAPPINGS = Path(__file__).parent / "mappings"
TENANCY_FIELDS = (
    "tenancy_ref",
    "tenant_ref",
    "lead",
    "uprn",
    "tenure",
    "start",
    "end",
    "first_name",
    "surname",
    "date_of_birth",
    "email",
)
ACCOUNT_FIELDS = ("tenancy_ref", "payment_reference")


class LoadError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s); nothing was loaded")
        self.problems = problems


@dataclass(frozen=True)
class HousingMapping:
    name: str
    tenancies: dict[str, str]
    accounts: dict[str, str]
    charges: dict[str, str]  # charge type code -> column
    date_formats: tuple[str, ...]
    tenures: dict[str, str]
    lead_values: tuple[str, ...] = ("Y", "YES", "TRUE", "1")

    @classmethod
    def load(cls, name_or_path: str) -> HousingMapping:
        path = Path(name_or_path)
        if not path.suffix:
            path = MAPPINGS / f"{name_or_path}.toml"
        if not path.is_file():
            known = ", ".join(p.stem for p in sorted(MAPPINGS.glob("*.toml")))
            raise LoadError([f"There is no housing mapping {name_or_path} (known: {known})"])
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        missing = [f for f in TENANCY_FIELDS if f not in data.get("tenancies", {})]
        missing += [f"accounts.{f}" for f in ACCOUNT_FIELDS if f not in data.get("accounts", {})]
        if missing:
            raise LoadError([f"{path.name}: the mapping does not name {', '.join(missing)}"])
        return cls(
            name=data.get("name", path.stem),
            tenancies=data["tenancies"],
            accounts=data["accounts"],
            charges=data.get("charges", {}),
            date_formats=tuple(data.get("date_formats", ["%d/%m/%Y"])),
            tenures={k.upper(): v for k, v in data.get("tenures", {}).items()},
            lead_values=tuple(v.upper() for v in data.get("lead_values", cls.lead_values)),
        )


@dataclass
class LoadResult:
    tenancies_created: int = 0
    tenancies_closed: int = 0
    unchanged: int = 0
    tenants: int = 0
    linked_to_residents: int = 0
    issued_references: int = 0
    rates_changed: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.rates_changed and not (self.tenancies_created or self.tenancies_closed):
            return (
                f"New weekly charges for {self.rates_changed} tenancies; "
                f"{self.unchanged} unchanged."
            )
        if not (self.tenancies_created or self.tenancies_closed):
            return f"Nothing changed: {self.unchanged} tenancies were loaded before."
        return (
            f"{self.tenancies_created} tenancies loaded with {self.tenants} tenants "
            f"({self.linked_to_residents} linked to residents), {self.issued_references} payment "
            f"references issued; {self.tenancies_closed} closed; {self.unchanged} unchanged."
        )


def _read(path: Path, wanted: list[str], label: str, problems: list[str]) -> list[dict]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            absent = [c for c in wanted if c not in header]
            if absent:
                problems.append(f"{path.name}: no column {', '.join(absent)} in the header")
                return []
            return list(reader)
    except UnicodeDecodeError:
        problems.append(f"{path.name}: not UTF-8 text ({label})")
    except FileNotFoundError:
        problems.append(f"There is no file {path}")
    return []


def _date(text: str, formats: tuple[str, ...]) -> dt.date | None:
    for fmt in formats:
        for candidate in (text, text.title()):
            try:
                return dt.datetime.strptime(candidate, fmt).date()
            except ValueError:
                continue
    raise ValueError(text)


def load_housing(
    tenancies_path: Path,
    accounts_path: Path,
    *,
    mapping: str = "universal-housing",
    effective: dt.date | None = None,
) -> LoadResult:
    """Load both exports, all or nothing (see the module docstring for the rules). A tenancy
    loaded before whose weekly charges differ in this export gets the new charges from
    ``effective`` (default: next Monday; the April rent change: its first Monday)."""
    from borough.residents.index import resident_ids_of

    spec = HousingMapping.load(mapping)
    scheme = get_scheme()
    cfg = settings.COUNCIL.housing
    problems: list[str] = []
    m, a = spec.tenancies, spec.accounts
    charge_columns = {code: col for code, col in spec.charges.items()}
    unknown_codes = sorted(set(charge_columns) - {c.code for c in cfg.charge_types})
    if unknown_codes:
        problems.append(
            f"the mapping charges {', '.join(unknown_codes)}, which the council profile's "
            "[housing] charge_types does not declare"
        )
    rows = _read(Path(tenancies_path), [m[f] for f in TENANCY_FIELDS], "tenancies", problems)
    account_rows = _read(
        Path(accounts_path),
        [a["tenancy_ref"], a["payment_reference"], *charge_columns.values()],
        "accounts",
        problems,
    )
    if problems:
        raise LoadError(problems)
    name = Path(tenancies_path).name
    uprns = {int(r[m["uprn"]]) for r in rows if r[m["uprn"]].strip().isdigit()}
    known = set(Property.objects.filter(uprn__in=uprns).values_list("uprn", flat=True))
    # one tenant's row without a UPRN takes the tenancy's from its other rows; a tenancy with
    # none has its address matched to the gazetteer, as source datasets' addresses are
    tenancy_uprn: dict[str, str] = {}
    for row in rows:
        text = row[m["uprn"]].strip()
        if text.isdigit() and int(text) in known:
            tenancy_uprn.setdefault(row[m["tenancy_ref"]].strip(), text)
    if m.get("address") and m.get("postcode"):
        from borough.residents.addresses import address_matcher
        from borough.residents.standardise import standardise_postcode

        keys = {}
        for row in rows:
            ref = row[m["tenancy_ref"]].strip()
            if ref and ref not in tenancy_uprn and row.get(m["address"], "").strip():
                keys[ref] = (row[m["address"]], standardise_postcode(row.get(m["postcode"], "")))
        if keys:
            found = address_matcher().match(keys.values())
            for ref, key in keys.items():
                if found[key].uprn is not None:
                    tenancy_uprn[ref] = str(found[key].uprn)
                    known.add(found[key].uprn)
    tenancies: dict[str, dict] = {}
    for n, row in enumerate(rows, start=2):
        where = f"{name} row {n}"
        ref = row[m["tenancy_ref"]].strip()
        if not ref:
            problems.append(f"{where}, {m['tenancy_ref']}: empty")
            continue
        uprn_text = row[m["uprn"]].strip() or tenancy_uprn.get(ref, "")
        if not uprn_text.isdigit() or int(uprn_text) not in known:
            problems.append(
                f"{where}, {m['uprn']}: {uprn_text or '(empty)'} is not in the gazetteer"
            )
            continue
        tenure = spec.tenures.get(row[m["tenure"]].strip().upper())
        if tenure not in Tenancy.Tenure.values:
            problems.append(f"{where}, {m['tenure']}: unknown tenure {row[m['tenure']]!r}")
            continue
        try:
            start = _date(row[m["start"]].strip(), spec.date_formats)
            end = _date(row[m["end"]].strip(), spec.date_formats) if row[m["end"]].strip() else None
            born = (
                _date(row[m["date_of_birth"]].strip(), spec.date_formats)
                if row[m["date_of_birth"]].strip()
                else None
            )
        except ValueError as error:
            problems.append(
                f"{where}: the date {error} is not in the format {spec.date_formats[0]}"
            )
            continue
        entry = tenancies.setdefault(
            ref,
            {"uprn": int(uprn_text), "tenure": tenure, "start": start, "end": end, "people": []},
        )
        entry["people"].append(
            {
                "tenant_ref": row[m["tenant_ref"]].strip(),
                "lead": row[m["lead"]].strip().upper() in spec.lead_values,
                "first_name": row[m["first_name"]].strip(),
                "surname": row[m["surname"]].strip(),
                "date_of_birth": born,
                "email": row[m["email"]].strip(),
            }
        )
    accounts: dict[str, dict] = {}
    account_name = Path(accounts_path).name
    for n, row in enumerate(account_rows, start=2):
        where = f"{account_name} row {n}"
        ref = row[a["tenancy_ref"]].strip()
        if ref not in tenancies:
            problems.append(f"{where}, {a['tenancy_ref']}: {ref} is not a tenancy in {name}")
            continue
        payment = "".join(row[a["payment_reference"]].split()).upper()
        if payment and not scheme.is_valid(payment):
            problems.append(
                f"{where}, {a['payment_reference']}: {payment} does not have a valid check character"
            )
            continue
        charges = {}
        for code, column in charge_columns.items():
            text = row[column].strip() or "0"
            if not text.isdigit():
                problems.append(f"{where}, {column}: {text!r} is not a whole number of pence")
                break
            charges[code] = int(text)
        accounts[ref] = {"payment_reference": payment, "charges": charges}
    if problems:
        raise LoadError(problems)

    if effective is None:
        today = dt.date.today()
        effective = today + dt.timedelta(days=(7 - today.weekday()) % 7 or 7)
    result = LoadResult()
    tenant_refs = [
        p["tenant_ref"] for t in tenancies.values() for p in t["people"] if p["tenant_ref"]
    ]
    try:
        residents = resident_ids_of([f"housing_tenancies:{ref}" for ref in tenant_refs])
    except Exception:
        residents = {}
    touched = []  # the tenancies this load created or changed
    with transaction.atomic():
        existing = {t.reference: t for t in Tenancy.objects.filter(reference__in=list(tenancies))}
        for ref, data in sorted(tenancies.items()):
            found = existing.get(ref)
            if found is not None:
                touched.append(found.pk)
                if data["end"] and found.end_date is None:
                    Tenancy.objects.filter(pk=found.pk).update(end_date=data["end"])
                    RentAccount.objects.filter(tenancy=found).update(closed_on=data["end"])
                    result.tenancies_closed += 1
                elif _new_rates(found, accounts.get(ref), effective):
                    result.rates_changed += 1
                else:
                    result.unchanged += 1
                    touched.pop()
                continue
            if data["end"]:
                continue  # a tenancy that ended before Borough knew it: nothing to collect
            tenancy = Tenancy.objects.create(
                reference=ref,
                property_id=data["uprn"],
                tenure=data["tenure"],
                start_date=data["start"],
            )
            for person in data["people"]:
                resident = residents.get(f"housing_tenancies:{person['tenant_ref']}", "")
                Tenant.objects.create(
                    tenancy=tenancy,
                    first_name=person["first_name"],
                    surname=person["surname"],
                    date_of_birth=person["date_of_birth"],
                    email=person["email"],
                    resident_id=resident,
                    lead=person["lead"],
                )
                result.tenants += 1
                result.linked_to_residents += bool(resident)
            account_data = accounts.get(ref, {"payment_reference": "", "charges": {}})
            payment = account_data["payment_reference"]
            if not payment:
                number = "".join(ch for ch in ref if ch.isdigit())[-8:].zfill(8)
                payment = scheme.issue(number)
                result.issued_references += 1
            account = RentAccount.objects.create(
                tenancy=tenancy, payment_reference=payment, opened_on=data["start"]
            )
            for code, pence in account_data["charges"].items():
                if pence:
                    ChargeRate.objects.create(
                        account=account,
                        charge_type=code,
                        weekly_pence=pence,
                        effective_from=data["start"],
                    )
            result.tenancies_created += 1
            touched.append(tenancy.pk)
        # one action for the load, recorded per batch
        from borough.housing.accounts import record_tenants_use

        record_tenants_use(
            touched,
            None,
            purpose="housing_rent_account_administration",
            action="updated_records",
            reference=f"housing-load-{timezone.now():%Y%m%dT%H%M%SZ}",
            label="Borough housing records load",
        )
    return result


def _new_rates(tenancy: Tenancy, account_data: dict | None, effective: dt.date) -> bool:
    """Give ``tenancy``'s account the export's weekly charges from ``effective`` where they
    differ from the charges in force then; True if any did. Loading the same export again finds
    them equal and changes nothing."""
    from borough.housing.services import weekly_charge_pence

    if not account_data:
        return False
    account = RentAccount.objects.filter(tenancy=tenancy).first()
    if account is None or account.closed_on:
        return False
    current = weekly_charge_pence(account, effective)
    changed = False
    for code, pence in account_data["charges"].items():
        if current.get(code, 0) != pence:
            ChargeRate.objects.update_or_create(
                account=account,
                charge_type=code,
                effective_from=effective,
                defaults={"weekly_pence": pence},
            )
            changed = True
    return changed
