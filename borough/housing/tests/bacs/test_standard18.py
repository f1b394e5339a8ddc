import datetime as dt

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from borough.housing.bacs.standard18 import (
    DEFAULT_LAYOUT,
    BatchError,
    Collection,
    FileOptions,
    Instruction,
    ServiceUser,
    clean_name,
    julian,
    parse_julian,
    reference_problem,
)
from borough.housing.bacs.standard18_validator import validate_standard18
from borough.housing.bacs.standard18_writer import write_standard18, write_standard18_bytes

D = dt.date
COUNCIL = ServiceUser("123456", "Northmere Council", "08-99-99", "66374958")
OPTIONS = FileOptions(
    processing_date=D(2026, 12, 23), creation_date=D(2026, 12, 22), serial_number="000042"
)
INSTRUCTIONS = [
    Instruction("0N", "20-29-59", "63748472", "Mrs Zoë O'Brien-Smith", "RENT0001234"),
    Instruction("0C", "871427", "46238510", "A N Other", "rent 0005678"),
]
COLLECTIONS = [
    Collection("01", "871427", "46238510", "A N Other", 12_345, "RENT0005678"),
    Collection("17", "30-99-50", "00733445", "C Payer", 99, "RENT0007777"),
    Collection("19", "20-29-59", "63748472", "Zoe O'Brien", 1_000_000, "RENT0001234"),
]


def good_file(**changes) -> str:
    options = FileOptions(**{**OPTIONS.__dict__, **changes})
    return write_standard18(COUNCIL, INSTRUCTIONS, COLLECTIONS, options)


def lines_of(text: str) -> list[str]:
    return text.split("\r\n")[:-1]


def put(line: str, field_name: str, value: str) -> str:
    spec = DEFAULT_LAYOUT.data_field(field_name)
    assert len(value) == spec.length
    return line[: spec.start - 1] + value + line[spec.end :]


def codes(problems) -> set[str]:
    return {problem.code for problem in problems}


# ----------------------------------------------------------------- writer


def test_a_labelled_file_has_labels_records_and_contra_in_order():
    lines = lines_of(good_file())
    assert [line[:4] for line in lines[:4]] == ["VOL1", "HDR1", "HDR2", "UHL1"]
    assert [line[:4] for line in lines[-3:]] == ["EOF1", "EOF2", "UTL1"]
    data = lines[4:-3]
    assert [line[15:17] for line in data] == ["0N", "0C", "01", "17", "19", "99"]
    assert all(len(line) == 80 for line in lines[:4] + lines[-3:])
    assert all(len(line) == 100 for line in data)


def test_data_record_fields_sit_where_the_layout_says():
    record = lines_of(good_file())[6]  # the 01 collection
    assert record[0:6] == "871427"
    assert record[6:14] == "46238510"
    assert record[14] == "0"
    assert record[15:17] == "01"
    assert record[17:23] == "089999"
    assert record[23:31] == "66374958"
    assert record[35:46] == "00000012345"
    assert record[46:64] == "NORTHMERE COUNCIL "
    assert record[64:82] == "RENT0005678".ljust(18)
    assert record[82:100] == "A N OTHER".ljust(18)


def test_instructions_carry_a_zero_amount_and_an_upper_case_reference():
    record = lines_of(good_file())[5]
    assert record[15:17] == "0C"
    assert record[35:46] == "0" * 11
    assert record[64:82] == "RENT 0005678".ljust(18)


def test_payer_names_lose_accents_and_apostrophes_and_are_cut_to_18():
    record = lines_of(good_file())[4]
    assert record[82:100] == "MRS ZOE OBRIEN-SMI"
    assert clean_name("Siân “Jones” (née Hughes)") == "SIAN JONES NEE HUG"


def test_the_contra_credits_the_council_with_the_sum_of_the_debits():
    contra = lines_of(good_file())[-4]
    assert contra[:14] == "089999" + "66374958"
    assert contra[15:17] == "99"
    assert int(contra[35:46]) == 12_345 + 99 + 1_000_000
    assert contra[64:82].rstrip() == "CONTRA"
    assert contra[82:100].rstrip() == "NORTHMERE COUNCIL"


