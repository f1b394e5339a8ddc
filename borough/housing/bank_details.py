"""Tenants' bank details: encrypted at rest with a rotatable key, shown only masked.

- The keys are Fernet keys from ``BOROUGH_BANK_DETAILS_KEYS`` (comma-separated). The first
  encrypts; every one decrypts (``MultiFernet``), so a council rotates by putting a new key first,
  running ``borough housing rotate-bank-key`` (``rotate_all``), then dropping the old key.
- Outside production, with no keys set, one is generated once and kept in the data folder
  (``bank_details_key``, mode 0600), as the development secret key is. In production a missing
  key is ``ImproperlyConfigured`` (the settings refuse to load).
- Bank details are never logged and never shown in full: pages and emails use
  ``Mandate.masked``. Nothing here puts a value in an exception message.
- ``payer_bank_key`` is a keyed hash (HMAC-SHA256) of a sort code and account, for recognising a
  payer on a bank statement again without keeping their bank details.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from borough.housing.bacs import modulus

KEY_FILE_NAME = "bank_details_key"


class BankDetailsError(ValueError):
    """A token that none of the keys can decrypt (the key was dropped too soon, or the data is
    not ours)."""


def load_or_create_key(path: Path) -> str:
    """A development Fernet key, generated once and kept in the data folder (mode 0600)."""
    if path.exists():
        key = path.read_text().strip()
        if key:
            return key
    key = Fernet.generate_key().decode("ascii")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def _keys() -> list[str]:
    keys = [k.strip() for k in getattr(settings, "BOROUGH_BANK_DETAILS_KEYS", []) or [] if k]
    if keys:
        return keys
    if getattr(settings, "PRODUCTION", False):
        raise ImproperlyConfigured("BOROUGH_BANK_DETAILS_KEYS is not set")
    return [load_or_create_key(Path(settings.DATA_DIR) / KEY_FILE_NAME)]


def _fernet() -> MultiFernet:
    fernets = []
    for number, key in enumerate(_keys(), start=1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError) as error:
            raise ImproperlyConfigured(
                f"BOROUGH_BANK_DETAILS_KEYS: key {number} is not a Fernet key"
            ) from error
    return MultiFernet(fernets)


def encrypt(text: str) -> str:
    """``text`` encrypted with the current key (a URL-safe ASCII token)."""
    return _fernet().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """The text of a token made by ``encrypt`` under any of the configured keys."""
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        raise BankDetailsError("The bank details cannot be decrypted with the keys set") from None


def store(mandate, *, sort_code_digits: str, account_number: str) -> None:
    """Put encrypted bank details and their shown last digits on ``mandate`` (not saved)."""
    mandate.sort_code_encrypted = encrypt(sort_code_digits)
    mandate.account_number_encrypted = encrypt(account_number)
    mandate.sort_code_last2 = sort_code_digits[-2:]
    mandate.account_number_last4 = account_number[-4:]


def details_of(mandate) -> tuple[str, str]:
    """The mandate's sort code (6 digits) and account number (8 digits), for a Bacs file only."""
    return decrypt(mandate.sort_code_encrypted), decrypt(mandate.account_number_encrypted)


def rotate_all() -> int:
    """Re-encrypt every mandate's bank details with the current key; how many mandates."""
    from borough.housing.models import Mandate

    fernet = _fernet()
    count = 0
    with transaction.atomic():
        # A mandate retention anonymised has no bank details left to re-encrypt.
        live = Mandate.objects.select_for_update().filter(anonymised_at__isnull=True)
        for mandate in live.order_by("pk"):
            try:
                mandate.sort_code_encrypted = fernet.rotate(
                    mandate.sort_code_encrypted.encode("ascii")
                ).decode("ascii")
                mandate.account_number_encrypted = fernet.rotate(
                    mandate.account_number_encrypted.encode("ascii")
                ).decode("ascii")
            except InvalidToken:
                raise BankDetailsError(
                    f"Mandate {mandate.reference}: its bank details cannot be decrypted with the "
                    "keys set; nothing was re-encrypted"
                ) from None
            mandate.save(update_fields=["sort_code_encrypted", "account_number_encrypted"])
            count += 1
    return count


def _payer_key() -> bytes:
    return _derive_payer_key(getattr(settings, "BOROUGH_PAYER_KEY", ""), settings.SECRET_KEY)


@functools.lru_cache(maxsize=4)
def _derive_payer_key(dedicated: str, secret_key: str) -> bytes:
    # Derived once per key, not once per statement line (100,000 a statement).
    if dedicated:
        return dedicated.encode("utf-8")
    return hmac.new(
        secret_key.encode("utf-8"), b"borough.housing.payer_bank_key", hashlib.sha256
    ).digest()


def payer_bank_key(sort_code: str, account: str) -> str:
    """A keyed hash (HMAC-SHA256, 64 hex characters) of a payer's bank account, the same however
    the numbers were written ("08-99-99" or "089999"; a 6 or 7 digit account padded to 8; 9 and
    10 digit accounts as Bacs reads them). Values that are not a UK sort code and account (a
    statement can carry anything) are hashed as their letters and digits, so this never fails
    on a statement line. The key is ``BOROUGH_PAYER_KEY``, or one derived from ``SECRET_KEY``."""
    normalised = None
    sort_digits = modulus.normalise_sort_code(sort_code or "")
    if sort_digits is not None:
        normalised = modulus.normalise_account(sort_digits, account or "")
    if normalised is not None:
        message = f"{normalised[0]}:{normalised[1]}"
    else:
        message = "raw:{}:{}".format(
            *(
                "".join(ch for ch in (value or "").upper() if ch.isalnum())
                for value in (sort_code, account)
            )
        )
    return hmac.new(_payer_key(), message.encode("utf-8"), hashlib.sha256).hexdigest()
