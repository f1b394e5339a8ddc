"""Rate limits shared by every web process: how many requests a key (a username, an email
address, a client address, an API client) may make to one thing in a window of time.

Counted in fixed windows (``Unix time // seconds``), where every process sees the same count:

- **the database** (the default, SQLite or PostgreSQL): one ``INSERT … ON CONFLICT DO UPDATE …
  RETURNING`` statement per request on ``core_ratelimitcounter``, atomic on both;
- **Redis**, when ``BOROUGH_CACHE_URL`` is set: Django's cache API (``RedisCache``), whose ``incr``
  is Redis's atomic ``INCRBY``.

Why not Django's database cache or django-ratelimit: ``docs/adr/0003-rate-limits.md``. The limits,
their defaults and how a council changes them: ``docs/rate-limits.md``. Over a limit, pages answer
429 with a GOV.UK page saying how long to wait and the API 429 with a JSON ``detail``; both carry
``Retry-After`` in seconds.

The client's address is the TCP peer (``REMOTE_ADDR``) unless ``BOROUGH_TRUSTED_PROXY_COUNT`` says
how many proxies in front of Borough append to ``X-Forwarded-For`` (``client_address``).

**Leases for busy keys.** A limit of ``LEASE_FROM`` or more a window (an enforcement device's 600
checks a minute) is not counted one request at a time: a process takes ``count // LEASE_PARTS``
hits from the shared count in one statement and answers that many requests from its own memory.
Every process still draws from the one shared count, so all of them together never let more
than the limit through; a process that stops part-way through a lease leaves those hits unused,
so a key may be refused up to one lease per process *before* its limit (never after). Small
limits (sign-in, links: tens an hour) are counted request by request, exactly.
"""

from __future__ import annotations

import hashlib
import inspect
import ipaddress
import math
import threading
import time
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from borough.core.config import check_limit_settings, count_per_seconds
from borough.core.models import RateLimitCounter


@dataclass(frozen=True)
class Limit:
    name: str
    count: int
    seconds: int
    what: str


#: The limits and their defaults; ``BOROUGH_RATE_LIMITS`` changes any of them (``limit``).
LIMITS = {
    limit.name: limit
    for limit in [
        Limit(
            "staff-sign-in-username",
            20,
            600,
            "staff sign-in attempts (password or code) for one username",
        ),
        Limit("staff-sign-in-address", 100, 600, "staff sign-in attempts from one client address"),
        Limit("magic-link-email", 5, 900, "sign-in links asked for one email address"),
        Limit("magic-link-address", 30, 900, "sign-in links asked for from one client address"),
        Limit("api-verify-client", 120, 60, "POST /api/v1/verifications by one API client"),
        Limit("api-verify-staff", 30, 60, "POST /api/v1/verifications by one staff member"),
        Limit("api-enforcement-client", 600, 60, "GET /api/v1/parking/check by one API client"),
        Limit("api-enforcement-staff", 120, 60, "GET /api/v1/parking/check by one staff member"),
        Limit("data-export-request", 5, 86400, "copies of their data asked for by one account"),
        Limit("data-export-download", 20, 3600, "downloads of data exports by one account"),
        Limit(
            "questioned-entry-account",
            10,
            86400,
            "“I don't recognise this” questions asked from one resident account",
        ),
        Limit(
            "correction-request-account",
            10,
            86400,
            "“This is wrong” corrections sent from one resident account",
        ),
    ]
}

#: A process deletes the windows that have ended at most this often, when a key starts a new
#: window (never on a request that adds to a window already counting), so the table holds only
#: the keys seen recently.
SWEEP_EVERY_SECONDS = 60.0
_next_sweep = 0.0


def limit(name: str) -> Limit:
    """The limit ``name`` as configured: the default, or ``BOROUGH_RATE_LIMITS[name]``
    ("COUNT/SECONDS", e.g. "300/60")."""
    default = LIMITS[name]
    override = (getattr(settings, "BOROUGH_RATE_LIMITS", None) or {}).get(name)
    if not override:
        return default
    count, seconds = count_per_seconds("BOROUGH_RATE_LIMITS", name, override)
    return Limit(name, count, seconds, default.what)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    hits: int
    retry_after: int  # seconds until the window ends (0 when allowed)


