"""The permit and Direct Debit what-ifs, and the decision notes saved from them."""

import datetime as dt
import html
import re

import pytest
from django.urls import reverse

from borough.insights.disclosure import CONFIDENTIAL, Rule
from borough.insights.models import DecisionNote, ImmutableError
from borough.insights.tests import fixtures
from borough.insights.whatif_direct_debit import (
    CollectionDays,
    moved_day,
    run_direct_debit_whatif,
)
from borough.insights.whatif_permits import PermitRules, RulesError, run_permit_whatif
from borough.parking.models import Permit

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 25)
RULE = Rule(threshold=10, round_to=5)


@pytest.fixture
def permits(db):
    return fixtures.make_permits(TODAY)


@pytest.fixture
def analyst(make_staff, sign_in_staff, client):
    user = make_staff("Data analyst")
    sign_in_staff(client, user)
    return user


def _main(response) -> str:
    """The page's <main>: what it shows, without the per-request CSP nonce."""
    body = response.content.decode()
    return body[body.index("<main") : body.index("</main>")]


def _current():
    return PermitRules.current("resident")


def _changed(**prices):
    rules = _current()
    names = "ABCDEFGHIJKLM"
    new_prices = list(rules.prices_pence)
    for band, pence in prices.items():
        new_prices[names.index(band)] = pence
    return PermitRules("resident", rules.max_co2, tuple(new_prices), rules.diesel_surcharge_pence)


def test_the_current_rules_reproduce_what_the_live_permits_pay(permits):
    figures = run_permit_whatif(_current(), RULE)
    live = [p for p in permits if p.status == Permit.Status.ACTIVE]
    assert figures["permits"] == len(live) == 25
    assert figures["current_pence"] == sum(p.paid_pence for p in live) == 357000
    assert figures["new_pence"] == figures["current_pence"]
    assert figures["change_pence"] == 0


def test_a_higher_band_price_raises_revenue_by_that_much_for_each_permit_in_the_band(permits):
    figures = run_permit_whatif(_changed(G=15000), RULE)
    assert figures["change_pence"] == 14 * 1000  # 14 permits in band G
    g = next(row for row in figures["by_band"] if row["label"] == "G")
    assert (g["permits"], g["more"], g["less"], g["same"]) == (14, 14, 0, 0)
    assert g["change_pence"] == 14000


def test_moving_a_band_boundary_moves_vehicles_to_the_cheaper_band(permits):
    rules = _current()
    limits = list(rules.max_co2)
    limits[5] = 125  # band F now up to 125 g/km: the 120 g/km cars leave band G
    figures = run_permit_whatif(
        PermitRules("resident", tuple(limits), rules.prices_pence, rules.diesel_surcharge_pence),
        RULE,
    )
    assert figures["change_pence"] == -14 * (14000 - 12500)


def test_a_lower_diesel_surcharge_shows_in_the_totals(permits):
    rules = _current()
    cheaper = PermitRules("resident", rules.max_co2, rules.prices_pence, 5000)
    assert run_permit_whatif(cheaper, RULE)["change_pence"] == -15000


def test_bands_that_do_not_increase_are_refused_with_the_band_named():
    rules = _current()
    limits = list(rules.max_co2)
    limits[3] = 60  # band D below band C (75)
    broken = PermitRules("resident", tuple(limits), rules.prices_pence, 0)
    with pytest.raises(RulesError, match="band D"):
        broken.parking()


def test_no_row_counts_fewer_than_the_threshold_and_small_counts_are_hidden(permits):
    figures = run_permit_whatif(_changed(H=99000), RULE)
    for table in ("by_band", "by_ward"):
        rows = figures[table]
        assert sum(row["permits"] for row in rows) == 25
        for row in rows:
            assert row["permits"] >= 10
            for key in ("more", "less", "same"):
                assert row[key] == CONFIDENTIAL or row[key] == 0 or row[key] >= 10
    # The one diesel permit in band H pays more; it is in a row with others, and hidden.
    assert all(row["label"] != "H" for row in figures["by_band"])
    assert "Canal" not in {row["label"] for row in figures["by_ward"]}


