"""Column mappings: which column of a council's CSV export fills which gazetteer field.

A mapping is a TOML file. The shipped ones live in ``borough/places/mappings/`` and are named
by their file name (``llpg``, ``addressbase``); a council can point at a file of its own.
``docs/gazetteer.md`` describes the format; in short::

    name = "llpg"
    description = "…"

    [file]
    delimiter = ","            # optional
    columns = ["UPRN", …]      # optional: only for files that have no header row

    [fields]
    uprn = "UPRN"                                    # a field from one column
    postcode = { column = "POSTCODE_LOCATOR", required = true }
    car_free = { column = "CAR_FREE", true_values = ["Y", "YES", "TRUE", "1"] }
    building_number = { columns = ["PAO_START_NUMBER", "PAO_START_SUFFIX",
                                   "PAO_END_NUMBER", "PAO_END_SUFFIX"], compose = "bs7666" }

    [residential]              # optional: override the classification rule
    residential = ["R", "X"]
    not_residential = ["RB", "RC", "RG"]

This module turns one CSV row into checked field values, or into the problems that stop it.
"""

import math
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from borough.places.classification import (
    CLASSIFICATION_FORMAT,
    DEFAULT_NOT_RESIDENTIAL,
    DEFAULT_RESIDENTIAL,
    ResidentialRule,
)
from borough.places.postcodes import InvalidPostcode, normalise_postcode

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"

# The gazetteer fields a mapping can fill, and how each value is checked.
FIELD_KINDS = {
    "uprn": "uprn",
    "parent_uprn": "uprn",
    "usrn": "usrn",
    "sub_building": "text",
    "building_name": "text",
    "building_number": "text",
    "street": "text",
    "locality": "text",
    "town": "text",
    "postcode": "postcode",
    "ward_code": "text",
    "ward_name": "text",
    "latitude": "latitude",
    "longitude": "longitude",
    "classification": "classification",
    "is_residential": "boolean",
    "car_free": "boolean",
    "logical_status": "text",
}
# Kept in step with the model's max_length (checked by a test): a longer value is a problem
# in the file, not something to cut short quietly.
MAX_LENGTHS = {
    "sub_building": 120,
    "building_name": 120,
    "building_number": 30,
    "street": 120,
    "locality": 100,
    "town": 60,
    "ward_code": 20,
    "ward_name": 100,
    "logical_status": 20,
}
# Coordinates must fall in (or near) the United Kingdom: a wider world range would let
# latitude and longitude swapped round, or eastings in the latitude column, slip through.
LATITUDE_RANGE = (49.0, 61.0)
LONGITUDE_RANGE = (-8.7, 2.0)

DEFAULT_TRUE_VALUES = ("Y", "YES", "TRUE", "T", "1")
DEFAULT_FALSE_VALUES = ("N", "NO", "FALSE", "F", "0", "")
COMPOSERS = ("join", "bs7666")

_UPRN = re.compile(r"[0-9]{1,12}")
_USRN = re.compile(r"[0-9]{1,8}")
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class MappingError(ValueError):
    """The mapping file itself is wrong (not the data it describes)."""


@dataclass(frozen=True)
class FieldSpec:
    """Where one gazetteer field comes from, and the rules for its values."""

    name: str
    columns: tuple[str, ...]
    compose: str = ""
    separator: str = " "
    required: bool = False
    true_values: tuple[str, ...] = DEFAULT_TRUE_VALUES
    false_values: tuple[str, ...] = DEFAULT_FALSE_VALUES

    @property
    def kind(self) -> str:
        return FIELD_KINDS[self.name]

    @property
    def label(self) -> str:
        """The column name(s) as the problems list names them."""
        return " + ".join(self.columns)


