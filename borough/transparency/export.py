"""Everything Borough holds about a resident, gathered for a subject access export.

``proven_resident_ids`` says which resident IDs a signed-in account has proven it is (through a
check it passed itself, the rule of "How we used your data"); ``collect`` reads each service's records about
those IDs (and the accounts that proved them) into one JSON-ready document. The document's shape
is ``SCHEMA`` below and ``docs/subject-access.md``; a change to it bumps ``SCHEMA_VERSION``.

Each record carries the dataset it came from, the team that owns that dataset and the staff area
that answers a "This is wrong" request about it. Bank details appear only masked (the last two
digits of the sort code and the last four of the account number, kept in the clear when the
mandate was set up): nothing here decrypts them.

The collector sits above the services: it reads through each app's own queries where one exists
(the resident index, the data-use log, rent accounts) and the apps' models otherwise, and
imports them inside functions so that ``transparency`` still loads first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.apps import apps
from django.db.models import Q
from django.utils import timezone

from borough.core.dates import date_in_words
from borough.core.roles import AREAS
from borough.transparency.staff_view import in_words

SCHEMA = "borough-subject-access"
SCHEMA_VERSION = 1

#: The staff area that answers for each of the services' own datasets.
SERVICE_DATASET_AREAS = {
    "resident_index": ("Resident records team", "residents"),
    "verifications": ("Resident records team", "residents"),
    "parking_permits": ("Parking services", "parking"),
    "rent_accounts": ("Housing: rent accounts", "housing"),
    "direct_debit_mandates": ("Finance: Direct Debit", "finance"),
    "data_use_log": ("Data protection officer", "transparency"),
}

NO_FEEDBACK = (
    "The feedback form does not ask who you are and does not record your account, so no "
    "feedback can be linked to you."
)


def proven_resident_ids(user) -> list[str]:
    """The resident IDs this account has proven it is: the same rule as "How we used your data"
    (``resident_queries.resident_ids_of``: checks it asked for itself that passed). A tenancy
    linked by a code posted to the home proves the address, not the person, so it does not
    count."""
    from borough.transparency.resident_queries import resident_ids_of

    return resident_ids_of(user)


def accounts_of_residents(resident_ids: list[str]) -> list:
    """The sign-in accounts that proved these resident IDs (for an officer's export)."""
    user_model = apps.get_model("core", "User")
    verification = apps.get_model("residents", "Verification")
    tenant = apps.get_model("housing", "Tenant")
    by_check = verification.objects.filter(
        resident_id__in=resident_ids, actor_kind="resident", actor_user__isnull=False
    ).filter(Q(decision="verified", review="") | Q(review="confirmed"))
    ids = set(by_check.values_list("actor_user_id", flat=True))
    ids |= set(
        tenant.objects.filter(resident_id__in=resident_ids, account__isnull=False).values_list(
            "account_id", flat=True
        )
    )
    return list(user_model.objects.filter(pk__in=ids).order_by("pk"))


@dataclass
class Record:
    key: str
    title: str
    dataset: str
    dataset_title: str
    owner: str
    area: str
    fields: list[dict] = field(default_factory=list)

    def add(self, name: str, label: str, value) -> Record:
        if value is None or value == "" or value == []:
            return self
        if isinstance(value, dt.datetime):
            value = timezone.localtime(value).isoformat(timespec="seconds")
        elif isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, list):
            value = ", ".join(str(item) for item in value)
        elif not isinstance(value, (int, str, bool)):
            value = str(value)
        self.fields.append({"name": name, "label": label, "value": value})
        return self

    def as_json(self) -> dict:
        return {
            "key": self.key,
            "title": self.title,
            "dataset": self.dataset,
            "dataset_title": self.dataset_title,
            "owner": self.owner,
            "area": self.area,
            "fields": self.fields,
        }


def _service_record(key: str, title: str, dataset: str) -> Record:
    from borough.transparency.purposes import SERVICE_DATASETS

    owner, area = SERVICE_DATASET_AREAS[dataset]
    return Record(key, title, dataset, SERVICE_DATASETS[dataset], owner, area)


def area_for_owner(owner: str, fallback: str = "residents") -> str:
    """The staff area whose title or code the dataset's declared owner names (read
    defensively: a declaration may have no owner, or one naming no area); else ``fallback``,
    the resident index's own area, which loads every source dataset."""
    words = (owner or "").lower()
    for slug, area in AREAS.items():
        if area.personal_data and slug != "transparency" and area.title.lower() in words:
            return slug
    return fallback