def test_labels_carry_the_sun_serial_and_julian_dates():
    vol1, hdr1, hdr2, uhl1 = lines_of(good_file())[:4]
    assert vol1.startswith("VOL1000042") and vol1[41:47] == "123456" and vol1[79] == "1"
    assert hdr1.startswith("HDR1A123456S  1123456000042")
    assert hdr1[41:47] == " 26356" and hdr1[47:53] == " 26356"
    assert hdr2.startswith("HDR2F0200000100")
    assert uhl1.startswith("UHL1 26357123456    00000000" + "1 DAILY  ")


def test_utl1_totals_and_counts():
    utl1 = lines_of(good_file())[-1]
    total = 12_345 + 99 + 1_000_000
    counts = f"{3:07d}{1:07d}" + " " * 8 + f"{2:07d}"  # debits, contras, instructions
    assert utl1 == f"UTL1{total:013d}{total:013d}{counts}".ljust(80)


def test_writer_output_passes_the_validator():
    assert validate_standard18(good_file()) == []


def test_lf_line_endings_and_bytes():
    text = good_file(line_ending="\n")
    assert "\r" not in text and text.endswith("\n")
    assert validate_standard18(text) == []
    data = write_standard18_bytes(COUNCIL, INSTRUCTIONS, COLLECTIONS, OPTIONS)
    assert isinstance(data, bytes) and data.endswith(b"\r\n")
    assert validate_standard18(data) == []


def test_payment_lines_only():
    text = good_file(labels=False)
    assert [line[:4] for line in lines_of(text)][:1] == ["2029"]
    assert len(lines_of(text)) == 6
    assert validate_standard18(text) == []


def test_multi_processing_day_file_has_a_contra_per_day():
    day1, day2 = D(2026, 12, 23), D(2026, 12, 24)
    collections = [
        Collection("17", "871427", "46238510", "A", 500, "RENT0000001", day2),
        Collection("17", "871427", "46238511", "B", 700, "RENT0000002", day1),
        Collection("17", "871427", "46238512", "C", 100, "RENT0000003", day2),
    ]
    options = FileOptions(multi_day=True, creation_date=D(2026, 12, 22))
    text = write_standard18(COUNCIL, [], collections, options)
    lines = lines_of(text)
    assert lines[3].startswith("UHL1      123456    00000000" + "4 MULTI  ")
    assert lines[2].startswith("HDR2F0200000106")
    data = lines[4:-3]
    assert all(len(line) == 106 for line in data)
    assert [(line[15:17], int(line[35:46]), line[100:]) for line in data] == [
        ("17", 700, julian(day1)),
        ("99", 700, julian(day1)),
        ("17", 500, julian(day2)),
        ("17", 100, julian(day2)),
        ("99", 600, julian(day2)),
    ]
    assert validate_standard18(text) == []


def test_an_instruction_only_file_has_no_contra():
    text = write_standard18(COUNCIL, INSTRUCTIONS, [], OPTIONS)
    lines = lines_of(text)
    assert [line[15:17] for line in lines[4:-3]] == ["0N", "0C"]
    assert lines[-1] == "UTL1" + "0" * 40 + " " * 8 + "0000002" + " " * 21
    assert validate_standard18(text) == []