@dataclass(frozen=True)
class Mapping:
    name: str
    source: str
    description: str = ""
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    delimiter: str = ","
    columns: tuple[str, ...] = ()
    residential: tuple[str, ...] = DEFAULT_RESIDENTIAL
    not_residential: tuple[str, ...] = DEFAULT_NOT_RESIDENTIAL

    @property
    def has_header(self) -> bool:
        return not self.columns

    def mapped_columns(self) -> list[str]:
        seen: dict[str, None] = {}
        for spec in self.fields.values():
            for column in spec.columns:
                seen[column] = None
        return list(seen)

    def residential_rule(self) -> ResidentialRule:
        return ResidentialRule(self.residential, self.not_residential)


def available_mappings() -> list[Mapping]:
    """The mappings shipped with Borough, by name."""
    return [load_mapping(path.stem) for path in sorted(MAPPINGS_DIR.glob("*.toml"))]


def load_mapping(name_or_path: str | Path) -> Mapping:
    """A shipped mapping by name (``"llpg"``), or a mapping file by path. Raises MappingError."""
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or text.endswith(".toml") or "/" in text or "\\" in text:
        path = Path(name_or_path)
        source = str(path)
    else:
        path = MAPPINGS_DIR / f"{text}.toml"
        source = text
        if not path.is_file():
            names = ", ".join(p.stem for p in sorted(MAPPINGS_DIR.glob("*.toml")))
            raise MappingError(
                f"There is no mapping called {text!r}. Use one of {names}, or a .toml file."
            )
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise MappingError(f"The mapping file {path} does not exist.") from None
    except tomllib.TOMLDecodeError as error:
        raise MappingError(f"The mapping file {path} is not valid TOML: {error}") from None
    return parse_mapping(data, source=source, default_name=path.stem)


def _strings(value, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MappingError(f"{where} must be a list of strings.")
    return tuple(value)


def parse_mapping(data: dict, *, source: str, default_name: str) -> Mapping:
    """A Mapping from a parsed TOML document, with every mistake in it reported clearly."""
    unknown = set(data) - {"name", "description", "file", "fields", "residential"}
    if unknown:
        raise MappingError(f"{source}: unknown setting(s) {', '.join(sorted(unknown))}.")
    file_settings = data.get("file", {})
    unknown = set(file_settings) - {"delimiter", "columns"}
    if unknown:
        raise MappingError(f"{source}: unknown [file] setting(s) {', '.join(sorted(unknown))}.")
    delimiter = file_settings.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise MappingError(f"{source}: [file] delimiter must be one character.")
    columns = _strings(file_settings.get("columns", []), f"{source}: [file] columns")

    raw_fields = data.get("fields")
    if not isinstance(raw_fields, dict) or not raw_fields:
        raise MappingError(f"{source}: a mapping needs a [fields] table.")
    fields: dict[str, FieldSpec] = {}
    for name, value in raw_fields.items():
        if name not in FIELD_KINDS:
            raise MappingError(
                f"{source}: {name!r} is not a gazetteer field. The fields are "
                + ", ".join(FIELD_KINDS)
                + "."
            )
        fields[name] = _parse_field(name, value, source)
    if "uprn" not in fields:
        raise MappingError(f"{source}: the mapping must say which column holds the UPRN.")
    fields["uprn"] = replace(fields["uprn"], required=True)
    if columns:
        missing = [c for spec in fields.values() for c in spec.columns if c not in columns]
        if missing:
            raise MappingError(
                f"{source}: [file] columns does not list {', '.join(missing)}, used in [fields]."
            )

    residential = data.get("residential", {})
    unknown = set(residential) - {"residential", "not_residential"}
    if unknown:
        raise MappingError(
            f"{source}: unknown [residential] setting(s) {', '.join(sorted(unknown))}."
        )
    return Mapping(
        name=str(data.get("name", default_name)),
        source=source,
        description=str(data.get("description", "")),
        fields=fields,
        delimiter=delimiter,
        columns=columns,
        residential=_strings(
            residential.get("residential", list(DEFAULT_RESIDENTIAL)),
            f"{source}: [residential] residential",
        ),
        not_residential=_strings(
            residential.get("not_residential", list(DEFAULT_NOT_RESIDENTIAL)),
            f"{source}: [residential] not_residential",
        ),
    )


def _parse_field(name: str, value, source: str) -> FieldSpec:
    where = f"{source}: [fields] {name}"
    if isinstance(value, str):
        return FieldSpec(name=name, columns=(value,))
    if not isinstance(value, dict):
        raise MappingError(f"{where} must be a column name or a table.")
    unknown = set(value) - {
        "column",
        "columns",
        "compose",
        "separator",
        "required",
        "true_values",
        "false_values",
    }
    if unknown:
        raise MappingError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}.")
    if ("column" in value) == ("columns" in value):
        raise MappingError(f'{where} needs either column = "…" or columns = ["…", …].')
    if "column" in value:
        if not isinstance(value["column"], str) or not value["column"]:
            raise MappingError(f"{where}: column must be a column name.")
        columns: tuple[str, ...] = (value["column"],)
        compose = ""
    else:
        columns = _strings(value["columns"], f"{where}: columns")
        compose = value.get("compose", "join")
        if compose not in COMPOSERS:
            raise MappingError(f"{where}: compose must be one of {', '.join(COMPOSERS)}.")
        if compose == "bs7666" and len(columns) not in (4, 5):
            raise MappingError(
                f'{where}: compose = "bs7666" takes 4 columns (start number, start suffix, '
                "end number, end suffix) or 5 (a text column first)."
            )
        if not columns:
            raise MappingError(f"{where}: columns is empty.")
    if FIELD_KINDS[name] != "text" and len(columns) > 1:
        raise MappingError(f"{where}: only text fields can be made from several columns.")
    spec = {"name": name, "columns": columns, "compose": compose}
    if "separator" in value:
        spec["separator"] = str(value["separator"])
    if "required" in value:
        if not isinstance(value["required"], bool):
            raise MappingError(f"{where}: required must be true or false.")
        spec["required"] = value["required"]
    for key in ("true_values", "false_values"):
        if key in value:
            if FIELD_KINDS[name] != "boolean":
                raise MappingError(f"{where}: {key} only applies to true/false fields.")
            spec[key] = tuple(v.strip().upper() for v in _strings(value[key], f"{where}: {key}"))
    return FieldSpec(**spec)


