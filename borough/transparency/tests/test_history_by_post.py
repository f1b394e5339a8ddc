"""Issue 14: someone who knows a resident's name, date of birth and address passes an identity
check as them, but sees neither their history nor a copy of their data until they enter a code
posted to the address the council's records hold for the resident (``residents.history_codes``)."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from borough.core.letters import sent_letters
from borough.core.models import User
from borough.residents.models import SourceRecord
from borough.residents.tests.test_record_views import _dataset
from borough.residents.verification.models import HistoryCode
from borough.transparency.export_models import DataExport
from borough.transparency.models import DataUseEvent
from borough.transparency.resident_view import ANOTHER_ACCOUNT, YOU

from .resident_world import LONDON, build, check, record

pytestmark = pytest.mark.django_db

ADA_HOME = "48 Darwin Mansions, Roman Road, London"
ADA_POSTCODE = "E2 0JB"


@pytest.fixture
def world(make_staff, settings, tmp_path):
    settings.BOROUGH_LETTERS = "local"
    settings.BOROUGH_LETTERS_DIR = str(tmp_path / "letters")
    made = build(make_staff)
    dataset, load = _dataset("electoral_register", "Electoral register")
    SourceRecord.objects.create(
        dataset=dataset,
        record_ref="ER-48",
        row_number=1,
        first_name="Ada",
        surname="Lovelace",
        address_given=ADA_HOME,
        postcode=ADA_POSTCODE,
        content_hash="x",
        first_seen_load=load,
        last_seen_load=load,
        changed_at=load.started_at,
    )
    return made


def _passes_check_as_ada(email: str) -> User:
    """A new account whose check matched Ada's records (evidence: her electoral register
    record), not yet confirmed by post."""
    user = User.objects.create_resident(email)
    made = check(user, "R-ADA", by_post=False)
    made.evidence = [{"unique_id": "electoral_register:ER-48"}]
    made.save(update_fields=["evidence"])
    return user


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _code_in_latest_letter() -> str:
    text = sent_letters()[-1].read_text(encoding="utf-8")
    return re.search(r"Your one-time code is: (\w{5}-\w{5})", text).group(1)


def _ask_for_code(client: Client) -> None:
    response = client.post(reverse("residents:history-ask"))
    assert response.status_code == 302 and response["Location"] == reverse("residents:history-code")


def test_an_impostor_who_passed_the_check_sees_the_post_a_code_page_and_none_of_the_data(world):
    impostor = _signed_in(_passes_check_as_ada("ex-partner@example.org"))
    ask = reverse("residents:history-ask")
    event = world.ada_events[0]

    for url in (
        reverse("transparency:timeline"),
        reverse("transparency:questions"),
        reverse("transparency:entry", args=[event.pk]),
        reverse("transparency:question", args=[event.pk]),
        reverse("transparency:your-data"),
    ):
        response = impostor.get(url)
        assert response.status_code == 302 and response["Location"] == ask, url

    proof = impostor.get(reverse("transparency:entry-proof", args=[event.pk]))
    assert proof.status_code == 403 and "entry" not in proof.json()
    assert impostor.post(reverse("transparency:your-data-request"))["Location"] == ask
    assert not DataExport.objects.exists()

    page = impostor.get(ask).content.decode()
    assert "we'll post a code to the address we hold for you" in page.lower()
    assert "2 to 5 working days" in page
    for secret in (event.reference, "R-ADA", ADA_HOME, ADA_POSTCODE, "Lovelace"):
        assert secret not in page


def test_the_letter_goes_to_the_records_address_and_its_code_lets_that_account_in(world):
    new_account = _passes_check_as_ada("ada.new@example.org")
    client = _signed_in(new_account)
    _ask_for_code(client)

    (letter,) = sent_letters()
    text = letter.read_text(encoding="utf-8")
    assert text.startswith(f"Ada Lovelace\n48 Darwin Mansions\nRoman Road\nLondon\n{ADA_POSTCODE}")
    code = _code_in_latest_letter()
    stored = HistoryCode.objects.get(account=new_account)
    assert code.replace("-", "") not in stored.code_hash and len(stored.code_hash) == 64

    # A second session of the same account enters the code: it is the account, not the browser.
    response = _signed_in(new_account).post(
        reverse("residents:history-code"), {"code": code.lower()}
    )
    assert response["Location"] == reverse("transparency:timeline")
    timeline = client.get(reverse("transparency:timeline")).content.decode()
    assert world.ada_events[0].reference in timeline

    used = DataUseEvent.objects.filter(purpose="subject_access_identity_by_post")
    assert sorted(used.values_list("action", flat=True)) == ["sent_notice", "updated_records"]
    assert set(used.values_list("subject_resident_id", flat=True)) == {"R-ADA"}

    assert HistoryCode.objects.get(account=new_account).used_at is not None
    assert _timeline_ids(new_account) == ["R-ADA"]


def test_a_code_only_works_for_the_account_that_asked_for_it(world):
    asker = _passes_check_as_ada("asker@example.org")
    _ask_for_code(_signed_in(asker))
    code = _code_in_latest_letter()
    thief = _passes_check_as_ada("thief@example.org")
    response = _signed_in(thief).post(reverse("residents:history-code"), {"code": code})
    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    assert _signed_in(thief).get(reverse("transparency:timeline"))["Location"] == reverse(
        "residents:history-ask"
    )


def test_a_new_letter_voids_the_old_code(world, monkeypatch):
    from borough.residents import history_codes

    user = _passes_check_as_ada("ada.new@example.org")
    client = _signed_in(user)
    _ask_for_code(client)
    first = _code_in_latest_letter()
    # A day later the letter has not come; they ask again.
    posted = HistoryCode.objects.filter(account=user)
    posted.update(created_at=posted.get().created_at - 2 * history_codes.LETTER_EVERY)
    _ask_for_code(client)
    second = _code_in_latest_letter()
    assert first != second
    assert client.post(reverse("residents:history-code"), {"code": first}).status_code == 400
    assert client.post(reverse("residents:history-code"), {"code": second}).status_code == 302


def test_asking_twice_in_a_day_posts_one_letter(world):
    client = _signed_in(_passes_check_as_ada("ada.new@example.org"))
    _ask_for_code(client)
    response = client.post(reverse("residents:history-ask"))
    assert response.status_code == 200 and "You can ask for another one tomorrow" in (
        response.content.decode()
    )
    assert len(sent_letters()) == 1


def test_voiding_a_code_with_wrong_tries_does_not_post_another_letter_the_same_day(world):
    user = _passes_check_as_ada("guesser@example.org")
    client = _signed_in(user)
    _ask_for_code(client)
    for _ in range(5):
        client.post(reverse("residents:history-code"), {"code": "AAAAA-AAAAA"})
    assert client.post(reverse("residents:history-ask")).status_code == 200
    assert len(sent_letters()) == 1


def test_wrong_codes_are_limited_per_code_across_sessions(world):
    user = _passes_check_as_ada("guesser@example.org")
    _ask_for_code(_signed_in(user))
    code = _code_in_latest_letter()
    for _ in range(5):  # a new browser session each time
        response = _signed_in(user).post(reverse("residents:history-code"), {"code": "AAAAA-AAAAA"})
        assert response.status_code == 400
    # The code is void after 5 wrong tries, and the account is locked for a day.
    assert HistoryCode.objects.get(account=user).voided_at is not None
    response = _signed_in(user).post(reverse("residents:history-code"), {"code": code})
    assert response.status_code == 429 and "Retry-After" in response
    assert "R-ADA" not in _timeline_ids(user)


def test_wrong_codes_are_limited_per_resident_across_accounts(world):
    # Five accounts each guess once at a code for Ada; the sixth is refused before it guesses.
    for n in range(5):
        guesser = _passes_check_as_ada(f"guesser{n}@example.org")
        _ask_for_code(_signed_in(guesser))
        response = _signed_in(guesser).post(
            reverse("residents:history-code"), {"code": "AAAAA-AAAAA"}
        )
        assert response.status_code == 400
    last = _passes_check_as_ada("guesser5@example.org")
    _ask_for_code(_signed_in(last))
    code = _code_in_latest_letter()
    response = _signed_in(last).post(reverse("residents:history-code"), {"code": code})
    assert response.status_code == 429
    assert "R-ADA" not in _timeline_ids(last)


def _timeline_ids(user) -> list[str]:
    from borough.transparency.resident_queries import resident_ids_of

    return resident_ids_of(user)


def test_the_account_that_holds_the_resident_id_is_emailed_without_the_other_accounts_details(
    world,
):
    _ask_for_code(_signed_in(_passes_check_as_ada("ex-partner@example.org")))
    (message,) = mail.outbox
    assert message.to == [world.ada.email]
    assert "Another online account asked to see your data" in message.subject
    assert "ex-partner" not in message.body and "ex-partner" not in message.subject


def test_unusual_access_lists_a_resident_id_claimed_by_several_accounts(
    world, client, dpo, sign_in_staff
):
    _passes_check_as_ada("ex-partner@example.org")
    sign_in_staff(client, dpo)
    page = client.get(reverse("transparency:staff-unusual-access")).content.decode()
    section = page.split('id="claimed"')[1]
    assert "R-ADA" in section and "R-BOB" not in section
    listed = DataUseEvent.objects.filter(purpose="data_use_log_audit", reference="unusual-access")
    assert "R-ADA" in set(listed.values_list("subject_resident_id", flat=True))


def test_another_accounts_use_of_my_data_is_not_shown_to_me_as_you(client, world):
    """The review's finding (branch review): an impostor's check on the genuine resident's
    timeline read "You, signed in to your account"."""
    impostor = User.objects.create_resident("someone-else@example.org")
    check(impostor, "R-ADA")
    record(
        datetime(2026, 3, 20, 9, 0, tzinfo=LONDON),
        ["R-ADA"],
        actor=impostor,
        actor_kind="resident",
        actor_label=YOU,
        reference="V-IMPOSTOR01",
    )
    record(
        datetime(2026, 3, 21, 9, 0, tzinfo=LONDON),
        ["R-ADA"],
        actor=world.ada,
        actor_kind="resident",
        actor_label=YOU,
        reference="V-ADAHERSELF",
    )
    client.force_login(world.ada)
    html = client.get(reverse("transparency:timeline")).content.decode()
    impostors = html.split("V-IMPOSTOR01")[0].rsplit("govuk-summary-card__title", 1)[1]
    hers = html.split("V-ADAHERSELF")[0].rsplit("govuk-summary-card__title", 1)[1]
    assert YOU not in impostors and ANOTHER_ACCOUNT in impostors
    assert YOU in hers