def test_the_writer_lists_every_problem_in_a_batch():
    bad = [
        Collection("17", "871427", "46238510", "", 100, "RENT0000001"),
        Collection("17", "87142", "46238510", "A", 100, "DDIC000001"),
        Collection("42", "871427", "4623851", "A", 0, "AAAAAA"),
        Collection("17", "871427", "46238510", "A", 1.5, "RENT£00001"),
    ]
    with pytest.raises(BatchError) as error:
        write_standard18(COUNCIL, [], bad, OPTIONS)
    problems = "\n".join(error.value.problems)
    assert "Collection 1: the payer's name is blank" in problems
    assert "Collection 2: sort code '87142' is not 6 digits" in problems
    assert "Collection 2: reference 'DDIC000001' must not start with 'DDIC'" in problems
    assert "Collection 3: '42' is not a collection code" in problems
    assert "Collection 3: account number '4623851' is not 8 digits" in problems
    assert "Collection 3: the amount must be between 1" in problems
    assert "Collection 3: reference 'AAAAAA' must not be one repeated character" in problems
    assert "Collection 4: the amount must be whole pence" in problems
    assert "Collection 4: reference 'RENT£00001' has characters Bacs does not allow" in problems


def test_a_contra_over_the_eleven_digit_limit_is_refused():
    big = [
        Collection("17", "871427", "46238510", "A", 99_999_999_999, "RENT0000001"),
        Collection("17", "871427", "46238510", "B", 1, "RENT0000002"),
    ]
    with pytest.raises(BatchError, match="split the collections"):
        write_standard18(COUNCIL, [], big, OPTIONS)


def test_a_reference_lodged_twice_is_refused():
    twice = [INSTRUCTIONS[0], INSTRUCTIONS[0]]
    with pytest.raises(BatchError, match="lodged twice"):
        write_standard18(COUNCIL, twice, [], OPTIONS)


def test_single_day_file_needs_a_processing_date_and_multi_day_items_need_theirs():
    with pytest.raises(BatchError, match="needs a processing date"):
        write_standard18(COUNCIL, INSTRUCTIONS, [], FileOptions())
    with pytest.raises(BatchError, match="processing date per item"):
        write_standard18(COUNCIL, INSTRUCTIONS, [], FileOptions(multi_day=True))
    with pytest.raises(BatchError, match="The batch is empty"):
        write_standard18(COUNCIL, [], [], OPTIONS)


@pytest.mark.parametrize(
    ("reference", "problem"),
    [
        ("RENT01", None),
        ("A1B2C3D4E5F6G7H8I9", None),
        ("12/345-6.7&8", None),
        ("RENT1", "must be 6 to 18"),
        ("A1B2C3D4E5F6G7H8I9J", "must be 6 to 18"),
        (" RENT01", "must not start with a space"),
        ("DDIC0001", "must not start with 'DDIC'"),
        ("111111", "one repeated character"),
        ("RENT,001", "characters Bacs does not allow"),
        ("AB/CD-E.", "at least 6 letters or digits"),
    ],
)
def test_reference_rules(reference, problem):
    found = reference_problem(reference)
    if problem is None:
        assert found is None
    else:
        assert problem in found


def test_julian_dates():
    assert julian(D(2026, 12, 23)) == " 26357"
    assert julian(D(2028, 12, 31)) == " 28366"
    assert parse_julian(" 26357") == D(2026, 12, 23)
    assert parse_julian(" 26366") is None
    assert parse_julian("026357") is None
    assert parse_julian(" 28366") == D(2028, 12, 31)


# ----------------------------------------------------------------- validator: each problem


def mutated(change) -> list:
    lines = lines_of(good_file())
    change(lines)
    return validate_standard18("\r\n".join(lines) + "\r\n")


def test_validator_finds_a_short_record():
    def change(lines):
        lines[6] = lines[6][:99]

    problems = mutated(change)
    assert "record_length" in codes(problems)
    assert any(p.line == 7 and "99 characters, not 100" in p.message for p in problems)


def test_validator_finds_a_long_label():
    def change(lines):
        lines[0] += " "

    assert "record_length" in codes(mutated(change))


def test_validator_finds_a_contra_that_does_not_match_its_debits():
    def change(lines):
        lines[-4] = put(lines[-4], "amount", "00001012445")

    problems = mutated(change)
    contra = [p for p in problems if p.code == "contra_total"]
    assert len(contra) == 1 and contra[0].line == 10
    assert "add up to 1012444" in contra[0].message
    # The UTL1 credit total no longer agrees with the contra either.
    assert any(p.code == "total" and p.field == "UTL1 credit_total" for p in problems)


