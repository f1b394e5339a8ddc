"""The access-control table: every URL pattern, and who may open it.

Walks the whole URLconf. A view with no declared access fails the test, so a new page cannot be
added without deciding who may see it. Each declared rule is then tried with an anonymous visitor,
a resident, a staff member with no role for the page, and one with the right role; and every
staff page, the admin and every staff API call with a session that has not passed the second
factor its roles need.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from borough.core.access import PUBLIC, RESIDENT, STAFF, STAFF_SIGNING_IN
from borough.core.roles import ROLES, second_factor_required

pytestmark = pytest.mark.django_db

# Sample values for URL parameters, by name.
SAMPLE_KWARGS = {
    "uprn": "100000000001",
    "resident_id": "RRHPJ7RS5",
    "case_id": "1",
    "reference": "V-0000000000",
    "payment_token": "no-such-payment",
    "line_id": "1",
    "number": "PP-NOSUCH00",
    "session_id": "1",
    "proof_id": "1",
    "run_id": "1",
    "tenant_id": "1",
    "upload_id": "1",
    "note_id": "1",
    "file_name": "no-such-table.csv",
    "event_id": "1",
    "level": "0",
    "index": "000",
    "width": "1",
    "dashboard": "rent",
    "chart": "arrears-by-ward",
    "code": "council_tax",
}

# Public JSON endpoints (machine clients). Every other API endpoint must refuse anonymous callers.
PUBLIC_API = {"api/v1", "api/v1/addresses", "api/v1/openapi.json", "api/v1/docs"}


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def _routes():
    for route, pattern in _walk(get_resolver().url_patterns):
        if route.startswith("admin/"):
            continue  # the Django admin is one site, tested below
        yield route, pattern


def _path(route: str) -> str:
    path = "/" + route.replace("^", "").replace("$", "")
    for name, value in SAMPLE_KWARGS.items():
        for converter in ("int", "str", "slug", "tileindex", ""):
            path = path.replace(f"<{converter}:{name}>" if converter else f"<{name}>", value)
    assert "<" not in path, f"add a sample value for {route} to SAMPLE_KWARGS"
    return path


def _access(pattern):
    callback = pattern.callback
    rule = getattr(callback, "borough_access", None)
    if rule is None and hasattr(callback, "view_class"):
        rule = getattr(callback.view_class, "borough_access", None)
    return rule


def test_every_page_declares_who_may_open_it():
    undeclared = [
        route
        for route, pattern in _routes()
        if not route.startswith("api/") and _access(pattern) is None
    ]
    assert undeclared == []


def _private_api_answers(client):
    """Each API endpoint that is not public, and what it answered ``client``."""
    for route, _pattern in _routes():
        path = _path(route)
        if not route.startswith("api/") or path.strip("/") in PUBLIC_API:
            continue
        response = client.get(path)
        if response.status_code == 405:  # a POST-only endpoint
            response = client.post(path, "{}", content_type="application/json")
        yield route, response


def test_every_api_endpoint_is_known_public_or_refuses_anonymous_callers(client):
    for route, response in _private_api_answers(client):
        assert response.status_code in (401, 403), route


def test_api_endpoints_refuse_residents(client, resident):
    client.force_login(resident)
    for route, response in _private_api_answers(client):
        assert response.status_code in (401, 403), route


def _cases():
    for route, pattern in _routes():
        if route.startswith("api/"):
            continue
        rule = _access(pattern)
        if rule is not None:
            yield pytest.param(route, rule, id=route or "/")


@pytest.mark.parametrize(("route", "rule"), list(_cases()))
def test_access_rule_holds(client, make_staff, sign_in_staff, resident, route, rule):
    kind, areas = rule
    path = _path(route)
    anonymous = client.get(path)

    if kind == PUBLIC:
        assert anonymous.status_code not in (401, 403), path
        assert not anonymous.get("Location", "").startswith(("/sign-in", "/staff/sign-in"))
        return

    if kind == RESIDENT:
        assert anonymous.status_code == 302 and anonymous["Location"].startswith("/sign-in")
        sign_in_staff(client, make_staff(*[r.group for r in ROLES]))
        assert client.get(path).status_code == 403
        client.force_login(resident)
        response = client.get(path)
        # a journey's step may send the resident to its start; a POST-only action says 405
        assert response.status_code in (200, 404, 405) or (
            response.status_code == 302
            and not response["Location"].startswith(("/sign-in", "/staff/sign-in"))
        ), path
        return

    if kind == STAFF_SIGNING_IN:  # the second factor's own pages: past the password only
        assert anonymous.status_code == 302 and anonymous["Location"].startswith("/staff/sign-in")
        client.force_login(resident)
        assert client.get(path).status_code == 403
        client.force_login(make_staff(*[r.group for r in ROLES], username="password-only"))
        response = client.get(path)
        assert response.status_code == 200 or (
            response.status_code == 302 and response["Location"].startswith("/staff/sign-in/")
        ), path
        return

    assert kind == STAFF
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/staff/sign-in")
    client.force_login(resident)
    assert client.get(path).status_code == 403
    if "any" in areas:
        sign_in_staff(client, make_staff(username="no-role"))
        assert client.get(path).status_code in (200, 404)
        return
    outsiders = [r.group for r in ROLES if not (r.areas & areas)]
    sign_in_staff(client, make_staff(*outsiders, username="outsider"))
    assert client.get(path).status_code == 403
    insiders = [r.group for r in ROLES if r.areas & areas]
    for group in insiders:
        sign_in_staff(client, make_staff(group, username=f"insider-{group}"))
        assert client.get(path).status_code in (200, 404), (path, group)


def _staff_cases():
    for route, pattern in _routes():
        rule = _access(pattern)
        if rule is not None and rule[0] == STAFF:
            yield pytest.param(route, rule[1], id=route)


@pytest.mark.parametrize(("route", "areas"), list(_staff_cases()))
def test_without_the_second_factor_no_staff_page_opens(client, make_staff, route, areas):
    """Signed in with a password only (``force_login``: no second factor) as someone whose roles
    would let them in and need a second factor: every staff page sends them to it instead."""
    insiders = [r.group for r in ROLES if "any" in areas or r.areas & areas]
    user = make_staff(*insiders, "Parking officer", username="password-only")
    assert second_factor_required(user)
    client.force_login(user)
    path = _path(route)
    for response in (client.get(path), client.post(path, {})):
        assert response.status_code == 302, (path, response.status_code)
        assert response["Location"].startswith("/staff/sign-in/set-up?next="), path


def test_without_the_second_factor_no_staff_api_call_is_answered(client, make_staff):
    client.force_login(make_staff(*[r.group for r in ROLES], username="password-only"))
    for route, response in _private_api_answers(client):
        assert response.status_code == 401, route


def test_without_the_second_factor_the_admin_does_not_open(client, make_staff):
    administrator = make_staff("Administrator", username="password-only")
    administrator.is_superuser = True
    administrator.save()
    client.force_login(administrator)
    for path in ("/admin/", "/admin/core/user/", f"/admin/core/user/{administrator.pk}/change/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith(
            "/staff/sign-in/set-up"
        ), path


def test_each_role_sees_only_its_own_areas(client, make_staff, sign_in_staff):
    for role in ROLES:
        sign_in_staff(client, make_staff(role.group, username=role.group))
        page = client.get("/staff/").content.decode()
        for area in (
            "parking",
            "housing",
            "finance",
            "enforcement",
            "insights",
            "transparency",
            "administration",
        ):
            link = f'href="/staff/{area}/"'
            assert (link in page) == (area in role.areas), (role.group, area)


def test_django_admin_is_for_administrators_only(client, make_staff, sign_in_staff, resident):
    client.force_login(resident)
    assert client.get("/admin/").status_code == 403
    sign_in_staff(client, make_staff("Parking officer", "Housing officer"))
    assert client.get("/admin/").status_code == 302  # to the admin's own sign-in
    sign_in_staff(client, make_staff("Administrator", username="admin"))
    assert client.get("/admin/").status_code == 200


def test_a_refusal_says_why_and_where_to_go_instead(client, make_staff, sign_in_staff, resident):
    """The 403 page names the reason the access rule gave, with the way on for that account."""
    officer = make_staff("Parking officer", username="refused-officer")
    sign_in_staff(client, officer)
    response = client.get("/how-we-use-your-data/timeline")
    html = response.content.decode()
    assert response.status_code == 403
    assert "You are signed in with a staff account" in html
    assert 'href="/sign-out"' in html and "Go to staff home" in html

    response = client.get("/staff/housing/")
    html = response.content.decode()
    assert response.status_code == 403
    assert "Your role does not include this area" in html and "ask an administrator" in html

    client.logout()
    client.force_login(resident)
    response = client.get("/staff/housing/")
    html = response.content.decode()
    assert response.status_code == 403
    assert "This page is for council staff" in html and "Go to your account" in html
    assert "staff account" not in html
