"""The registry of purposes and lawful bases."""

import re

import pytest

from borough.transparency.purposes import LAWFUL_BASES, PURPOSES, SERVICES

SEEDED = {
    "parking_permit_residency_check",
    "parking_enforcement_check",
    "housing_rent_account_self_service",
    "housing_payment_matching",
    "residents_match_review",
    "staff_view_records",
    "subject_access_export",
    "data_use_log_audit",
}


def test_the_purposes_later_features_need_are_registered():
    assert set(PURPOSES) >= SEEDED


@pytest.mark.parametrize("code", sorted(PURPOSES))
def test_each_purpose_is_complete_and_in_plain_english(code):
    purpose = PURPOSES[code]
    assert purpose.code == code
    assert re.fullmatch(r"[a-z][a-z0-9_]{0,59}", code)
    assert purpose.lawful_basis in LAWFUL_BASES
    assert purpose.service is None or purpose.service in SERVICES
    # Residents read these on "How we used your data".
    assert purpose.description_for_residents.startswith("To ")
    assert len(purpose.description_for_residents) <= 300
    assert purpose.title


@pytest.mark.parametrize("code", sorted(LAWFUL_BASES))
def test_each_lawful_basis_names_its_article(code):
    basis = LAWFUL_BASES[code]
    assert basis.code == code
    assert re.search(r"UK GDPR Article 6\(1\)\([a-f]\)", basis.text())
    assert len(basis.text()) <= 400


def test_the_parking_verification_reads_as_residents_expect():
    purpose = PURPOSES["parking_permit_residency_check"]
    assert (
        purpose.description_for_residents
        == "To check you live at the address you gave for your parking permit"
    )
    assert "Article 6(1)(e)" in purpose.basis.text()
    assert "Road Traffic Regulation Act 1984" in purpose.basis.text()