def test_validator_finds_a_debit_changed_after_writing():
    def change(lines):
        lines[7] = put(lines[7], "amount", "00000000098")

    problems = mutated(change)
    assert {"contra_total", "total"} <= codes(problems)


def test_validator_finds_a_wrong_count():
    def change(lines):
        lines[-1] = lines[-1][:30] + "0000004" + lines[-1][37:]

    problems = mutated(change)
    assert [(p.code, p.field) for p in problems] == [("count", "UTL1 debit_count")]
    assert "says 4 but the records give 3" in problems[0].message


def test_validator_finds_a_bad_date():
    def change(lines):
        lines[1] = lines[1][:41] + " 26399" + lines[1][47:]
        lines[-3] = lines[-3][:41] + " 26399" + lines[-3][47:]

    problems = mutated(change)
    assert ("date", "HDR1 creation_date") in {(p.code, p.field) for p in problems}


def test_validator_finds_a_processing_date_before_creation():
    def change(lines):
        lines[3] = lines[3][:4] + " 26300" + lines[3][10:]

    problems = mutated(change)
    assert [(p.code, p.field) for p in problems] == [("date", "UHL1 processing_date")]


def test_validator_finds_a_bad_transaction_code():
    def change(lines):
        lines[7] = put(lines[7], "transaction_code", "42")

    problems = mutated(change)
    assert "transaction_code" in codes(problems)
    assert any(p.line == 8 and "'42' is not a code" in p.message for p in problems)


def test_validator_finds_a_bad_reference():
    def change(lines):
        lines[7] = put(lines[7], "reference", "DDIC0007777".ljust(18))

    problems = mutated(change)
    assert [(p.line, p.code, p.field) for p in problems] == [(8, "reference", "reference")]


def test_validator_finds_lower_case_and_a_blank_name():
    def change(lines):
        lines[7] = put(lines[7], "reference", "rent0007777".ljust(18))
        lines[6] = put(lines[6], "destination_name", " " * 18)

    problems = mutated(change)
    assert {(p.line, p.code) for p in problems} >= {(8, "reference"), (7, "name")}


def test_validator_finds_an_instruction_with_money():
    def change(lines):
        lines[4] = put(lines[4], "amount", "00000000100")

    assert "amount" in codes(mutated(change))


def test_validator_finds_a_missing_contra():
    def change(lines):
        del lines[-4]

    problems = mutated(change)
    assert "contra" in codes(problems)


def test_validator_finds_a_trailer_that_does_not_mirror_its_header():
    def change(lines):
        lines[-3] = lines[-3][:21] + "000043" + lines[-3][27:]

    problems = mutated(change)
    assert [(p.code, p.field) for p in problems] == [("label_field", "serial_number")]


def test_validator_finds_a_missing_label():
    def change(lines):
        del lines[2]

    assert "structure" in codes(mutated(change))


def test_validator_finds_mixed_line_endings_and_non_ascii():
    text = good_file()
    assert "line_endings" in codes(validate_standard18(text.replace("\r\n", "\n", 1)))
    data = text.encode("ascii").replace(b"NORTHMERE", b"N\xd6RTHMERE", 1)
    assert "encoding" in codes(validate_standard18(data))


def test_validator_finds_a_second_contra_in_a_single_day_file():
    def change(lines):
        lines.insert(-3, lines[-4])

    assert any(p.code == "contra" for p in mutated(change))


def test_validator_on_an_empty_file():
    assert codes(validate_standard18("")) == {"structure"}


# ----------------------------------------------------------------- properties

SORT_CODES = st.text("0123456789", min_size=6, max_size=6)
ACCOUNTS = st.text("0123456789", min_size=8, max_size=8)
NAMES = st.text(
    st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyzéèçñöß' -.&/"),
    min_size=1,
    max_size=30,
).filter(lambda name: clean_name(name))
REFERENCES = st.from_regex(r"[A-Z0-9][A-Z0-9 ./&-]{4,16}[A-Z0-9]", fullmatch=True).filter(
    lambda reference: reference_problem(reference) is None
)
DAYS = st.sampled_from([D(2026, 12, 23), D(2026, 12, 24), D(2026, 12, 29)])


