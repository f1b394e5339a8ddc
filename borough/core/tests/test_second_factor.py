"""Staff whose roles can see personal data sign in with a second factor (TOTP, django-otp):
taken through setting it up the first time, asked for a code every time after; a session that
has not passed it opens no staff page, admin page or staff API; a code works once; an
administrator can reset a lost device."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from borough.core.lockout import LOCK_AFTER
from borough.core.roles import ROLES, second_factor_required
from borough.core.testing import code_for, give_device

# What sits behind the rate limits (those: test_rate_limits.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_sign_in_rate_limits")]

PASSWORD = "correct horse battery"


def _password(client, username):
    return client.post("/staff/sign-in", {"username": username, "password": PASSWORD})


def _secret_on(page: str) -> str:
    match = re.search(r'id="secret-key"[^>]*>([A-Z2-7 ]+)<', page)
    assert match, "the set-up page shows the secret key as text"
    return match.group(1).replace(" ", "")


def test_the_rule_names_every_role_that_can_see_personal_data(make_staff):
    required = {
        role.group
        for role in ROLES
        if second_factor_required(make_staff(role.group, username=role.group))
    }
    assert required == {
        "Parking officer",
        "Housing officer",
        "Finance officer",
        "Enforcement officer",
        "Resident data officer",
        "Data protection officer",
        "Administrator",
    }
    assert not second_factor_required(make_staff(username="no-role"))
    superuser = make_staff("Data analyst", username="root")
    superuser.is_superuser = True
    assert second_factor_required(superuser)


def test_first_sign_in_sets_up_an_authenticator_then_every_sign_in_asks_for_a_code(
    client, make_staff
):
    user = make_staff("Housing officer", username="hana")
    response = _password(client, "hana")
    assert response["Location"].startswith("/staff/sign-in/set-up")
    assert client.get("/staff/").status_code == 302  # not yet

    page = client.get(response["Location"]).content.decode()
    assert "Set up your authenticator app" in page
    assert "<svg" in page and "<script" not in page.split("<main")[1].split("</main>")[0]
    secret = _secret_on(page)
    device = TOTPDevice.objects.get(user=user)
    assert not device.confirmed

    wrong = client.post("/staff/sign-in/set-up", {"code": "000000"})
    assert "The code is not right" in wrong.content.decode()
    import base64

    code = f"{totp(base64.b32decode(secret)):06d}"
    too_soon = client.post("/staff/sign-in/set-up", {"code": code})
    assert "Wait 1 second," in too_soon.content.decode()  # django-otp's back-off
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)
    done = client.post("/staff/sign-in/set-up", {"code": code})
    assert done["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed

    client.post("/sign-out")
    response = _password(client, "hana")
    assert response["Location"].startswith("/staff/sign-in/code")
    assert client.get("/staff/housing/").status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Enter the code from your authenticator app" in page
    done = client.post("/staff/sign-in/code", {"code": code_for(device)})
    assert done["Location"] == "/staff/"
    assert client.get("/staff/housing/").status_code == 200


def test_the_set_up_page_shows_the_same_secret_until_it_is_confirmed(client, make_staff):
    make_staff("Finance officer", username="femi")
    location = _password(client, "femi")["Location"]
    first = _secret_on(client.get(location).content.decode())
    assert _secret_on(client.get(location).content.decode()) == first


def test_a_wrong_code_is_refused_and_counts_towards_the_lock(client, make_staff):
    user = make_staff("Parking officer", username="pat")
    device = give_device(user)
    _password(client, "pat")
    page = client.post("/staff/sign-in/code", {"code": "123456"}).content.decode()
    assert "The code is not right" in page
    assert client.get("/staff/").status_code == 302
    from borough.core.models import StaffSignInLock

    assert StaffSignInLock.objects.get(username="pat").failures == 1
    for _ in range(LOCK_AFTER - 1):
        # django-otp's own back-off after a wrong code is not what this tests
        TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
        last = client.post("/staff/sign-in/code", {"code": "123456"})
    assert "This account is locked" in last.content.decode()
    assert "_auth_user_id" not in client.session  # signed out
    # The right code and the right password no longer help.
    assert client.post("/staff/sign-in/code", {"code": code_for(device)}).status_code == 302
    assert "This account is locked" in _password(client, "pat").content.decode()
    assert "_auth_user_id" not in client.session


def test_a_code_works_only_once(client, make_staff):
    user = make_staff("Parking officer", username="pat")
    device = give_device(user)
    code = code_for(device)
    _password(client, "pat")
    assert client.post("/staff/sign-in/code", {"code": code})["Location"] == "/staff/"
    other = type(client)()
    _password(other, "pat")
    replayed = other.post("/staff/sign-in/code", {"code": code})
    assert replayed.status_code == 200
    assert "The code is not right" in replayed.content.decode()
    assert other.get("/staff/").status_code == 302


def test_a_role_without_personal_data_is_offered_a_second_factor_not_made_to(client, make_staff):
    make_staff("Data analyst", username="ada")
    assert _password(client, "ada")["Location"] == "/staff/"
    page = client.get("/staff/").content.decode()
    assert "/staff/sign-in/set-up" in page


def test_once_set_up_it_is_asked_for_even_where_the_role_does_not_need_it(client, make_staff):
    user = make_staff("Data analyst", username="ada")
    device = give_device(user)
    assert _password(client, "ada")["Location"].startswith("/staff/sign-in/code")
    assert client.get("/staff/insights/").status_code == 302
    client.post("/staff/sign-in/code", {"code": code_for(device)})
    assert client.get("/staff/insights/").status_code == 200


def test_a_role_given_later_asks_for_the_second_factor_at_the_next_page(
    client, make_staff, sign_in_staff
):
    from django.contrib.auth.models import Group

    user = make_staff(username="newcomer")
    client.force_login(user)
    assert client.get("/staff/").status_code == 200
    user.groups.add(Group.objects.get(name="Housing officer"))
    refused = client.get("/staff/housing/")
    assert refused.status_code == 302 and refused["Location"].startswith("/staff/sign-in/set-up")


def test_the_staff_api_refuses_a_session_without_the_second_factor(client, make_staff):
    client.force_login(make_staff("Enforcement officer", "Resident data officer"))
    assert client.get("/api/v1/parking/check", {"vrm": "AB12CDE", "zone": "A"}).status_code == 401
    posted = client.post("/api/v1/verifications", "{}", content_type="application/json")
    assert posted.status_code == 401


def test_the_django_admin_refuses_a_session_without_the_second_factor(client, make_staff):
    client.force_login(make_staff("Administrator", username="boss"))
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/sign-in/set-up")


def test_the_admins_own_password_page_is_not_a_way_round(client, make_staff):
    """Django's admin has its own sign-in form: it must not sign anyone in on a password alone."""
    make_staff("Administrator", username="boss")
    client.post("/admin/login/", {"username": "boss", "password": PASSWORD, "next": "/admin/"})
    assert "_auth_user_id" not in client.session
    response = client.get("/admin/login/")
    assert response.status_code == 302 and response["Location"].startswith("/staff/sign-in")


