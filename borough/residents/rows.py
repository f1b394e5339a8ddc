"""One row of an export → the person records it holds, standardised, with its problems.

A **problem** stops the load (nothing is written): Borough cannot tell what the row means.
A **warning** does not: the value is kept as given and its standard form left blank.

| problem (the load fails) | warning (the load goes on) |
| --- | --- |
| a row with more or fewer values than the header | a postcode that is not a UK postcode (kept as text if it looks like another country's, else blank) |
| no record id, or one used twice | a UPRN that is not a number, or not in the gazetteer (the address is matched instead) |
| a required person with no name (unless ``name_required = false``) | a date of birth in the future, or longer ago than the field's ``oldest_years`` |
| a date not in the declared format, or a day that does not exist | an e-mail address or phone number that is not one |
| a value longer than Borough keeps | valid_to before valid_from (both kept as given) |
| | an address no UPRN was found for (listed separately) |
| | a person with no name where ``name_required = false`` |
| | a date of birth that is not a date where the field says ``not_a_date = "blank"`` |
"""

import re
from dataclasses import dataclass, field
from datetime import date

from borough.residents import standardise as std
from borough.residents.config import DatasetConfig, FieldSpec, PersonSpec
from borough.residents.reading import Problem

# The longest value Borough keeps of each field as given (SourceRecord's column sizes).
MAX_LENGTHS = {
    "record_ref": 100,
    "title": 40,
    "first_name": 200,
    "middle_names": 200,
    "surname": 200,
    "full_name": 300,
    "sex": 20,
    "date_of_birth": 40,
    "uprn": 40,
    "address": 500,
    "postcode": 40,
    "email": 254,
    "phone": 60,
    "national_id": 40,
}
_UPRN = re.compile(r"[0-9]{1,12}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(slots=True)
class RecordValues:
    """A person record as read from a row: the values as given and their standard forms."""

    record_ref: str
    row_number: int
    title: str = ""
    first_name: str = ""
    middle_names: str = ""
    surname: str = ""
    full_name: str = ""
    sex_given: str = ""
    date_of_birth_given: str = ""
    uprn_given: str = ""
    address_given: str = ""
    postcode_given: str = ""
    email: str = ""
    phone: str = ""
    national_id: str = ""
    title_std: str = ""
    first_name_std: str = ""
    middle_names_std: str = ""
    surname_std: str = ""
    first_name_canonical: str = ""
    sex: str = ""
    date_of_birth: date | None = None
    postcode: str = ""
    address_text: str = ""
    email_std: str = ""
    phone_std: str = ""
    national_id_std: str = ""
    valid_from: date | None = None
    valid_to: date | None = None
    source_uprn: int | None = None  # the source's UPRN, if it is a number
    uprn: int | None = None  # the UPRN found: the source's, or the address's match
    uprn_method: str = ""
    uprn_note: str = ""  # why the address matched no UPRN
    address_lines: list[str] = field(default_factory=list)


@dataclass
class RowResult:
    records: list[RecordValues]
    problems: list[Problem]
    warnings: list[Problem]


class RowReader:
    """Reads rows of one dataset's file, given the position of each mapped column."""

    def __init__(self, config: DatasetConfig, index: dict[str, int], width: int, today: date):
        self.config = config
        self.index = index
        self.width = width
        self.today = today
        self.id_column = config.record_id

    def _cell(self, cells: list[str], column: str) -> str:
        return std.clean_text(cells[self.index[column]])

    def read(self, row: int, cells: list[str]) -> RowResult:
        problems: list[Problem] = []
        warnings: list[Problem] = []
        if not cells or not any(c.strip() for c in cells):
            return RowResult([], [], [])  # a blank line
        if len(cells) != self.width:
            problems.append(
                Problem(
                    f"has {len(cells)} values but the header has {self.width} columns (check "
                    "for a stray delimiter or a missing quote)",
                    row,
                )
            )
            return RowResult([], problems, warnings)
        for column in self.config.mapped_columns():
            if _CONTROL.search(cells[self.index[column]]):
                problems.append(
                    Problem("contains a control character (such as NUL); remove it", row, column)
                )
        base = self._cell(cells, self.id_column)
        if not base:
            problems.append(Problem("is empty; every row needs a record id", row, self.id_column))
            return RowResult([], problems, warnings)
        records = []
        for person in self.config.people:
            record = self._person(person, base, row, cells, problems, warnings)
            if record is not None:
                records.append(record)
        # Fields shared by several people are checked once each: report each problem once.
        return RowResult(records, _unique(problems), _unique(warnings))

    def _person(self, person: PersonSpec, base, row, cells, problems, warnings):
        fields = person.fields
        given = {
            name: self._cell(cells, spec.column)
            for name, spec in fields.items()
            if name != "address"
        }
        lines = (
            [self._cell(cells, c) for c in fields["address"].columns] if "address" in fields else []
        )
        if not any(given.get(name) for name in ("full_name", "first_name", "surname")):
            if person.optional:
                return None
            if self.config.name_required:
                problems.append(
                    Problem(
                        "the person's name is empty; every row needs one",
                        row,
                        " + ".join(person.name_columns),
                    )
                )
                return None
            warnings.append(
                Problem(
                    "the person's name is empty; the record is kept without one "
                    "(the dataset's name_required = false)",
                    row,
                    " + ".join(person.name_columns),
                )
            )
        ref = base + person.ref_suffix
        record = RecordValues(record_ref=ref, row_number=row)
        if len(ref) > MAX_LENGTHS["record_ref"]:
            problems.append(
                Problem(
                    f"'{ref[:40]}…' is longer than the 100 characters Borough keeps",
                    row,
                    self.id_column,
                )
            )
        address_given = ", ".join(line for line in lines if line)
        for name, value in (*given.items(), ("address", address_given)):
            if name in ("valid_from", "valid_to"):
                continue
            limit = MAX_LENGTHS.get(name)
            if limit and len(value) > limit:
                problems.append(
                    Problem(
                        f"'{value[:40]}…' is {len(value)} characters long; Borough keeps at most {limit}",
                        row,
                        fields[name].label,
                    )
                )
        record.title = given.get("title", "")
        record.first_name = given.get("first_name", "")
        record.middle_names = given.get("middle_names", "")
        record.surname = given.get("surname", "")
        record.full_name = given.get("full_name", "")
        record.sex_given = given.get("sex", "")
        record.date_of_birth_given = given.get("date_of_birth", "")
        record.uprn_given = given.get("uprn", "")
        record.address_given = address_given
        record.address_lines = [line for line in lines if line]
        record.postcode_given = given.get("postcode", "")
        record.email = given.get("email", "")
        record.phone = given.get("phone", "")
        record.national_id = given.get("national_id", "")
        self._names(record, fields)
        self._dates(record, fields, given, row, problems, warnings)
        self._address(record, fields, row, warnings)
        self._contact(record, fields, row, warnings)
        return record

    def _names(self, record: RecordValues, fields: dict[str, FieldSpec]) -> None:
        title = std.standardise_title(record.title)
        if record.first_name or record.surname or "full_name" not in fields:
            record.first_name_std = std.standardise_name(record.first_name)
            record.middle_names_std = std.standardise_name(record.middle_names)
            record.surname_std = std.standardise_name(record.surname)
            spec = fields.get("first_name")
            words = record.first_name.split()
            if spec is not None and spec.forenames and len(words) > 1:
                # "Karen Joseph": the first name, then the middle names the column also holds
                record.first_name_std = std.standardise_name(words[0])
                if "middle_names" not in fields:
                    record.middle_names_std = std.standardise_name(" ".join(words[1:]))
        else:
            name = std.split_full_name(
                record.full_name, middle_names=fields["full_name"].middle_names
            )
            record.first_name_std, record.middle_names_std = name.first, name.middle
            record.surname_std = name.surname
            title = title or name.title
        record.title_std = title
        record.sex = std.sex_from(record.sex_given, title)
        record.first_name_canonical = std.canonical_first_name(record.first_name_std, record.sex)

    def _date(
        self, spec: FieldSpec, text: str, row: int, problems: list[Problem], warnings=None
    ) -> date | None:
        try:
            return std.parse_date(text, spec.date_formats or self.config.date_formats)
        except std.DateError as error:
            message = str(error)
        except ValueError as error:  # e.g. a year out of range
            message = f"'{text}' is not a date: {error}"
        if warnings is not None and spec.not_a_date == "blank":
            warnings.append(
                Problem(f"{message}; it is kept as given but not used", row, spec.column)
            )
        else:
            problems.append(Problem(message, row, spec.column))
        return None

    def _dates(self, record, fields, given, row, problems, warnings) -> None:
        if "date_of_birth" in fields:
            spec = fields["date_of_birth"]
            born = self._date(spec, record.date_of_birth_given, row, problems, warnings)
            if born and spec.minus_years:
                born = std.years_before(born, spec.minus_years)
            if born:
                why = std.implausible_birth_date(born, self.today, spec.oldest_years)
                if why:
                    warnings.append(Problem(f"{why}; it is not used", row, spec.column))
                    born = None
            record.date_of_birth = born
        for name in ("valid_from", "valid_to"):
            if name in fields:
                value = self._date(fields[name], given[name], row, problems)
                setattr(record, name, value)
        if record.valid_from and record.valid_to and record.valid_to < record.valid_from:
            warnings.append(
                Problem(
                    f"{record.valid_to:%d/%m/%Y} is before {fields['valid_from'].column} "
                    f"({record.valid_from:%d/%m/%Y}); both are kept as given",
                    row,
                    fields["valid_to"].column,
                )
            )

    def _address(self, record: RecordValues, fields, row: int, warnings: list[Problem]) -> None:
        if record.postcode_given:
            record.postcode = std.standardise_any_postcode(record.postcode_given)
            if not record.postcode:
                warnings.append(
                    Problem(
                        f"'{record.postcode_given}' is not a UK postcode; it is kept as given "
                        "but not used",
                        row,
                        fields["postcode"].column,
                    )
                )
            elif not std.is_uk_postcode(record.postcode):
                typo = " (typed wrong?)" if std.looks_like_uk_postcode(record.postcode) else ""
                warnings.append(
                    Problem(
                        f"'{record.postcode_given}' is not a UK postcode{typo}; it is kept as text "
                        f"('{record.postcode}'), compared only with the same text and not "
                        "used to find a UPRN",
                        row,
                        fields["postcode"].column,
                    )
                )
        record.address_text = std.address_text(record.address_lines, record.postcode)
        if record.uprn_given:
            if _UPRN.fullmatch(record.uprn_given) and int(record.uprn_given) > 0:
                record.source_uprn = int(record.uprn_given)
            else:
                warnings.append(
                    Problem(
                        f"'{record.uprn_given}' is not a UPRN (a whole number of up to 12 "
                        "digits); the address is matched instead",
                        row,
                        fields["uprn"].column,
                    )
                )

    def _contact(self, record: RecordValues, fields, row: int, warnings: list[Problem]) -> None:
        if record.email:
            record.email_std = std.standardise_email(record.email)
            if not record.email_std:
                warnings.append(
                    Problem(
                        f"'{record.email}' is not an e-mail address; it is not used",
                        row,
                        fields["email"].column,
                    )
                )
        if record.phone:
            record.phone_std = std.standardise_phone(record.phone)
            if not record.phone_std:
                warnings.append(
                    Problem(
                        f"'{record.phone}' is not a UK phone number; it is not used",
                        row,
                        fields["phone"].column,
                    )
                )
        if record.national_id:
            record.national_id_std = std.standardise_identifier(record.national_id)
            if not record.national_id_std:
                warnings.append(
                    Problem(
                        f"'{record.national_id}' is not an identity number (it needs a digit and "
                        "at least 4 letters or digits); it is not used",
                        row,
                        fields["national_id"].column,
                    )
                )


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))
