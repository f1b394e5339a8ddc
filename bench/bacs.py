"""Bacs Standard 18: write and validate a Direct Debit file for a council's rent run.

``size`` is the number of collections (default 30,000). Synthetic payers get bank details that
pass the modulus check for a handful of sort codes (drawn, then kept only if
``check_bank_details`` passes), a unique DD reference and an amount in pence; 1 in 10 also has a
0N instruction in the same file. Then, over ``ROUNDS`` rounds:

- ``write``: ``write_standard18`` (validates every item, formats every record, contra, labels);
- ``validate``: ``validate_standard18`` on the text just written (re-parses every field,
  recomputes the contra and UTL1 totals);
- ``baseline``: the same records formatted by a bare f-string with no checks and no layout
  table: the least a writer can do, measured in the same run because the machine is shared.

Target: 30,000 collections written and validated in at most 5 s (``total_s``, the median round).
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from collections.abc import Callable

DEFAULT_SIZE = 30_000
ROUNDS = 3
SEED = 18
TARGET_SECONDS = 5.0
# Sort codes of the Vocalink test vectors: MOD10, MOD11 and DBLAL weightings, some exceptions.
SORT_CODES = ("089999", "107999", "202959", "871427", "820000", "200915", "938611")


def _setup_django() -> None:
    # Only for settings (BOROUGH_MODULUS_DATA_DIR); nothing touches a database.
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "borough.settings")
    django.setup()


def _payers(size: int, progress: Callable[[str], None]) -> tuple[list, int]:
    from borough.housing.bacs.modulus import check_bank_details

    rng = random.Random(SEED)
    payers: list[tuple[str, str]] = []
    drawn = 0
    seen: set[tuple[str, str]] = set()
    while len(payers) < size:
        sort_code = rng.choice(SORT_CODES)
        account = f"{rng.randrange(10**8):08d}"
        drawn += 1
        if (sort_code, account) in seen:
            continue
        check = check_bank_details(sort_code, account)
        if check.ok and check.known_sort_code:
            seen.add((sort_code, account))
            payers.append((check.sort_code_digits, check.account_number))
            if len(payers) % 10_000 == 0:
                progress(f"{len(payers):,} modulus-valid payers from {drawn:,} draws")
    return payers, drawn


def _baseline(council, collections, options) -> str:
    """The same collection records and contra, formatted with no checks at all."""
    own = f"{council.sort_code.replace('-', '')}{council.account_number}"
    name = council.name.upper().ljust(18)[:18]
    lines = [
        f"{c.sort_code}{c.account_number}0{c.code}{own}    {c.amount_pence:011d}{name}"
        f"{c.reference.ljust(18)}{c.name.upper().ljust(18)[:18]}"
        for c in collections
    ]
    total = sum(c.amount_pence for c in collections)
    lines.append(f"{own}099{own}    {total:011d}{'DIRECT DEBITS':18}{'CONTRA':18}{name}")
    return options.line_ending.join(lines) + options.line_ending


def run(size: int | None, progress: Callable[[str], None]) -> dict:
    _setup_django()
    from borough.housing.bacs.standard18 import Collection, FileOptions, Instruction, ServiceUser
    from borough.housing.bacs.standard18_validator import validate_standard18
    from borough.housing.bacs.standard18_writer import write_standard18

    size = size or DEFAULT_SIZE
    rng = random.Random(SEED)
    started = time.perf_counter()
    payers, drawn = _payers(size, progress)
    generate_seconds = time.perf_counter() - started
    progress(f"{size:,} payers in {generate_seconds:.1f}s ({drawn:,} accounts drawn)")

    council = ServiceUser("123456", "Northmere Council", "08-99-99", "66374958")
    collections = [
        Collection(
            "17" if number % 25 else "01",
            sort_code,
            account,
            f"Tenant {number:06d}",
            rng.randrange(1_000, 250_000),
            f"NMR{number:08d}",
        )
        for number, (sort_code, account) in enumerate(payers)
    ]
    instructions = [
        Instruction("0N", c.sort_code, c.account_number, c.name, c.reference)
        for c in collections[::10]
    ]
    options = FileOptions(
        processing_date=dt.date(2026, 12, 23), creation_date=dt.date(2026, 12, 22)
    )

    rounds = []
    text = ""
    problems: list = []
    for number in range(1, ROUNDS + 1):
        t0 = time.perf_counter()
        text = write_standard18(council, instructions, collections, options)
        t1 = time.perf_counter()
        problems = validate_standard18(text)
        t2 = time.perf_counter()
        _baseline(council, collections, options)
        t3 = time.perf_counter()
        rounds.append(
            {"write_s": t1 - t0, "validate_s": t2 - t1, "total_s": t2 - t0, "baseline_s": t3 - t2}
        )
        progress(
            f"round {number}: write {t1 - t0:.3f}s, validate {t2 - t1:.3f}s, "
            f"baseline {t3 - t2:.3f}s, {len(problems)} problems"
        )

    lines = text.split("\r\n")[:-1]
    utl1 = lines[-1]
    expected_total = sum(c.amount_pence for c in collections)
    totals_match = (
        int(utl1[4:17]) == expected_total
        and int(utl1[17:30]) == expected_total
        and int(utl1[30:37]) == len(collections)
        and int(utl1[37:44]) == 1
        and int(utl1[52:59]) == len(instructions)
    )

    def median(key: str) -> float:
        return round(statistics.median(r[key] for r in rounds), 4)

    total_s = median("total_s")
    return {
        "unit": "collections",
        "collections": len(collections),
        "instructions": len(instructions),
        "records": len(lines),
        "file_bytes": len(text),
        "accounts_drawn_for_modulus": drawn,
        "generate_s": round(generate_seconds, 3),
        "rounds": ROUNDS,
        "write_s": median("write_s"),
        "validate_s": median("validate_s"),
        "total_s": total_s,
        "baseline_s": median("baseline_s"),
        "write_to_baseline_ratio": round(median("write_s") / median("baseline_s"), 2),
        "collections_per_second": round(len(collections) / total_s),
        "rounds_total_s": [round(r["total_s"], 4) for r in rounds],
        "problems_found": len(problems),
        "totals_match": totals_match,
        "target_s": TARGET_SECONDS,
        "target_met": total_s <= TARGET_SECONDS and not problems and totals_match,
    }
