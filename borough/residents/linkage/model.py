"""The record linkage model: which columns are compared, how, and which pairs are looked at.

One person's records are spread over the council's datasets with typos, nicknames, missing
dates of birth, changed surnames and stale addresses. The people most alike on paper are not
the same person but their relatives: a household shares address, postcode and often surname
(``docs/linkage.md``, "the household trap"). So:

- UPRN, postcode and address are ONE piece of evidence, and surname and address are compared
  TOGETHER (``surname_address``): relatives share both, so multiplying a shared surname's
  rarity by a shared home's rarity would count the household twice;
- the model is trained by expectation maximisation only on blocks that do not fix the
  household (same date of birth; same first name and surname), never on address blocks, so
  EM learns "same person" rather than "same household";
- phone numbers are not compared: households share landlines, and in the synthetic borough
  numbers repeat by construction (1,000 drama-range numbers).

The same household evidence, turned round, helps with the hardest true matches: records of
one person at two addresses with no date of birth (council tax history, a stale electoral
entry). Namesakes look the same on paper; but people move house with their household, so
when ANOTHER person also appears at both addresses, the two records are very likely one
person who moved. So is a record whose residence (a council tax liability, a tenancy) ends
the day the other's begins at the new home (``HOUSEHOLD_MOVES_SQL``, both weighted in
``calibrate``).

Every comparison is written as explicit DuckDB SQL so that the model JSON says exactly what
each level means. The Splink input is the contract frame (``LINKAGE_COLUMNS``) turned into
the columns of ``PREPARE_SQL``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

# The contract with the loading side (borough.residents.queries.records_for_linkage()).
LINKAGE_COLUMNS: tuple[str, ...] = (
    "unique_id",
    "source_dataset",
    "first_name",
    "first_name_canonical",
    "middle_names",
    "surname",
    "date_of_birth",
    "postcode",
    "uprn",
    "address_text",
    "email",
    "phone",
    "national_id",
)

# Columns a linkage input may lack: each is then null in every record (an index or frame
# written before the column existed, a caller with no such data).
OPTIONAL_COLUMNS: dict[str, str] = {"national_id": "VARCHAR"}


def source_sql(table: str, columns: Iterable[str]) -> str:
    """A FROM item for ``PREPARE_SQL``: ``table``, with every optional column it lacks
    (``columns`` are the ones it has) as nulls."""
    missing = [c for c in OPTIONAL_COLUMNS if c not in set(columns)]
    if not missing:
        return table
    nulls = ", ".join(f"CAST(NULL AS {OPTIONAL_COLUMNS[c]}) AS {c}" for c in missing)
    return f"(SELECT *, {nulls} FROM {table})"  # noqa: S608 (this module's names)


# 2: the address is compared by its text too where a record has no UPRN (``_SAME_HOME``,
# ``_ADDRESS_COMPARABLE``); link-only datasets (``LINK_ONLY_CONDITION``); an identity number
# (``national_id``) compared and blocked on.
MODEL_VERSION = 2

# The table Splink sees: the columns the comparisons use, derived once per record. ``rid`` is
# an integer stand-in for ``unique_id`` (in the same order), because joining millions of
# pairs on integers is several times faster than on strings. ``{source}`` holds the
# contract columns.
PREPARE_SQL = """
select
    cast(row_number() over (order by unique_id) as integer) as rid,
    cast(unique_id as varchar) as unique_id,
    nullif(first_name, '') as first_name,
    nullif(coalesce(first_name_canonical, first_name), '') as first_name_canonical,
    nullif(middle_names, '') as middle_names,
    nullif(left(middle_names, 1), '') as middle_initial,
    nullif(surname, '') as surname,
    nullif(string_split(replace(surname, '-', ' '), ' ')[1], '') as surname_first_part,
    nullif(string_split(replace(surname, '-', ' '), ' ')[-1], '') as surname_last_part,
    try_cast(date_of_birth as date) as dob,
    nullif(postcode, '') as postcode,
    nullif(regexp_extract(postcode, '^(.+ [0-9])[A-Z]{{2}}$', 1), '') as postcode_sector,
    try_cast(uprn as bigint) as uprn,
    nullif(array_to_string(list_sort(regexp_extract_all(address_text, '[0-9]+')), ' '), '')
        as address_numbers,
    nullif(address_text, '') as address_text,
    nullif(lower(trim(email)), '') as email,
    nullif(national_id, '') as national_id
