"""One-time codes sent by post (``core.letters``): how a code is made, stored and read back as
typed. Each service that posts codes keeps its own policy (how long a code lasts, how many
letters and tries) and its own ``kind``, so a code from one service's letter never matches
another's."""

import hashlib
import hmac
import secrets

from django.conf import settings

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
CODE_LENGTH = 10  # 50 bits


def new_code() -> str:
    """A random code of ``CODE_LENGTH`` characters from ``CODE_ALPHABET``."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def code_hash(kind: str, code: str) -> str:
    """What is stored of ``code``: a hash keyed by the site's secret and the service's ``kind``
    (e.g. ``"link-code"``), never the code itself."""
    secret = hashlib.sha256(f"borough-{kind}:".encode() + settings.SECRET_KEY.encode()).digest()
    return hmac.new(secret, code.encode(), hashlib.sha256).hexdigest()


def normalise_code(text: str) -> str:
    """As typed: spaces and dashes dropped, letters upper case, O read as 0 and I or L as 1."""
    code = "".join(ch for ch in text.upper() if ch.isalnum())
    return code.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
