"""Sort code and account number checks: the Vocalink modulus check, through ``uk-mod-check``.

``check_bank_details(sort_code, account_number)`` normalises what a resident typed and says, in
GOV.UK words, what is wrong. A pass means the account *could* exist, not that it does or whose it
is. A sort code missing from the weight table cannot be checked: it passes with
``known_sort_code=False`` (the library's behaviour, and Vocalink's advice).

Vocalink republishes ``valacdos.txt`` and ``scsubtab.txt`` a few times a year. The copies bundled
with ``uk-mod-check`` are used unless the ``BOROUGH_MODULUS_DATA_DIR`` setting names a folder
holding both files, so a council can load the latest without a new release.

``uk-mod-check`` keeps its tables in two module globals (``mod_rules``, ``code_subs``) and offers
no other hook, so loading other tables replaces those globals for the whole process. The
replacement table also remembers each sort code's rules: the library scans all 1,100-odd rows
for every check otherwise.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

import uk_mod_check
from uk_mod_check import data_parser

BUNDLED_DATA_DIR = Path(uk_mod_check.__file__).resolve().parent / "data"
BUNDLED_WEIGHTS = BUNDLED_DATA_DIR / "weights.txt"
BUNDLED_SUBSTITUTIONS = BUNDLED_DATA_DIR / "subs.txt"
#: The file names Vocalink publishes, looked for in ``BOROUGH_MODULUS_DATA_DIR``.
WEIGHTS_FILE_NAME = "valacdos.txt"
SUBSTITUTIONS_FILE_NAME = "scsubtab.txt"

SORT_CODE_MESSAGE = "Enter a valid sort code like 30-99-50"
ACCOUNT_MESSAGE = "Enter a valid account number like 00733445"
MISMATCH_MESSAGE = "Enter a valid sort code and account number: the numbers do not match"
SORT_CODE_MISSING_MESSAGE = "Enter a sort code"
ACCOUNT_MISSING_MESSAGE = "Enter an account number"

# Separators people type between the digits; anything else makes the value invalid.
_SEPARATORS = re.compile(r"[\s\-–—]+")
_DIGITS = re.compile(r"\d+")

#: 10-digit accounts: which 8 digits Bacs uses, by sort code prefix (K: Vocalink's notes on
#: non-standard account numbers). The Co-operative Bank (08-xx-xx) uses the first eight;
#: NatWest and others the last eight. A council can correct this table.
TEN_DIGIT_FIRST_EIGHT_PREFIXES: tuple[str, ...] = ("08",)


class ModulusDataError(ValueError):
    """A modulus data file that cannot be read."""


@dataclass(frozen=True)
class BankCheck:
    """The outcome of a check. ``sort_code`` ("08-99-99") and ``account_number`` (8 digits) are
    the Bacs-ready values when the format was understood, else empty. ``field`` names the field
    the message belongs to ("sort_code", "account_number", or ``None`` when both or neither)."""

    ok: bool
    message: str
    sort_code: str
    account_number: str
    known_sort_code: bool
    field: str | None = None

    @property
    def sort_code_digits(self) -> str:
        return self.sort_code.replace("-", "")


class _IndexedModRules(data_parser.ModRules):
    """The library's rule table, remembering the rules found for each sort code."""

    def __init__(self, rules: list[data_parser.ModRule]) -> None:
        super().__init__(rules=rules)
        self._found: dict[int, list[data_parser.ModRule]] = {}

    def find_rule(self, sort_code: int) -> list[data_parser.ModRule]:
        found = self._found.get(sort_code)
        if found is None:
            found = super().find_rule(sort_code)
            self._found[sort_code] = found
        return found


def _read_lines(path: Path, parse):
    rows = []
    try:
        text = path.read_text(encoding="ascii", errors="strict")
    except FileNotFoundError as error:
        raise ModulusDataError(f"{path}: file not found") from error
    except (OSError, UnicodeDecodeError) as error:
        raise ModulusDataError(f"{path}: cannot be read ({error})") from error
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(parse(line))
        except (ValueError, IndexError) as error:
            raise ModulusDataError(f"{path}, line {number}: not a valid row: {line!r}") from error
    if not rows:
        raise ModulusDataError(f"{path}: no rows")
    return rows


def load_modulus_tables(
    weights: Path, substitutions: Path
) -> tuple[data_parser.ModRules, data_parser.CodeSubstitutions]:
    """Read a weight table (valacdos format) and a substitution table (scsubtab format)."""
    rules = _IndexedModRules(rules=_read_lines(weights, data_parser.ModRule.from_line))
    subs = data_parser.CodeSubstitutions(
        rules=_read_lines(substitutions, data_parser.CodeSubstitution.from_line)
    )
    return rules, subs


