"""The verification service: the one entry point every council service uses.

``verify(applicant, purpose, ...)`` standardises the details, decides under the purpose's policy
(``engine.decide``) against the in-memory candidate index, stores the ``Verification`` and writes
the data-use event in one transaction, and returns the stored verification.

The index: each process holds one ``CandidateIndex``, built on first use from the last link's
``verification.parquet`` and model. When a re-link replaces those files, the next call starts a
rebuild in a background thread and keeps answering from the old index until the new one is
ready, so there is no gap (``docs/verification.md``). A million records: a few seconds to build,
some hundreds of megabytes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from borough.core.dates import when_in_words
from borough.residents.index import index_dir, latest_run
from borough.residents.linkage.pipeline import load_model
from borough.residents.models import SourceDataset, SourceRecord
from borough.residents.verification import attempts
from borough.residents.verification.attempts import Target, TooManyAttempts
from borough.residents.verification.candidates import CandidateIndex
from borough.residents.verification.engine import (
    PUBLIC,
    REFER,
    VERIFIED,
    Applicant,
    ApplicantError,
    Outcome,
    decide,
)
from borough.residents.verification.models import Verification
from borough.residents.verification.policies import Policy, policies
from borough.residents.verification.prepare import Prepared
from borough.residents.verification.signals import checks_locked
from borough.transparency.models import Action, ActorKind
from borough.transparency.services import record_data_use

log = logging.getLogger(__name__)


class VerificationUnavailable(RuntimeError):
    """The records have not been linked, so there is nothing to verify against."""


class UnknownPurpose(ApplicantError):
    def __init__(self, purpose: str) -> None:
        known = ", ".join(sorted(policies()))
        super().__init__(
            "purpose", f"There is no verification policy for that purpose. Use one of: {known}"
        )


class _Holder:
    """This process's index, swapped whole when a newer link is ready."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.index: CandidateIndex | None = None
        self.key: tuple | None = None
        self.building: tuple | None = None

    @staticmethod
    def _key(folder: Path) -> tuple:
        state = latest_run(folder)
        path = Path(state.get("verification") or folder / "verification.parquet")
        if not path.exists():
            raise VerificationUnavailable(
                "The resident index has no verification records yet. Run borough residents link."
            )
        return (str(path), path.stat().st_mtime_ns, state["model"], state.get("linked_at", ""))

    @staticmethod
    def _build(key: tuple) -> CandidateIndex:
        path, _, model, linked_at = key
        started = time.perf_counter()
        index = CandidateIndex.from_parquet(Path(path), load_model(model), label=linked_at)
        log.info(
            "verification index built: %s records in %.1fs",
            index.size,
            time.perf_counter() - started,
        )
        return index

    def _rebuild(self, key: tuple) -> None:
        try:
            index = self._build(key)
        except Exception:  # pragma: no cover - logged, the old index keeps answering
            log.exception("verification index rebuild failed")
            with self.lock:
                self.building = None
            return
        with self.lock:
            self.index, self.key, self.building = index, key, None

    def get(self, folder: Path | None = None) -> CandidateIndex:
        folder = folder or index_dir()
        try:
            key = self._key(folder)
        except ValueError as error:
            raise VerificationUnavailable(str(error)) from None
        with self.lock:
            if self.index is not None and self.key == key:
                return self.index
            if self.index is not None and self.key[0] == key[0]:
                # a newer link of the same index: rebuild behind the current one
                if self.building != key:
                    self.building = key
                    threading.Thread(target=self._rebuild, args=(key,), daemon=True).start()
                return self.index
        index = self._build(key)
        with self.lock:
            self.index, self.key = index, key
        return index

    def wait(self) -> None:
        """Until a background rebuild has finished (tests and warm-up)."""
        while True:
            with self.lock:
                if self.building is None:
                    return
            time.sleep(0.01)

    def clear(self) -> None:
        with self.lock:
            self.index = self.key = self.building = None


HOLDER = _Holder()


def policy_for(purpose: str) -> Policy:
    found = policies().get(purpose)
    if found is None:
        raise UnknownPurpose(purpose)
    if found.unavailable:
        raise VerificationUnavailable(
            f"Verification for {purpose!r} is not available: {found.unavailable}"
        )
    return found


_TITLES: tuple[float, dict[str, str]] = (0.0, {})


