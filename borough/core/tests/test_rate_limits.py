"""Rate limits on staff sign-in, magic-link requests, the verification API and the enforcement
API: what an attacker hammering each one sees (429 with ``Retry-After``), where the client's
address comes from, and that every web process counts against the same limit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core import mail
from django.db import connection

from borough.core.api_clients import create_client
from borough.core.models import User

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[3]


def _refused_page(response, window: int) -> str:
    """The GOV.UK page saying how long to wait: until the limit's window (fixed, aligned to the
    clock) ends, as ``Retry-After`` says in seconds."""
    assert response.status_code == 429, response.status_code
    wait = int(response["Retry-After"])
    assert 0 < wait <= window
    page = response.content.decode()
    assert "govuk-heading-xl" in page and "Too many attempts" in page
    minutes = -(-wait // 60)
    words = f"{wait} second" if wait < 60 else f"{minutes} minute"
    assert f"Wait {words}" in page, (wait, page)
    return page


# -- staff sign-in -------------------------------------------------------------------------------


def test_staff_sign_in_is_limited_per_username_whatever_the_address(client, settings, make_staff):
    settings.BOROUGH_RATE_LIMITS = {"staff-sign-in-username": "3/600"}
    make_staff("Parking officer", username="pat")
    for attempt in range(3):
        response = client.post(
            "/staff/sign-in",
            {"username": "pat", "password": f"guess {attempt}"},
            REMOTE_ADDR=f"198.51.100.{attempt}",
        )
        assert response.status_code == 200
    refused = client.post(
        "/staff/sign-in",
        {"username": "pat", "password": "correct horse battery"},
        REMOTE_ADDR="198.51.100.99",
    )
    _refused_page(refused, 600)
    assert "_auth_user_id" not in client.session
    # Another username from the same addresses is not affected.
    make_staff("Parking officer", username="sam")
    other = client.post("/staff/sign-in", {"username": "sam", "password": "correct horse battery"})
    assert other.status_code == 302


def test_staff_sign_in_is_limited_per_client_address(client, settings, make_staff):
    settings.BOROUGH_RATE_LIMITS = {"staff-sign-in-address": "4/600"}
    for n in range(4):
        response = client.post(
            "/staff/sign-in", {"username": f"user{n}", "password": "x"}, REMOTE_ADDR="203.0.113.7"
        )
        assert response.status_code == 200
    _refused_page(
        client.post(
            "/staff/sign-in", {"username": "user9", "password": "x"}, REMOTE_ADDR="203.0.113.7"
        ),
        600,
    )
    elsewhere = client.post(
        "/staff/sign-in", {"username": "user9", "password": "x"}, REMOTE_ADDR="203.0.113.8"
    )
    assert elsewhere.status_code == 200


def test_a_forged_x_forwarded_for_does_not_escape_the_limit(client, settings):
    """By default Borough trusts no proxy: X-Forwarded-For is the client's own word."""
    settings.BOROUGH_RATE_LIMITS = {"staff-sign-in-address": "2/600"}
    codes = [
        client.post(
            "/staff/sign-in",
            {"username": f"u{n}", "password": "x"},
            REMOTE_ADDR="203.0.113.7",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
        ).status_code
        for n in range(3)
    ]
    assert codes == [200, 200, 429]


def test_behind_a_trusted_proxy_the_address_it_saw_is_the_client(client, settings):
    """With one trusted proxy, the last X-Forwarded-For entry (the one the proxy added) is the
    client; entries a client wrote itself, to its left, are ignored."""
    settings.BOROUGH_RATE_LIMITS = {"staff-sign-in-address": "2/600"}
    settings.BOROUGH_TRUSTED_PROXY_COUNT = 1
    proxy = "10.1.1.1"

    def attempt(forwarded: str) -> int:
        return client.post(
            "/staff/sign-in",
            {"username": "u", "password": "x"},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR=forwarded,
        ).status_code

    assert attempt("203.0.113.7") == 200
    assert attempt("1.2.3.4, 203.0.113.7") == 200  # a forged first entry changes nothing
    assert attempt("5.6.7.8, 203.0.113.7") == 429
    assert attempt("203.0.113.8") == 200  # another client behind the same proxy


# -- magic links ---------------------------------------------------------------------------------


def test_magic_link_requests_are_limited_per_email_address(client, settings):
    settings.BOROUGH_RATE_LIMITS = {"magic-link-email": "3/900"}
    for n in range(3):
        response = client.post(
            "/sign-in", {"email": "flooded@example.com"}, REMOTE_ADDR=f"192.0.2.{n}"
        )
        assert response["Location"] == "/sign-in/check-email"
    _refused_page(
        client.post("/sign-in", {"email": "Flooded@Example.com"}, REMOTE_ADDR="192.0.2.50"), 900
    )
    assert len(mail.outbox) == 3
    client.post("/sign-in", {"email": "someone.else@example.com"}, REMOTE_ADDR="192.0.2.51")
    assert len(mail.outbox) == 4


def test_magic_link_requests_are_limited_per_client_address(client, settings):
    settings.BOROUGH_RATE_LIMITS = {"magic-link-address": "3/900"}
    for n in range(3):
        response = client.post("/sign-in", {"email": f"p{n}@example.com"}, REMOTE_ADDR="192.0.2.9")
        assert response.status_code == 302
    _refused_page(
        client.post("/sign-in", {"email": "p9@example.com"}, REMOTE_ADDR="192.0.2.9"), 900
    )
    assert len(mail.outbox) == 3
    assert not User.objects.filter(email="p9@example.com").exists()


