"""What each entry point does with residents' personal data, declared where it is defined.

Every page (URL pattern), API operation, management command (and subcommand) and background task
says either that it reads or changes a resident's personal data, and for which purposes, or why
it does not::

    @data_use(touches=RESIDENT_DATA, purposes=["staff_view_records"])
    @staff_area("housing")
    def account(request, reference): ...

    @data_use(none="The gazetteer holds addresses, not people")
    def find_address(request): ...

A command with subcommands declares each one in ``data_use_by_subcommand`` (a dict on the
command class), and a subcommand module of ``borough residents`` or ``borough transparency``
declares itself in ``DATA_USE``. ``tests/test_data_use_coverage.py`` walks every entry point and
fails on one that declares nothing, then checks that each that touches residents' data writes a
data-use event (``record_data_use``). See docs/data-use-log.md, "Every use, by construction".

This module is the declaration only: it records the answer on the function and changes nothing
about how it runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: The one kind of data an entry point declares it touches.
RESIDENT_DATA = "resident_personal_data"

ATTRIBUTE = "borough_data_use"


@dataclass(frozen=True)
class DataUse:
    """One entry point's declaration: ``touches`` and its ``purposes``, or ``none`` and why."""

    touches: str = ""
    purposes: tuple[str, ...] = ()
    none: str = ""

    @property
    def touches_resident_data(self) -> bool:
        return self.touches == RESIDENT_DATA

    def __call__(self, target):
        """Used as a decorator: mark ``target`` (a view, task function or command class)."""
        setattr(target, ATTRIBUTE, self)
        return target


def data_use(
    *, touches: str = "", purposes: Iterable[str] = (), purpose: str = "", none: str = ""
) -> DataUse:
    """Declare what an entry point does with residents' personal data.

    Either ``touches=RESIDENT_DATA`` with the purposes (codes from ``purposes.PURPOSES``) its
    data-use events are written under, or ``none=`` a sentence saying why it uses no resident's
    personal data. Anything else is refused when the module is imported.
    """
    from borough.transparency.purposes import PURPOSES

    chosen = tuple(purposes) + ((purpose,) if purpose else ())
    if touches and none:
        raise ValueError("Declare either touches= or none=, not both.")
    if touches:
        if touches != RESIDENT_DATA:
            raise ValueError(f"touches= must be {RESIDENT_DATA!r}.")
        if not chosen:
            raise ValueError("An entry point that touches residents' data names its purposes.")
        unknown = [code for code in chosen if code not in PURPOSES]
        if unknown:
            raise ValueError(
                f"Unknown data-use purpose(s) {', '.join(unknown)}: add them to "
                "borough/transparency/purposes.py with their lawful basis."
            )
        return DataUse(touches=touches, purposes=chosen)
    if not none.strip():
        raise ValueError(
            "Declare touches=RESIDENT_DATA with purposes=, or none= a reason it uses no "
            "resident's personal data."
        )
    if chosen:
        raise ValueError("An entry point that uses no resident's data has no purposes.")
    return DataUse(none=none.strip())


def declared(target) -> DataUse | None:
    """The declaration on a view, task function or command class, through any decorators."""
    seen = set()
    while target is not None and id(target) not in seen:
        seen.add(id(target))
        found = getattr(target, ATTRIBUTE, None)
        if isinstance(found, DataUse):
            return found
        view_class = getattr(target, "view_class", None)
        if view_class is not None and isinstance(getattr(view_class, ATTRIBUTE, None), DataUse):
            return getattr(view_class, ATTRIBUTE)
        target = getattr(target, "__wrapped__", None)
    return None


# -- declared here ---------------------------------------------------------------------------
# ``borough.core`` knows no service, so its pages and commands cannot import this module; some
# entry points are not Borough's code (the Django admin, OpenID Connect, the API's document),
# and ``borough/transparency/cli/`` is declared here too. Keys: a view's module and qualified
# name, a module prefix ending in "." for a whole package, or a command as it is typed
# ("borough staff unlock").

_SIGN_IN = data_use(none="Signing in and out: the person's own account, no council records")
_INFORMATION = data_use(none="Information pages: nobody's data")
_OWN_ACCOUNT = data_use(
    none="The signed-in resident's own account (sign-in email, what they hold); no council "
    "officer or service reads anyone's data"
)
_STAFF_MENU = data_use(none="Staff menus: links to the areas, no resident's data")
_SYNTHETIC = data_use(none="Synthetic data for the demo, tests and benchmarks: no real resident")
_LOG_ONLY = data_use(
    none="Works on the data-use log's metadata (hashes, checkpoints, keys); reads no resident's "
    "records"
)