def test_fewer_permits_than_the_threshold_are_not_broken_down(permits):
    figures = run_permit_whatif(_current(), Rule(threshold=30))
    assert figures["too_few"] and figures["by_band"] == [] and figures["by_ward"] == []


def _form(rules: PermitRules, **extra) -> dict:
    data = {"permit_type": rules.permit_type, "diesel": f"{rules.diesel_surcharge_pence / 100:.2f}"}
    for name, limit, price in zip("ABCDEFGHIJKLM", rules.max_co2, rules.prices_pence, strict=True):
        data[f"price_{name}"] = f"{price / 100:.2f}"
        if limit is not None:
            data[f"co2_{name}"] = str(limit)
    return {**data, **extra}


def test_an_analyst_runs_a_what_if_saves_a_note_and_its_figures_never_change(
    permits, analyst, client
):
    page = client.get(reverse("insights:whatif-permits"), _form(_changed(G=15000)))
    assert page.status_code == 200
    assert "+£140" in page.content.decode()
    saved = client.post(
        reverse("insights:whatif-permits-save"),
        _form(
            _changed(G=15000),
            title="Band G price 2027",
            decision="Raise band G by £10 from April.",
            figures='{"change_pence": 1}',  # ignored: the server works the figures out
        ),
    )
    note = DecisionNote.objects.get()
    assert saved.status_code == 302 and saved.url == reverse(
        "insights:decision-note", args=[note.pk]
    )
    assert note.figures["change_pence"] == 14000
    assert note.decided_by == analyst
    assert note.parameters["bands"][6] == {"band": "G", "max_co2": 130, "price_pence": 15000}
    before = _main(client.get(saved.url))

    for permit in permits[:10]:  # the permits change afterwards
        Permit.objects.filter(pk=permit.pk).update(status=Permit.Status.CANCELLED)
    assert run_permit_whatif(_changed(G=15000))["change_pence"] != 14000
    note.refresh_from_db()
    assert note.figures["change_pence"] == 14000
    assert _main(client.get(saved.url)) == before


def test_each_what_if_and_each_saved_note_is_recorded_naming_no_one(permits, analyst, client):
    from borough.transparency.queries import events

    client.get(reverse("insights:whatif-permits"), _form(_changed(G=15000)))
    client.post(
        reverse("insights:whatif-permits-save"),
        _form(_changed(G=15000), title="Band G", decision="Raise band G."),
    )
    recorded = list(events().filter(purpose="insights_policy_what_if"))
    assert len(recorded) == 2
    assert all(e.subject_resident_id == "" and e.actor_user == analyst for e in recorded)
    assert all(e.datasets_read == ["parking_permits"] for e in recorded)
    client.get(reverse("insights:whatif-permits"))  # the blank form totals nothing
    assert events().filter(purpose="insights_policy_what_if").count() == 2


def test_a_saved_note_cannot_be_changed_or_deleted(permits, analyst):
    note = DecisionNote.objects.create(
        kind="permits",
        title="t",
        parameters={},
        figures={"change_pence": 1},
        decision="d",
        decided_by=analyst,
    )
    note.figures = {"change_pence": 2}
    with pytest.raises(ImmutableError):
        note.save()
    with pytest.raises(ImmutableError):
        DecisionNote.objects.filter(pk=note.pk).update(figures={})
    with pytest.raises(ImmutableError):
        note.delete()
    with pytest.raises(ImmutableError):
        DecisionNote.objects.all().delete()
    assert DecisionNote.objects.get().figures == {"change_pence": 1}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("price_G", "lots", "Enter band G's price in pounds and pence, like 125.00"),
        ("price_G", "-5", "Enter band G's price as £0 or more"),
        ("co2_D", "60", "Band D's highest CO2 must be more than band C's"),
        ("price_G", "1E+400", "Enter band G's price in pounds and pence, like 125.00"),
        ("price_G", "1e5", "Enter band G's price in pounds and pence, like 125.00"),
        ("price_G", "NaN", "Enter band G's price in pounds and pence, like 125.00"),
        ("price_G", "99999999999", "Enter band G's price as £100,000 or less"),
        ("price_G", "100000.01", "Enter band G's price as £100,000 or less"),
        ("co2_B", "", "Enter band B's highest CO2 in g/km, like 75"),
        ("diesel", "1.234", "Enter the diesel surcharge in pounds and pence"),
    ],
)
def test_bad_changes_get_a_clear_message_and_save_nothing(
    permits, analyst, client, field, value, message
):
    data = _form(_current(), **{field: value}, title="t", decision="d")
    page = client.post(reverse("insights:whatif-permits-save"), data)
    assert page.status_code == 400
    body = html.unescape(page.content.decode())
    assert message in body and "There is a problem" in body
    assert f'value="{value}"' in body or value == ""  # what was typed is kept
    assert DecisionNote.objects.count() == 0


