"""Declared source datasets: one TOML file per dataset says what it is and how to read it.

The shipped declarations live in ``borough/residents/datasets/``. A council points
``BOROUGH_DATASETS_DIR`` at its own folder to use its own (the shipped ones are then not read).
Every mistake in a declaration is reported as a ``DatasetConfigError`` naming the file and the
setting. The format is described in ``docs/source-datasets.md``.
"""

import codecs
import hashlib
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from borough.core.profile import RETENTION_PERIOD

SHIPPED_DIR = Path(__file__).resolve().parent / "datasets"
ENV_VAR = "BOROUGH_DATASETS_DIR"

#: What a dataset's records may be used to prove, with what the word means.
PROVES = {
    "residency": "the person lived at the address in the period the record covers",
    "identity": "the service checked who the person is (name, date of birth, documents)",
    "age": "the person's date of birth, checked by the service",
    "tenancy": "the person is a council tenant of the address",
    "benefit": "the person receives a benefit the council pays",
    "disability": "the person was assessed as disabled for the service",
    "pupil": "the child is on a school's roll",
    "vehicle": "the person kept a vehicle at the address",
}
FORMATS = ("csv", "parquet")

# Fields of a person record. Each may be declared for the whole row ([fields]) or for one of
# the people the row names ([[people]]); a person's own declaration wins.
TEXT_FIELDS = (
    "title",
    "first_name",
    "middle_names",
    "surname",
    "full_name",
    "sex",
    "uprn",
    "postcode",
    "email",
    "phone",
    "national_id",
)
DATE_FIELDS = ("date_of_birth", "valid_from", "valid_to")
LINES_FIELDS = ("address",)
FIELDS = TEXT_FIELDS + DATE_FIELDS + LINES_FIELDS
NAME_FIELDS = ("full_name", "first_name", "surname")
MIDDLE_NAME_RULES = ("any", "initials")
#: date_of_birth: what a value that is not a date in the declared formats is. "problem" (the
#: default): the load stops, as for every other date (a wrong declared format, day and month
#: the other way round, shows as dates that cannot be). "blank": the value is kept as given,
#: the date of birth is left blank, and the load goes on with a warning.
NOT_A_DATE_RULES = ("problem", "blank")
_CODE = re.compile(r"[a-z][a-z0-9_]{0,59}")


class DatasetConfigError(ValueError):
    """A dataset declaration is wrong (not the data it describes)."""


@dataclass(frozen=True)
class FieldSpec:
    """Where one field comes from: one column (or several lines for ``address``)."""

    name: str
    columns: tuple[str, ...]
    date_formats: tuple[str, ...] = ()
    minus_years: int = 0  # date_of_birth from a later birthday, e.g. 18 for a date of attainment
    #: date_of_birth: a date more than this many years ago is not used (a warning); 0 keeps
    #: every date in the past, whatever its year (the council decides what is implausible)
    oldest_years: int = 0
    middle_names: str = "any"  # full_name: "initials" when only initials stand for middle names
    not_a_date: str = "problem"  # date_of_birth: "blank" keeps a value that is not a date, unused
    #: first_name: the column holds every given name ("Karen Joseph"): its first word is the
    #: first name, the rest middle names (where the dataset declares no middle_names of its own)
    forenames: bool = False

    @property
    def column(self) -> str:
        return self.columns[0]

    @property
    def label(self) -> str:
        return " + ".join(self.columns)


@dataclass(frozen=True)
class PersonSpec:
    """One person a row names: their record_ref suffix and their fields."""

    ref_suffix: str
    fields: dict[str, FieldSpec]
    optional: bool = False

    @property
    def name_columns(self) -> list[str]:
        return [c for n in NAME_FIELDS if n in self.fields for c in self.fields[n].columns]


