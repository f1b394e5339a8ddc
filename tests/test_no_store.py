"""No page with personal data stays in a cache: every URL pattern is walked and each answer is
checked for ``Cache-Control: no-store``, for an anonymous visitor, a resident, staff holding every
role, and an API client with every scope. Only the views declared ``@cacheable`` (the same for every
visitor, with nothing personal) may be kept, and only for a visitor who is not signed in.
"""

import pytest

from borough.core.api_clients import create_client
from borough.core.roles import ROLES
from tests.test_access import _path, _routes

pytestmark = pytest.mark.django_db

# The pages a browser or proxy may keep for an anonymous visitor. Anything else must be no-store.
CACHEABLE = {
    "",
    "privacy",
    "accessibility",
    "cookies",
    "contact",
    "favicon.ico",
    "parking",
    "rent",
    "api/v1/openapi.json",
    "api/v1/docs",
    # Published aggregate tables, checked for disclosure before they were written.
    "open-data",
    "open-data/<str:file_name>",
    # The sealed log's signed checkpoint and hash tiles: public by design (docs/data-use-log.md).
    "transparency/log/checkpoint",
    "transparency/log/vkey",
    "transparency/log/tile/<int:level>/<tileindex:index>",
    "transparency/log/tile/<int:level>/<tileindex:index>.p/<int:width>",
}


def _no_store(response) -> bool:
    directives = {d.strip().split("=")[0] for d in response.get("Cache-Control", "").split(",")}
    return "no-store" in directives


def _fetch(client, path, **headers):
    response = client.get(path, headers=headers)
    if response.status_code == 405:  # a POST-only action
        response = client.post(path, headers=headers)
    return response


def _all_paths():
    return [(route, _path(route)) for route, _pattern in _routes()]


def test_the_cacheable_list_names_real_pages():
    routes = {route.rstrip("/") for route, _ in _all_paths()}
    assert CACHEABLE <= routes


def test_every_page_is_no_store_for_an_anonymous_visitor_unless_declared_cacheable(client):
    kept = []
    for route, path in _all_paths():
        response = _fetch(client, path)
        if not _no_store(response):
            kept.append(route.rstrip("/"))
    assert sorted(kept) == sorted(CACHEABLE)


def test_every_page_is_no_store_for_a_signed_in_resident(client, resident):
    client.force_login(resident)
    kept = [route for route, path in _all_paths() if not _no_store(_fetch(client, path))]
    assert kept == []


def test_every_page_is_no_store_for_staff(client, make_staff, sign_in_staff):
    sign_in_staff(client, make_staff(*[r.group for r in ROLES]))
    kept = [route for route, path in _all_paths() if not _no_store(_fetch(client, path))]
    assert kept == []


def test_every_api_answer_is_no_store_for_a_machine_client(client):
    _, key = create_client("Every scope", ["verify", "enforcement"])
    auth = {"Authorization": f"Bearer {key}"}
    kept = [
        route
        for route, path in _all_paths()
        if route.startswith("api/") and not _no_store(_fetch(client, path, **auth))
    ]
    assert kept == []


def test_the_django_admin_is_no_store(client, make_staff, sign_in_staff):
    sign_in_staff(client, make_staff("Administrator", username="admin"))
    for path in ("/admin/", "/admin/core/user/", "/admin/login/"):
        assert _no_store(client.get(path)), path


def test_the_start_page_may_be_kept_for_anonymous_visitors_only(client, resident):
    assert not _no_store(client.get("/"))
    client.force_login(resident)
    assert _no_store(client.get("/"))
