"""Verification policies: what counts as proof for each purpose.

Read from ``policies.toml`` beside this module, or from the file ``BOROUGH_VERIFICATION_POLICIES``
names. Every mistake is a ``PolicyError`` naming the file, the policy and the setting.
"""

from __future__ import annotations

import functools
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from borough.residents.config import PROVES, declared_datasets
from borough.transparency.purposes import PURPOSES

SHIPPED = Path(__file__).resolve().parent / "policies.toml"
ENV_VAR = "BOROUGH_VERIFICATION_POLICIES"

_FIELDS = {
    "title": str,
    "proves": str,
    "datasets": list,
    "same_address": bool,
    "ended_within_days": int,
    "min_evidence": int,
    "verified_probability": float,
    "margin_bits": float,
    "refer_probability": float,
    "roles_see_fields": list,
}
#: Settings a policy file may leave out, with the strict value used when it does.
_OPTIONAL = {
    "must_agree": (list, ["date_of_birth"]),
    "when_not_held": (str, "refer"),
    "opens_account": (bool, False),
    "caller_evidence": (str, "proof"),
}
#: Fields a policy may require to agree exactly with the matched resident's records.
MUST_AGREE_FIELDS = ("date_of_birth", "first_name", "surname", "email")
#: When the records hold none of a ``must_agree`` field: an officer decides, or the check is
#: settled on the other details (said on the page; never opens an account).
WHEN_NOT_HELD = ("refer", "name_and_address")
#: What callers outside ``roles_see_fields`` see: the decision alone, or the proof records too
#: (datasets, references, dates). Never which fields agreed, weights or probabilities.
CALLER_EVIDENCE = ("decision", "proof")


class PolicyError(ValueError):
    """A verification policy file is wrong."""


@dataclass(frozen=True)
class Policy:
    purpose: str
    title: str
    proves: str
    datasets: tuple[str, ...]
    same_address: bool
    ended_within_days: int
    min_evidence: int
    verified_probability: float
    margin_bits: float
    refer_probability: float
    roles_see_fields: tuple[str, ...]
    # Hard rules beside the probability (docs/verification.md, "Hard rules").
    must_agree: tuple[str, ...] = ("date_of_birth",)
    when_not_held: str = "refer"
    opens_account: bool = False
    caller_evidence: str = "proof"
    #: Why this purpose cannot be verified with the council's declared datasets ("" when it
    #: can): checks for it are "unavailable" with this reason, and ``borough check`` says it.
    unavailable: str = ""
    #: Datasets the shipped policy names that this council has not declared, left out.
    left_out: tuple[str, ...] = ()


def policies_path() -> Path:
    return Path(os.environ.get(ENV_VAR) or SHIPPED)


def parse_policies(
    data: dict,
    *,
    where: str,
    known_datasets: set[str],
    known_roles: set[str] | None = None,
    shipped: bool = False,
) -> dict[str, Policy]:
    """The policies in ``data`` (a policies file read as TOML), checked; a mistake in the file
    is a :class:`PolicyError`. A policy naming datasets the council has not declared is kept,
    but cannot be used (``Policy.unavailable`` says what to change) — or, in the ``shipped``
    file, which names every dataset a council may have, goes on with the declared ones
    (``Policy.left_out``), so long as one is left."""
    policies = {}
    for purpose, raw in data.items():
        at = f"{where}: [{purpose}]"
        if purpose not in PURPOSES:
            raise PolicyError(
                f"{at}: {purpose!r} is not a data-use purpose. Use one of: "
                f"{', '.join(sorted(PURPOSES))}."
            )
        if not isinstance(raw, dict):
            raise PolicyError(f"{at} must be a table of settings.")
        unknown = sorted(set(raw) - set(_FIELDS) - set(_OPTIONAL))
        if unknown:
            raise PolicyError(f"{at}: unknown setting {unknown[0]!r}.")
        values = {}
        for name, kind in _FIELDS.items():
            if name not in raw:
                raise PolicyError(f"{at}: {name} is missing.")
            value = raw[name]
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise PolicyError(f"{at}: {name} must be a {kind.__name__}.")
            values[name] = value
        for name, (kind, default) in _OPTIONAL.items():
            value = raw.get(name, default)
            if not isinstance(value, kind):
                raise PolicyError(f"{at}: {name} must be a {kind.__name__}.")
            values[name] = value
        for name in values["must_agree"]:
            if name not in MUST_AGREE_FIELDS:
                raise PolicyError(
                    f"{at}: must_agree may name {', '.join(MUST_AGREE_FIELDS)}, not {name!r}."
                )
        for name, allowed in (
            ("when_not_held", WHEN_NOT_HELD),
            ("caller_evidence", CALLER_EVIDENCE),
        ):
            if values[name] not in allowed:
                raise PolicyError(f"{at}: {name} must be one of {', '.join(allowed)}.")
        if values["opens_account"] and values["when_not_held"] != "refer":
            raise PolicyError(
                f"{at}: a purpose that opens an account must refer when the records hold no "
                'value to check (when_not_held = "refer").'
            )
        if values["opens_account"] and "date_of_birth" not in values["must_agree"]:
            raise PolicyError(
                f"{at}: a purpose that opens an account must have date_of_birth in must_agree."
            )
        if values["proves"] not in PROVES:
            raise PolicyError(f"{at}: proves must be one of {', '.join(PROVES)}.")
        if not values["datasets"]:
            raise PolicyError(f"{at}: datasets must name at least one dataset.")
        missing = tuple(code for code in values["datasets"] if code not in known_datasets)
        kept = tuple(code for code in values["datasets"] if code in known_datasets)
        unavailable, left_out = "", ()
        if missing and shipped and kept:
            values["datasets"], left_out = list(kept), missing
        elif missing:
            unavailable = (
                f"{at} names {_datasets_words(missing)}, which this council has not declared "
                f"(declared: {', '.join(sorted(known_datasets)) or 'none'}). Declare "
                f"{'it' if len(missing) == 1 else 'them'} (docs/source-datasets.md), or set "
                f"this policy's datasets to declared ones that prove {values['proves']!r}."
            )
        for name in ("verified_probability", "refer_probability"):
            if not 0 < values[name] < 1:
                raise PolicyError(f"{at}: {name} must be between 0 and 1.")
        if values["refer_probability"] > values["verified_probability"]:
            raise PolicyError(f"{at}: refer_probability must not exceed verified_probability.")
        if values["min_evidence"] < 1 or values["ended_within_days"] < 0:
            raise PolicyError(f"{at}: min_evidence must be 1 or more, ended_within_days 0 or more.")
        if values["margin_bits"] < 0:
            raise PolicyError(f"{at}: margin_bits must be 0 or more.")
        for role in values["roles_see_fields"]:
            if known_roles is not None and role not in known_roles:
                raise PolicyError(
                    f"{at}: roles_see_fields names {role!r}, which is not a staff role. Roles: "
                    f"{', '.join(sorted(known_roles))}."
                )
        policies[purpose] = Policy(
            purpose=purpose,
            title=values["title"],
            proves=values["proves"],
            datasets=tuple(values["datasets"]),
            same_address=values["same_address"],
            ended_within_days=values["ended_within_days"],
            min_evidence=values["min_evidence"],
            verified_probability=values["verified_probability"],
            margin_bits=values["margin_bits"],
            refer_probability=values["refer_probability"],
            roles_see_fields=tuple(values["roles_see_fields"]),
            must_agree=tuple(values["must_agree"]),
            when_not_held=values["when_not_held"],
            opens_account=values["opens_account"],
            caller_evidence=values["caller_evidence"],
            unavailable=unavailable,
            left_out=left_out,
        )
    return policies