from (
    -- a column that is empty in every record is text all the same (pandas gives it no type)
    select * replace (
        cast(first_name as varchar) as first_name,
        cast(first_name_canonical as varchar) as first_name_canonical,
        cast(middle_names as varchar) as middle_names,
        cast(surname as varchar) as surname,
        cast(postcode as varchar) as postcode,
        cast(address_text as varchar) as address_text,
        cast(email as varchar) as email,
        cast(national_id as varchar) as national_id
    )
    from {source}
)
"""


def _level(sql: str, label: str, **extra: Any) -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": label, **extra}


def _null(sql: str) -> dict[str, Any]:
    return _level(sql, "Null", is_null_level=True)


ELSE = _level("ELSE", "All other comparisons")

# m of the identity number's levels (exact, one typo, other) among true matches: a number
# typed wrong in one character 2 times in 100, otherwise wrong (another person's, a
# temporary number) 1 time in 100. Set, not trained (see ``comparisons``).
NATIONAL_ID_M = (0.97, 0.02, 0.01)


def comparisons(*, term_frequencies: bool = True) -> list[dict[str, Any]]:
    """The comparisons, most specific level first in each."""
    tf_first = {"tf_adjustment_column": "first_name"} if term_frequencies else {}
    return [
        {
            "output_column_name": "first_name",
            "comparison_description": "First name: exact, nickname, spelling",
            "comparison_levels": [
                _null('"first_name_l" IS NULL OR "first_name_r" IS NULL'),
                _level('"first_name_l" = "first_name_r"', "Exact", **tf_first),
                _level(
                    '"first_name_canonical_l" = "first_name_canonical_r"', "Same canonical name"
                ),
                _level(
                    'jaro_winkler_similarity("first_name_l", "first_name_r") >= 0.92',
                    "Jaro-Winkler >= 0.92",
                ),
                _level(
                    'levenshtein("first_name_l", "first_name_r") <= 1',
                    "One edit apart (typo)",
                ),
                _level(
                    "split_part(\"first_name_l\", ' ', 1) = split_part(\"first_name_r\", ' ', 1)"
                    ' OR "first_name_l" = "middle_names_r" OR "middle_names_l" = "first_name_r"',
                    "First part equal, or first name is the other's middle name",
                ),
                _level(
                    'levenshtein("first_name_l", "first_name_r") <= 2',
                    "Two edits apart (a swap of two letters is two)",
                ),
                _level(
                    'jaro_winkler_similarity("first_name_l", "first_name_r") >= 0.8',
                    "Jaro-Winkler >= 0.8",
                ),
                ELSE,
            ],
        },
        {
            "output_column_name": "date_of_birth",
            "comparison_description": "Date of birth: exact, day and month swapped, one part wrong",
            "comparison_levels": [
                _null('"dob_l" IS NULL OR "dob_r" IS NULL'),
                _level('"dob_l" = "dob_r"', "Exact"),
                _level(
                    'year("dob_l") = year("dob_r") AND month("dob_l") = day("dob_r")'
                    ' AND day("dob_l") = month("dob_r")',
                    "Day and month swapped",
                ),
                _level(
                    '(year("dob_l") = year("dob_r"))::int + (month("dob_l") = month("dob_r"))::int'
                    ' + (day("dob_l") = day("dob_r"))::int = 2',
                    "Two of year, month, day equal",
                ),
                _level('abs(date_diff(\'day\', "dob_l", "dob_r")) <= 366', "Within a year"),
                ELSE,
            ],
        },
        surname_address(term_frequencies=term_frequencies),
        {
            "output_column_name": "middle_names",
            "comparison_description": "Middle names: exact or same initial",
            "comparison_levels": [
                _null('"middle_initial_l" IS NULL OR "middle_initial_r" IS NULL'),
                _level('"middle_names_l" = "middle_names_r"', "Exact"),
                _level('"middle_initial_l" = "middle_initial_r"', "Same initial"),
                ELSE,
            ],
        },
        {
            "output_column_name": "email",
            "comparison_description": "E-mail address",
            "comparison_levels": [
                _null('"email_l" IS NULL OR "email_r" IS NULL'),
                _level('"email_l" = "email_r"', "Exact"),
                ELSE,
            ],
        },
        {
            # A number the person is known by across systems (National Insurance, NHS, a
            # social security number): equal, one character typed wrong, or two numbers.
            # Its m are set, not trained: a number is one person's, so among true matches it
            # differs only by a typing error (NATIONAL_ID_M). EM, trained on blocks where few
            # records hold a number (often one dataset's), would otherwise learn "different"
            # from whatever else those blocks hold (twins at one address, measured: m 0.55).
            "output_column_name": "national_id",
            "comparison_description": "Identity number: exact or one typo",
            "comparison_levels": [
                _null('"national_id_l" IS NULL OR "national_id_r" IS NULL'),
                _level(
                    '"national_id_l" = "national_id_r"',
                    "Exact",
                    m_probability=NATIONAL_ID_M[0],
                    fix_m_probability=True,
                ),
                _level(
                    'levenshtein("national_id_l", "national_id_r") <= 1',
                    "One edit apart (typo)",
                    m_probability=NATIONAL_ID_M[1],
                    fix_m_probability=True,
                ),
                _level(
                    "ELSE",
                    "All other comparisons",
                    m_probability=NATIONAL_ID_M[2],
                    fix_m_probability=True,
                ),
            ],
        },
    ]


_SAME_SURNAME = '"surname_l" = "surname_r"'
_SIMILAR_SURNAME = (
    '(jaro_winkler_similarity("surname_l", "surname_r") >= 0.88'
    ' OR "surname_first_part_l" IN ("surname_first_part_r", "surname_last_part_r")'
    ' OR "surname_last_part_l" IN ("surname_first_part_r", "surname_last_part_r"))'
)
# One home: the same UPRN; or, where a record has no UPRN (a council without a gazetteer, an
# address the gazetteer did not match), the same address text, or the same house and flat
# numbers with the same postcode or with address text alike — Jaro-Winkler >= 0.9 (a typo), or
# one the start of the other (a locality or town left off: "34 hill way" and "34 hill way
# wickham lea") — and postcodes that are not in two different sectors (a typed postcode's
# letters swapped, a postcode left out, a postcode outside the UK's formats).
_SAME_HOME = (
    '("uprn_l" = "uprn_r" OR (("uprn_l" IS NULL OR "uprn_r" IS NULL)'
    ' AND ("address_text_l" = "address_text_r"'
    ' OR ("address_numbers_l" = "address_numbers_r" AND ("postcode_l" = "postcode_r"'
    ' OR ((jaro_winkler_similarity("address_text_l", "address_text_r") >= 0.9'
    ' OR left("address_text_l", length("address_text_r")) = "address_text_r"'
    ' OR left("address_text_r", length("address_text_l")) = "address_text_l")'
    ' AND coalesce("postcode_sector_l" = "postcode_sector_r", true)))))))'
)
_SAME_POSTCODE = '"postcode_l" = "postcode_r"'
_SAME_SECTOR = '"postcode_sector_l" = "postcode_sector_r"'
_ADDRESS_COMPARABLE = (
    '(("uprn_l" IS NOT NULL AND "uprn_r" IS NOT NULL)'
    ' OR ("postcode_l" IS NOT NULL AND "postcode_r" IS NOT NULL)'
    ' OR ("address_text_l" IS NOT NULL AND "address_text_r" IS NOT NULL))'
)


def surname_address(*, term_frequencies: bool = True) -> dict[str, Any]:
    """Surname and address as ONE comparison, because they are not independent: relatives
    share both. Its u probabilities (from random pairs) then see how often a surname AND a
    home are shared by different people — households — instead of multiplying two
    marginal rarities.

    Surname: exact, similar (Jaro-Winkler >= 0.88 or one part of a double or compound
    surname in common), other. Address: same home (UPRN, or postcode and the house and flat
    numbers where a UPRN is missing), same postcode, same postcode sector (people who move
    within a borough mostly move nearby), different, unknown. Term frequencies apply to an
    exact surname only where the home is not shared: at one address a rare surname says
    "same family", not "same person"."""
    tf = (
        {"tf_adjustment_column": "surname", "disable_tf_exact_match_detection": True}
        if term_frequencies
        else {}
    )
    surnames = (
        (_SAME_SURNAME, "Same surname", tf),
        (_SIMILAR_SURNAME, "Similar surname", {}),
        (None, "Other surname", {}),
    )
    addresses = (
        (_SAME_HOME, "same home", False),
        (_SAME_POSTCODE, "same postcode, other home", False),
        (_SAME_SECTOR, "same postcode sector", True),
        (_ADDRESS_COMPARABLE, "different address", True),
        (None, "address unknown", True),
    )
    levels = [_null(f'NOT {_ADDRESS_COMPARABLE} AND ("surname_l" IS NULL OR "surname_r" IS NULL)')]
    for s_sql, s_label, s_tf in surnames:
        for a_sql, a_label, a_tf in addresses:
            parts = [x for x in (s_sql, a_sql) if x]
            sql = " AND ".join(parts) if parts else "ELSE"
            levels.append(_level(sql, f"{s_label}, {a_label}", **(s_tf if a_tf else {})))
    return {
        "output_column_name": "surname_address",
        "comparison_description": "Surname and address together (relatives share both)",
        "comparison_levels": levels,
    }


# Pairs scored at prediction time: a pair is compared if any rule holds. Each rule keeps its
# blocks small at a million records (no rule on postcode or surname alone).
PREDICTION_BLOCKING_RULES: list[str] = [
    'l."first_name_canonical" = r."first_name_canonical" AND l."surname" = r."surname"',
    'l."dob" = r."dob"',
    'l."uprn" = r."uprn"',
    'l."postcode" = r."postcode" AND l."first_name_canonical" = r."first_name_canonical"',
    'l."postcode" = r."postcode" AND l."surname" = r."surname"',
    'l."email" = r."email"',
    'l."national_id" = r."national_id"',
]

# EM training blocks: neither fixes the household. Same date of birth (relatives rarely share
# one), and same first name and surname (a father and son of the same name are the exception).
TRAINING_BLOCKING_RULES: list[str] = [
    'l."dob" = r."dob"',
    'l."first_name_canonical" = r."first_name_canonical" AND l."surname" = r."surname"',
]


# Link-only datasets: a dataset declared ``link_only = true`` holds each person at most once
# (FEBRL4's two files, a register with one entry a person), so no pair of two of its records is
# ever looked at: they are only linked to other datasets' records. The linkage input's optional
# boolean column ``link_only`` marks such records; the prepared records carry the dataset in
# ``link_only_dataset`` (null for every other record), and every blocking rule, for training
# and for prediction, gains ``LINK_ONLY_CONDITION`` when any record is link-only. A dataset that
# is not link-only is still deduplicated and linked to every other.
LINK_ONLY_COLUMN = "link_only"
LINK_ONLY_CONDITION = 'coalesce(l."link_only_dataset" <> r."link_only_dataset", true)'


def blocking_rules(rules: list[str], *, link_only: bool) -> list[str]:
    """``rules`` as they apply to records of which some are link-only (or none)."""
    return [f"{rule} AND {LINK_ONLY_CONDITION}" for rule in rules] if link_only else list(rules)


def settings(
    *,
    term_frequencies: bool = True,
    probability_two_random_records_match: float = 1e-5,
    link_only: bool = False,
) -> dict[str, Any]:
    """The Splink settings dictionary (untrained); ``link_only``: some records are link-only."""
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "rid",
        "comparisons": comparisons(term_frequencies=term_frequencies),
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": r}
            for r in blocking_rules(PREDICTION_BLOCKING_RULES, link_only=link_only)
        ],
        "probability_two_random_records_match": probability_two_random_records_match,
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": False,
        "additional_columns_to_retain": [],
        "em_convergence": 0.0001,
        "max_iterations": 25,
    }


# Optional columns of the linkage input: the days the source says the person began and
# stopped living at the record's address (ISO dates; null where the source does not say, or
# the record is open-ended). Only datasets whose period IS the residence give them: a council
# tax liability, a tenancy, a benefit claim (``period_is_residence`` in the dataset's
# configuration), not a permit's or a pass's issue and expiry, which renew on set dates for
# everyone. ``records_for_linkage(with_validity=True)`` gives them; without them the periods
# evidence below is unknown for every pair.
RESIDENCE_COLUMNS: tuple[str, ...] = ("resident_from", "resident_to")

# Two records' periods meet when one ends within ``PERIODS_MEET_DAYS`` of the other
# beginning: a council tax liability ends at the old home the day before, or the day, the new
# one begins at the new home. Within ``PERIODS_CLOSE_DAYS`` they are close: a source that
# records the move a little late.
PERIODS_MEET_DAYS = 1
PERIODS_CLOSE_DAYS = 31

# Moves: for each scored pair whose records are at two different known homes, two pieces of
# evidence that the pair is one person who moved (weighted in ``calibrate``):
#
# - ``moved_with``: does ANOTHER person (a different first name) also have a scored pair
#   between the same two homes? People move house with their household. 1 if so, 0 if not.
# - ``periods_meet``: does one record's period end within ``PERIODS_MEET_DAYS`` (value 2) or
#   ``PERIODS_CLOSE_DAYS`` (1) of the other's beginning, or not (0)? A move ends one
#   liability (tenancy, claim) and begins the next on the same day; namesakes' periods meet
#   only by chance. Null where a record has no start date (the electoral register keeps
#   none).
#
# A home is the UPRN, or for a record without one the UPRN that the same postcode and
# house/flat numbers have elsewhere in the data, or else the postcode and numbers themselves.
# Pairs without two known, different homes are left out (no evidence either way).
# ``{periods}`` is a table (rid, valid_from, valid_to) of residence dates, or an empty one.
#
# ``periods_chance`` counts, over all pairs of dated records at two different homes, those
# whose periods meet and those that are close (``meet_pairs``, ``close_pairs``, ``pairs``):
# the u of ``periods_meet``, counted exactly from the dates (every record ending on a day,
# times the records beginning within the window of it, less those at its own home) rather
# than from the scored pairs, where weak true matches would inflate it.
HOUSEHOLD_MOVES_SQL = """
CREATE OR REPLACE TEMP TABLE homes AS
WITH resolved AS (
    SELECT postcode, address_numbers, min(uprn) AS uprn
    FROM records
    WHERE uprn IS NOT NULL AND postcode IS NOT NULL AND address_numbers IS NOT NULL
    GROUP BY postcode, address_numbers
    HAVING count(DISTINCT uprn) = 1
)
SELECT r.rid, r.first_name_canonical AS first_name,
    coalesce('U' || r.uprn, 'U' || k.uprn, 'P' || r.postcode || '/' || r.address_numbers)
        AS home,
    d.valid_from, d.valid_to
