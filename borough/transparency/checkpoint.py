"""Signed checkpoints of the data-use log: C2SP tlog-checkpoint inside a C2SP signed note.

A checkpoint's text is three lines, each ending in a newline::

    <origin>
    <tree size, decimal>
    <root hash, base64>

A signed note is that text, a blank line, then one line per signature::

    — <key name> <base64(4-byte key ID || 64-byte Ed25519 signature)>

The signature is over the text (everything before the blank line, including its final newline).
The key ID is the first four bytes of SHA-256(key name || 0x0A || 0x01 || 32-byte public key).
Keys are written as golang.org/x/mod/sumdb/note writes them:

* verifier key ``<name>+<key ID, 8 hex digits>+<base64(0x01 || public key)>``, published so
  anyone can check checkpoints;
* signing key ``PRIVATE+KEY+<name>+<key ID>+<base64(0x01 || 32-byte seed)>``, secret.

Ed25519 is the ``cryptography`` package's. The signing key comes from
``settings.TRANSPARENCY_LOG_SIGNING_KEY`` (env ``BOROUGH_LOG_SIGNING_KEY``: the key itself or the
path of a file holding it); outside production, when it is not set, one is generated once into
``DATA_DIR/log_signing_key`` (mode 0600).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

ALG_ED25519 = 0x01
SIG_PREFIX = "\u2014 "  # an em dash and a space
MAX_SIGNATURES = 100


class NoteError(ValueError):
    """A key, note or checkpoint is malformed, or its signature does not verify."""


def _valid_name(name: str) -> bool:
    return bool(name) and name.isprintable() and not any(c in name for c in "+ \t\n")


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte key ID: SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what} is not base64") from None


@dataclass(frozen=True)
class Verifier:
    name: str
    key_id: bytes
    public_key: Ed25519PublicKey

    @classmethod
    def from_key(cls, vkey: str) -> Verifier:
        """Parse ``name+hash+base64(0x01||pubkey)``; the hash must match the key."""
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3 or not _valid_name(parts[0]) or len(parts[1]) != 8:
            raise NoteError("a verifier key is name+hash+key")
        name, hex_id, data = parts
        raw = _b64decode(data, "the verifier key")
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise NoteError("the verifier key is not an Ed25519 key")
        kid = key_id(name, raw[1:])
        if kid.hex() != hex_id.lower():
            raise NoteError("the verifier key's hash does not match its key")
        return cls(name, kid, Ed25519PublicKey.from_public_bytes(raw[1:]))

    def key_text(self) -> str:
        """The key as it is published: ``name+hash+base64(0x01||pubkey)``."""
        data = base64.b64encode(bytes([ALG_ED25519]) + self.public_key.public_bytes_raw())
        return f"{self.name}+{self.key_id.hex()}+{data.decode()}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            self.public_key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    name: str
    key_id: bytes
    private_key: Ed25519PrivateKey

    @classmethod
    def from_key(cls, skey: str) -> Signer:
        """Parse ``PRIVATE+KEY+name+hash+base64(0x01||seed)``."""
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"] or not _valid_name(parts[2]):
            raise NoteError("a signing key is PRIVATE+KEY+name+hash+key")
        name, hex_id, data = parts[2:]
        raw = _b64decode(data, "the signing key")
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise NoteError("the signing key is not an Ed25519 key")
        private = Ed25519PrivateKey.from_private_bytes(raw[1:])
        signer = cls(name, key_id(name, _public_bytes(private)), private)
        if signer.key_id.hex() != hex_id.lower():
            raise NoteError("the signing key's hash does not match its key")
        return signer

    @classmethod
    def generate(cls, name: str) -> Signer:
        if not _valid_name(name):
            raise NoteError("a key name has no spaces or plus signs")
        private = Ed25519PrivateKey.generate()
        return cls(name, key_id(name, _public_bytes(private)), private)

    def private_key_text(self) -> str:
        seed = self.private_key.private_bytes_raw()
        data = base64.b64encode(bytes([ALG_ED25519]) + seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{data}"

    def verifier_key(self) -> str:
        data = base64.b64encode(bytes([ALG_ED25519]) + _public_bytes(self.private_key)).decode()
        return f"{self.name}+{self.key_id.hex()}+{data}"

    def verifier(self) -> Verifier:
        return Verifier.from_key(self.verifier_key())

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)


def _public_bytes(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


# --- signed notes -----------------------------------------------------------------------------


def sign_note(text: str, signer: Signer) -> str:
    """The signed note: ``text`` (which must end in a newline), a blank line, a signature line."""
    if not text.endswith("\n") or "\n\n" in text or text.startswith("\n"):
        raise NoteError("a note's text ends in a newline and has no blank line")
    sig = signer.sign(text.encode())
    return f"{text}\n{SIG_PREFIX}{signer.name} {base64.b64encode(signer.key_id + sig).decode()}\n"


def open_note(note: str, verifier: Verifier) -> str:
    """Return the text of ``note`` if it carries a good signature by ``verifier``.

    Signatures by other keys are ignored (as the C2SP spec allows); a signature claiming the
    verifier's name and key ID that does not verify is an error, as is no signature at all.
    """
    text, sep, sigs = note.rpartition("\n\n")
    if not sep or not sigs.endswith("\n"):
        raise NoteError("the note has no signature block")
    text += "\n"
    lines = sigs[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError("the note has too many signatures")
    found = False
    for line in lines:
        if not line.startswith(SIG_PREFIX):
            raise NoteError("a signature line does not start with an em dash")
        name, space, data = line[len(SIG_PREFIX) :].partition(" ")
        if not space or not _valid_name(name):
            raise NoteError("a signature line is malformed")
        raw = _b64decode(data, "a signature")
        if len(raw) < 5:
            raise NoteError("a signature is too short")
        if name != verifier.name or raw[:4] != verifier.key_id:
            continue
        if not verifier.verify(text.encode(), raw[4:]):
            raise NoteError(f"the signature by {name}+{verifier.key_id.hex()} does not verify")
        found = True
    if not found:
        raise NoteError(f"the note is not signed by {verifier.name}+{verifier.key_id.hex()}")
    return text


# --- checkpoints ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("a checkpoint has an origin, a size and a root hash")
        origin, size, root = lines[:3]
        if not origin or not size.isascii() or not size.isdigit() or size != str(int(size)):
            raise NoteError("the checkpoint's origin or size is malformed")
        digest = _b64decode(root, "the checkpoint's root hash")
        if len(digest) != 32:
            raise NoteError("the checkpoint's root hash is not 32 bytes")
        return cls(origin, int(size), digest)


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> str:
    return sign_note(checkpoint.text(), signer)


def open_checkpoint(note: str, verifier: Verifier, origin: str | None = None) -> Checkpoint:
    """Verify the signature on a checkpoint note and parse it; check the origin if given."""
    checkpoint = Checkpoint.parse(open_note(note, verifier))
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"the checkpoint is for {checkpoint.origin!r}, not {origin!r}")
    return checkpoint


# --- the council's key ------------------------------------------------------------------------


def log_origin() -> str:
    return settings.TRANSPARENCY_LOG_ORIGIN


def load_signer() -> Signer:
    """The log's signing key: from settings, or (outside production) the data folder's."""
    configured = getattr(settings, "TRANSPARENCY_LOG_SIGNING_KEY", "")
    if configured:
        if configured.startswith("PRIVATE+KEY+"):
            return Signer.from_key(configured)
        return Signer.from_key(Path(configured).read_text())
    if getattr(settings, "PRODUCTION", False):
        raise ImproperlyConfigured(
            "BOROUGH_LOG_SIGNING_KEY is not set. In production the data-use log's signing key "
            "comes from the environment: generate one with `borough transparency keygen`."
        )
    path = Path(settings.DATA_DIR) / "log_signing_key"
    try:
        return Signer.from_key(path.read_text())
    except FileNotFoundError:
        pass
    signer = Signer.generate(log_origin())
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return Signer.from_key(path.read_text())
    with os.fdopen(fd, "w") as f:
        f.write(signer.private_key_text() + "\n")
    return signer


def load_verifier() -> Verifier:
    """The verifier key checkpoints are checked against (the signing key's public half)."""
    configured = getattr(settings, "TRANSPARENCY_LOG_VERIFIER_KEY", "")
    if configured:
        return Verifier.from_key(configured)
    return load_signer().verifier()