# -- the APIs ------------------------------------------------------------------------------------


def _refused_json(response) -> dict:
    assert response.status_code == 429, (response.status_code, response.content)
    assert int(response["Retry-After"]) > 0
    body = response.json()
    assert "Too many requests" in body["detail"]
    return body


def _verify(client, key=None):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.post(
        "/api/v1/verifications",
        json.dumps(
            {"purpose": "no_such_purpose", "applicant": {"first_name": "A", "surname": "B"}}
        ),
        content_type="application/json",
        headers=headers,
    )


def test_the_verification_api_is_limited_per_staff_member(
    client, settings, make_staff, sign_in_staff
):
    settings.BOROUGH_RATE_LIMITS = {"api-verify-staff": "2/60"}
    sign_in_staff(client, make_staff("Resident data officer"))
    assert [_verify(client).status_code for _ in range(2)] == [400, 400]
    _refused_json(_verify(client))


def test_an_api_clients_own_limit_replaces_the_default(client, settings):
    settings.BOROUGH_RATE_LIMITS = {"api-verify-client": "1/60"}
    api_client, key = create_client("Batch checker", ["verify"])
    api_client.requests_per_minute = 3
    api_client.save()
    assert [_verify(client, key).status_code for _ in range(4)] == [400, 400, 400, 429]


def _check(client, key):
    return client.get(
        "/api/v1/parking/check",
        {"vrm": "AB12CDE", "zone": "NOSUCH"},
        headers={"Authorization": f"Bearer {key}"},
    )


@pytest.mark.parametrize(
    ("limit", "scope", "call"),
    [("api-verify-client", "verify", _verify), ("api-enforcement-client", "enforcement", _check)],
    ids=["verification", "enforcement"],
)
def test_each_api_is_limited_per_api_client(client, settings, limit, scope, call):
    settings.BOROUGH_RATE_LIMITS = {limit: "3/60"}
    _, key = create_client("Device 7", [scope])
    _, other = create_client("Device 8", [scope])
    assert [call(client, key).status_code for _ in range(3)] == [400, 400, 400]
    _refused_json(call(client, key))
    assert call(client, other).status_code == 400


def test_the_default_enforcement_limit_allows_a_busy_device(client):
    """An officer's handheld checking a car every second for a minute is never refused."""
    _, key = create_client("Handheld 9", ["enforcement"])
    assert {_check(client, key).status_code for _ in range(60)} == {400}


# -- shared by every process ---------------------------------------------------------------------

WORKER = """
import json, os, sys
import django
django.setup()
from django.test import Client
client = Client()
codes = []
for n in range(int(sys.argv[2])):
    r = client.post("/sign-in", {"email": sys.argv[1]}, REMOTE_ADDR="192.0.2." + str(n))
    codes.append(r.status_code)
from django.core import mail
print(json.dumps({"codes": codes, "sent": len(mail.outbox)}))
"""


def _web_process(env: dict, email: str, requests: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", WORKER, email, str(requests)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_web_processes_share_one_limit(tmp_path):
    """What an attacker behind a load balancer does: ask for sign-in links through two web
    processes (and a restart). Each process alone would allow five; together they allow five."""
    if connection.vendor != "postgresql":
        pytest.skip("the test database is in this process's memory on SQLite")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "borough.settings",
        "BOROUGH_DATA": str(tmp_path),
        "BOROUGH_ENV": "development",
        "BOROUGH_ALLOWED_HOSTS": "testserver",
        "BOROUGH_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
    }
    env.pop("BOROUGH_CACHE_URL", None)
    email = f"{uuid.uuid4().hex}@example.com"
    first = _web_process(env, email, 4)
    second = _web_process(env, email, 3)
    assert first == {"codes": [302] * 4, "sent": 4}
    assert second["codes"] == [302, 429, 429] and second["sent"] == 1


# -- the client's address and the settings -------------------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "client"),
    [
        (0, "203.0.113.7", "1.2.3.4", "203.0.113.7"),
        (1, "10.0.0.1", "1.2.3.4, 203.0.113.7", "203.0.113.7"),
        (2, "10.0.0.1", "1.2.3.4, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        (2, "10.0.0.1", "203.0.113.7", "10.0.0.1"),  # fewer entries than proxies: the peer
        (0, "2001:db8:1:2:3:4:5:6", "", "2001:db8:1:2::/64"),  # one home's IPv6 block
        (0, "::ffff:203.0.113.7", "", "203.0.113.7"),
        (1, "10.0.0.1", "not an address", "not an address"),
    ],
)
def test_the_client_address(rf, settings, proxies, remote, forwarded, client):
    from borough.core.ratelimit import client_address

    settings.BOROUGH_TRUSTED_PROXY_COUNT = proxies
    request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == client


def test_borough_check_refuses_a_limit_that_does_not_exist_or_is_badly_written(settings):
    from borough.core.ratelimit import check_rate_limit_settings

    settings.BOROUGH_RATE_LIMITS = {"api-verify-client": "300/60"}
    assert check_rate_limit_settings() == []
    settings.BOROUGH_RATE_LIMITS = {"nonsense": "1/2", "magic-link-email": "five a minute"}
    assert [e.id for e in check_rate_limit_settings()] == ["borough.E101", "borough.E102"]