def test_a_note_without_a_decision_is_not_saved(permits, analyst, client):
    page = client.post(reverse("insights:whatif-permits-save"), _form(_current(), title="t"))
    assert page.status_code == 400 and "Enter the decision" in page.content.decode()
    assert DecisionNote.objects.count() == 0


def test_a_permit_type_that_does_not_exist_is_not_found(permits, analyst, client):
    assert (
        client.get(reverse("insights:whatif-permits"), {"permit_type": "carer"}).status_code == 404
    )
    data = _form(_current(), permit_type="../admin", title="t", decision="d")
    assert client.post(reverse("insights:whatif-permits-save"), data).status_code == 404


def test_staff_without_the_insight_role_and_residents_cannot_see_what_ifs_or_notes(
    permits, make_staff, sign_in_staff, client, analyst
):
    note = DecisionNote.objects.create(
        kind="permits", title="t", parameters={}, figures={}, decision="d", decided_by=analyst
    )
    urls = [
        reverse("insights:whatif-permits"),
        reverse("insights:whatif-direct-debit"),
        reverse("insights:decision-notes"),
        reverse("insights:decision-note", args=[note.pk]),
    ]
    sign_in_staff(client, make_staff("Parking officer", username="warden"))
    for url in urls:
        assert client.get(url).status_code == 403
    client.logout()
    client.force_login(permits[0].holder)
    for url in urls:
        assert client.get(url).status_code in (302, 403)
    assert client.post(reverse("insights:whatif-permits-save"), {}).status_code in (302, 403)
    assert DecisionNote.objects.count() == 1


def test_no_what_if_or_note_page_shows_a_resident(permits, analyst, client):
    client.get(reverse("insights:whatif-permits"), _form(_changed(G=15000)))
    client.post(
        reverse("insights:whatif-permits-save"),
        _form(_changed(G=15000), title="Band G", decision="Agreed"),
    )
    note = DecisionNote.objects.get()
    pages = [
        client.get(reverse("insights:whatif-permits"), _form(_changed(G=15000))),
        client.get(reverse("insights:decision-notes")),
        client.get(reverse("insights:decision-note", args=[note.pk])),
    ]
    texts = [p.content.decode() for p in pages] + [str(note.figures)]
    for text in texts:
        for secret in fixtures.SECRETS:
            assert secret.lower() not in text.lower()


# -- Direct Debit -------------------------------------------------------------------------------

# Four weeks from Monday 2 November 2026 to Sunday 29 November; collections due on the 20th
# (a Friday).
LAST_SUNDAY = dt.date(2026, 11, 29)


@pytest.fixture
def rent(db):
    fixtures.make_rent_accounts(12, dt.date(2026, 11, 2), 4, due_day=20)


def test_the_nearest_chosen_day_in_the_same_month_is_taken():
    assert moved_day(dt.date(2026, 11, 20), (1, 15)) == dt.date(2026, 11, 15)
    assert moved_day(dt.date(2026, 11, 8), (1, 15)) == dt.date(2026, 11, 1)
    assert moved_day(dt.date(2026, 11, 10), (1, 15, 28)) == dt.date(2026, 11, 15)


def test_the_current_collection_day_changes_nothing(rent):
    figures = run_direct_debit_whatif(CollectionDays((20,), 4, LAST_SUNDAY), RULE)
    assert figures["collections_moved"] == 0
    for week in figures["weeks"]:
        assert week["collected_now_pence"] == week["collected_then_pence"]
        assert week["arrears_now_pence"] == week["arrears_then_pence"]
    assert figures["collected_now_pence"] == 12 * 40000