@dataclass(frozen=True)
class DatasetConfig:
    code: str
    title: str
    owner: str
    lawful_basis: str
    lawful_basis_reference: str
    proves: tuple[str, ...]
    record_id: str
    people: tuple[PersonSpec, ...]
    path: Path
    sha256: str
    description: str = ""
    #: For residents' pages about the dataset ("How we use your data"); blank: not given.
    purpose: str = ""
    kept_for: str = ""
    #: How long a record is kept after it ended (left the export), as a retention period
    #: ("6 years"); blank: never purged (``transparency.record_retention``)
    keep_after_end: str = ""
    asset_owner: str = ""
    format: str = "csv"
    delimiter: str = ","
    encoding: str = "utf-8"
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)
    # valid_from/valid_to are the days the person began and stopped living at the address (a
    # liability, tenancy or claim), not a document's issue and expiry: record linkage reads a
    # period that ends when another begins at a new home as a move
    period_is_residence: bool = False
    # each person appears in the dataset at most once: its records are linked only to other
    # datasets' records, never to each other (``records_for_linkage``'s ``link_only`` column)
    link_only: bool = False
    # False: a row whose (required) person has no name is still a record, with a warning,
    # known by its other fields; True (the default): a problem
    name_required: bool = True

    def mapped_columns(self) -> list[str]:
        """Every column the declaration reads, in order, each once."""
        seen: dict[str, None] = {self.record_id: None}
        for person in self.people:
            for spec in person.fields.values():
                for column in spec.columns:
                    seen[column] = None
        return list(seen)


def datasets_dir() -> Path:
    """The folder of declarations: ``BOROUGH_DATASETS_DIR`` or the shipped one."""
    configured = os.environ.get(ENV_VAR, "").strip()
    return Path(configured).expanduser().resolve() if configured else SHIPPED_DIR


def declared_datasets(folder: Path | None = None) -> list[DatasetConfig]:
    """Every declaration in the folder, by code. Raises DatasetConfigError on the first bad one."""
    folder = folder or datasets_dir()
    if not folder.is_dir():
        raise DatasetConfigError(f"{ENV_VAR} is {folder}, which is not a folder.")
    return [load_config(path) for path in sorted(folder.glob("*.toml"))]


def dataset_config(code: str, folder: Path | None = None) -> DatasetConfig:
    """The declaration of ``code``; DatasetConfigError naming the declared ones if there is none."""
    folder = folder or datasets_dir()
    path = folder / f"{code}.toml"
    if not _CODE.fullmatch(code) or not path.is_file():
        names = ", ".join(p.stem for p in sorted(folder.glob("*.toml"))) or "none"
        raise DatasetConfigError(
            f"There is no dataset called {code!r} in {folder}. The declared datasets are: {names}."
        )
    return load_config(path)


def load_config(path: Path) -> DatasetConfig:
    try:
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        raise DatasetConfigError(f"The dataset declaration {path} does not exist.") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise DatasetConfigError(f"{path}: not a valid TOML file: {error}") from None
    return parse_config(data, path=path, sha256=hashlib.sha256(raw).hexdigest())


def _text(data: dict, key: str, where: str, *, required: bool = True, default: str = "") -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or (required and not value.strip()):
        raise DatasetConfigError(
            f"{where}: {key} must be {'a non-empty ' if required else 'a '}text."
        )
    return value.strip()


#: The optional texts residents read about a dataset, and the most characters each may have.
RESIDENT_TEXTS = {"purpose": 1000, "kept_for": 500, "asset_owner": 200}


def _optional_text(data: dict, key: str, where: str, most: int) -> str:
    value = _text(data, key, where, required=False)
    if len(value) > most:
        raise DatasetConfigError(
            f"{where}: {key} must be {most} characters or fewer (it has {len(value)})."
        )
    return value