@st.composite
def batches(draw, multi_day: bool):
    def day():
        return draw(DAYS) if multi_day else None

    instructions = [
        Instruction(
            draw(st.sampled_from(DEFAULT_LAYOUT.instruction_codes)),
            draw(SORT_CODES),
            draw(ACCOUNTS),
            draw(NAMES),
            reference,
            day(),
        )
        for reference in draw(st.lists(REFERENCES, max_size=5, unique=True))
    ]
    collections = [
        Collection(
            draw(st.sampled_from(DEFAULT_LAYOUT.debit_codes)),
            draw(SORT_CODES),
            draw(ACCOUNTS),
            draw(NAMES),
            draw(st.integers(1, 10**9)),
            draw(REFERENCES),
            day(),
        )
        for _ in range(draw(st.integers(0 if instructions else 1, 12)))
    ]
    return instructions, collections


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=batches(multi_day=False), labels=st.booleans(), crlf=st.booleans())
def test_any_valid_batch_writes_a_file_the_validator_accepts(batch, labels, crlf):
    instructions, collections = batch
    options = FileOptions(
        processing_date=D(2026, 12, 23),
        creation_date=D(2026, 12, 22),
        labels=labels,
        line_ending="\r\n" if crlf else "\n",
    )
    text = write_standard18(COUNCIL, instructions, collections, options)
    assert validate_standard18(text) == []
    lines = text.splitlines()
    data = lines[4:-3] if labels else lines
    assert len(data) == len(instructions) + len(collections) + (1 if collections else 0)
    total = sum(collection.amount_pence for collection in collections)
    if collections:
        assert int(data[-1][35:46]) == total
    if labels:
        utl1 = lines[-1]
        assert int(utl1[4:17]) == total
        assert int(utl1[17:30]) == total
        assert int(utl1[30:37]) == len(collections)
        assert int(utl1[37:44]) == (1 if collections else 0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=batches(multi_day=True))
def test_any_valid_multi_day_batch_balances_each_day(batch):
    instructions, collections = batch
    options = FileOptions(multi_day=True, creation_date=D(2026, 12, 22))
    text = write_standard18(COUNCIL, instructions, collections, options)
    assert validate_standard18(text) == []
    contras = {
        line[100:]: int(line[35:46]) for line in text.splitlines()[4:-3] if line[15:17] == "99"
    }
    expected: dict[str, int] = {}
    for collection in collections:
        key = julian(collection.processing_date)
        expected[key] = expected.get(key, 0) + collection.amount_pence
    assert contras == expected


@settings(max_examples=40, deadline=None)
@given(batch=batches(multi_day=False), data=st.data())
def test_changing_any_debit_amount_is_caught(batch, data):
    instructions, collections = batch
    text = write_standard18(COUNCIL, instructions, collections, OPTIONS)
    lines = text.split("\r\n")
    debit_lines = [
        i
        for i, line in enumerate(lines)
        if len(line) == 100 and line[15:17] in DEFAULT_LAYOUT.debit_codes
    ]
    assume(debit_lines)
    index = data.draw(st.sampled_from(debit_lines))
    old = int(lines[index][35:46])
    new = data.draw(st.integers(1, 10**9).filter(lambda amount: amount != old))
    lines[index] = put(lines[index], "amount", f"{new:011d}")
    assert "contra_total" in codes(validate_standard18("\r\n".join(lines)))


def test_validator_with_a_calendar_refuses_a_processing_day_on_a_bank_holiday():
    from borough.housing.bacs.calendar import BacsCalendar

    text = good_file(processing_date=D(2026, 12, 28))
    assert validate_standard18(text) == []
    problems = validate_standard18(text, calendar=BacsCalendar())
    assert [(p.code, p.field) for p in problems] == [("date", "UHL1 processing_date")]
    assert validate_standard18(good_file(), calendar=BacsCalendar()) == []