def _bucket(name: str, key: str) -> str:
    # Hashed: the table and Redis hold no email address, username or client address.
    return hashlib.sha256(f"{name}\0{key}".encode()).hexdigest()


_UPSERT = """
INSERT INTO core_ratelimitcounter (bucket, period, hits, expires_at) VALUES (%s, %s, %s, %s)
ON CONFLICT (bucket) DO UPDATE SET
    hits = CASE WHEN core_ratelimitcounter.period = excluded.period
                THEN core_ratelimitcounter.hits + excluded.hits ELSE excluded.hits END,
    period = excluded.period,
    expires_at = excluded.expires_at
RETURNING hits
"""

#: Limits of at least this many a window are drawn in leases of ``count // LEASE_PARTS``.
LEASE_FROM = 100
LEASE_PARTS = 50


def _count_in_database(bucket: str, period: int, expires_at: int, add: int = 1) -> int:
    global _next_sweep
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT, [bucket, period, add, expires_at])
        hits = cursor.fetchone()[0]
    if hits == add and time.monotonic() >= _next_sweep:
        _next_sweep = time.monotonic() + SWEEP_EVERY_SECONDS
        RateLimitCounter.objects.filter(expires_at__lt=int(time.time())).delete()
    return hits


def _count_in_cache(bucket: str, period: int, seconds: int, add: int = 1) -> int:
    key = f"ratelimit:{bucket}:{period}"
    try:
        return cache.incr(key, add)
    except ValueError:  # the window's first request, or its key just expired
        if cache.add(key, add, timeout=seconds + 1):
            return add
        return cache.incr(key, add)


def _count(bucket: str, period: int, rule: Limit, add: int) -> int:
    """Add ``add`` hits to the shared count of ``bucket`` in ``period``; the count after."""
    if uses_cache():
        return _count_in_cache(bucket, period, rule.seconds, add)
    return _count_in_database(bucket, period, (period + 1) * rule.seconds, add)


class _Leases:
    """This process's unused hits of busy keys, by (bucket, period)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.left: dict[tuple[str, int], int] = {}

    def take(self, bucket: str, period: int) -> bool:
        with self.lock:
            left = self.left.get((bucket, period), 0)
            if left > 0:
                self.left[(bucket, period)] = left - 1
                return True
            return False

    def give(self, bucket: str, period: int, hits: int) -> None:
        with self.lock:
            # windows that have ended are forgotten
            for stale in [k for k in self.left if k[1] < period]:
                del self.left[stale]
            self.left[(bucket, period)] = self.left.get((bucket, period), 0) + hits

    def clear(self) -> None:
        with self.lock:
            self.left.clear()


LEASES = _Leases()


def uses_cache() -> bool:
    """Whether limits are counted in Django's cache (Redis) rather than the database."""
    return bool(getattr(settings, "BOROUGH_CACHE_URL", ""))