FROM records r
LEFT JOIN resolved k ON k.postcode = r.postcode AND k.address_numbers = r.address_numbers
LEFT JOIN {periods} d ON d.rid = r.rid;

CREATE OR REPLACE TEMP TABLE moved_pairs AS
SELECT * EXCLUDE (dated, gap),
    CASE WHEN dated THEN
        CASE WHEN gap <= {meet_days} THEN 2 WHEN gap <= {close_days} THEN 1 ELSE 0 END
    END AS periods_meet
FROM (
    SELECT p.rid_l, p.rid_r, hl.home AS home_l, hr.home AS home_r,
        hl.first_name AS first_name_l, hr.first_name AS first_name_r,
        hl.valid_from IS NOT NULL AND hr.valid_from IS NOT NULL AS dated,
        least(
            coalesce(abs(date_diff('day', hl.valid_to, hr.valid_from)), {close_days} + 1),
            coalesce(abs(date_diff('day', hr.valid_to, hl.valid_from)), {close_days} + 1)
        ) AS gap
    FROM {pairs} p
    JOIN homes hl ON hl.rid = p.rid_l
    JOIN homes hr ON hr.rid = p.rid_r
    WHERE hl.home IS NOT NULL AND hr.home IS NOT NULL AND hl.home <> hr.home
);