def test_the_writer_refuses_a_processing_date_before_the_file_is_created():
    with pytest.raises(BatchError, match="before the file's creation date"):
        good_file(processing_date=D(2026, 12, 21))


# ----------------------------------------------------------------- labels as the public
# descriptions give them (issue 11); docs/direct-debit.md cites each source


def test_uhl1_carries_the_user_file_number_in_columns_38_to_40():
    uhl1 = lines_of(good_file())[3]
    assert uhl1[37:40] == "042"  # from the serial 000042 unless given
    assert lines_of(good_file(file_number="007"))[3][37:40] == "007"
    assert uhl1[40:] == " " * 40


def test_utl1_counts_the_instructions_in_columns_53_to_59():
    utl1 = lines_of(good_file())[-1]
    assert utl1[44:52] == " " * 8
    assert utl1[52:59] == "0000002"  # one 0N and one 0C
    assert utl1[59:] == " " * 21


def test_hdr2_and_eof2_carry_the_buffer_offset_in_columns_51_and_52():
    lines = lines_of(good_file())
    for label in (lines[2], lines[-2]):
        assert label[15:50] == " " * 35
        assert label[50:52] == "00"
        assert label[52:] == " " * 28


def test_payer_names_are_transliterated_to_bacs_characters_not_dropped():
    names = {
        "Bjørn Ødegård": "BJORN ODEGARD",
        "Hans Straße": "HANS STRASSE",
        "Łukasz Żółć": "LUKASZ ZOLC",
        "Иван Петров": "IVAN PETROV",
        "Nguyễn Thị Đào": "NGUYEN THI DAO",
        "Æsa Œuvre": "AESA OEUVRE",
    }
    for name, expected in names.items():
        assert clean_name(name) == expected
    record = lines_of(
        write_standard18(
            COUNCIL,
            [Instruction("0N", "20-29-59", "63748472", "Bjørn Ødegård", "RENT0001234")],
            [],
            OPTIONS,
        )
    )[4]
    assert record[82:100] == "BJORN ODEGARD".ljust(18)


def test_the_service_user_name_is_written_whole_or_refused_never_cut():
    short = ServiceUser("123456", "LB Northmere", "08-99-99", "66374958")
    record = lines_of(write_standard18(short, INSTRUCTIONS, COLLECTIONS, OPTIONS))[6]
    assert record[46:64] == "LB NORTHMERE".ljust(18)
    long = ServiceUser("123456", "London Borough of Northmere", "08-99-99", "66374958")
    with pytest.raises(BatchError) as error:
        write_standard18(long, INSTRUCTIONS, COLLECTIONS, OPTIONS)
    (problem,) = [p for p in error.value.problems if p.startswith("Service user")]
    assert "'LONDON BOROUGH OF NORTHMERE' is 27 characters" in problem
    assert "18" in problem


def test_validator_checks_the_file_number_the_buffer_offset_and_the_instruction_count():
    def blank_file_number(lines):
        lines[3] = lines[3][:37] + "   " + lines[3][40:]

    def no_buffer_offset(lines):
        lines[2] = lines[2][:50] + "  " + lines[2][52:]
        lines[-2] = lines[-2][:50] + "  " + lines[-2][52:]

    def wrong_instruction_count(lines):
        lines[-1] = lines[-1][:52] + "0000003" + lines[-1][59:]

    assert [(p.line, p.field, p.code) for p in mutated(blank_file_number)] == [
        (4, "UHL1 file_number", "label_field")
    ]
    assert [(p.line, p.field, p.code) for p in mutated(no_buffer_offset)] == [
        (3, "HDR2 buffer_offset", "label_field"),
        (12, "EOF2 buffer_offset", "label_field"),
    ]
    problems = mutated(wrong_instruction_count)
    assert [(p.field, p.code) for p in problems] == [("UTL1 instruction_count", "count")]
    assert "says 3 but the records give 2" in problems[0].message
