"""Signed notes and checkpoints, against golang.org/x/mod/sumdb/note's published vectors.

The key pair, text and signatures below are copied from ``sumdb/note/note_test.go`` of
github.com/golang/mod (BSD 3-Clause), see ``vectors/SOURCE.md``.
"""

import base64
import os
import stat

import pytest

from borough.transparency import checkpoint as cp

PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdng"
    "otpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWL"
    "ox33WWd1RvMc+QQ=\n"
)


def test_the_go_signing_key_gives_the_go_verifier_key():
    signer = cp.Signer.from_key(PETER_SKEY)
    assert signer.key_id.hex() == "c74f20a3"
    assert signer.verifier_key() == PETER_VKEY
    assert signer.private_key_text() == PETER_SKEY


def test_signing_the_go_text_gives_the_go_signature():
    # Ed25519 is deterministic, so the note must match byte for byte.
    assert cp.sign_note(TEXT, cp.Signer.from_key(PETER_SKEY)) == TEXT + "\n" + PETER_SIG


def test_the_go_note_opens_with_its_key_and_ignores_another_signer():
    peter = cp.Verifier.from_key(PETER_VKEY)
    enoch = cp.Verifier.from_key(ENOCH_VKEY)
    note = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert cp.open_note(note, peter) == TEXT
    assert cp.open_note(note, enoch) == TEXT
    with pytest.raises(cp.NoteError, match="not signed by"):
        cp.open_note(TEXT + "\n" + ENOCH_SIG, peter)


def test_a_changed_text_or_signature_is_refused():
    peter = cp.Verifier.from_key(PETER_VKEY)
    with pytest.raises(cp.NoteError, match="does not verify"):
        cp.open_note(TEXT.replace("answer", "question") + "\n" + PETER_SIG, peter)
    broken = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(cp.NoteError):
        cp.open_note(TEXT + "\n" + broken, peter)
    with pytest.raises(cp.NoteError):
        cp.open_note(TEXT, peter)


@pytest.mark.parametrize(
    "bad",
    [
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3",
    ],
)
def test_bad_verifier_keys_are_refused(bad):
    with pytest.raises(cp.NoteError):
        cp.Verifier.from_key(bad)


def test_a_checkpoint_round_trips_and_a_forged_one_is_refused():
    signer = cp.Signer.generate("example.org/log")
    root = bytes(range(32))
    note = cp.sign_checkpoint(cp.Checkpoint("example.org/log", 12, root), signer)
    assert note.startswith(f"example.org/log\n12\n{base64.b64encode(root).decode()}\n\n\u2014 ")
    assert cp.open_checkpoint(note, signer.verifier(), "example.org/log") == cp.Checkpoint(
        "example.org/log", 12, root
    )
    with pytest.raises(cp.NoteError, match="not 'other'"):
        cp.open_checkpoint(note, signer.verifier(), "other")
    # Same key name, another key: the key ID differs, so the note is not signed by "us".
    impostor = cp.Signer.generate("example.org/log")
    forged = cp.sign_checkpoint(cp.Checkpoint("example.org/log", 12, bytes(32)), impostor)
    with pytest.raises(cp.NoteError):
        cp.open_checkpoint(forged, signer.verifier())
    # Our key ID on someone else's signature: it does not verify.
    body, _, sigline = forged.rpartition("\n\n")
    raw = base64.b64decode(sigline.split(" ")[2])
    relabelled = (
        f"{body}\n\n\u2014 example.org/log {base64.b64encode(signer.key_id + raw[4:]).decode()}\n"
    )
    with pytest.raises(cp.NoteError, match="does not verify"):
        cp.open_checkpoint(relabelled, signer.verifier())


@pytest.mark.parametrize(
    "text",
    ["o\n12\n", "o\n012\nAAAA\n", "o\n-1\n" + "A" * 43 + "=\n", "o\n1\nAAAA\n", "o\n1\n!!\n"],
)
def test_malformed_checkpoints_are_refused(text):
    with pytest.raises(cp.NoteError):
        cp.Checkpoint.parse(text)


def test_a_development_key_is_made_once_in_the_data_folder(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.TRANSPARENCY_LOG_SIGNING_KEY = ""
    first = cp.load_signer()
    path = tmp_path / "log_signing_key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert cp.load_signer().verifier_key() == first.verifier_key()
    assert first.name == settings.TRANSPARENCY_LOG_ORIGIN


def test_the_key_comes_from_settings_as_text_or_a_file(settings, tmp_path):
    settings.TRANSPARENCY_LOG_SIGNING_KEY = PETER_SKEY
    assert cp.load_signer().verifier_key() == PETER_VKEY
    (tmp_path / "key").write_text(PETER_SKEY + "\n")
    settings.TRANSPARENCY_LOG_SIGNING_KEY = str(tmp_path / "key")
    assert cp.load_signer().verifier_key() == PETER_VKEY


def test_production_needs_a_configured_key(settings):
    settings.TRANSPARENCY_LOG_SIGNING_KEY = ""
    settings.PRODUCTION = True
    with pytest.raises(Exception, match="BOROUGH_LOG_SIGNING_KEY"):
        cp.load_signer()