@dataclass
class Section:
    code: str
    title: str
    about: str
    records: list[Record] = field(default_factory=list)
    note: str = ""

    def as_json(self) -> dict:
        return {
            "code": self.code,
            "title": self.title,
            "about": self.about,
            "note": self.note,
            "records": [record.as_json() for record in self.records],
        }


def _source_records(resident_ids: list[str]) -> Section:
    from borough.residents import index
    from borough.residents.record_queries import records_by_unique_id

    section = Section(
        "source_records",
        "Records in council datasets",
        "The records council services gave the resident index that it linked to you.",
    )
    unique_ids: list[str] = []
    try:
        for resident_id in resident_ids:
            unique_ids += index.unique_ids_of_resident(resident_id)
    except ValueError:
        section.note = "The council's records have not been linked yet, so none are shown."
        return section
    for record in records_by_unique_id(unique_ids):
        dataset = record.dataset
        owner = getattr(dataset, "owner", "") or "Resident records team"
        item = Record(
            f"source:{dataset.code}:{record.record_ref}",
            f"{dataset.title}: record {record.record_ref}",
            dataset.code,
            dataset.title,
            owner,
            area_for_owner(owner),
        )
        for name in (
            "title",
            "first_name",
            "middle_names",
            "surname",
            "full_name",
            "sex_given",
            "date_of_birth_given",
            "address_given",
            "postcode_given",
            "uprn_given",
            "email",
            "phone",
            "national_id",
            "valid_from",
            "valid_to",
            "ended_at",
        ):
            model_field = record._meta.get_field(name)
            item.add(name, field_label(str(model_field.verbose_name)), getattr(record, name))
        section.records.append(item)
    return section


#: Words of a field's name that are written otherwise in a sentence.
WORDS = {"uprn": "UPRN"}
#: Details a resident gave for a check, as they read them (others: the name in words).
DETAILS = {"uprn": "property reference (UPRN)"}


def field_label(verbose_name: str) -> str:
    """A field's name as a label: its first letter a capital, "uprn" as "UPRN"."""
    words = [WORDS.get(word.lower(), word) for word in verbose_name.split(" ")]
    label = " ".join(words)
    return label[:1].upper() + label[1:]


def detail_words(name: str) -> str:
    """A detail given for a check (``applicant``'s key) in words: "property reference (UPRN)"."""
    return DETAILS.get(name, name.replace("_", " "))


def _index_links(resident_ids: list[str]) -> Section:
    from borough.residents import index
    from borough.residents.record_queries import id_history
    from borough.transparency.queries import dataset_titles

    section = Section(
        "resident_index",
        "How the resident index links your records",
        "Your resident ID joins up the records different services hold about you.",
    )
    for resident_id in resident_ids:
        item = _service_record(
            f"index:{resident_id}", f"Resident ID {resident_id}", "resident_index"
        )
        item.add("resident_id", "Resident ID", resident_id)
        try:
            linked = index.unique_ids_of_resident(resident_id)
        except ValueError:
            linked = []
        item.add("records_linked", "Records linked", len(linked))
        codes = {u.partition(":")[0] for u in linked}
        item.add("datasets", "Datasets", sorted(dataset_titles(codes).values()))
        for event in id_history(resident_id):
            item.add("history", "Change to the links", f"{event.at}: {event.kind}")
        section.records.append(item)
    return section


def _verifications(resident_ids: list[str], accounts: list) -> Section:
    verification = apps.get_model("residents", "Verification")
    section = Section(
        "verifications",
        "Checks of your identity",
        "Each time a service checked details against the council's records.",
    )
    checks = verification.objects.filter(
        Q(resident_id__in=resident_ids) | Q(actor_user__in=accounts, actor_kind="resident")
    ).order_by("requested_at", "id")
    for check in checks:
        item = _service_record(
            f"verification:{check.reference}", f"Check {check.reference}", "verifications"
        )
        item.add("reference", "Reference", check.reference)
        item.add("purpose", "Purpose", in_words(check.purpose))
        item.add("requested_at", "When", check.requested_at)
        item.add("decision", "Decision", check.get_decision_display())
        item.add("review", "Officer review", check.get_review_display() if check.review else "")
        for name, value in (check.applicant or {}).items():
            item.add(f"applicant_{name}", f"Details given: {detail_words(name)}", value)
        item.add("reasons", "Reasons", list(check.public_reasons or []))
        item.add("datasets_read", "Datasets read", _titles(check.datasets_read or []))
        section.records.append(item)
    return section