CREATE OR REPLACE TEMP TABLE movers AS
SELECT DISTINCT home_l AS home_a, home_r AS home_b, first_name_l AS first_name
FROM moved_pairs WHERE first_name_l = first_name_r
UNION
SELECT DISTINCT home_r, home_l, first_name_r
FROM moved_pairs WHERE first_name_l = first_name_r;

CREATE OR REPLACE TABLE household_moves AS
SELECT m.rid_l, m.rid_r,
    CAST(count(v.first_name) > 0 AS INTEGER) AS moved_with,
    any_value(m.periods_meet) AS periods_meet,
    any_value(CAST(m.first_name_l = m.first_name_r AS INTEGER)) AS same_first_name
FROM moved_pairs m
LEFT JOIN movers v ON v.home_a = m.home_l AND v.home_b = m.home_r
    AND v.first_name <> m.first_name_l AND v.first_name <> m.first_name_r
GROUP BY m.rid_l, m.rid_r;

CREATE OR REPLACE TABLE periods_chance AS
WITH dated AS (SELECT home, valid_from, valid_to FROM homes WHERE valid_from IS NOT NULL),
ends AS (
    SELECT home, valid_to AS day, count(*) AS n FROM dated
    WHERE valid_to IS NOT NULL GROUP BY ALL
), starts AS (SELECT home, valid_from AS day, count(*) AS n FROM dated GROUP BY ALL),
all_ends AS (SELECT day, sum(n) AS n FROM ends GROUP BY day),
all_starts AS (SELECT day, sum(n) AS n FROM starts GROUP BY day),
per_home AS (SELECT count(*) AS n FROM dated GROUP BY home),
everywhere AS (
    SELECT abs(s.day - e.day) AS days, sum(e.n * s.n) AS n FROM all_ends e JOIN all_starts s
        ON s.day BETWEEN e.day - {close_days} AND e.day + {close_days} GROUP BY ALL
), at_home AS (
    SELECT abs(s.day - e.day) AS days, sum(e.n * s.n) AS n FROM ends e JOIN starts s
        ON s.home = e.home AND s.day BETWEEN e.day - {close_days} AND e.day + {close_days}
    GROUP BY ALL
)
SELECT
    (SELECT coalesce(sum(n), 0) FROM everywhere WHERE days <= {meet_days})
    - (SELECT coalesce(sum(n), 0) FROM at_home WHERE days <= {meet_days}) AS meet_pairs,
    (SELECT coalesce(sum(n), 0) FROM everywhere) - (SELECT coalesce(sum(n), 0) FROM at_home)
        AS close_pairs,
    (SELECT coalesce(sum(n), 0) * (coalesce(sum(n), 0) - 1) / 2 FROM per_home)
    - (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM per_home) AS pairs;

