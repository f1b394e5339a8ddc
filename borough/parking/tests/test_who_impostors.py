"""The "who you are" step with a real verification against a linked synthetic borough, tried
as an impostor would: a made-up date of birth, guesses from many accounts."""

from __future__ import annotations

import datetime as dt

import pytest

from borough.core.models import User
from borough.residents.index import resident_ids_of
from borough.residents.tests.conftest import loaded, synth  # noqa: F401
from borough.residents.tests.verification.conftest import index_folder, linked  # noqa: F401
from borough.residents.verification.attempts import LIMITS
from borough.residents.verification.service import HOLDER


def _with_a_date_of_birth(synth):  # noqa: F811
    """An adult at home whose records hold their date of birth."""
    index = HOLDER.get()
    for person in synth.adults_at_home(200):
        rows = [
            r
            for r in synth.rows("housing_tenancies")
            if r["FORENAME"].lower() == person["first_name"].lower()
            and r["UPRN"] == person["current_uprn"]
        ]
        for r in rows:
            uid = f"housing_tenancies:{r['TENANT_REF']}"
            resident = resident_ids_of([uid]).get(uid)
            if resident and any(index.record(i).dob for i in index.records_of(resident)):
                return person
    raise AssertionError("no adult at home with a date of birth in the records")


def _start(client, person, email):
    client.logout()
    client.force_login(User.objects.create_resident(email))
    session = client.session
    session["parking_apply"] = {"journey": email, "uprn": int(person["current_uprn"]), "zone": "A"}
    session.save()


def _who(client, person, born: dt.date):
    return client.post(
        "/parking/apply/you",
        {
            "first_name": person["first_name"],
            "surname": person["surname"],
            "dob_day": str(born.day),
            "dob_month": str(born.month),
            "dob_year": str(born.year),
        },
    )


def _decision(client) -> str:
    answers = client.session["parking_apply"]
    assert "decision" in answers, answers
    return answers["decision"]


def test_a_made_up_date_of_birth_does_not_confirm_someone_elses_address(client, linked, synth):  # noqa: F811
    person = _with_a_date_of_birth(synth)
    _start(client, person, "impostor@example.org")
    page = _who(client, person, dt.date(1970, 1, 1))
    assert page.status_code == 302
    assert _decision(client) == "refer"
    page = client.get("/parking/apply/checked").content.decode()
    assert "We could not confirm your address automatically" in page
    _start(client, person, "the-resident@example.org")
    _who(client, person, dt.date.fromisoformat(person["date_of_birth"]))
    assert _decision(client) == "verified"


def test_guesses_at_one_persons_details_from_many_accounts_are_stopped(client, linked, synth):  # noqa: F811
    person = _with_a_date_of_birth(synth)
    for n in range(LIMITS["details"].failures):
        _start(client, person, f"guesser{n}@example.org")
        page = _who(client, person, dt.date(1940 + n, 1, 1))
    assert page.status_code == 429
    _start(client, person, "another@example.org")
    locked = _who(client, person, dt.date(1990, 6, 6))
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    assert "You have tried too many times" in locked.content.decode()


def test_an_address_confirmed_from_name_and_address_alone_says_so_and_shows_no_dates(
    client,
    linked,  # noqa: F811
    synth,  # noqa: F811
    monkeypatch,
):
    import pandas as pd

    from borough.residents.index import latest_run
    from borough.residents.linkage.pipeline import load_model
    from borough.residents.verification.candidates import CandidateIndex

    person = _with_a_date_of_birth(synth)
    state = latest_run()
    frame = pd.read_parquet(state["verification"])
    frame["date_of_birth"] = None  # a council whose records hold no dates of birth
    index = CandidateIndex.from_frame(frame, load_model(state["model"]))
    monkeypatch.setattr(HOLDER, "get", lambda folder=None: index)
    _start(client, person, "resident@example.org")
    _who(client, person, dt.date(1970, 1, 1))
    assert _decision(client) == "verified"
    assert client.session["parking_apply"]["unconfirmed"] == ["date_of_birth"]
    page = client.get("/parking/apply/checked").content.decode()
    assert "from your name and address alone" in page
    assert " since " not in page


@pytest.fixture(autouse=True)
def _fresh_index():
    HOLDER.clear()
    yield
    HOLDER.clear()