def hit(name: str, key: str, *, override: Limit | None = None) -> Verdict:
    """Count one request by ``key`` against the limit ``name``; allowed while the window's
    count is at most the limit. ``override`` replaces the configured limit (an API client's own)."""
    rule = override or limit(name)
    now = time.time()
    period = int(now // rule.seconds)
    ends = (period + 1) * rule.seconds
    bucket = _bucket(name, key)
    if rule.count < LEASE_FROM:
        hits = _count(bucket, period, rule, 1)
        if hits <= rule.count:
            return Verdict(True, hits, 0)
        return Verdict(False, hits, max(1, math.ceil(ends - now)))
    if LEASES.take(bucket, period):
        return Verdict(True, 0, 0)
    size = rule.count // LEASE_PARTS
    hits = _count(bucket, period, rule, size)
    granted = min(size, rule.count - (hits - size))  # what is left of the limit, up to a lease
    if granted > 0:
        LEASES.give(bucket, period, granted - 1)  # one for this request
        return Verdict(True, hits - size + 1, 0)
    return Verdict(False, hits, max(1, math.ceil(ends - now)))


def hit_all(*checks: tuple[str, str]) -> Verdict:
    """Count one request against each ``(limit name, key)``; refused if any refuses, with the
    longest wait. Every limit is counted, so a refused request still uses up its allowance."""
    verdicts = [hit(name, key) for name, key in checks]
    refused = [v for v in verdicts if not v.allowed]
    if not refused:
        return verdicts[0] if verdicts else Verdict(True, 0, 0)
    return max(refused, key=lambda v: v.retry_after)


def client_address(request: HttpRequest) -> str:
    """The address of the client that sent ``request``, as a rate-limit key.

    ``REMOTE_ADDR`` (the TCP peer), unless ``BOROUGH_TRUSTED_PROXY_COUNT`` is N > 0: then the
    N-th ``X-Forwarded-For`` entry from the right, which the nearest of the N trusted proxies
    wrote; anything to its left came from the client and is ignored. An IPv6 address counts as
    its /64, the block one household or device is given.
    """
    address = request.META.get("REMOTE_ADDR", "") or ""
    hops = int(getattr(settings, "BOROUGH_TRUSTED_PROXY_COUNT", 0) or 0)
    if hops > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= hops:
            address = forwarded[-hops]
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64] or "unknown"
    if parsed.version == 6:
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def wait_words(seconds: int) -> str:
    """``seconds`` as a page says it: "40 seconds", "1 second", "10 minutes"."""
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def too_many_requests_page(request: HttpRequest, verdict: Verdict) -> HttpResponse:
    """The GOV.UK page for a person over a limit: how long to wait, and a 429."""
    response = render(
        request,
        "429.html",
        {"page_title": "Too many attempts", "wait": wait_words(verdict.retry_after)},
        status=429,
    )
    response["Retry-After"] = str(verdict.retry_after)
    return response


def too_many_requests_json(verdict: Verdict) -> JsonResponse:
    """The API's answer over a limit: 429, ``Retry-After`` and a JSON ``detail``."""
    response = JsonResponse(
        {
            "detail": "Too many requests. Try again in "
            f"{verdict.retry_after} seconds (see the Retry-After header).",
            "field": None,
        },
        status=429,
    )
    response["Retry-After"] = str(verdict.retry_after)
    return response


def api_rate_limited(endpoint: str):
    """Limit an API operation per caller: an API client by ``api-{endpoint}-client`` (or its own
    ``requests_per_minute``), a signed-in staff member by ``api-{endpoint}-staff``. Goes under the
    router's decorator, so it runs after authentication."""
    client_limit, staff_limit = f"api-{endpoint}-client", f"api-{endpoint}-staff"
    if client_limit not in LIMITS or staff_limit not in LIMITS:
        raise ValueError(f"no API rate limits are defined for {endpoint!r}")

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            client = getattr(request, "api_client", None)
            if client is not None:
                own = client.requests_per_minute
                override = Limit(client_limit, own, 60, "") if own else None
                verdict = hit(client_limit, f"client:{client.pk}", override=override)
            else:
                verdict = hit(staff_limit, f"user:{request.auth.pk}")
            if not verdict.allowed:
                return too_many_requests_json(verdict)
            return view(request, *args, **kwargs)

        # django-ninja reads the operation's parameters from its signature; give it the view's,
        # with any string annotations (``from __future__ import annotations``) resolved in the
        # view's own module.
        wrapper.__signature__ = inspect.signature(view, eval_str=True)
        return wrapper

    return decorator


def check_rate_limit_settings(app_configs=None, **kwargs) -> list:
    """``borough check``: every name in ``BOROUGH_RATE_LIMITS`` is a limit, written COUNT/SECONDS."""
    return check_limit_settings("BOROUGH_RATE_LIMITS", LIMITS, ("borough.E101", "borough.E102"))
