import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from borough.housing.matching.engine import (
    CLOSED_ACCOUNT,
    CORRECTED_REFERENCE,
    NOT_A_CREDIT,
    PAYER_HISTORY,
    PAYER_NAME,
    PAYMENT_REFERENCE,
    PROPERTY_REFERENCE,
    SUSPENSE,
    TENANCY_REFERENCE,
    KnownPayer,
    RentAccount,
    RentAccountMatcher,
    usual_amounts,
)
from borough.housing.matching.references import LOCALGOV_HOUSING_RENTS as scheme
from borough.housing.statements import StatementLine

ON = dt.date(2026, 4, 14)
WEEKLY = 12_550
OLD = 12_000


def weekly(number: int) -> int:
    return WEEKLY + number % 1000


def account(number: int, **kw) -> RentAccount:
    values = {
        "account_id": number,
        "payment_reference": scheme.issue(number),
        "tenancy_ref": f"{number:07d}/01",
        "property_ref": f"1000230{number:05d}",
        "tenant_names": (f"Tenant{number} Person",),
        "weekly_charge_pence": weekly(number),
    }
    values.update(kw)
    return RentAccount(**values)


def line(reference="", amount=WEEKLY, name=None, sort_code=None, account_number=None, on=ON):
    return StatementLine(
        on, on, amount, "GBP", reference, name, sort_code, account_number, None, None, ""
    )


@pytest.fixture
def accounts():
    return [
        account(12345678, payers=(KnownPayer("202015", "55555555", (OLD,)),)),
        account(12345687),  # one swap away from the first
        account(1234, tenant_names=("John Smith", "Mary Smith")),
        account(2000, payers=(KnownPayer("404040", "11111111", (5000,)),)),
        account(2001, payers=(KnownPayer("404040", "11111111", (7000,)),)),
        account(3000, end_date=dt.date(2026, 1, 31), property_ref="100023099999"),
        account(3001, property_ref="100023099999"),
        account(4000, tenant_names=("Anna Jones",)),
        account(4001, tenant_names=("Anne Jones",)),
    ]


@pytest.fixture
def matcher(accounts):
    return RentAccountMatcher(accounts, scheme=scheme)


def test_payment_reference_quoted_exactly_is_matched_automatically(matcher):
    match = matcher.match(line("RENT 0000 1234 C", amount=1))
    assert (match.account_id, match.method, match.auto) == (1234, PAYMENT_REFERENCE, True)
    assert "00001234C" in match.reason


def test_a_corrected_reference_alone_goes_to_suspense_as_a_suggestion(matcher):
    match = matcher.match(line("RENT 1234", amount=99))
    assert not match.auto and match.method == SUSPENSE and match.account_id is None
    assert match.suggestions[0].account_id == 1234
    assert "leading zeros" in match.suggestions[0].reason


def test_a_corrected_reference_with_the_usual_amount_is_matched(matcher):
    match = matcher.match(line("RENT 1234", amount=weekly(1234) * 2))
    assert (match.account_id, match.method, match.auto) == (1234, CORRECTED_REFERENCE, True)


def test_a_swap_that_could_mean_two_accounts_needs_the_payers_bank_account(matcher):
    # 12345687 with 12345678's check character: the swap undone gives 12345678I, and a new
    # check character gives 12345687's own reference. Both accounts exist.
    typed = "12345687" + scheme.issue(12345678)[-1]
    ambiguous = matcher.match(line(typed, amount=weekly(12345678)))
    assert not ambiguous.auto
    assert {s.account_id for s in ambiguous.suggestions} == {12345678, 12345687}
    known = matcher.match(line(typed, amount=1, sort_code="202015", account_number="55555555"))
    assert (known.account_id, known.method, known.auto) == (12345678, CORRECTED_REFERENCE, True)


def test_payment_to_a_closed_account_is_never_automatic(matcher):
    match = matcher.match(line(scheme.issue(3000)))
    assert (match.method, match.auto, match.account_id) == (CLOSED_ACCOUNT, False, None)
    assert match.suggestions[0].account_id == 3000
    assert "closed on 31 January 2026" in match.reason


def test_tenancy_reference_instead_of_payment_reference_is_matched(matcher):
    match = matcher.match(line("TENANCY 0002000/01", amount=1))
    assert (match.account_id, match.method, match.auto) == (2000, TENANCY_REFERENCE, True)


def test_property_reference_needs_one_current_tenancy_and_corroboration(matcher):
    uncorroborated = matcher.match(line("PROP 100023099999", amount=1))
    assert not uncorroborated.auto
    match = matcher.match(line("PROP 100023099999", amount=weekly(3001) * 4))
    assert (match.account_id, match.method, match.auto) == (3001, PROPERTY_REFERENCE, True)


def test_a_bank_account_seen_on_one_rent_account_is_matched_without_a_reference(matcher):
    match = matcher.match(
        line("STANDING ORDER", amount=OLD, sort_code="202015", account_number="55555555")
    )
    assert (match.account_id, match.method, match.auto) == (12345678, PAYER_HISTORY, True)
    implausible = matcher.match(
        line("", amount=WEEKLY * 40, sort_code="202015", account_number="55555555")
    )
    assert not implausible.auto and implausible.suggestions[0].account_id == 12345678