_lock = threading.Lock()
_loaded_from: str | None = None  # "" = bundled files


def _configured_data_dir() -> str:
    try:
        from django.conf import settings

        if settings.configured:
            return str(getattr(settings, "BOROUGH_MODULUS_DATA_DIR", "") or "")
    except ImportError:  # pragma: no cover - Django is a dependency, but the module is pure
        pass
    return ""


def modulus_data_files() -> tuple[Path, Path]:
    """The weight and substitution files in use (from the setting, or the bundled ones)."""
    data_dir = _configured_data_dir()
    if not data_dir:
        return BUNDLED_WEIGHTS, BUNDLED_SUBSTITUTIONS
    folder = Path(data_dir)
    return folder / WEIGHTS_FILE_NAME, folder / SUBSTITUTIONS_FILE_NAME


def _ensure_tables() -> None:
    global _loaded_from
    data_dir = _configured_data_dir()
    if data_dir == _loaded_from:
        return
    with _lock:
        if data_dir == _loaded_from:
            return
        rules, subs = load_modulus_tables(*modulus_data_files())
        uk_mod_check.mod_rules = rules
        uk_mod_check.code_subs = subs
        _loaded_from = data_dir


def normalise_sort_code(value: str) -> str | None:
    """Six digits, or ``None``. Spaces and dashes between digits are allowed."""
    digits = _SEPARATORS.sub("", value or "")
    if len(digits) == 6 and _DIGITS.fullmatch(digits):
        return digits
    return None


def normalise_account(sort_code: str, value: str) -> tuple[str, str] | None:
    """The Bacs sort code and 8-digit account for a 6 to 10 digit account number, or ``None``.

    - 6 or 7 digits: padded with leading zeros.
    - 8 digits: as given.
    - 9 digits (Santander): the first digit replaces the sort code's last digit, and the
      remaining eight are the account.
    - 10 digits: the first eight for sort codes in ``TEN_DIGIT_FIRST_EIGHT_PREFIXES``
      (Co-operative Bank), the last eight otherwise (NatWest and others).
    """
    digits = _SEPARATORS.sub("", value or "")
    if not _DIGITS.fullmatch(digits or "x"):
        return None
    if len(digits) in (6, 7, 8):
        return sort_code, digits.zfill(8)
    if len(digits) == 9:
        return sort_code[:5] + digits[0], digits[1:]
    if len(digits) == 10:
        if sort_code.startswith(TEN_DIGIT_FIRST_EIGHT_PREFIXES):
            return sort_code, digits[:8]
        return sort_code, digits[2:]
    return None


def format_sort_code(digits: str) -> str:
    return f"{digits[0:2]}-{digits[2:4]}-{digits[4:6]}"


def check_bank_details(sort_code: str, account_number: str) -> BankCheck:
    """Normalise and modulus-check a sort code and account number.

    A failed check blocks lodging an instruction (A1, step 2); the message says what to fix.
    """
    if not (sort_code or "").strip():
        return BankCheck(False, SORT_CODE_MISSING_MESSAGE, "", "", False, "sort_code")
    sort_digits = normalise_sort_code(sort_code)
    if sort_digits is None:
        return BankCheck(False, SORT_CODE_MESSAGE, "", "", False, "sort_code")
    if not (account_number or "").strip():
        return BankCheck(
            False,
            ACCOUNT_MISSING_MESSAGE,
            format_sort_code(sort_digits),
            "",
            False,
            "account_number",
        )
    normalised = normalise_account(sort_digits, account_number)
    if normalised is None:
        return BankCheck(
            False, ACCOUNT_MESSAGE, format_sort_code(sort_digits), "", False, "account_number"
        )
    sort_digits, account = normalised
    _ensure_tables()
    result = uk_mod_check.validate(int(sort_digits), int(account))
    ok = bool(result.result)
    return BankCheck(
        ok=ok,
        message="" if ok else MISMATCH_MESSAGE,
        sort_code=format_sort_code(sort_digits),
        account_number=account,
        known_sort_code=bool(result.known_sort_code),
        field=None,
    )


def passes_modulus(sort_code_digits: str, account_digits: str) -> bool:
    """The bare check on an already-normalised 6-digit sort code and 8-digit account."""
    _ensure_tables()
    return bool(uk_mod_check.validate(int(sort_code_digits), int(account_digits)).result)