DROP TABLE homes;
DROP TABLE moved_pairs;
DROP TABLE movers;
"""


# -- the same model in Spark SQL ------------------------------------------------------------
#
# The comparisons and blocking rules above are DuckDB SQL, and every saved model carries them
# in that dialect. Splink on Spark runs the same model with its SQL spelt for Spark, which
# differs in two things only:
#
# - identifiers are quoted with backticks: in Spark SQL "first_name_l" is a string literal
#   (so a condition on two of them would compare two constants);
# - DuckDB's date_diff('day', a, b) is Spark's datediff(b, a).
#
# levenshtein, split_part, year/month/day, ``x::int``, abs and IN lists are spelt and behave
# the same in both. DuckDB's jaro_winkler_similarity is spelt duckdb_jaro_winkler: the
# pipeline registers that on the Spark session as DuckDB's own algorithm
# (``backends.register_spark_functions``), because the jaro_winkler of Splink's Scala jar,
# and Spark 4.3's built-in jaro_winkler_similarity (which a session function of that name
# does not override), compute a different Jaro-Winkler (the textbook match window) and would
# put some name pairs on other levels.

DIALECTS: tuple[str, ...] = ("duckdb", "spark")

_DATE_DIFF_DAYS = re.compile(r"date_diff\('day', (\"\w+\"), (\"\w+\")\)")
_QUOTED_IDENTIFIER = re.compile(r'"(\w+)"')
SPARK_JARO_WINKLER = "duckdb_jaro_winkler"


def spark_sql(sql: str) -> str:
    """One of the model's DuckDB SQL conditions or blocking rules, spelt for Spark SQL."""
    sql = _DATE_DIFF_DAYS.sub(r"datediff(\2, \1)", sql)
    sql = sql.replace("jaro_winkler_similarity(", f"{SPARK_JARO_WINKLER}(")
    return _QUOTED_IDENTIFIER.sub(r"`\1`", sql)


