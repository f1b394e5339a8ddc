"""What a signed-in resident may read of the data-use log: which resident IDs are theirs, their
events (through ``queries.events_for_resident``, the one query), their questions, and the public
pages about the datasets that hold residents' data.

**Which resident IDs are an account's.** Only the IDs that identity checks made *by this account*
settled on: a verification asked for by the account itself (``actor_kind`` "resident",
``actor_user`` this account) whose answer was "verified", or that was referred and an officer then
confirmed; and then only once the account has entered a one-time code posted to the address the
council's records hold for that resident (``residents.history_codes``): knowing someone's name,
date of birth and address is not enough to read their history. Nothing else links an account
to an ID here: not a tenancy linked by a letter posted
to the home (whoever reads the home's post could link it), not a check an officer made about
someone, not a failed or referred check. The reasons are in ``docs/data-use-log.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse

from borough.transparency.models import DataUseEvent, QuestionedEntry
from borough.transparency.purposes import SERVICE_DATASETS
from borough.transparency.queries import dataset_titles, events_for_resident
from borough.transparency.resident_view import DatasetLink


def resident_ids_of(user) -> list[str]:
    """The resident IDs the account has proved are its own (see the module's docstring)."""
    # The rule is the residents app's: transparency imports none of the apps that record data use
    # at import time.
    from borough.residents.history_codes import confirmed_resident_ids

    return confirmed_resident_ids(user)


def awaiting_code(user) -> list[str]:
    """The resident IDs the account's checks settled on that it has not confirmed by post."""
    from borough.residents.history_codes import awaiting_code as awaiting

    return awaiting(user)


def has_tried_a_check(user) -> bool:
    """Whether the account has asked for any identity check, passed or not."""
    verification = apps.get_model("residents", "Verification")
    return verification.objects.filter(actor_kind="resident", actor_user=user).exists()


def entry_of(resident_ids: list[str], event_id: int) -> DataUseEvent | None:
    """The event ``event_id`` if it is one of these residents' own, else None (never a hint)."""
    return events_for_resident(resident_ids).filter(pk=event_id).first()


def questions_of(user, resident_ids: list[str]) -> QuerySet[QuestionedEntry]:
    """The questions this account asked about events it may still see, newest first."""
    return (
        QuestionedEntry.objects.filter(asked_by=user, resident_id__in=resident_ids)
        .filter(event__in=events_for_resident(resident_ids))
        .select_related("event")
        .order_by("-created_at", "-id")
    )


def dataset_links(codes: Iterable[str]) -> dict[str, DatasetLink]:
    """Each code's title, and the public page about it when the council describes it."""
    titles = dataset_titles(codes)
    source_dataset = apps.get_model("residents", "SourceDataset")
    described = set(SERVICE_DATASETS) | set(
        source_dataset.objects.filter(code__in=titles).values_list("code", flat=True)
    )
    return {
        code: DatasetLink(
            code,
            title,
            reverse("transparency:dataset", args=[code]) if code in described else "",
        )
        for code, title in titles.items()
    }


NOT_GIVEN = "Not given"


@dataclass(frozen=True)
class AboutDataset:
    """What residents read about a dataset; a text the council has not declared is "Not given"."""

    code: str
    title: str
    holds: str
    purpose: str
    lawful_basis: str
    lawful_basis_reference: str
    kept_for: str
    owner: str
    asset_owner: str
    #: When personal details go, from the retention configuration ("6 years after a record
    #: ends"); blank: no period is configured.
    removed_after: str = ""


#: The services' own datasets (``purposes.SERVICE_DATASETS``): what residents read about them.
#: ``None`` for how long it is kept: the council profile's ``[retention]`` says it
#: (``_service_kept_for``), so another council's schedule is the one its residents read.
SERVICE_DATASET_TEXTS = {
    "parking_permits": (
        "Residents' parking permit applications and permits: the applicant, the address, the "
        "vehicle, the dates and the payments.",
        "To issue and manage parking permits, and to check at the kerb whether a parked "
        "vehicle has a permit.",
        "The council needs this to run residents' parking permits, a task the law gives it",
        "UK GDPR Article 6(1)(e), public task; Road Traffic Regulation Act 1984, "
        "sections 45 and 46",
        None,
        "Parking Services",
        "Head of Parking Services",
    ),
    "rent_accounts": (
        "Council tenants' rent accounts: the charges, payments, Direct Debits and arrangements.",
        "To charge and collect rent and keep each tenant's account right.",
        "The council needs this to keep its side of your tenancy agreement",
        "UK GDPR Article 6(1)(b), contract",
        None,
        "Housing Management: Income team",
        "Head of Housing Management",
    ),
    "direct_debit_mandates": (
        "Direct Debit Instructions to pay rent: the payer's name, the bank sort code and "
        "account number (encrypted), the schedule and what the banks reported.",
        "To collect rent by Direct Debit as the tenant asked, under the Bacs scheme's rules.",
        "The council needs this to keep its side of your tenancy agreement",
        "UK GDPR Article 6(1)(b), contract",
        None,
        "Housing Management: Income team",
        "Head of Housing Management",
    ),
    "verifications": (
        "Each check of someone's details against the council's records: the details as given, "
        "the answer, and which records agreed.",
        "To check who is applying for a council service, and to let an officer review a check "
        "that was not clear.",
        "The council needs this to make sure services go to the people entitled to them",
        "UK GDPR Article 6(1)(e), public task",
        None,
        "Information Governance",
        "Data protection officer",
    ),
    "data_use_log": (
        "A record of every use of residents' data by the council's online services: when, "
        "why, under which lawful basis and which records were read. It holds resident IDs, "
        "not names or addresses.",
        "To show residents how their data was used, and to let the data protection officer "
        "check that it was used properly.",
        "The law says the council must be able to show that it uses personal data lawfully",
        "UK GDPR Articles 5(2) and 24",
        None,
        "Information Governance",
        "Data protection officer",
    ),
}


def about_dataset(code: str) -> AboutDataset | None:
    """What residents read about the dataset ``code``, or None if the council holds no such
    dataset."""
    if code in SERVICE_DATASET_TEXTS:
        holds, purpose, basis, reference, kept_for, owner, asset_owner = SERVICE_DATASET_TEXTS[code]
        return AboutDataset(
            code,
            SERVICE_DATASETS[code],
            holds,
            purpose,
            basis,
            reference,
            kept_for or _service_kept_for(code),
            owner,
            asset_owner,
            _service_period(code),
        )
    source_dataset = apps.get_model("residents", "SourceDataset")
    row = source_dataset.objects.filter(code=code).first()
    if row is None:
        return None
    return AboutDataset(
        code=row.code,
        title=row.title,
        holds=row.description or NOT_GIVEN,
        purpose=row.purpose or NOT_GIVEN,
        lawful_basis=row.lawful_basis,
        lawful_basis_reference=row.lawful_basis_reference,
        kept_for=row.kept_for or NOT_GIVEN,
        owner=row.owner or NOT_GIVEN,
        asset_owner=row.asset_owner or NOT_GIVEN,
        removed_after=f"{row.keep_after_end} after a record ends" if row.keep_after_end else "",
    )


def _service_kept_for(code: str) -> str:
    """How long a service dataset is kept, from the council profile's ``[retention]``: the rule
    is that a resident reads the period the purge applies, never a figure written in code. A
    dataset none of whose kinds has a period is "Not given"."""
    retention = settings.COUNCIL.retention
    if code == "data_use_log":
        return f"{retention.data_use_events} after each entry is made, then deleted."
    said = [
        sentence.format(retention.records[kind])
        for kind, sentence in SERVICE_KEPT_FOR.get(code, ())
        if retention.records.get(kind)
    ]
    if not said:
        return NOT_GIVEN
    return " ".join([*said, *SERVICE_KEPT_ANYWAY.get(code, ())])


#: Per service dataset, what a resident reads of each kind of record ``[retention.records]``
#: gives a period (``{}``: that period), shown only where the profile sets it.
SERVICE_KEPT_FOR = {
    "parking_permits": (
        (
            "parking_applications",
            "{} after the application is decided or its permit ends, whichever is later; "
            "then your details are removed from it.",
        ),
        ("visitor_sessions", "A visitor's registration is removed {} after the visit."),
    ),
    "rent_accounts": (
        (
            "rent_tenancies",
            "{} after a tenancy ends and its account is closed; then the tenants' names, "
            "dates of birth and email addresses are removed.",
        ),
    ),
    "direct_debit_mandates": (
        (
            "direct_debit_mandates",
            "{} after the Direct Debit is cancelled and the rent account is closed; then the "
            "payer's name and bank details are removed.",
        ),
    ),
    "verifications": (
        (
            "verifications",
            "{} after the check (or its review by an officer); then the details given and "
            "which records agreed are removed.",
        ),
    ),
}

#: What stays of a service dataset after its purge (said after the periods).
SERVICE_KEPT_ANYWAY = {
    "rent_accounts": (
        "The charges and payments stay for the council's accounts (6 years after the end of "
        "the financial year, at least).",
    ),
    "direct_debit_mandates": ("The collections stay with the rent account's payments.",),
    "verifications": ("The answer and when it was given stay.",),
}


def _service_period(code: str) -> str:
    """When the retention purge removes a service dataset's personal details, from the council
    profile's ``[retention]``; blank where it sets no period."""
    retention = settings.COUNCIL.retention
    if code == "data_use_log":
        sooner = " (some kinds of entry sooner)" if retention.purposes or retention.actions else ""
        return f"{retention.data_use_events} after each entry is made{sooner}"
    records = retention.records
    when = [
        (records.get(kind, ""), text)
        for kind, text in SERVICE_RECORD_PERIODS.get(code, ())
        if records.get(kind)
    ]
    return "; ".join(f"{period} after {text}" for period, text in when)


#: Per service dataset, the kinds of record ``[retention.records]`` gives a period and what a
#: resident reads that it is counted from.
SERVICE_RECORD_PERIODS = {
    "parking_permits": (
        ("parking_applications", "an application is decided or its permit ends"),
        ("visitor_sessions", "a visitor session ends, for the visitor's registration"),
    ),
    "rent_accounts": (
        ("rent_tenancies", "a tenancy ends and its rent account is closed, for tenants' details"),
    ),
    "direct_debit_mandates": (
        (
            "direct_debit_mandates",
            "a Direct Debit is cancelled and its rent account is closed, for the payer's name "
            "and bank details",
        ),
    ),
    "verifications": (
        ("verifications", "a check is made (or an officer reviews it), for the details given"),
    ),
}


def datasets_described() -> list[tuple[str, str]]:
    """Every dataset with a public page, as (code, title), by title."""
    source_dataset = apps.get_model("residents", "SourceDataset")
    listed = dict(source_dataset.objects.values_list("code", "title"))
    listed.update(SERVICE_DATASETS)
    return sorted(listed.items(), key=lambda item: item[1].lower())
