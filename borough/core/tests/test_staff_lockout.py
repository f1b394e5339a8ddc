"""Staff sign-in locks an account after ten failures in a row, in the database: another browser,
another web process or a restart does not reset it; an administrator unlocks it."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client

from borough.core.lockout import LOCK_AFTER

# What sits behind the rate limits (those: test_rate_limits.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_sign_in_rate_limits")]

PASSWORD = "correct horse battery"


def _sign_in(client, username="pat", password=PASSWORD):
    return client.post("/staff/sign-in", {"username": username, "password": password})


def test_ten_wrong_passwords_lock_the_account_even_against_the_right_one(client, make_staff):
    make_staff("Parking officer", username="pat")
    for n in range(LOCK_AFTER):
        assert _sign_in(client, password=f"guess {n}").status_code == 200
    locked = _sign_in(client)
    assert locked.status_code == 200
    assert "_auth_user_id" not in client.session
    page = locked.content.decode()
    assert "This account is locked" in page
    assert "Ask an administrator to unlock it" in page


def test_the_lock_holds_across_browsers_and_a_cleared_cache(make_staff):
    make_staff("Parking officer", username="pat")
    first, second = Client(), Client()
    for n in range(LOCK_AFTER // 2):
        _sign_in(first, password=f"first {n}")
        _sign_in(second, password=f"second {n}")
    cache.clear()  # a restart, or another web process
    third = Client()
    assert "This account is locked" in _sign_in(third).content.decode()
    assert "_auth_user_id" not in third.session


def test_warning_before_the_lock(client, make_staff):
    make_staff("Parking officer", username="pat")
    for n in range(LOCK_AFTER - 3):
        page = _sign_in(client, password=f"guess {n}").content.decode()
    assert "Enter a correct username and password" in page
    assert "3 more tries before this account is locked" in page


def test_a_success_starts_the_count_again(client, make_staff, sign_in_staff):
    user = make_staff("Data analyst", username="ada")
    for n in range(LOCK_AFTER - 1):
        _sign_in(client, "ada", f"guess {n}")
    assert _sign_in(client, "ada")["Location"] == "/staff/"
    client.logout()
    for n in range(LOCK_AFTER - 1):
        _sign_in(client, "ada", f"again {n}")
    assert _sign_in(client, "ada")["Location"] == "/staff/"
    assert user.pk == int(client.session["_auth_user_id"])


def test_unknown_usernames_lock_the_same_way(client):
    """So the lock-out does not tell an attacker which usernames exist."""
    for n in range(LOCK_AFTER):
        _sign_in(client, "nobody", f"guess {n}")
    assert "This account is locked" in _sign_in(client, "nobody").content.decode()


def test_an_administrator_unlocks_an_account_from_the_command_line(client, make_staff):
    make_staff("Parking officer", username="pat")
    for n in range(LOCK_AFTER):
        _sign_in(client, password=f"guess {n}")
    out = io.StringIO()
    call_command("staff", "unlock", "pat", stdout=out)
    assert "Unlocked pat" in out.getvalue()
    assert _sign_in(client).status_code == 302


def test_an_administrator_unlocks_an_account_in_the_admin(client, make_staff, sign_in_staff):
    from borough.core.models import StaffSignInLock

    make_staff("Parking officer", username="pat")
    for n in range(LOCK_AFTER):
        _sign_in(client, password=f"guess {n}")
    lock = StaffSignInLock.objects.get(username="pat")
    assert lock.locked_at is not None
    admin = Client()
    sign_in_staff(admin, make_staff("Administrator", username="boss"))
    listing = admin.get("/admin/core/staffsigninlock/")
    assert listing.status_code == 200 and "pat" in listing.content.decode()
    done = admin.post(
        "/admin/core/staffsigninlock/",
        {"action": "unlock", "_selected_action": [lock.pk]},
    )
    assert done.status_code == 302
    assert _sign_in(client).status_code == 302