def _duckdb_sql() -> list[str]:
    """Every SQL string of the model (comparison levels and blocking rules), as DuckDB SQL."""
    levels = [
        level["sql_condition"]
        for comparison in comparisons()
        for level in comparison["comparison_levels"]
        if level["sql_condition"] != "ELSE"
    ]
    rules = [*PREDICTION_BLOCKING_RULES, *TRAINING_BLOCKING_RULES]
    return [*levels, *rules, *blocking_rules(rules, link_only=True)]


def for_dialect(model: dict[str, Any], dialect: str) -> dict[str, Any]:
    """``model`` (``settings()`` or a trained model's JSON) with its SQL in ``dialect``
    (``"duckdb"`` or ``"spark"``): the same comparisons, levels, parameters and blocking
    rules. A model already in ``dialect`` is returned as it is. Only this model's SQL is
    translated: a model holding other SQL (another model version, a hand edit) is refused."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r}; expected one of {DIALECTS}")
    source = model.get("sql_dialect", "duckdb")
    if source not in DIALECTS:
        raise ValueError(f"the model's SQL dialect {source!r} is not one of {DIALECTS}")
    if source == dialect:
        return model
    to_spark = {sql: spark_sql(sql) for sql in _duckdb_sql()}
    table = to_spark if dialect == "spark" else {s: d for d, s in to_spark.items()}

    def translate(sql: str) -> str:
        if sql == "ELSE":
            return sql
        if sql not in table:
            raise ValueError(
                f"the model holds SQL that is not model version {MODEL_VERSION}'s: {sql}"
            )
        return table[sql]

    out = copy.deepcopy(model)
    for comparison in out["comparisons"]:
        for level in comparison["comparison_levels"]:
            level["sql_condition"] = translate(level["sql_condition"])
    rules = []
    for rule in out.get("blocking_rules_to_generate_predictions", []):
        if isinstance(rule, str):
            rules.append(translate(rule))
        else:
            rule = {**rule, "blocking_rule": translate(rule["blocking_rule"])}
            if "sql_dialect" in rule:
                rule["sql_dialect"] = dialect
            rules.append(rule)
    if "blocking_rules_to_generate_predictions" in out:
        out["blocking_rules_to_generate_predictions"] = rules
    if "sql_dialect" in out or dialect != "duckdb":
        out["sql_dialect"] = dialect
    return out