def test_an_administrator_resets_a_lost_device_from_the_command_line(client, make_staff):
    user = make_staff("Parking officer", username="pat")
    give_device(user)
    out = io.StringIO()
    call_command("staff", "reset-2fa", "pat", stdout=out)
    assert "pat will set up a new authenticator app" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert _password(client, "pat")["Location"].startswith("/staff/sign-in/set-up")


def test_an_administrator_resets_a_device_in_the_admin(client, make_staff, sign_in_staff):
    user = make_staff("Parking officer", username="pat")
    give_device(user)
    boss = make_staff("Administrator", username="boss")
    boss.is_superuser = True  # changing accounts in the admin takes Django's user permissions
    boss.save()
    sign_in_staff(client, boss)
    done = client.post(
        "/admin/core/user/", {"action": "reset_second_factor", "_selected_action": [user.pk]}
    )
    assert done.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()


def test_the_admin_never_shows_a_devices_secret(client, make_staff, sign_in_staff):
    user = make_staff("Parking officer", username="pat")
    device = give_device(user)
    boss = make_staff("Administrator", username="boss")
    boss.is_superuser = True
    boss.save()
    sign_in_staff(client, boss)
    page = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/").content.decode()
    assert device.key not in page


def test_the_second_factor_pages_need_a_password_first(client):
    assert client.get("/staff/sign-in/code")["Location"].startswith("/staff/sign-in")
    assert client.get("/staff/sign-in/set-up")["Location"].startswith("/staff/sign-in")
    assert client.post("/staff/sign-in/code", {"code": "123456"}).status_code == 302