def _strings(value, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise DatasetConfigError(f"{where} must be a non-empty list of texts.")
    return tuple(value)


def _unknown(data: dict, allowed: set[str], where: str) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise DatasetConfigError(
            f"{where}: unknown setting(s) {', '.join(sorted(unknown))}. "
            f"The settings are {', '.join(sorted(allowed))}."
        )


_TOP_LEVEL = {
    "code",
    "title",
    "owner",
    "description",
    "purpose",
    "kept_for",
    "keep_after_end",
    "asset_owner",
    "proves",
    "period_is_residence",
    "link_only",
    "name_required",
    "lawful_basis",
    "file",
    "fields",
    "people",
}


def parse_config(data: dict, *, path: Path, sha256: str = "") -> DatasetConfig:
    """A DatasetConfig from a parsed TOML document. Every mistake is reported, all at once: one
    :class:`DatasetConfigError` listing each (a council fixing its declaration should not meet
    them one run at a time)."""
    where = str(path)
    problems: list[str] = []

    def got(check, default=None):
        try:
            return check()
        except DatasetConfigError as error:
            problems.append(str(error))
            return default

    got(lambda: _unknown(data, _TOP_LEVEL, where))
    code = got(lambda: _code(data, path, where), "")
    title = got(lambda: _text(data, "title", where), "")
    owner = got(lambda: _text(data, "owner", where), "")
    description = got(lambda: _text(data, "description", where, required=False), "")
    purpose, kept_for, asset_owner = (
        got(lambda key=key, most=most: _optional_text(data, key, where, most), "")
        for key, most in RESIDENT_TEXTS.items()
    )
    keep_after_end = got(lambda: _keep_after_end(data, where), "")
    proves = got(lambda: _proves(data, where), ())
    period_is_residence = got(lambda: _flag(data, "period_is_residence", where), False)
    link_only = got(lambda: _flag(data, "link_only", where), False)
    name_required = got(lambda: _flag(data, "name_required", where, default=True), True)
    basis = got(lambda: _lawful_basis(data, where), ("", ""))
    file = got(lambda: _file_table(data, where), {})
    fwhere = f"{where}: [file]"
    got(
        lambda: _unknown(
            file, {"format", "delimiter", "encoding", "date_formats", "record_id"}, fwhere
        )
    )
    fmt = got(lambda: _format(file, fwhere), "csv")
    delimiter = got(lambda: _delimiter(file, fwhere), ",")
    encoding = got(lambda: _encoding(file, fwhere), "utf-8")
    date_formats = got(lambda: _date_formats(file, fwhere), ("%Y-%m-%d",))
    record_id = got(lambda: _text(file, "record_id", fwhere), "") if file else ""
    # None: the [fields] table has a mistake of its own (named above), so a person's missing
    # name may only be that mistake again
    shared = got(lambda: _fields(data.get("fields", {}), f"{where}: [fields]"), None)
    people = got(lambda: _people(data, shared, where, got), ())
    if problems:
        listed = "\n".join(f"  - {problem.removeprefix(where + ': ')}" for problem in problems)
        count = f"{len(problems)} problems" if len(problems) > 1 else "a problem"
        raise DatasetConfigError(f"{where} has {count}:\n{listed}")
    return DatasetConfig(
        code=code,
        title=title,
        owner=owner,
        description=description,
        purpose=purpose,
        kept_for=kept_for,
        keep_after_end=keep_after_end,
        asset_owner=asset_owner,
        lawful_basis=basis[0],
        lawful_basis_reference=basis[1],
        proves=proves,
        record_id=record_id,
        people=tuple(people),
        path=path,
        sha256=sha256,
        format=fmt,
        delimiter=delimiter,
        encoding=encoding,
        date_formats=date_formats,
        period_is_residence=period_is_residence,
        link_only=link_only,
        name_required=name_required,
    )


def _code(data: dict, path: Path, where: str) -> str:
    code = _text(data, "code", where)
    if not _CODE.fullmatch(code):
        raise DatasetConfigError(
            f"{where}: code {code!r} must be lower-case letters, digits and underscores, "
            "starting with a letter."
        )
    if code != path.stem:
        raise DatasetConfigError(f"{where}: code is {code!r}; the file must be named {code}.toml.")
    return code


def _proves(data: dict, where: str) -> tuple[str, ...]:
    proves = _strings(data.get("proves"), f"{where}: proves")
    for word in proves:
        if word not in PROVES:
            raise DatasetConfigError(
                f"{where}: proves lists {word!r}; use any of {', '.join(PROVES)}."
            )
    return proves


def _keep_after_end(data: dict, where: str) -> str:
    value = data.get("keep_after_end", "")
    if not isinstance(value, str) or (value and not RETENTION_PERIOD.fullmatch(value)):
        raise DatasetConfigError(
            f"{where}: keep_after_end must be a retention period: a whole number of days, "
            'months or years, such as "6 years" or "18 months".'
        )
    return value


def _flag(data: dict, key: str, where: str, *, default: bool = False) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise DatasetConfigError(f"{where}: {key} must be true or false.")
    return value


def _lawful_basis(data: dict, where: str) -> tuple[str, str]:
    basis = data.get("lawful_basis")
    if not isinstance(basis, dict):
        raise DatasetConfigError(
            f'{where}: needs a [lawful_basis] table with summary = "…" and reference = "…".'
        )
    bwhere = f"{where}: [lawful_basis]"
    _unknown(basis, {"summary", "reference"}, bwhere)
    return _text(basis, "summary", bwhere), _text(basis, "reference", bwhere)


def _file_table(data: dict, where: str) -> dict:
    file = data.get("file")
    if not isinstance(file, dict):
        raise DatasetConfigError(f'{where}: needs a [file] table with at least record_id = "…".')
    return file


def _format(file: dict, fwhere: str) -> str:
    fmt = _text(file, "format", fwhere, default="csv")
    if fmt not in FORMATS:
        raise DatasetConfigError(f"{fwhere}: format must be one of {', '.join(FORMATS)}.")
    return fmt


def _delimiter(file: dict, fwhere: str) -> str:
    delimiter = file.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise DatasetConfigError(f"{fwhere}: delimiter must be one character.")
    return delimiter


def _encoding(file: dict, fwhere: str) -> str:
    encoding = _text(file, "encoding", fwhere, default="utf-8")
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise DatasetConfigError(
            f"{fwhere}: {encoding!r} is not an encoding Python knows."
        ) from None
    return encoding


def _date_formats(file: dict, fwhere: str) -> tuple[str, ...]:
    date_formats = _strings(file.get("date_formats", ["%Y-%m-%d"]), f"{fwhere} date_formats")
    for fmt_text in date_formats:
        _check_date_format(fmt_text, f"{fwhere} date_formats")
    return date_formats


def _people(data: dict, shared: dict | None, where: str, got) -> list[PersonSpec]:
    raw_people = data.get("people", [{}])
    if not isinstance(raw_people, list) or not raw_people:
        raise DatasetConfigError(f"{where}: people must be one or more [[people]] tables.")
    people = []
    suffixes: set[str] = set()
    for index, raw in enumerate(raw_people, start=1):
        person = got(
            lambda raw=raw, index=index: _person(raw, index, raw_people, shared, suffixes, where)
        )
        if person is not None:
            people.append(person)
    return people


def _person(raw, index: int, raw_people: list, shared: dict | None, suffixes: set, where: str):
    pwhere = f"{where}: [[people]] number {index}"
    if not isinstance(raw, dict):
        raise DatasetConfigError(f"{pwhere} must be a table.")
    _unknown(raw, {"ref_suffix", "optional", *FIELDS}, pwhere)
    suffix = raw.get("ref_suffix", "")
    if not isinstance(suffix, str) or (len(raw_people) > 1 and not suffix):
        raise DatasetConfigError(
            f'{pwhere}: a row naming several people needs ref_suffix = "#1", "#2", … for each.'
        )
    if suffix in suffixes:
        raise DatasetConfigError(f"{pwhere}: ref_suffix {suffix!r} is used twice.")
    suffixes.add(suffix)
    optional = _flag(raw, "optional", pwhere)
    own = _fields({k: v for k, v in raw.items() if k in FIELDS}, pwhere)
    person = PersonSpec(ref_suffix=suffix, fields={**(shared or {}), **own}, optional=optional)
    if shared is not None and not any(name in person.fields for name in NAME_FIELDS):
        raise DatasetConfigError(
            f"{pwhere}: a person needs a name: full_name, or first_name and surname."
        )
    return person


def _check_date_format(text: str, where: str) -> None:
    if "%" not in text or not any(code in text for code in ("%d", "%j")):
        raise DatasetConfigError(
            f"{where}: {text!r} is not a date format; write it as Python's strptime does, "
            'e.g. "%d/%m/%Y" for 24/11/2020 or "%d-%b-%Y" for 24-NOV-2020.'
        )


def _fields(raw, where: str) -> dict[str, FieldSpec]:
    if not isinstance(raw, dict):
        raise DatasetConfigError(f"{where} must be a table of field = column.")
    out = {}
    for name, value in raw.items():
        if name not in FIELDS:
            raise DatasetConfigError(
                f"{where}: {name!r} is not a person field. The fields are {', '.join(FIELDS)}."
            )
        out[name] = _field(name, value, f"{where} {name}")
    return out


def _field(name: str, value, where: str) -> FieldSpec:
    if isinstance(value, str) and value:
        return FieldSpec(name=name, columns=(value,))
    if isinstance(value, list):
        if name not in LINES_FIELDS:
            raise DatasetConfigError(f"{where}: only address can take a list of columns.")
        return FieldSpec(name=name, columns=_strings(value, where))
    if not isinstance(value, dict):
        raise DatasetConfigError(f'{where} must be a column name, or a table with column = "…".')
    allowed = {"column"}
    if name in DATE_FIELDS:
        allowed.add("date_formats")
    if name == "date_of_birth":
        allowed.update({"minus_years", "oldest_years", "not_a_date"})
    if name == "full_name":
        allowed.add("middle_names")
    if name == "first_name":
        allowed.add("forenames")
    _unknown(value, allowed, where)
    column = _text(value, "column", where)
    spec = {"name": name, "columns": (column,)}
    if "date_formats" in value:
        spec["date_formats"] = _strings(value["date_formats"], f"{where} date_formats")
        for fmt in spec["date_formats"]:
            _check_date_format(fmt, where)
    if "minus_years" in value:
        years = value["minus_years"]
        if not isinstance(years, int) or isinstance(years, bool) or not 0 < years < 120:
            raise DatasetConfigError(f"{where}: minus_years must be a whole number of years.")
        spec["minus_years"] = years
    if "oldest_years" in value:
        years = value["oldest_years"]
        if not isinstance(years, int) or isinstance(years, bool) or years <= 0:
            raise DatasetConfigError(f"{where}: oldest_years must be a whole number of years.")
        spec["oldest_years"] = years
    if "not_a_date" in value:
        if value["not_a_date"] not in NOT_A_DATE_RULES:
            raise DatasetConfigError(
                f"{where}: not_a_date must be one of {', '.join(NOT_A_DATE_RULES)}."
            )
        spec["not_a_date"] = value["not_a_date"]
    if "forenames" in value:
        if not isinstance(value["forenames"], bool):
            raise DatasetConfigError(f"{where}: forenames must be true or false.")
        spec["forenames"] = value["forenames"]
    if "middle_names" in value:
        if value["middle_names"] not in MIDDLE_NAME_RULES:
            raise DatasetConfigError(
                f"{where}: middle_names must be one of {', '.join(MIDDLE_NAME_RULES)}."
            )
        spec["middle_names"] = value["middle_names"]
    return FieldSpec(**spec)