def _parking(resident_ids: list[str], accounts: list) -> Section:
    application_model = apps.get_model("parking", "PermitApplication")
    permit_model = apps.get_model("parking", "Permit")
    session_model = apps.get_model("parking", "VisitorSession")
    section = Section(
        "parking",
        "Parking permits",
        "Permit applications, permits and visitor sessions.",
    )
    applications = application_model.objects.filter(
        Q(resident_id__in=resident_ids) | Q(applicant__in=accounts)
    ).order_by("created_at", "id")
    for application in applications.select_related("zone", "property"):
        item = _service_record(
            f"parking-application:{application.reference}",
            f"Permit application {application.reference}",
            "parking_permits",
        )
        item.add("reference", "Reference", application.reference)
        item.add("status", "Status", application.get_status_display())
        item.add("first_name", "First name", application.first_name)
        item.add("surname", "Surname", application.surname)
        item.add("date_of_birth", "Date of birth", application.date_of_birth)
        item.add("address", "Address", application.property.single_line())
        item.add("zone", "Zone", application.zone.name)
        item.add("vrm", "Vehicle registration", application.vrm)
        item.add("permit_type", "Permit type", in_words(application.permit_type))
        item.add("price_pence", "Price", application.price_pence)
        item.add("created_at", "Applied", application.created_at)
        item.add("decision_reason", "Reason for the decision", application.decision_reason)
        section.records.append(item)
    permits = permit_model.objects.filter(
        Q(application__in=applications) | Q(holder__in=accounts)
    ).order_by("issued_at", "id")
    for permit in permits.select_related("zone", "property"):
        item = _service_record(
            f"parking-permit:{permit.number}", f"Permit {permit.number}", "parking_permits"
        )
        item.add("number", "Permit number", permit.number)
        item.add("status", "Status", permit.get_status_display())
        item.add("address", "Address", permit.property.single_line())
        item.add("zone", "Zone", permit.zone.name)
        item.add("vrm", "Vehicle registration", permit.vrm)
        item.add("starts_on", "Starts", permit.starts_on)
        item.add("ends_on", "Ends", permit.ends_on)
        item.add("paid_pence", "Paid", permit.paid_pence)
        item.add("refunded_pence", "Refunded", permit.refunded_pence or None)
        item.add("cancel_reason", "Why it was cancelled", permit.cancel_reason)
        section.records.append(item)
    for visit in session_model.objects.filter(host__in=accounts).order_by("starts_at", "id"):
        item = _service_record(
            f"parking-visitor:{visit.pk}", f"Visitor session {visit.pk}", "parking_permits"
        )
        item.add("vrm", "Visitor's vehicle registration", visit.vrm)
        item.add("starts_at", "Starts", visit.starts_at)
        item.add("ends_at", "Ends", visit.ends_at)
        item.add("hours_used", "Hours", visit.hours_used)
        item.add("price_pence", "Price", visit.price_pence or None)
        section.records.append(item)
    return section


def _rent(resident_ids: list[str], accounts: list) -> Section:
    rent_account_model = apps.get_model("housing", "RentAccount")
    entry_model = apps.get_model("housing", "LedgerEntry")
    mandate_model = apps.get_model("housing", "Mandate")
    section = Section(
        "rent",
        "Rent account and Direct Debit",
        "Your tenancy's rent account, every entry on it, and any Direct Debit. Bank details "
        "are shown masked: only their last digits.",
    )
    rent_accounts = (
        rent_account_model.objects.filter(
            Q(tenancy__tenants__resident_id__in=resident_ids)
            | Q(tenancy__tenants__account__in=accounts)
        )
        .select_related("tenancy", "tenancy__property")
        .distinct()
        .order_by("pk")
    )
    for account in rent_accounts:
        item = _service_record(
            f"rent-account:{account.payment_reference}",
            f"Rent account {account.payment_reference}",
            "rent_accounts",
        )
        item.add("payment_reference", "Payment reference", account.payment_reference)
        item.add("tenancy", "Tenancy reference", account.tenancy.reference)
        item.add("address", "Address", account.tenancy.property.single_line())
        item.add("tenure", "Tenure", account.tenancy.get_tenure_display())
        item.add("opened_on", "Opened", account.opened_on)
        item.add("closed_on", "Closed", account.closed_on)
        section.records.append(item)
        for entry in entry_model.objects.filter(account=account).order_by("posted_on", "id"):
            line = _service_record(
                f"rent-entry:{entry.pk}",
                f"{entry.get_kind_display()}, {date_in_words(entry.posted_on)}: "
                f"rent account {account.payment_reference}",
                "rent_accounts",
            )
            line.add("posted_on", "Date", entry.posted_on)
            line.add("kind", "Type", entry.get_kind_display())
            line.add("description", "Description", entry.description)
            line.add("amount_pence", "Amount (positive: owed; negative: paid)", entry.amount_pence)
            section.records.append(line)
        for mandate in mandate_model.objects.filter(account=account).order_by("created_at", "id"):
            item = _service_record(
                f"mandate:{mandate.reference}",
                f"Direct Debit {mandate.reference}",
                "direct_debit_mandates",
            )
            item.add("reference", "Direct Debit reference", mandate.reference)
            item.add("account_holder", "Account holder", mandate.account_holder)
            item.add("bank_account", "Bank account (masked)", mandate.masked)
            item.add("frequency", "How often", mandate.get_frequency_display())
            item.add("first_collection_on", "First collection", mandate.first_collection_on)
            item.add("status", "Status", mandate.get_status_display())
            item.add("end_reason", "Why it ended", mandate.end_reason)
            section.records.append(item)
    return section