def _datasets_words(codes: tuple[str, ...]) -> str:
    quoted = [repr(code) for code in codes]
    if len(quoted) == 1:
        return f"dataset {quoted[0]}"
    return f"datasets {', '.join(quoted[:-1])} and {quoted[-1]}"


def load_policies(path: Path | None = None) -> dict[str, Policy]:
    path = path or policies_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError(f"{ENV_VAR} is {path}, which does not exist.") from None
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(f"{path}: not valid TOML: {error}") from None
    from borough.core.roles import ROLES
    from borough.residents.config import DatasetConfigError

    try:
        known = {config.code for config in declared_datasets()}
    except DatasetConfigError as error:
        raise PolicyError(f"the council's dataset declarations cannot be read: {error}") from None
    return parse_policies(
        data,
        where=str(path),
        known_datasets=known,
        known_roles={r.group for r in ROLES},
        shipped=path.resolve() == SHIPPED.resolve(),
    )


#: The purposes each service verifies for: a council that offers the service needs its policy.
PURPOSES_BY_SERVICE = {
    "parking": ("parking_permit_residency_check",),
    "housing": ("housing_tenant_verification",),
}


def check_verification_policies(app_configs=None, **kwargs) -> list:
    """``borough check``: the policies file reads, and has a policy for every purpose of the
    services the council's profile switches on (otherwise the first resident to apply would
    meet the mistake)."""
    from django.conf import settings
    from django.core.checks import Error, Warning

    try:
        found = policies()
    except PolicyError as error:
        return [Error(str(error), id="borough.E131")]
    errors = []
    for purpose, policy in found.items():
        if policy.unavailable:
            # a warning, not an error: the other purposes, the data commands and the web
            # server go on; only this purpose is refused, saying why
            errors.append(
                Warning(
                    f"{policy.unavailable} Until then every check for it is refused as "
                    "unavailable (the API answers 503).",
                    id="borough.W133",
                )
            )
        elif policy.left_out:
            errors.append(
                Warning(
                    f"{policies_path()}: [{purpose}] is the shipped policy; it leaves out "
                    f"{_datasets_words(policy.left_out)}, which this council has not declared, "
                    f"and counts {', '.join(policy.datasets)} as proof.",
                    hint="To choose the proof yourself, copy the shipped policies file and set "
                    "BOROUGH_VERIFICATION_POLICIES (docs/verification.md).",
                    id="borough.W134",
                )
            )
    for service in settings.COUNCIL.services:
        for purpose in PURPOSES_BY_SERVICE.get(service, ()):
            if purpose not in found:
                errors.append(
                    Error(
                        f"{policies_path()}: there is no [{purpose}] policy, which the "
                        f"{service} service verifies for.",
                        hint="Copy it from borough/residents/verification/policies.toml and "
                        "docs/verification.md.",
                        id="borough.E132",
                    )
                )
    return errors


@functools.lru_cache(maxsize=8)
def _cached(path: str, mtime: float, declarations: tuple) -> dict[str, Policy]:
    return load_policies(Path(path))


def policies() -> dict[str, Policy]:
    """The policies in force (re-read when the file, or the council's dataset declarations
    they are checked against, change)."""
    from borough.residents.config import datasets_dir

    path = policies_path()
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        raise PolicyError(f"{ENV_VAR} is {path}, which does not exist.") from None
    folder = datasets_dir()
    declarations = tuple(
        (declaration.name, declaration.stat().st_mtime)
        for declaration in sorted(folder.glob("*.toml"))
    )
    return _cached(str(path), mtime, (str(folder), declarations))
