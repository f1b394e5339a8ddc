"""Why a council service may use a resident's data: the registry of purposes and lawful bases.

Every data-use event names one purpose from ``PURPOSES``. The purpose fixes the lawful basis, so a
caller cannot pick a basis that suits it. When an event is written, the purpose's and the lawful
basis's plain-English texts are copied into it: the log keeps saying what was said at the time,
even after a wording here changes.

A code, once used, is never renamed or removed, because old events refer to it. To stop using a
purpose, leave it here and stop calling it. Adding a purpose is a code change reviewed by the
council's data protection officer: the texts are what residents read on "How we used your data".
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class LawfulBasis:
    code: str
    article: str
    description: str
    statutory_power: str = ""

    def text(self) -> str:
        """The plain-English sentence stored with each event, with its legal references."""
        references = self.article
        if self.statutory_power:
            references += f"; {self.statutory_power}"
        return f"{self.description} ({references})"


@dataclass(frozen=True)
class Purpose:
    code: str
    title: str
    description_for_residents: str
    lawful_basis: str
    service: str | None
    #: False for look-ups that can legitimately read nobody's records (a verification that finds
    #: no match, an enforcement check with no permit, a payment left in suspense, an audit export
    #: across many residents). Every other purpose must name at least one resident.
    needs_subject: bool = True
    #: True for a purpose whose events may be held back from the resident while an investigation
    #: runs (``record_data_use(restriction_reason_code=…)``). The data protection officer reviews
    #: each such purpose; every other purpose refuses a restriction.
    may_be_restricted: bool = False

    @property
    def basis(self) -> LawfulBasis:
        return LAWFUL_BASES[self.lawful_basis]


#: The council services that record data use, by code.
SERVICES = {
    "parking": "Parking",
    "housing": "Housing",
    "residents": "Resident records",
    "transparency": "Data protection",
    "insights": "Insight",
}

#: Datasets the services themselves hold (not source datasets loaded into the resident index,
#: whose titles are on ``residents.SourceDataset``), by the code events record.
SERVICE_DATASETS = {
    "parking_permits": "Parking permits",
    "rent_accounts": "Rent accounts",
    "data_use_log": "The data-use log",
    "resident_index": "The resident index's links",
    "verifications": "Identity checks",
    "direct_debit_mandates": "Direct Debit mandates",
}

PUBLIC_TASK = "UK GDPR Article 6(1)(e), public task"
CONTRACT = "UK GDPR Article 6(1)(b), contract"
LEGAL_OBLIGATION = "UK GDPR Article 6(1)(c), legal obligation"

LAWFUL_BASES = {
    basis.code: basis
    for basis in [
        LawfulBasis(
            "public_task_parking_permits",
            PUBLIC_TASK,
            "The council needs to do this to run residents' parking permits, a task the law "
            "gives it",
            "Road Traffic Regulation Act 1984, sections 45 and 46",
        ),
        LawfulBasis(
            "public_task_parking_enforcement",
            PUBLIC_TASK,
            "The council needs to do this to enforce parking rules, a task the law gives it",
            "Traffic Management Act 2004, Part 6",
        ),
        LawfulBasis(
            "public_task_council_services",
            PUBLIC_TASK,
            "The council needs to do this to provide the service concerned, a task the law "
            "gives it",
        ),
        LawfulBasis(
            "public_task_fraud_prevention",
            PUBLIC_TASK,
            "The council needs to do this to prevent and detect fraud against its services, a "
            "task the law gives it. While an investigation runs, the law lets the council wait "
            "before telling you",
            "Data Protection Act 2018, Schedule 2, paragraph 2",
        ),
        LawfulBasis(
            "contract_tenancy",
            CONTRACT,
            "The council needs to do this to keep its side of your tenancy agreement",
        ),
        LawfulBasis(
            "legal_obligation_subject_access",
            LEGAL_OBLIGATION,
            "The law says the council must give you a copy of your data when you ask for it",
            "UK GDPR Article 15; Data Protection Act 2018",
        ),
        LawfulBasis(
            "public_task_service_statistics",
            PUBLIC_TASK,
            "The council needs to do this to plan and improve its services, a task the law "
            "gives it; the figures it makes never name anyone",
            "Local Government Act 2003, section 93; Data Protection Act 2018, section 8",
        ),
        LawfulBasis(
            "legal_obligation_accountability",
            LEGAL_OBLIGATION,
            "The law says the council must be able to show that it uses personal data lawfully",
            "UK GDPR Articles 5(2) and 24",
        ),
        LawfulBasis(
            "legal_obligation_storage_limitation",
            LEGAL_OBLIGATION,
            "The law says the council must not keep personal data for longer than it needs it",
            "UK GDPR Article 5(1)(e)",
        ),
    ]
}

PURPOSES = {
    purpose.code: purpose
    for purpose in [
        Purpose(
            "parking_permit_residency_check",
            "Parking permit: residency check",
            "To check you live at the address you gave for your parking permit",
            "public_task_parking_permits",
            "parking",
            needs_subject=False,
        ),
        Purpose(
            "parking_enforcement_check",
            "Parking enforcement: permit check",
            "To check whether a parked vehicle was covered by your parking permit",
            "public_task_parking_enforcement",
            "parking",
            needs_subject=False,
            may_be_restricted=True,
        ),
        Purpose(
            "housing_rent_account_self_service",
            "Rent account: resident self-service",
            "To show you your rent account when you signed in",
            "contract_tenancy",
            "housing",
        ),
        Purpose(
            "housing_tenant_verification",
            "Rent account: checking you are the tenant",
            "To check you are the tenant of the home whose rent account you asked to see",
            "contract_tenancy",
            "housing",
            needs_subject=False,
        ),
        Purpose(
            "housing_payment_matching",
            "Rent payments: matching a payment to an account",
            "To match a payment we received to your rent account",
            "contract_tenancy",
            "housing",
            needs_subject=False,
        ),
        Purpose(
            "housing_direct_debit_collection",
            "Direct Debit: collecting rent and reading the bank's reports",
            "To collect your rent by Direct Debit, as you asked, and to act on what your bank "
            "told us about it",
            "contract_tenancy",
            "housing",
        ),
        Purpose(
            "housing_rent_account_administration",
            "Rent accounts: charges, arrangements and notices",
            "To post your weekly rent charges, keep any payment arrangement up to date and send "
            "you the notices your tenancy needs",
            "contract_tenancy",
            "housing",
        ),
        Purpose(
            "residents_index_maintenance",
            "Resident records: loading and linking council records",
            "To keep the council's records about you accurate and linked together, so that "
            "services can check your details without asking you for documents",
            "public_task_council_services",
            "residents",
        ),
        Purpose(
            "parking_permit_administration",
            "Parking permits: renewals, reminders and cancellations",
            "To start your renewed parking permit, send you reminders and cancel a permit whose "
            "proof of address did not arrive",
            "public_task_parking_permits",
            "parking",
        ),
        Purpose(
            "residents_match_review",
            "Resident records: clerical review of a match",
            "To check by hand whether records held by different council services are about "
            "you, so that they stay accurate",
            "public_task_council_services",
            "residents",
        ),
        Purpose(
            "staff_view_records",
            "Staff view of a resident's records",
            "To deal with a request or case involving you: a council officer looked at your "
            "records",
            "public_task_council_services",
            None,  # any service: the caller says which
        ),
        Purpose(
            "fraud_investigation_records",
            "Fraud investigation: a resident's records looked at",
            "To investigate suspected fraud against a council service: a council officer "
            "looked at your records",
            "public_task_fraud_prevention",
            "residents",
            may_be_restricted=True,
        ),
        Purpose(
            "subject_access_identity_by_post",
            "Your data online: a code posted to your home",
            "To post a one-time code to the address we hold for you, so that only you can see "
            "how we used your data and a copy of it online",
            "legal_obligation_subject_access",
            "transparency",
        ),
        Purpose(
            "subject_access_export",
            "Subject access: a copy of a resident's data",
            "To give you a copy of the data we hold about you, as you asked",
            "legal_obligation_subject_access",
            "transparency",
        ),
        Purpose(
            "insights_warehouse_build",
            "Insight: the statistics warehouse built from the services' records",
            "To count how the council's services are doing: your records were copied, without "
            "your name, contact details, vehicle or bank details, into the council's statistics",
            "public_task_service_statistics",
            "insights",
            # One event a build, naming no one: every resident's records are in every build.
            needs_subject=False,
        ),
        Purpose(
            "insights_policy_what_if",
            "Insight: a policy what-if over the live records",
            "To work out what a change to prices or collection days would mean: an analyst "
            "totalled the records of everyone it applies to, without seeing any one of them",
            "public_task_service_statistics",
            "insights",
            needs_subject=False,
        ),
        Purpose(
            "data_use_log_audit",
            "Data protection officer: audit of the data-use log",
            "To check that the council used your data properly: our data protection officer "
            "looked at this record of how it was used",
            "legal_obligation_accountability",
            "transparency",
            needs_subject=False,
        ),
        Purpose(
            "data_use_restriction",
            "Data-use log: an entry held back during an investigation",
            "To record that an entry in this history was held back from you for a time, while an "
            "investigation was under way",
            "legal_obligation_accountability",
            "transparency",
        ),
        Purpose(
            "data_use_disclosure",
            "Data-use log: a held-back entry released",
            "To record that our data protection officer released an entry that had been held back "
            "from you",
            "legal_obligation_accountability",
            "transparency",
            needs_subject=False,
        ),
        Purpose(
            "data_use_retention_purge",
            "Data-use log: old entries deleted at the end of their retention period",
            "To delete records of how your data was used once the council no longer needs to "
            "keep them",
            "legal_obligation_accountability",
            "transparency",
            needs_subject=False,
        ),
        Purpose(
            "records_retention_purge",
            "Council records: personal details removed at the end of their retention period",
            "To remove your personal details from council records (a dataset's records, a "
            "parking application or visitor session, a tenancy, a Direct Debit, an identity "
            "check) once the council no longer needs to keep them",
            "legal_obligation_storage_limitation",
            "transparency",
            needs_subject=False,
        ),
    ]
}

#: Why an event may be held back from its resident (``record_data_use(restriction_reason_code=…)``),
#: as the data protection officer reads it. A code, once used, is never renamed or removed.
RESTRICTION_REASONS = {
    "enforcement_investigation": "A parking enforcement investigation",
    "fraud_investigation": "A fraud investigation",
}


def purpose_choices() -> list[tuple[str, str]]:
    return [(purpose.code, purpose.title) for purpose in PURPOSES.values()]


def service_choices() -> list[tuple[str, str]]:
    return list(SERVICES.items())
