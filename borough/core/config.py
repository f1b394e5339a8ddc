"""Reading settings from the environment."""

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} is {raw!r}; set it to 1 or 0.")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def load_or_create_secret_key(path: Path) -> str:
    """A development secret key, generated once and kept in the data folder."""
    if path.exists():
        key = path.read_text().strip()
        if key:
            return key
    key = secrets.token_urlsafe(50)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def env_limits(name: str) -> dict[str, str]:
    """``NAME=COUNT/SECONDS,…`` (e.g. ``BOROUGH_RATE_LIMITS=api-verify-client=300/60``) as a
    dict of name to its text; each value is read by ``count_per_seconds``."""
    limits = {}
    for item in env_list(name, []):
        key, _, value = item.partition("=")
        if not value:
            raise ImproperlyConfigured(
                f"{name}: {item!r} should be NAME=COUNT/SECONDS, like {key or 'name'}=5/60"
            )
        limits[key.strip()] = value.strip()
    return limits


def count_per_seconds(setting: str, name: str, text: str) -> tuple[int, int]:
    """A limit's override, ``COUNT/SECONDS`` (both whole numbers of at least 1)."""
    try:
        count, seconds = (int(part) for part in str(text).split("/"))
        if count < 1 or seconds < 1:
            raise ValueError
    except ValueError:
        raise ImproperlyConfigured(
            f"{setting}: {name} is {text!r}; write it as COUNT/SECONDS, like 300/60"
        ) from None
    return count, seconds


def check_limit_settings(setting: str, known: dict, ids: tuple[str, str]) -> list:
    """``borough check`` for a ``NAME=COUNT/SECONDS`` setting: every name one of ``known``,
    every value readable. ``ids``: the two errors' ids (unknown name, bad value)."""
    from django.conf import settings
    from django.core.checks import Error

    errors = []
    for name, text in (getattr(settings, setting, None) or {}).items():
        if name not in known:
            errors.append(
                Error(
                    f"{setting} names {name!r}, which is not one of its limits.",
                    hint="The limits are: " + ", ".join(known),
                    id=ids[0],
                )
            )
            continue
        try:
            count_per_seconds(setting, name, text)
        except ImproperlyConfigured as error:
            errors.append(Error(str(error), id=ids[1]))
    return errors