DECLARED_HERE: dict[str, DataUse] = {
    # core pages
    "borough.core.views.start": _INFORMATION,
    "borough.core.views.favicon": _INFORMATION,
    "borough.core.views._static_page.<locals>.view": _INFORMATION,
    "borough.core.views.accessibility": _INFORMATION,
    "borough.core.views.feedback": data_use(
        none="Feedback about a page; the form asks for no personal details"
    ),
    "borough.core.views.feedback_sent": _INFORMATION,
    "borough.core.views.resident_sign_in": _SIGN_IN,
    "borough.core.views.check_email": _SIGN_IN,
    "borough.core.views.magic_link": _SIGN_IN,
    "borough.core.views.sign_out": _SIGN_IN,
    "borough.core.views.signed_out": _SIGN_IN,
    "borough.core.views.staff_home": _STAFF_MENU,
    "borough.core.views._area_view.<locals>.view": _STAFF_MENU,
    "borough.core.views.staff_feedback": data_use(
        none="Feedback about pages, which asks for no personal details"
    ),
    "borough.core.account_views.account": _OWN_ACCOUNT,
    "borough.core.account_views.change_email": _OWN_ACCOUNT,
    "borough.core.account_views.change_email_sent": _OWN_ACCOUNT,
    "borough.core.account_views.confirm_email": _OWN_ACCOUNT,
    "borough.core.staff_sign_in.": _SIGN_IN,
    # not Borough's code
    "mozilla_django_oidc.": _SIGN_IN,
    "ninja.openapi.": data_use(none="The API's OpenAPI document and its page"),
    "ninja.main.": data_use(none="The API's OpenAPI document and its page"),
    # the Django admin, by address (its views are the admin's own code); the longest match wins
    "/admin/": data_use(
        none="Administrators' tables: accounts, datasets and loads, payments, the gazetteer and "
        "the read-only log; no council record about a resident but the one below"
    ),
    "/admin/residents/sourcerecord/": data_use(
        touches=RESIDENT_DATA, purposes=["staff_view_records"]
    ),
    **dict.fromkeys(
        [
            "/admin/residents/sourcerecord/add/",
            "/admin/residents/sourcerecord/<path:object_id>/delete/",
            "/admin/residents/sourcerecord/<path:object_id>/history/",
            "/admin/residents/sourcerecord/<path:object_id>/$",
        ],
        data_use(
            none="Refused (records change only through a load), the admin's own change "
            "history, or a redirect to the record's page (which is recorded)"
        ),
    ),
    "/admin/residents/datasetload/": data_use(
        none="Loads and the rows they refused: a refused row was never loaded or linked to anyone"
    ),
    # core and synthetic-data commands
    "borough apiclient create": data_use(none="API clients and their scopes"),
    "borough apiclient list": data_use(none="API clients and their scopes"),
    "borough apiclient revoke": data_use(none="API clients and their scopes"),
    "borough createstaff": data_use(none="Makes a staff account"),
    "borough staff unlock": data_use(none="Staff accounts' sign-in"),
    "borough staff reset-2fa": data_use(none="Staff accounts' sign-in"),
    "borough demo": _SYNTHETIC,
    "borough synth": _SYNTHETIC,
    "borough flush": data_use(
        none="Empties the whole database (tests and the demo); reads nothing about anyone"
    ),
    # borough transparency …
    "borough transparency keygen": _LOG_ONLY,
    "borough transparency seal": _LOG_ONLY,
    "borough transparency verify": _LOG_ONLY,
}


def declared_here(key: str, module: str = "") -> DataUse | None:
    """The declaration in ``DECLARED_HERE`` for a view's or command's key, or for its module,
    or (a key starting "/") for the longest address prefix of a page's address."""
    for exact in (key, f"{key}$"):  # "$" ends an address matched whole, not as a prefix
        if exact in DECLARED_HERE:
            return DECLARED_HERE[exact]
    if key.startswith("/"):
        prefixes = [
            p
            for p in DECLARED_HERE
            if p.startswith("/") and not p.endswith("$") and key.startswith(p)
        ]
        return DECLARED_HERE[max(prefixes, key=len)] if prefixes else None
    for prefix, declaration in DECLARED_HERE.items():
        if prefix.endswith(".") and f"{module}.".startswith(prefix):
            return declaration
    return None