def _titles(codes) -> list[str]:
    """Dataset codes as the titles residents read (a code the council has not described as it
    is)."""
    from borough.transparency.queries import dataset_titles

    titles = dataset_titles(codes)
    return [titles.get(code, code) for code in codes]


def _data_use(resident_ids: list[str], accounts: list) -> Section:
    """The resident's data-use events in the timeline's own words (``resident_view``): what was
    done, by which service, who as a team or role, why, the lawful basis, the records read.
    "You" only for the events of ``accounts`` (the account that asked for the copy)."""
    from borough.transparency.purposes import SERVICES
    from borough.transparency.queries import dataset_titles, events_for_resident
    from borough.transparency.resident_view import outcome_in_words, what_was_done, who_for_resident

    section = Section(
        "data_use",
        "How your data was used",
        "Every recorded use of your data: when, by which service, why and under which lawful "
        "basis. Officers are named by their role, never by name.",
    )
    events = [event for rid in resident_ids for event in events_for_resident(rid)]
    titles = dataset_titles(code for event in events for code in event.datasets_read)
    for event in sorted(events, key=lambda e: (e.occurred_at, e.pk)):
        item = _service_record(f"data-use:{event.pk}", what_was_done(event), "data_use_log")
        item.add("occurred_at", "When", event.occurred_at)
        item.add("service", "Service", SERVICES.get(event.service, event.service))
        item.add("who", "Who or what", who_for_resident(event, [a.pk for a in accounts]))
        item.add("purpose", "Why", event.purpose_text)
        item.add("lawful_basis", "Lawful basis", event.lawful_basis_text)
        item.add("datasets_read", "Records read", [titles[c] for c in event.datasets_read])
        item.add("outcome", "What happened", outcome_in_words(event.outcome))
        item.add("reference", "Reference", event.reference)
        section.records.append(item)
    return section


def collect(resident_ids: list[str], accounts: list) -> dict:
    """The export document for these resident IDs and the accounts that proved them."""
    from django.conf import settings

    sections = [
        _source_records(resident_ids),
        _index_links(resident_ids),
        _verifications(resident_ids, accounts),
        _parking(resident_ids, accounts),
        _rent(resident_ids, accounts),
        _data_use(resident_ids, accounts),
        Section(
            "feedback",
            "Feedback you gave",
            "What you told us through the feedback link.",
            note=NO_FEEDBACK,
        ),
    ]
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "generated_at": timezone.localtime().isoformat(timespec="seconds"),
        "council": getattr(getattr(settings, "COUNCIL", None), "name", ""),
        "resident_ids": list(resident_ids),
        "sections": [section.as_json() for section in sections],
    }


def datasets_in(document: dict) -> list[str]:
    """The dataset codes a document's records came from (for its data-use event)."""
    return sorted(
        {record["dataset"] for section in document["sections"] for record in section["records"]}
    )


def record_count(document: dict) -> int:
    return sum(len(section["records"]) for section in document["sections"])


def find_record(document: dict, key: str) -> dict | None:
    for section in document["sections"]:
        for record in section["records"]:
            if record["key"] == key:
                return record
    return None
