"""Someone who is not the tenant tries to open a tenant's rent account: near-miss details,
repeated guesses across sessions and accounts, a second account after the tenant's own."""

from __future__ import annotations

import datetime as dt
import re
from unittest import mock

import pytest
from django.core.cache import cache
from django.utils import timezone

from borough.core.letters import sent_letters
from borough.housing.models import RentAccount, Tenancy, Tenant
from borough.housing.tests.factories import born as date_of_birth
from borough.places.models import Property
from borough.residents.index import resident_ids_of
from borough.residents.verification.attempts import LIMITS

from .test_self_service import _confirm, _find, _sign_in


def _near_misses(born: dt.date) -> dict[str, dt.date]:
    out = {
        "a day out": born + dt.timedelta(days=1),
        "a month out": born.replace(month=born.month % 12 + 1, day=min(born.day, 28)),
        "a year out": born.replace(year=born.year - 1, day=min(born.day, 28)),
    }
    return out


# day and month swapped: test_hard_rules (this tenant's day is past the 12th)
@pytest.mark.parametrize("miss", ["a day out", "a month out", "a year out"])
def test_a_date_of_birth_near_the_tenants_does_not_open_the_account(client, tenancy, miss):
    row = tenancy["row"]
    wrong = _near_misses(date_of_birth(row))[miss]
    _sign_in(client)
    _find(client, tenancy)
    page = _confirm(
        client, row, dob_day=str(wrong.day), dob_month=str(wrong.month), dob_year=str(wrong.year)
    )
    assert page.status_code == 200, page.get("Location")
    assert "We could not confirm you are the tenant" in page.content.decode()
    assert client.get("/rent/account/12345678I").status_code == 404
    assert not Tenant.objects.filter(account__isnull=False).exists()


# -- guesses: limited per rent account, per online account, whatever the session ----------------


def _guess(client, tenancy, email, *, years_out: int):
    """A new online account (and session) guessing the tenant's date of birth."""
    client.logout()
    _sign_in(client, email)
    _find(client, tenancy)
    born = date_of_birth(tenancy["row"])
    wrong = born.replace(year=born.year - years_out, day=min(born.day, 28))
    return _confirm(
        client,
        tenancy["row"],
        dob_day=str(wrong.day),
        dob_month=str(wrong.month),
        dob_year=str(wrong.year),
    )


def test_guesses_from_many_accounts_lock_the_rent_account_and_the_tenant_is_told(
    client, tenancy, mailoutbox
):
    tenant = tenancy["tenant"]
    tenant.email = "tenant.at.home@example.org"
    tenant.save()
    for n in range(LIMITS["rent-account"].failures):
        page = _guess(client, tenancy, f"guesser{n}@example.org", years_out=n + 1)
    # the fifth failure locks it: that person is told at once, and the tenant by email
    assert page.status_code == 429
    told = [m for m in mailoutbox if "tenant.at.home@example.org" in m.to]
    assert len(told) == 1 and "Someone tried to see your rent account" in told[0].subject
    assert tenancy["row"]["DATE_OF_BIRTH"] not in told[0].body
    # a new account in a new session, and a cleared cache, change nothing
    cache.clear()
    again = _guess(client, tenancy, "fresh-account@example.org", years_out=40)
    assert again.status_code == 429
    assert int(again["Retry-After"]) > 3600
    body = again.content.decode()
    assert "You have tried too many times" in body and "call the housing office" in body
    # even the right date of birth is not checked while it is locked
    client.logout()
    _sign_in(client, "real-tenant@example.org")
    _find(client, tenancy)
    assert _confirm(client, tenancy["row"]).status_code == 429
    assert not Tenant.objects.filter(account__isnull=False).exists()


