"""Letters by post: one interface, two implementations, chosen by ``BOROUGH_LETTERS``.

- ``notify``: GOV.UK Notify's letter API (``notifications-python-client``): a letter template
  made in Notify for each kind of letter, its ID in ``BOROUGH_NOTIFY_LETTER_TEMPLATES``
  (``kind=uuid,kind=uuid``), the key in ``BOROUGH_NOTIFY_API_KEY``. Notify prints and posts it.
- ``local`` (the demo, the tests, or a council that prints its own post): the letter is written
  as a text file in ``BOROUGH_LETTERS_DIR`` (default: the data folder's ``letters/``), as the
  console email backend prints emails; ``sent_letters()`` lists them.

A letter carries personal data and sometimes a secret (a one-time code): it is never logged;
the log says only that a letter of a kind was sent, with its reference.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

log = logging.getLogger(__name__)

#: The kinds of letter Borough sends, and their text for the local backend (the Notify templates
#: should say the same). ``((name))`` placeholders are filled from the letter's fields, as
#: Notify fills its templates.
LETTERS = {
    "rent_link_code": (
        "Your code to see your rent account online",
        "You, or someone signed in as you, asked to see the rent account for this home "
        "online.\n\n"
        "Your one-time code is: ((code))\n\n"
        "Sign in at ((site)) with the same account you used to ask, go to 'Enter a code from "
        "a letter' and type the code. It works once, until ((expires)).\n\n"
        "If you did not ask for this, call us on ((phone)). Nobody can see your rent account "
        "without this code.",
    ),
    "history_code": (
        "Your code to see how we used your data",
        "You, or someone signed in as you, passed an identity check with your name, date of "
        "birth and address and asked to see, online, how the council used your data and a "
        "copy of the data it holds about you.\n\n"
        "Your one-time code is: ((code))\n\n"
        "Sign in at ((site)) with the same account you used to ask, and type the code. It works "
        "once, until ((expires)). A newer letter's code replaces this one.\n\n"
        "If you did not ask for this, do not use the code and call us on ((phone)). Nobody can "
        "see this online without the code.",
    ),
}


class LetterError(RuntimeError):
    """The letter could not be sent; the message is for an officer, never holds the letter."""


@dataclass(frozen=True)
class Letter:
    kind: str
    reference: str
    address_lines: tuple[str, ...]  # the recipient's name and address, postcode last
    fields: dict[str, str]


def _check(letter: Letter) -> None:
    if letter.kind not in LETTERS:
        raise ValueError(f"Unknown letter {letter.kind!r}")
    if not 3 <= len(letter.address_lines) <= 7:
        raise LetterError("A letter's address needs 3 to 7 lines, the postcode last")


def _filled(text: str, fields: dict[str, str]) -> str:
    return re.sub(r"\(\((\w+)\)\)", lambda m: fields[m.group(1)], text)


def letters_folder() -> Path:
    """Where the local backend writes letters (``BOROUGH_LETTERS_DIR``, or the data folder's)."""
    return Path(getattr(settings, "BOROUGH_LETTERS_DIR", "") or Path(settings.DATA_DIR) / "letters")


def _local(letter: Letter) -> None:
    folder = letters_folder()
    folder.mkdir(parents=True, exist_ok=True)
    subject, body = LETTERS[letter.kind]
    text = "\n".join([*letter.address_lines, "", subject, "", _filled(body, letter.fields), ""])
    (folder / f"{letter.reference}.txt").write_text(text, encoding="utf-8")


def _notify(letter: Letter) -> None:
    from notifications_python_client.errors import HTTPError
    from notifications_python_client.notifications import NotificationsAPIClient

    templates = dict(
        item.split("=", 1)
        for item in getattr(settings, "BOROUGH_NOTIFY_LETTER_TEMPLATES", [])
        if "=" in item
    )
    template = templates.get(letter.kind)
    key = getattr(settings, "BOROUGH_NOTIFY_API_KEY", "")
    if not key or not template:
        raise ImproperlyConfigured(
            f"BOROUGH_LETTERS is notify: set BOROUGH_NOTIFY_API_KEY and a template for "
            f"{letter.kind} in BOROUGH_NOTIFY_LETTER_TEMPLATES"
        )
    personalisation = {
        f"address_line_{n}": line for n, line in enumerate(letter.address_lines, start=1)
    }
    personalisation.update(letter.fields)
    try:
        NotificationsAPIClient(key).send_letter_notification(
            template_id=template, personalisation=personalisation, reference=letter.reference
        )
    except HTTPError as error:
        raise LetterError(f"GOV.UK Notify refused the letter ({error.status_code})") from None


def send_letter(letter: Letter) -> None:
    """Send ``letter`` by the configured backend."""
    _check(letter)
    backend = getattr(settings, "BOROUGH_LETTERS", "local")
    if backend == "notify":
        _notify(letter)
    elif backend == "local":
        _local(letter)
    else:
        raise ImproperlyConfigured(f"BOROUGH_LETTERS must be local or notify, not {backend!r}")
    log.info("letter %s sent (%s)", letter.kind, letter.reference)


def sent_letters() -> list[Path]:
    """The local backend's letters, oldest first (the demo and the tests read them)."""
    folder = letters_folder()
    if not folder.exists():
        return []
    return sorted(folder.glob("*.txt"), key=lambda p: p.stat().st_mtime_ns)
