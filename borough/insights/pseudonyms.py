"""Pseudonymised keys: a keyed HMAC-SHA256 of a kind and a source value, truncated to 16 hex
characters (64 bits). The key is ``BOROUGH_WAREHOUSE_KEY``, or one derived from ``SECRET_KEY``
(set it if the secret key may ever change, or every key in the warehouse changes with it).

The same value gives the same key in every build, so incremental builds and joins work; without
the warehouse key nobody can compute a key from a resident ID or turn a key back into one.

Computed inside DuckDB (``install_macro``) so the build never holds millions of Python strings:
HMAC(K, m) = SHA256((K ⊕ opad) ‖ SHA256((K ⊕ ipad) ‖ m)), with both pads bound as BLOBs.
"""

from __future__ import annotations

import functools
import hashlib
import hmac

from django.conf import settings

LENGTH = 16


@functools.lru_cache(maxsize=4)
def _derive(dedicated: str, secret_key: str) -> bytes:
    if dedicated:
        return dedicated.encode("utf-8")
    return hmac.new(
        secret_key.encode("utf-8"), b"borough.insights.warehouse_key", hashlib.sha256
    ).digest()


def warehouse_key() -> bytes:
    return _derive(getattr(settings, "BOROUGH_WAREHOUSE_KEY", ""), settings.SECRET_KEY)


def pseudonym(kind: str, value: object, key: bytes | None = None) -> str:
    """The pseudonymised key of ``value`` (a resident ID, a row's ID, …) of ``kind``."""
    message = f"{kind}:{value}".encode()
    return hmac.new(key or warehouse_key(), message, hashlib.sha256).hexdigest()[:LENGTH]


def _pads(key: bytes) -> tuple[bytes, bytes]:
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def install_macro(con, key: bytes | None = None) -> None:
    """Define ``pseudonym(kind, value)`` in the DuckDB connection ``con``: NULL or '' → NULL."""
    inner, outer = _pads(key or warehouse_key())
    con.execute(
        "CREATE OR REPLACE TEMP MACRO pseudonym(kind, v) AS CASE WHEN v IS NULL "
        "OR v::VARCHAR = '' THEN NULL ELSE left(sha256("
        f"'{_blob_literal(outer)}'::BLOB || unhex(sha256('{_blob_literal(inner)}'::BLOB"
        f" || (kind || ':' || v::VARCHAR)::BLOB))), {LENGTH}) END"
    )


def _blob_literal(data: bytes) -> str:
    return "".join(f"\\x{b:02X}" for b in data)