def test_the_lock_ends_when_the_failures_age_out_of_the_window(client, tenancy):
    start = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=start):
        for n in range(LIMITS["rent-account"].failures):
            _guess(client, tenancy, f"guesser{n}@example.org", years_out=n + 1)
    later = start + LIMITS["rent-account"].window + dt.timedelta(minutes=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        client.logout()
        _sign_in(client, "real-tenant@example.org")
        _find(client, tenancy)
        assert _confirm(client, tenancy["row"])["Location"] == "/rent/account/12345678I"


def test_one_account_guessing_payment_references_is_stopped_across_sessions(client, tenancy):
    user = _sign_in(client, "prober@example.org")
    for n in range(LIMITS["rent-find-account"].failures):
        client.logout()
        client.force_login(user)
        page = _find(client, tenancy, payment_reference=f"9999{n:04d}A")
        assert page.status_code == 200
    # even the right reference and postcode are refused now, and a new session changes nothing
    client.logout()
    client.force_login(user)
    locked = _find(client, tenancy)
    assert locked.status_code == 429 and "Retry-After" in locked


def test_guessing_postcodes_for_one_payment_reference_is_stopped_and_the_tenant_told(
    client, tenancy, mailoutbox
):
    tenancy["tenant"].email = "tenant.at.home@example.org"
    tenancy["tenant"].save()
    for n in range(LIMITS["rent-reference"].failures):
        client.logout()
        _sign_in(client, f"prober{n}@example.org")
        assert _find(client, tenancy, postcode=f"E21 {n}ZZ").status_code == 200
    told = [m for m in mailoutbox if m.to == ["tenant.at.home@example.org"]]
    assert len(told) == 1 and told[0].subject == "Someone tried to see your rent account online"
    client.logout()
    _sign_in(client, "the-tenant@example.org")
    locked = _find(client, tenancy)
    assert locked.status_code == 429
    # this lock's page does not claim that anyone was told of *it*
    assert "we have told them" not in locked.content.decode()


def test_a_machine_client_guessing_a_tenants_date_of_birth_locks_them_and_they_are_told(
    client, tenancy, mailoutbox
):
    from borough.core.api_clients import create_client
    from borough.residents.verification.engine import Applicant
    from borough.residents.verification.service import verify
    from borough.transparency.models import ActorKind

    tenancy["tenant"].email = "tenant.at.home@example.org"
    tenancy["tenant"].save()
    row, born = tenancy["row"], date_of_birth(tenancy["row"])
    create_client("Compromised", ["verify"])
    for n in range(LIMITS["resident"].failures):
        verify(
            Applicant(
                first_name=row["FORENAME"],
                surname=row["SURNAME"],
                date_of_birth=born - dt.timedelta(days=n + 1),
                uprn=tenancy["home"].uprn,
            ),
            "housing_tenant_verification",
            actor_kind=ActorKind.SERVICE,
            actor_label="Compromised",
        )
    told = [m for m in mailoutbox if m.to == ["tenant.at.home@example.org"]]
    assert len(told) == 1
    # the real tenant is then told to wait, and that they were emailed
    _sign_in(client, "real-tenant@example.org")
    _find(client, tenancy)
    page = _confirm(client, row)
    assert page.status_code == 429
    assert "we have told them" in page.content.decode()


# -- a second online account does not take the tenancy over -------------------------------------


def _link(client, tenancy, email):
    client.logout()
    user = _sign_in(client, email)
    _find(client, tenancy)
    return user, _confirm(client, tenancy["row"])


def test_a_second_account_verified_as_the_tenant_does_not_take_the_tenancy_over(
    client, tenancy, mailoutbox, settings, tmp_path
):
    settings.BOROUGH_LETTERS_DIR = tmp_path  # the local letters backend writes here
    first, landed = _link(client, tenancy, "first@example.org")
    assert landed["Location"] == "/rent/account/12345678I"
    second, page = _link(client, tenancy, "second@example.org")
    body = page.content.decode()
    assert "already linked to a different online account" in body
    tenancy["tenant"].refresh_from_db()
    assert tenancy["tenant"].account == first
    assert client.get("/rent/account/12345678I").status_code == 404
    warned = [m for m in mailoutbox if m.to == ["first@example.org"]]
    assert warned and "tried to link another online account" in warned[-1].subject

    # the second person asks for a code by post, to the home
    sent = client.post("/rent/find/letter")
    assert "We are posting you a code" in sent.content.decode()
    [letter] = sent_letters()
    text = letter.read_text()
    assert tenancy["home"].postcode in text
    code = re.search(r"code is: ([0-9A-Z]{5}-[0-9A-Z]{5})", text).group(1)
    # a second letter is not sent within the week
    again = client.post("/rent/find/letter")
    assert "We have posted a code" in again.content.decode() or again.status_code == 403
    assert len(sent_letters()) == 1

    # the first account cannot use the second's code
    client.logout()
    client.force_login(first)
    wrong = client.post("/rent/find/code", {"code": code})
    assert "That code is not right" in wrong.content.decode()

    # the second enters it: it now sees the account; the first no longer does, and is told
    client.logout()
    client.force_login(second)
    done = client.post("/rent/find/code", {"code": code.lower().replace("-", " ")})
    assert done["Location"] == "/rent/account/12345678I"
    tenancy["tenant"].refresh_from_db()
    assert tenancy["tenant"].account == second
    assert [m for m in mailoutbox if m.to == ["first@example.org"]][-1].subject == (
        "Your online account no longer sees your rent account"
    )
    # used once
    client.logout()
    client.force_login(second)
    assert (
        "That code is not right" in client.post("/rent/find/code", {"code": code}).content.decode()
    )


def test_a_letter_is_posted_only_after_a_check_that_entitles_to_one(
    client, tenancy, settings, tmp_path
):
    settings.BOROUGH_LETTERS_DIR = tmp_path
    _sign_in(client, "anyone@example.org")
    _find(client, tenancy)
    assert client.post("/rent/find/letter").status_code == 403
    # a near miss is not entitled either
    born = date_of_birth(tenancy["row"]) + dt.timedelta(days=1)
    page = _confirm(
        client,
        tenancy["row"],
        dob_day=str(born.day),
        dob_month=str(born.month),
        dob_year=str(born.year),
    )
    assert "Post me a code" not in page.content.decode()
    assert client.post("/rent/find/letter").status_code == 403
    assert sent_letters() == []


def test_wrong_codes_are_limited_per_account(client, tenancy):
    user = _sign_in(client, "code-guesser@example.org")
    for n in range(LIMITS["rent-find-account"].failures):
        client.logout()
        client.force_login(user)
        page = client.post("/rent/find/code", {"code": f"AAAAA{n:05d}"})
        assert page.status_code == 200
    assert client.post("/rent/find/code", {"code": "AAAAA-BBBBB"}).status_code == 429


def _joint_tenancy(synth):
    """A current tenancy of the synthetic borough with two tenants whose records have dates of
    birth, made into a tenancy and rent account."""
    by_tenancy: dict[str, list[dict]] = {}
    for r in synth.rows("housing_tenancies"):
        if not r["TENANCY_END"] and r["DATE_OF_BIRTH"]:
            by_tenancy.setdefault(r["TENANCY_REF"], []).append(r)
    rows = next(rows for rows in by_tenancy.values() if len(rows) >= 2)[:2]
    ids = resident_ids_of([f"housing_tenancies:{r['TENANT_REF']}" for r in rows])
    home = Property.objects.get(pk=int(rows[0]["UPRN"]))
    tenancy = Tenancy.objects.create(
        reference=rows[0]["TENANCY_REF"],
        property=home,
        tenure="secure",
        start_date=dt.date(2020, 4, 6),
    )
    tenants = [
        Tenant.objects.create(
            tenancy=tenancy,
            first_name=r["FORENAME"],
            surname=r["SURNAME"],
            resident_id=ids[f"housing_tenancies:{r['TENANT_REF']}"],
            lead=n == 0,
        )
        for n, r in enumerate(rows)
    ]
    account = RentAccount.objects.create(
        tenancy=tenancy, payment_reference="87654321X", opened_on=dt.date(2020, 4, 6)
    )
    return rows, tenants, account, home


def test_joint_tenants_each_link_their_own_account_and_the_first_is_told(
    client, linked, synth, mailoutbox
):
    rows, tenants, account, home = _joint_tenancy(synth)
    found = {"payment_reference": account.payment_reference, "postcode": home.postcode}
    users = []
    for n, row in enumerate(rows):
        client.logout()
        users.append(_sign_in(client, f"joint{n}@example.org"))
        client.post("/rent/find", found)
        landed = _confirm(client, row)
        assert landed["Location"] == f"/rent/account/{account.payment_reference}"
    for tenant, user in zip(tenants, users, strict=True):
        tenant.refresh_from_db()
        assert tenant.account == user
    told = [m for m in mailoutbox if m.to == ["joint0@example.org"]]
    assert told and told[-1].subject == "Another online account can now see your rent account"
    # the second tenant's details do not move the first tenant's place
    client.logout()
    _sign_in(client, "joint2@example.org")
    client.post("/rent/find", found)
    assert "already linked" in _confirm(client, rows[1]).content.decode()
    tenants[0].refresh_from_db()
    assert tenants[0].account == users[0]


def test_a_tenant_whose_records_hold_no_date_of_birth_is_offered_a_code_by_post(
    client, linked, synth, settings, tmp_path, monkeypatch
):
    """A council whose tenancy records (and every other record of the tenant) hold no date of
    birth: the tenant is referred, and may ask for a code posted to the home."""
    import pandas as pd

    from borough.residents.index import latest_run
    from borough.residents.linkage.pipeline import load_model
    from borough.residents.verification.candidates import CandidateIndex
    from borough.residents.verification.service import HOLDER

    settings.BOROUGH_LETTERS_DIR = tmp_path
    row = next(r for r in synth.rows("housing_tenancies") if not r["TENANCY_END"])
    unique_id = f"housing_tenancies:{row['TENANT_REF']}"
    resident = resident_ids_of([unique_id])[unique_id]
    state = latest_run()
    frame = pd.read_parquet(state["verification"])
    frame.loc[frame["resident_id"] == resident, "date_of_birth"] = None
    index = CandidateIndex.from_frame(frame, load_model(state["model"]))
    monkeypatch.setattr(HOLDER, "get", lambda folder=None: index)
    home = Property.objects.get(pk=int(row["UPRN"]))
    tenancy = Tenancy.objects.create(
        reference=row["TENANCY_REF"], property=home, tenure="secure", start_date=dt.date(2020, 4, 6)
    )
    tenant = Tenant.objects.create(
        tenancy=tenancy, first_name=row["FORENAME"], surname=row["SURNAME"], resident_id=resident
    )
    RentAccount.objects.create(
        tenancy=tenancy, payment_reference="11223344B", opened_on=dt.date(2020, 4, 6)
    )
    user = _sign_in(client, "no-dob@example.org")
    client.post("/rent/find", {"payment_reference": "11223344B", "postcode": home.postcode})
    page = client.post(
        "/rent/find/you",
        {
            "first_name": row["FORENAME"],
            "surname": row["SURNAME"],
            "dob_day": "1",
            "dob_month": "1",
            "dob_year": "1970",
        },
    )
    body = page.content.decode()
    assert "We could not confirm you are the tenant" in body and "Post me a code" in body
    assert client.post("/rent/find/letter").status_code == 200
    [letter] = sent_letters()
    code = re.search(r"code is: ([0-9A-Z]{5}-[0-9A-Z]{5})", letter.read_text()).group(1)
    assert client.post("/rent/find/code", {"code": code})["Location"] == "/rent/account/11223344B"
    tenant.refresh_from_db()
    assert tenant.account == user


def test_a_housing_officer_removes_an_online_account_that_is_not_the_tenants(
    sign_in_staff, client, tenancy, make_staff, mailoutbox
):
    _, landed = _link(client, tenancy, "not-the-tenant@example.org")
    assert landed["Location"] == "/rent/account/12345678I"
    client.logout()
    sign_in_staff(client, make_staff("Housing officer"))
    page = client.get("/staff/housing/accounts/12345678I").content.decode()
    assert "not-the-tenant@example.org" in page and "Remove" in page
    tenant = tenancy["tenant"]
    confirm = client.get(f"/staff/housing/accounts/12345678I/tenants/{tenant.pk}/unlink")
    assert "not-the-tenant@example.org" in confirm.content.decode()
    done = client.post(f"/staff/housing/accounts/12345678I/tenants/{tenant.pk}/unlink")
    assert done["Location"] == "/staff/housing/accounts/12345678I"
    tenant.refresh_from_db()
    assert tenant.account is None
    assert mailoutbox[-1].to == ["not-the-tenant@example.org"]
    # the tenant can now link their own
    _, mine = _link(client, tenancy, "the-real-tenant@example.org")
    assert mine["Location"] == "/rent/account/12345678I"


def test_a_finance_officer_sees_online_accounts_but_cannot_remove_them(
    sign_in_staff, client, tenancy, make_staff
):
    _link(client, tenancy, "tenant@example.org")
    client.logout()
    sign_in_staff(client, make_staff("Finance officer"))
    assert (
        "Remove online account"
        not in client.get("/staff/housing/accounts/12345678I").content.decode()
    )
    tenant = tenancy["tenant"]
    refused = client.post(f"/staff/housing/accounts/12345678I/tenants/{tenant.pk}/unlink")
    assert refused.status_code in (302, 403)
    tenant.refresh_from_db()
    assert tenant.account is not None