def dataset_titles() -> dict[str, str]:
    """Dataset code -> title, read at most once a minute (titles change only with a sync)."""
    global _TITLES
    read_at, titles = _TITLES
    if time.monotonic() - read_at > 60 or not titles:
        titles = dict(SourceDataset.objects.values_list("code", "title"))
        _TITLES = (time.monotonic(), titles)
    return titles


def today() -> dt.date:
    return timezone.localdate()


def _applicant_json(applicant: Applicant) -> dict:
    data = dataclasses.asdict(applicant)
    if applicant.date_of_birth:
        data["date_of_birth"] = applicant.date_of_birth.isoformat()
    return data


def evidence_json(outcome: Outcome, titles: dict[str, str]) -> list[dict]:
    return [
        {
            "unique_id": e.unique_id,
            "dataset": e.dataset,
            "dataset_title": titles.get(e.dataset, e.dataset),
            "record_reference": e.record_ref,
            "valid_from": e.valid_from.isoformat() if e.valid_from else None,
            "valid_to": e.valid_to.isoformat() if e.valid_to else None,
            "current": e.current,
            "at_address": e.at_address,
            "matches_applicant": e.matches,
            "counts_as_proof": e.counts,
            "match_probability": e.probability,
            "match_weight": e.match_weight,
            "fields": {f.field: f.agreement for f in e.fields},
            "weights": [
                {"comparison": level.comparison, "level": level.label, "bits": level.bits}
                for level in e.levels
            ],
        }
        for e in outcome.evidence
    ]


#: Actors whose failed checks count against the attempt limits: people checking themselves and
#: machine clients. Officers checking an applicant in front of them are not limited (every check
#: of theirs is in the data-use log under their name).
LIMITED_ACTORS = (ActorKind.RESIDENT, ActorKind.SERVICE)


def _details_key(prepared: Prepared) -> str:
    """The name and address given, as standardised: guesses at one person's other details
    count together however the name is spelt or the address written."""
    where = prepared.uprn or f"{prepared.postcode}/{prepared.address_numbers}"
    return f"{prepared.first_name_canonical}|{prepared.surname}|{where}"


def _withheld(outcome: Outcome, refusal: TooManyAttempts) -> Outcome:
    """The outcome an officer sees when the matched resident is over the attempt limit: the
    answer is not given to the caller, and the check waits for an officer."""
    until = timezone.localtime(refusal.until)
    return dataclasses.replace(
        outcome,
        decision=REFER,
        reasons=(
            *outcome.reasons,
            "There have been too many failed checks of this resident's details, so the answer "
            f"was not given to the caller (checks are refused until {when_in_words(until)}). "
            "An officer should confirm who the applicant is.",
        ),
        public_reasons=(PUBLIC["refer"],),
    )


