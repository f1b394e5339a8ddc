"""The reason codes of the Bacs reports and what to do about each (A1 of the domain brief,
which cites Access PaySuite, PT-X and Numeral), as data: ``ARUDD_REASONS``, ``ADDACS_REASONS``
and ``AUDDIS_REASONS`` map a code to ``Reason(code, meaning, action)``;
``ARUDD_DESCRIPTION_REASONS`` maps an ARUDD ``returnDescription`` to its code for files whose
``returnCode`` is a four-digit Bacs code."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Reason:
    code: str
    meaning: str
    action: str


def _table(*rows: tuple[str, str, str]) -> Mapping[str, Reason]:
    return MappingProxyType({code: Reason(code, meaning, action) for code, meaning, action in rows})


#: ARUDD reason codes (A1).
ARUDD_REASONS = _table(
    (
        "0",
        "Refer to payer",
        "Re-present (code 18) within 1 month of the original processing day; tell the "
        "payer about 5 working days before",
    ),
    ("1", "Instruction cancelled", "Mark the instruction cancelled; agree another way to pay"),
    ("2", "Payer deceased", "Cancel; start the bereavement process"),
    ("3", "Account transferred", "Suspend; get a new instruction unless new details arrived"),
    ("4", "Advance notice disputed", "Stop collecting until it is resolved"),
    ("5", "No account (or wrong account type)", "Cancel; get a new instruction"),
    ("6", "No instruction", "Re-lodge (0N) or get a new instruction"),
    ("7", "Amount differs", "Fix the amount or the advance notice"),
    ("8", "Amount not yet due", "Fix the date or the advance notice"),
    ("9", "Presentation overdue", "Collected too late (over 1 month); notify again"),
    ("A", "Service user differs", "Check the SUN and the reference"),
    ("B", "Account closed", "Cancel; get a new instruction"),
)

#: ARUDD ``returnDescription`` → reason code, for files whose ``returnCode`` is a four-digit
#: Bacs code. Matched on the upper-cased description with spaces collapsed.
ARUDD_DESCRIPTION_REASONS: Mapping[str, str] = MappingProxyType(
    {
        "REFER TO PAYER": "0",
        "INSTRUCTION CANCELLED": "1",
        "PAYER DECEASED": "2",
        "ACCOUNT TRANSFERRED": "3",
        "ADVANCE NOTICE DISPUTED": "4",
        "NO ACCOUNT": "5",
        "NO INSTRUCTION": "6",
        "AMOUNT DIFFERS": "7",
        "AMOUNT NOT YET DUE": "8",
        "PRESENTATION OVERDUE": "9",
        "SERVICE USER DIFFERS": "A",
        "ORIGINATOR DIFFERS": "A",
        "ACCOUNT CLOSED": "B",
    }
)

#: ADDACS reason codes (A1).
ADDACS_REASONS = _table(
    (
        "0",
        "Instruction cancelled by the bank: refer to payer",
        "Cancel; a new instruction is needed for another account",
    ),
    (
        "1",
        "Instruction cancelled by the payer",
        "Cancel; arrange another way to pay; chase arrears",
    ),
    ("2", "Payer deceased", "Cancel"),
    (
        "3",
        "Account transferred to a new bank",
        "With new details: update and send 0N for the new account (no 0C to the old bank). "
        "Old details only: suspend and get a new instruction",
    ),
    ("B", "Account closed", "Cancel; get a new instruction"),
    (
        "C",
        "Account transferred to another branch, new details supplied",
        "Update the bank details and keep collecting; no 0C/0N pair",
    ),
    ("D", "Advance notice disputed", "Stop collecting until it is resolved"),
    ("E", "Instruction amended", "Update and keep collecting; no 0C/0N pair"),
    ("R", "Instruction reinstated", "Reactivate the instruction"),
)

#: AUDDIS rejection codes (A1): 1, 2, 3, B and C mean what they mean in ADDACS.
AUDDIS_REASONS = _table(
    ("1", "Instruction cancelled by the payer", "Cancel; arrange another way to pay"),
    ("2", "Payer deceased", "Cancel"),
    ("3", "Account transferred", "Get the new details and lodge a new instruction"),
    ("5", "No account", "Check the details with the payer; new instruction"),
    ("6", "No instruction", "Lodge a new instruction"),
    ("B", "Account closed", "Get a new instruction for another account"),
    ("C", "Account transferred to another branch", "Update the bank details and re-lodge"),
    ("F", "Invalid account type", "Ask the payer for an account that takes Direct Debits"),
    ("G", "Bank will not accept Direct Debits on this account", "Ask for another account"),
    ("H", "Instruction has expired", "Get a new instruction"),
    ("I", "Payer reference is not unique", "Give the instruction a unique reference"),
    ("K", "Instruction cancelled by the bank", "Get a new instruction"),
    ("L", "Incorrect payer's account details", "Check the details with the payer"),
    ("M", "Transaction code / user status incompatible", "Check with the sponsoring bank"),
    ("N", "Transaction disallowed at the payer's branch", "Ask for another account"),
    ("O", "Invalid reference", "Fix the reference and re-lodge"),
    ("P", "Payer's name not present", "Add the payer's name and re-lodge"),
    ("Q", "Service user name is blank", "Fix the council's name in the file"),
)