def test_an_earlier_collection_day_brings_cash_forward_and_cuts_arrears_that_week(rent):
    figures = run_direct_debit_whatif(CollectionDays((9,), 4, LAST_SUNDAY), RULE)
    assert figures["collections_moved"] == 12
    weeks = figures["weeks"]
    # Now: collected in week 3 (16-22 Nov); with the 9th (a Monday): week 2.
    assert [w["collected_now_pence"] for w in weeks] == [0, 0, 480000, 0]
    assert [w["collected_then_pence"] for w in weeks] == [0, 480000, 0, 0]
    # Each account owes £100 a week: £200 at the end of week 2 now, nothing with the 9th.
    assert weeks[1]["arrears_now_pence"] == 12 * 20000
    assert weeks[1]["arrears_then_pence"] == 0
    assert weeks[1]["in_arrears_now"] == 12 and weeks[1]["in_arrears_then"] == 0
    assert weeks[3]["arrears_now_pence"] == weeks[3]["arrears_then_pence"] == 0


def test_fewer_accounts_than_the_threshold_shows_nothing(rent):
    figures = run_direct_debit_whatif(CollectionDays((1,), 4, LAST_SUNDAY), Rule(threshold=20))
    assert figures["too_few"] and figures["weeks"] == []


def test_a_direct_debit_note_is_saved_from_the_page(rent, analyst, client, monkeypatch):
    from borough.insights import whatif_views

    monkeypatch.setattr(whatif_views, "_last_sunday", lambda: LAST_SUNDAY)
    page = client.get(reverse("insights:whatif-direct-debit"), {"days": "9", "weeks": "4"})
    assert (
        page.status_code == 200
        and "12 Direct Debit collections would move" in page.content.decode()
    )
    saved = client.post(
        reverse("insights:whatif-direct-debit-save"),
        {"days": "9", "weeks": "4", "title": "Collect on the 9th", "decision": "Agreed"},
    )
    note = DecisionNote.objects.get()
    assert saved.status_code == 302
    assert note.parameters["collection_days"] == [9]
    assert note.figures["weeks"][1]["arrears_then_pence"] == 0
    body = client.get(saved.url).content.decode()
    for secret in fixtures.SECRETS:
        assert secret.lower() not in body.lower()


@pytest.mark.parametrize(
    ("days", "weeks", "message"),
    [
        ("31", "4", "Collection days must be from 1 to 28"),
        ("first", "4", "Enter the collection days as numbers"),
        ("1", "52", "Weeks must be from 1 to 26"),
        ("", "4", "Enter the collection days"),
    ],
)
def test_bad_collection_days_get_a_clear_message(rent, analyst, client, days, weeks, message):
    page = client.get(reverse("insights:whatif-direct-debit"), {"days": days, "weeks": weeks})
    body = page.content.decode()
    assert message in body and "There is a problem" in body
    assert not re.search(r'id="weeks"', body)


def test_pricing_alike_vehicles_once_gives_each_the_price_it_would_get_alone():
    from django.conf import settings

    from borough.insights.whatif_permits import _price, _prices

    snapshots = [
        {
            "registrationNumber": f"QZ{i:02d}XYW" if i % 7 else "",
            "co2Emissions": [None, "", 0, 50, 120, "120", "abc", 300][i % 8],
            "fuelType": ["PETROL", "DIESEL", "ELECTRICITY", "diesel ", None][i % 5],
            "engineCapacity": [None, 0, 1000, 1600, 1900, "1600"][i % 6],
            "monthOfFirstRegistration": ["2019-05", "1999-12", "1999-13", "", None, "2001-01"][
                i % 6 if i % 4 else (i // 4) % 6
            ],
            "realDrivingEmissions": ["1", "2", None][i % 3],
        }
        for i in range(240)
    ]
    cfg = settings.COUNCIL.parking
    alone = [_price("resident", s, cfg) for s in snapshots]
    assert _prices("resident", snapshots, cfg) == alone