def _clean(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _number_range(start: str, start_suffix: str, end: str, end_suffix: str) -> str:
    first = f"{start}{start_suffix}"
    last = f"{end}{end_suffix}"
    return f"{first}-{last}" if first and last else first or last


class RowReader:
    """Turns the cells of one row into field values, using a mapping and a file's header."""

    def __init__(self, mapping: Mapping, header: Sequence[str]) -> None:
        self.mapping = mapping
        self.width = len(header)
        index = {name.strip().upper(): i for i, name in reversed(list(enumerate(header)))}
        self._index = {column: index[column.strip().upper()] for column in mapping.mapped_columns()}
        self._rule = mapping.residential_rule()
        self._derive_residential = "is_residential" not in mapping.fields

    @staticmethod
    def missing_columns(mapping: Mapping, header: Sequence[str]) -> list[str]:
        found = {name.strip().upper() for name in header}
        return [c for c in mapping.mapped_columns() if c.strip().upper() not in found]

    @staticmethod
    def duplicated_columns(mapping: Mapping, header: Sequence[str]) -> list[str]:
        counts: dict[str, int] = {}
        for name in header:
            counts[name.strip().upper()] = counts.get(name.strip().upper(), 0) + 1
        return [c for c in mapping.mapped_columns() if counts.get(c.strip().upper(), 0) > 1]

    def _raw(self, spec: FieldSpec, cells: Sequence[str]) -> str:
        if len(spec.columns) == 1:
            return _clean(cells[self._index[spec.columns[0]]])
        parts = [_clean(cells[self._index[c]]) for c in spec.columns]
        if spec.compose == "bs7666":
            text = parts[0] if len(parts) == 5 else ""
            number = _number_range(*parts[-4:])
            return " ".join(p for p in (text, number) if p)
        return spec.separator.join(p for p in parts if p)

    def read(self, cells: Sequence[str]) -> tuple[dict, list[tuple[str, str]]]:
        """The field values of a row, and its problems as (column, message) pairs."""
        values: dict = {}
        problems: list[tuple[str, str]] = []
        failed: set[str] = set()
        for name, spec in self.mapping.fields.items():
            raw = self._raw(spec, cells)
            if not raw and spec.required:
                problems.append((spec.label, f"is empty; every row needs a {_noun(name)}"))
                failed.add(name)
                continue
            try:
                values[name] = _convert(spec, raw)
            except ValueError as error:
                problems.append((spec.label, str(error)))
                failed.add(name)
        fields = self.mapping.fields
        if (
            "latitude" in fields
            and "longitude" in fields
            and not {"latitude", "longitude"} & failed
        ):
            for empty, filled in (("latitude", "longitude"), ("longitude", "latitude")):
                if values[empty] is None and values[filled] is not None:
                    problems.append(
                        (
                            fields[empty].label,
                            f"is empty but {fields[filled].label} is filled in; "
                            "give both or neither",
                        )
                    )
        if self._derive_residential and "classification" not in failed:
            values["is_residential"] = self._rule(values.get("classification", ""))
        return values, problems


_NOUNS = {"uprn": "UPRN", "parent_uprn": "parent UPRN", "usrn": "USRN", "postcode": "postcode"}


def _noun(name: str) -> str:
    return _NOUNS.get(name, name.replace("_", " "))


def _convert(spec: FieldSpec, raw: str):
    """The value of ``raw`` for ``spec``'s field; ValueError with the message for the person."""
    kind = spec.kind
    if _CONTROL.search(raw):
        raise ValueError(
            f"{raw[:40]!r} contains a control character (such as NUL); remove it from the file"
        )
    if kind == "text":
        limit = MAX_LENGTHS[spec.name]
        if len(raw) > limit:
            raise ValueError(
                f"'{raw[:40]}…' is {len(raw)} characters long; a {_noun(spec.name)} can be at most {limit}"
            )
        return raw
    if kind == "postcode":
        if not raw:
            return ""
        try:
            return normalise_postcode(raw)
        except InvalidPostcode:
            raise ValueError(f"'{raw}' is not a real postcode") from None
    if kind in ("uprn", "usrn"):
        if not raw:
            return None
        pattern, digits = (_UPRN, 12) if kind == "uprn" else (_USRN, 8)
        if not pattern.fullmatch(raw) or int(raw) == 0:
            raise ValueError(
                f"'{raw}' is not a {_noun(spec.name)}: it must be a whole number above 0, "
                f"at most {digits} digits"
            )
        return int(raw)
    if kind in ("latitude", "longitude"):
        if not raw:
            return None
        low, high = LATITUDE_RANGE if kind == "latitude" else LONGITUDE_RANGE
        try:
            number = float(raw)
        except ValueError:
            raise ValueError(f"'{raw}' is not a number") from None
        if not math.isfinite(number) or not low <= number <= high:
            raise ValueError(
                f"'{raw}' is out of range: a {kind} in the UK is between {low} and {high}"
            )
        return number
    if kind == "classification":
        code = raw.upper()
        if code and not CLASSIFICATION_FORMAT.fullmatch(code):
            raise ValueError(f"'{raw}' is not an AddressBase classification code, like RD04")
        return code
    if kind == "boolean":
        value = raw.upper()
        if value in spec.true_values:
            return True
        if value in spec.false_values:
            return False
        allowed = ", ".join(v or "blank" for v in (*spec.true_values, *spec.false_values))
        raise ValueError(f"'{raw}' is not one of {allowed}")
    raise AssertionError(f"unknown field kind {kind}")