def test_a_bank_account_paying_two_rent_accounts_needs_the_amount_to_choose(matcher):
    match = matcher.match(line("", amount=7000, sort_code="404040", account_number="11111111"))
    assert (match.account_id, match.auto) == (2001, True)
    unclear = matcher.match(line("", amount=6000, sort_code="404040", account_number="11111111"))
    assert not unclear.auto
    assert {s.account_id for s in unclear.suggestions} == {2000, 2001}


def test_a_bulk_payer_without_a_reference_goes_to_suspense():
    many = [
        account(5000 + i, payers=(KnownPayer("089250", "10004513", (WEEKLY,)),)) for i in range(10)
    ]
    match = RentAccountMatcher(many, scheme=scheme).match(
        line("DWP UC", amount=WEEKLY, sort_code="089250", account_number="10004513")
    )
    assert not match.auto


def test_an_exact_reference_from_a_payer_known_elsewhere_with_an_odd_amount_is_held(matcher):
    match = matcher.match(
        line(scheme.issue(1234), amount=777, sort_code="202015", account_number="55555555")
    )
    assert not match.auto
    assert match.suggestions[0].account_id == 1234


def test_several_references_in_one_payment_go_to_suspense_for_splitting(matcher):
    match = matcher.match(line(f"{scheme.issue(1234)} {scheme.issue(2000)}"))
    assert not match.auto
    assert {s.account_id for s in match.suggestions} == {1234, 2000}
    assert "splitting" in match.suggestions[0].reason


def test_payer_name_and_usual_amount_match_one_tenant(matcher):
    match = matcher.match(line("", amount=weekly(1234), name="MR JOHN SMITH"))
    assert (match.account_id, match.method, match.auto) == (1234, PAYER_NAME, True)


def test_payer_name_alone_or_with_a_similar_tenant_is_only_a_suggestion(matcher):
    no_amount = matcher.match(line("", amount=3, name="JOHN SMITH"))
    assert not no_amount.auto and no_amount.suggestions[0].account_id == 1234
    initial = matcher.match(line("", amount=weekly(1234), name="J SMITH"))
    assert not initial.auto
    rival = matcher.match(line("", amount=weekly(4000), name="ANNA JONES"))
    assert not rival.auto
    assert [s.account_id for s in rival.suggestions][:2] == [4000, 4001]


def test_a_plugged_in_name_matcher_is_used(accounts):
    matcher = RentAccountMatcher(
        accounts, scheme=scheme, name_matcher=lambda name: [(4001, 1.0)] if name == "X" else []
    )
    match = matcher.match(line("", amount=weekly(4001), name="X"))
    assert (match.account_id, match.method) == (4001, PAYER_NAME)


def test_money_out_is_not_matched(matcher):
    match = matcher.match(line(scheme.issue(1234), amount=-500))
    assert (match.method, match.auto) == (NOT_A_CREDIT, False)


def test_nothing_to_go_on_is_suspense_without_suggestions(matcher):
    match = matcher.match(line("INVOICE", amount=1, name="NOBODY KNOWN"))
    assert (match.method, match.auto, match.suggestions) == (SUSPENSE, False, ())


_ACCOUNTS = [
    account(n, payers=(KnownPayer("111111", f"{n:08d}", (WEEKLY,)),))
    for n in range(100_000, 100_060, 2)
]
_MATCHER = RentAccountMatcher(_ACCOUNTS, scheme=scheme)
_BY_ID = {a.account_id: a for a in _ACCOUNTS}


@st.composite
def typed_references(draw):
    number = draw(st.integers(min_value=99_990, max_value=100_070))
    reference = scheme.issue(number)
    digits, check = reference[:-1], reference[-1]
    slip = draw(st.sampled_from(["exact", "swap", "check", "missing", "zeros", "noise"]))
    if slip == "swap":
        i = draw(st.integers(min_value=0, max_value=6))
        typed = digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :] + check
    elif slip == "check":
        typed = digits + draw(st.sampled_from("ABCDEFGHIJK"))
    elif slip == "missing":
        typed = digits
    elif slip == "zeros":
        typed = digits.lstrip("0")
    elif slip == "noise":
        typed = draw(st.text(alphabet="0123456789 ABCIK-", max_size=20))
    else:
        typed = reference
    return draw(st.sampled_from(["", "RENT ", "HSG "])) + typed


@settings(max_examples=300, deadline=None)
@given(
    typed_references(),
    st.one_of(st.sampled_from([weekly(100_000), WEEKLY, 1]), st.integers(1, 100_000)),
    st.booleans(),
)
def test_never_automatic_to_an_account_whose_reference_was_not_quoted_unless_corroborated(
    typed, amount, from_known_payer
):
    payer = _ACCOUNTS[0].payers[0] if from_known_payer else None
    match = _MATCHER.match(
        line(
            typed,
            amount=amount,
            sort_code=payer and payer.sort_code,
            account_number=payer and payer.account_number,
        )
    )
    if not match.auto:
        return
    chosen = _BY_ID[match.account_id]
    exact = {c.reference for c in scheme.candidates(typed) if c.is_exact}
    quoted = chosen.payment_reference in exact
    corroborated = amount in usual_amounts(chosen) or (payer is not None and payer in chosen.payers)
    assert quoted or corroborated
    if match.method == CORRECTED_REFERENCE:
        assert corroborated