def verify(
    applicant: Applicant,
    purpose: str,
    *,
    actor=None,
    actor_kind: str = ActorKind.SERVICE,
    actor_label: str = "",
    caller_reference: str = "",
    folder: Path | None = None,
    targets: tuple[tuple[str, str], ...] = (),
) -> Verification:
    """Verify ``applicant`` for ``purpose``; store and log it; return the stored verification.

    Raises ``ApplicantError`` (field and message for a person) for details that cannot be
    checked or an unknown purpose, and ``VerificationUnavailable`` before the first link.

    For a resident or a machine client, failed checks are limited (``attempts.py``): against
    the details given, the signed-in account, the resident matched and the caller's own
    ``targets`` (e.g. ``("rent-account", "123")``). Over a limit it raises ``TooManyAttempts``
    and the caller is told nothing about the details: before anything is read if the details,
    account or target is locked; after the check is stored and referred to an officer if the
    matched resident is. ``Verification.newly_locked`` names the scopes this check's failure
    locked (the caller tells whoever should know) and ``Verification.lockout`` is the refusal
    the next check will get (the caller may show it now)."""
    policy = policy_for(purpose)
    prepared = applicant.prepared()
    if actor_kind in (ActorKind.SERVICE, ActorKind.SYSTEM) and not actor_label:
        actor_label = "Borough verification service"
    index = HOLDER.get(folder)
    titles = dataset_titles()
    limited = actor_kind in LIMITED_ACTORS
    before: list[Target] = []
    if limited:
        before = [Target.of(scope, value) for scope, value in targets]
        before.append(Target.of("details", _details_key(prepared)))
        if actor_kind == ActorKind.RESIDENT and actor is not None:
            before.append(Target.of("account", str(actor.pk)))
    refusal: TooManyAttempts | None = None
    newly_locked: list[str] = []
    with transaction.atomic():
        if limited:
            attempts.lock_targets(before)
            attempts.refuse_if_locked(before)
        started = time.perf_counter()
        outcome = decide(index, policy, prepared, today=today(), dataset_titles=titles)
        seconds = time.perf_counter() - started
        resident = [Target.of("resident", outcome.resident_id)] if outcome.resident_id else []
        if limited and resident:
            attempts.lock_targets(resident)
            try:
                attempts.refuse_if_locked(resident)
            except TooManyAttempts as error:
                refusal = error
                outcome = _withheld(outcome, error)
        subjects = [outcome.resident_id] if outcome.resident_id else []
        if outcome.decision == REFER:
            subjects = list(dict.fromkeys([*subjects, *outcome.residents_considered]))
        verification = Verification.objects.create(
            purpose=purpose,
            requested_at=timezone.now(),
            actor_kind=actor_kind,
            actor_user=actor,
            actor_label=actor_label,
            caller_reference=caller_reference,
            applicant=_applicant_json(applicant),
            decision=outcome.decision,
            resident_id=outcome.resident_id or "",
            match_probability=outcome.probability,
            reasons=list(outcome.reasons),
            public_reasons=list(outcome.public_reasons),
            unconfirmed=list(outcome.unconfirmed),
            evidence=evidence_json(outcome, titles),
            datasets_read=list(outcome.datasets_read),
            index_linked_at=index.label,
            seconds=seconds,
            review=Verification.Review.OPEN if outcome.decision == REFER else "",
        )
        record_data_use(
            subject_resident_ids=subjects,
            actor=actor,
            actor_kind=actor_kind,
            actor_label=actor_label,
            purpose=purpose,
            action=Action.VERIFICATION,
            datasets=outcome.datasets_read,
            reference=verification.reference,
            outcome=outcome.decision,
        )
        lockout = None
        if limited and refusal is None and outcome.decision != VERIFIED:
            newly_locked = attempts.record_failure([*before, *resident])
            if newly_locked:
                try:
                    attempts.refuse_if_locked([*before, *resident])
                except TooManyAttempts as error:
                    lockout = error
    if newly_locked:
        checks_locked.send(
            sender=verify,
            scopes=tuple(newly_locked),
            resident_id=outcome.resident_id or "",
            targets=tuple(targets),
        )
    if refusal is not None:
        raise refusal
    verification.newly_locked = newly_locked
    verification.lockout = lockout  # this failure locked a target: what the next try gets
    return verification


def record_failed_use(
    verification: Verification, targets: tuple[tuple[str, str], ...]
) -> list[str]:
    """A verified check that still may not open what was asked (e.g. the resident verified is
    not a tenant of this tenancy) counts as a failure against ``targets`` and the account."""
    found = [Target.of(scope, value) for scope, value in targets]
    if verification.actor_user_id and verification.actor_kind == ActorKind.RESIDENT:
        found.append(Target.of("account", str(verification.actor_user_id)))
    with transaction.atomic():
        attempts.lock_targets(found)
        locked = attempts.record_failure(found)
    if locked:
        checks_locked.send(
            sender=record_failed_use, scopes=tuple(locked), resident_id="", targets=targets
        )
    return locked


def record_values(unique_ids: list[str]) -> dict[str, dict]:
    """The personal fields of records, as their sources give them: for staff whose role may see
    them (``Policy.roles_see_fields``). The caller records the view."""
    wanted: dict[str, list[str]] = {}
    for unique_id in unique_ids:
        dataset, ref = unique_id.split(":", 1)
        wanted.setdefault(dataset, []).append(ref)
    out = {}
    for dataset, refs in wanted.items():
        for record in SourceRecord.objects.filter(dataset__code=dataset, record_ref__in=refs):
            out[f"{dataset}:{record.record_ref}"] = {
                "name": record.full_name
                or " ".join(
                    x for x in (record.first_name, record.middle_names, record.surname) if x
                ),
                "date_of_birth": record.date_of_birth.isoformat() if record.date_of_birth else None,
                "address": record.address_given,
                "postcode": record.postcode_given or record.postcode,
                "uprn": record.uprn,
            }
    return out


def may_see_fields(user, policy: Policy) -> bool:
    if user is None or not getattr(user, "is_staff_member", False):
        return False
    if user.is_superuser:
        return True
    return user.groups.filter(name__in=policy.roles_see_fields).exists()
