"""The verification decision: who the applicant is, and whether their records prove the purpose.

Pure: no database, no clock of its own (``today`` is passed in). ``service.verify`` wraps it with
the data-use log and the stored verification; the benchmark and the tests call it directly.

1. The applicant's details are standardised as a source record's are (``standardise.py``) and
   scored against the candidate index (``candidates.py``) with the trained model.
2. Candidates are grouped by resident (the batch link's clusters). The applicant is the best
   resident if that match is at least ``policy.verified_probability`` and beats every other
   resident by ``policy.margin_bits``; below ``policy.refer_probability`` nobody matches.
3. Hard rules (``policy.must_agree``): where the resident's records hold a field such as the
   date of birth, the applicant's must be exactly the value *every* record holding one holds; a
   near miss (a day, a month or a year out, day and month swapped) is referred however probable
   the match, and so is a resident whose records disagree among themselves. Where
   they hold none, ``policy.when_not_held`` says whether an officer decides or the check is
   settled on the other details (``Outcome.unconfirmed`` names the fields left unchecked).
4. The resident's records from the policy's datasets that are current, at the applicant's
   address where the policy says so, and that themselves match the applicant at
   ``policy.verified_probability`` (a link can merge a relative's record into a resident) are
   the proof; ``policy.min_evidence`` of them verify.

Decisions: ``verified``; ``refer`` (an officer decides: unsure who it is, or who it is but no
proof); ``not_found`` (nobody in the records matches).

``Outcome.reasons`` are for staff (which fields agreed, probabilities); ``Outcome.public_reasons``
are for the applicant and machine clients, and say nothing a caller could use to narrow down
someone's details.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

from borough.places.postcodes import InvalidPostcode, normalise_postcode
from borough.residents import standardise
from borough.residents.verification.candidates import Candidate, CandidateIndex
from borough.residents.verification.policies import Policy
from borough.residents.verification.prepare import Prepared, prepare
from borough.residents.verification.scoring import ELSE_LABEL, LevelResult, Score

VERIFIED = "verified"
REFER = "refer"
NOT_FOUND = "not_found"
DECISIONS = (VERIFIED, REFER, NOT_FOUND)

#: Two records of one dataset at one home whose matches differ by less than this many bits are
#: equally good: they may be two people of one name (a father and son), so the check is referred.
TIE_BITS = 1.0

#: The match weight is given to people as a probability with this many decimals.
_PERCENT = "{:.2%}"


class ApplicantError(ValueError):
    """The applicant's details cannot be checked; the message says which field and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Applicant:
    """Details as a person or service gives them (not yet standardised)."""

    first_name: str
    surname: str
    date_of_birth: dt.date | None = None
    middle_names: str = ""
    uprn: int | None = None
    postcode: str = ""
    address: str = ""  # lines joined by ", "
    email: str = ""

    def prepared(self) -> Prepared:
        """Standardised exactly as the loader standardises a source record."""
        first = standardise.standardise_name(self.first_name)
        surname = standardise.standardise_name(self.surname)
        if not first:
            raise ApplicantError("first_name", "Enter a first name")
        if not surname:
            raise ApplicantError("surname", "Enter a surname")
        postcode = ""
        if self.postcode.strip():
            try:
                postcode = normalise_postcode(self.postcode)
            except InvalidPostcode:
                raise ApplicantError("postcode", "Enter a real postcode, like E8 1DY") from None
        if self.uprn is not None and not 0 < self.uprn < 10**12:
            raise ApplicantError("uprn", "A UPRN is a whole number of up to 12 digits")
        address = ""
        if self.address.strip():
            address = standardise.address_text([self.address], postcode)
        return prepare(
            first_name=first,
            first_name_canonical=standardise.canonical_first_name(first),
            middle_names=standardise.standardise_name(self.middle_names),
            surname=surname,
            date_of_birth=self.date_of_birth,
            postcode=postcode,
            uprn=self.uprn,
            address_text=address,
            email=standardise.standardise_email(self.email),
        )


@dataclass(frozen=True)
class FieldAgreement:
    field: str  # first_name, date_of_birth, surname, address, middle_names, email
    agreement: str  # agrees, close, differs, missing


@dataclass(frozen=True)
class Evidence:
    """One record of the matched resident that the policy looks at."""

    unique_id: str
    dataset: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    current: bool
    at_address: bool | None  # None: the policy does not ask
    matches: bool  # this record alone matches the applicant at the policy's probability
    counts: bool  # proves the purpose under the policy
    probability: float  # this record against the applicant
    match_weight: float
    levels: tuple[LevelResult, ...]
    fields: tuple[FieldAgreement, ...]
    home: str = ""  # the record's UPRN, or postcode and house numbers
    second: bool = False  # would prove it, but a better-matching record of its dataset does

    @property
    def record_ref(self) -> str:
        return self.unique_id.split(":", 1)[1]


@dataclass(frozen=True)
class Outcome:
    decision: str
    purpose: str
    resident_id: str | None
    probability: float  # the applicant against the matched (or best) resident; 0 if none
    runner_up_probability: float | None
    reasons: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    datasets_read: tuple[str, ...]
    candidates: int
    residents_considered: tuple[str, ...] = field(default=())
    public_reasons: tuple[str, ...] = field(default=())
    unconfirmed: tuple[str, ...] = field(default=())  # must_agree fields the records hold none of


_FIELD_NAMES = {
    "first_name": "first name",
    "date_of_birth": "date of birth",
    "surname": "surname",
    "address": "address",
    "middle_names": "middle names",
    "email": "email address",
    "national_id": "identity number",
}
_AGREEING = {
    ("first_name", "Exact"),
    ("first_name", "Same canonical name"),
    ("date_of_birth", "Exact"),
    ("middle_names", "Exact"),
    ("email", "Exact"),
    ("national_id", "Exact"),
}
_SURNAME_PARTS = {"Same surname": "agrees", "Similar surname": "close", "Other surname": "differs"}
_ADDRESS_PARTS = {
    "same home": "agrees",
    "same postcode, other home": "close",
    "same postcode sector": "close",
    "different address": "differs",
    "address unknown": "missing",
}


def field_agreements(levels: tuple[LevelResult, ...]) -> tuple[FieldAgreement, ...]:
    """Which of the applicant's fields agreed with a record, from the model's levels."""
    out = []
    for level in levels:
        if level.comparison == "surname_address":
            if level.label == "Null":
                out += [FieldAgreement("surname", "missing"), FieldAgreement("address", "missing")]
                continue
            if level.label == ELSE_LABEL:
                out += [FieldAgreement("surname", "differs"), FieldAgreement("address", "missing")]
                continue
            surname, address = level.label.split(", ", 1)
            out.append(FieldAgreement("surname", _SURNAME_PARTS[surname]))
            out.append(FieldAgreement("address", _ADDRESS_PARTS[address]))
            continue
        if level.label == "Null":
            agreement = "missing"
        elif (level.comparison, level.label) in _AGREEING:
            agreement = "agrees"
        elif level.label == ELSE_LABEL:
            agreement = "differs"
        else:
            agreement = "close"
        out.append(FieldAgreement(level.comparison, agreement))
    return tuple(out)


def _listing(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _summary(fields: tuple[FieldAgreement, ...]) -> str:
    said = []
    for agreement, words in (("agrees", "agree"), ("close", "are close"), ("differs", "differ")):
        names = [_FIELD_NAMES[f.field] for f in fields if f.agreement == agreement]
        if names:
            verb = words if len(names) > 1 or words != "agree" else "agrees"
            if words == "are close" and len(names) == 1:
                verb = "is close"
            if words == "differ" and len(names) == 1:
                verb = "differs"
            said.append(f"{_listing(names)} {verb}")
    return "; ".join(said) if said else "no details could be compared"


def _same_home(applicant: Prepared, record: Prepared) -> bool:
    if applicant.uprn is not None and record.uprn is not None:
        return applicant.uprn == record.uprn
    return (
        applicant.postcode is not None
        and applicant.postcode == record.postcode
        and applicant.address_numbers is not None
        and applicant.address_numbers == record.address_numbers
    )


def _current(valid_from, valid_to, today: dt.date, grace_days: int) -> bool:
    if valid_from is not None and valid_from > today:
        return False
    return valid_to is None or valid_to >= today - dt.timedelta(days=grace_days)


def _when(day: dt.date | None) -> str:
    return f"{day.day} {day:%B %Y}" if day else ""


#: What the applicant and machine clients are told. Every referral says the same, whatever the
#: cause: a caller must not learn that a date of birth was "close" rather than wrong.
PUBLIC = {
    "not_found": "No one in the council's records matches these details closely enough.",
    "refer": (
        "The council's records could not confirm these details automatically. An officer "
        "will check them."
    ),
    "verified": "The council's records confirm these details.",
    # {names}: the fields the records hold none of, e.g. "date of birth"
    "name_and_address": (
        "The council's records hold no {names} for this person, so this was confirmed from "
        "the name and address alone."
    ),
}


def _agrees(name: str, applicant: Prepared, record: Prepared) -> bool | None:
    """Whether ``record`` holds the applicant's value of a ``must_agree`` field exactly; None
    if the record holds no value of it."""
    if name == "date_of_birth":
        if record.dob is None:
            return None
        return applicant.dob is not None and record.dob.days == applicant.dob.days
    if name == "first_name":
        if record.first_name is None:
            return None
        return record.first_name == applicant.first_name or (
            record.first_name_canonical is not None
            and record.first_name_canonical == applicant.first_name_canonical
        )
    value = getattr(record, name)
    if value is None:
        return None
    return value == getattr(applicant, name)


def _a_name(value: str | None) -> bool:
    return value is not None and sum(ch.isalpha() for ch in value) >= 2


def _first_names_agree(index: CandidateIndex, applicant: Prepared, record: Prepared) -> bool:
    """Whether ``record`` holds the applicant's first name, or one the model scores as the same
    name (a nickname, a typo): a blank or an initial on either side is never agreement."""
    if not (_a_name(applicant.first_name) and _a_name(record.first_name)):
        return False
    levels = index.scorer.score(applicant, record).levels
    return any(level.comparison == "first_name" and level.bits > 0 for level in levels)


def _required_values(policy: Policy, applicant: Prepared) -> None:
    for name in policy.must_agree:
        given = applicant.dob if name == "date_of_birth" else getattr(applicant, name)
        if given is None:
            words = _FIELD_NAMES[name]
            raise ApplicantError(name, f"Enter the {words}: this check needs it")


def decide(
    index: CandidateIndex,
    policy: Policy,
    applicant: Applicant | Prepared,
    *,
    today: dt.date,
    dataset_titles: dict[str, str] | None = None,
    scored: list[Candidate] | None = None,
) -> Outcome:
    """The decision for ``applicant`` under ``policy``. ``scored`` replaces the index's own
    scoring of candidates (the tests pass Splink's, to show both give the same decision)."""
    titles = dataset_titles or {}
    prepared = applicant.prepared() if isinstance(applicant, Applicant) else applicant
    _required_values(policy, prepared)
    candidates = index.score_candidates(prepared) if scored is None else scored
    read = {index.dataset(c.index) for c in candidates}

    best_by_resident: dict[str, Candidate] = {}
    for candidate in candidates:
        resident = index.resident_id(candidate.index)
        if resident is None:
            continue
        held = best_by_resident.get(resident)
        if held is None or candidate.score.match_weight > held.score.match_weight:
            best_by_resident[resident] = candidate
    ranked = sorted(best_by_resident.items(), key=lambda item: -item[1].score.match_weight)
    considered = tuple(r for r, c in ranked if c.score.probability >= policy.refer_probability)

    def outcome(decision, resident, probability, runner_up, reasons, evidence=(), public=()):
        return Outcome(
            decision=decision,
            purpose=policy.purpose,
            resident_id=resident,
            probability=probability,
            runner_up_probability=runner_up,
            reasons=tuple(reasons),
            evidence=tuple(evidence),
            datasets_read=tuple(sorted(read | {e.dataset for e in evidence})),
            candidates=len(candidates),
            residents_considered=considered,
            public_reasons=tuple(public),
            unconfirmed=unconfirmed,
        )

    unconfirmed: tuple[str, ...] = ()

    if not ranked or ranked[0][1].score.probability < policy.refer_probability:
        best = ranked[0][1].score.probability if ranked else 0.0
        reasons = ["No one in the council's records matches these details closely enough."]
        if ranked:
            reasons.append(f"The closest record matched with probability {_PERCENT.format(best)}.")
        return outcome(NOT_FOUND, None, best, None, reasons, public=[PUBLIC["not_found"]])

    resident, top = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else None
    p = top.score.probability
    fields = field_agreements(top.score.levels)
    who = (
        f"The details match resident {resident} with probability {_PERCENT.format(p)}: "
        f"{_summary(fields)}."
    )
    runner_p = runner_up.score.probability if runner_up else None
    if p < policy.verified_probability:
        return outcome(
            REFER,
            resident,
            p,
            runner_p,
            [
                who,
                f"That is below the {_PERCENT.format(policy.verified_probability)} this check "
                "needs, so an officer should confirm who the applicant is.",
            ],
            public=[PUBLIC["refer"]],
        )
    if runner_up and top.score.match_weight - runner_up.score.match_weight < policy.margin_bits:
        return outcome(
            REFER,
            resident,
            p,
            runner_p,
            [
                who,
                f"Another resident ({ranked[1][0]}) also matches, with probability "
                f"{_PERCENT.format(runner_up.score.probability)}: often a relative at the same "
                "address. An officer should confirm which of them applied.",
            ],
            public=[PUBLIC["refer"]],
        )

    # Who, not only which family: the first name given must agree with one the resident's
    # records hold. A blank or an initial is no agreement (it scores nothing either way), so a
    # twin or a relative with the same surname, date of birth and home whose first name the
    # records lack would otherwise pass as them.
    mine = [index.record(i) for i in index.records_of(resident)]
    if not any(_first_names_agree(index, prepared, record) for record in mine):
        return outcome(
            REFER,
            resident,
            p,
            runner_p,
            [
                who,
                "None of their records holds a first name that agrees with the one given (a "
                "blank or an initial cannot tell relatives apart): an officer should confirm "
                "who the applicant is.",
            ],
            public=[PUBLIC["refer"]],
        )

    # Hard rules: a field the policy says must agree is checked against every value the
    # resident's records hold, whatever the probability (a near miss is someone else, or a
    # typo an officer should see).
    # Every record that holds the field must hold the applicant's value: records that disagree
    # among themselves (a typo in one system, or a parent and child the link merged) are for an
    # officer to settle, not a second chance for a guess.
    not_held, disagreeing, split = [], [], []
    for name in policy.must_agree:
        found = [a for a in (_agrees(name, prepared, r) for r in mine) if a is not None]
        if not found:
            not_held.append(name)
        elif not any(found):
            disagreeing.append(name)
        elif not all(found):
            split.append(name)
    if disagreeing or split:
        reasons = [who]
        if disagreeing:
            names = _listing([_FIELD_NAMES[n] for n in disagreeing])
            reasons.append(
                f"The {names} given is not one the council's records hold for them, and this "
                "check needs it to agree exactly: an officer should confirm who the applicant is."
            )
        if split:
            names = _listing([_FIELD_NAMES[n] for n in split])
            reasons.append(
                f"Their records hold more than one {names}, and the one given is not in all of "
                "them: an officer should check which is right (a mistake in one system, or two "
                "people the records have joined)."
            )
        return outcome(REFER, resident, p, runner_p, reasons, public=[PUBLIC["refer"]])
    if not_held and policy.when_not_held == "refer":
        names = _listing([_FIELD_NAMES[n] for n in not_held])
        unconfirmed = tuple(not_held)  # the service may offer another way (a code by post)
        return outcome(
            REFER,
            resident,
            p,
            runner_p,
            [
                who,
                f"None of their records holds a {names} to check, and this check needs one to "
                "agree: an officer should confirm who the applicant is.",
            ],
            public=[PUBLIC["refer"]],
        )
    unconfirmed = tuple(not_held)

    evidence = []
    for i in index.records_of(resident):
        dataset = index.dataset(i)
        if dataset not in policy.datasets:
            continue
        record = index.record(i)
        score: Score = index.scorer.score(prepared, record)
        valid_from, valid_to = index.validity(i)
        current = _current(valid_from, valid_to, today, policy.ended_within_days)
        at_address = _same_home(prepared, record) if policy.same_address else None
        # A record is proof only if it, too, is the applicant beyond doubt: a resident's
        # cluster can hold a relative's record (same name, same home) that a link merged.
        matches = score.probability >= policy.verified_probability
        evidence.append(
            Evidence(
                unique_id=index.unique_id(i),
                dataset=dataset,
                valid_from=valid_from,
                valid_to=valid_to,
                current=current,
                at_address=at_address,
                matches=matches,
                counts=current and at_address is not False and matches,
                probability=score.probability,
                match_weight=score.match_weight,
                levels=score.levels,
                fields=field_agreements(score.levels),
                home=str(record.uprn or f"{record.postcode}/{record.address_numbers}"),
            )
        )
    # One proof record per dataset and home: a person has one electoral register entry, one
    # council tax liability at a time, at a home. When a link has merged a namesake's record
    # (a father and son of one name, no dates of birth), the applicant's own is the better match.
    groups: dict[tuple, list[Evidence]] = {}
    for e in evidence:
        if e.counts:
            groups.setdefault((e.dataset, e.home), []).append(e)
    kept, tied = set(), []
    for (dataset, _), members in groups.items():
        members.sort(key=lambda e: -e.match_weight)
        if len(members) > 1 and members[0].match_weight - members[1].match_weight < TIE_BITS:
            tied.append(dataset)  # two people of one name at one home: which is the applicant?
        else:
            kept.add(members[0].unique_id)
    evidence = [
        e
        if not e.counts or e.unique_id in kept
        else dataclasses.replace(e, counts=False, second=True)
        for e in evidence
    ]
    evidence.sort(key=lambda e: (not e.counts, not e.current, e.dataset, e.unique_id))
    proof = [e for e in evidence if e.counts]
    where = " at this address" if policy.same_address else ""
    names = " or ".join(titles.get(d, d) for d in policy.datasets)
    if tied:
        title = titles.get(tied[0], tied[0])
        return outcome(
            REFER,
            resident,
            p,
            runner_p,
            [
                who,
                f"Two current {title} records{where} match these details equally well: they may "
                "be two people of the same name, such as a parent and child. An officer should "
                "check which is the applicant's.",
            ],
            evidence,
            public=[PUBLIC["refer"]],
        )
    if len(proof) >= policy.min_evidence:
        reasons = [who]
        for e in proof:
            since = f" since {_when(e.valid_from)}" if e.valid_from else ""
            reasons.append(
                f"Proof: a current {titles.get(e.dataset, e.dataset)} record{where}{since}."
            )
        for e in evidence:
            if e.second:
                reasons.append(
                    f"Another current {titles.get(e.dataset, e.dataset)} record{where} matches "
                    "as well: often a relative of the same name. It is not counted as proof."
                )
        public = [PUBLIC["verified"]]
        if unconfirmed:
            names = _listing([_FIELD_NAMES[n] for n in unconfirmed])
            reasons.append(
                f"None of their records holds a {names}: this was settled on the other "
                "details alone, as this check allows."
            )
            public.append(PUBLIC["name_and_address"].format(names=names))
        return outcome(VERIFIED, resident, p, runner_p, reasons, evidence, public=public)

    reasons = [who]
    if policy.min_evidence > 1 and proof:
        reasons.append(
            f"Only {len(proof)} of the {policy.min_evidence} current records{where} this check "
            f"needs were found ({names})."
        )
    else:
        reasons.append(f"There is no current {names} record for them{where}.")
    for e in evidence:
        if e.counts:
            continue
        title = titles.get(e.dataset, e.dataset)
        if not e.current and e.valid_to:
            reasons.append(f"A {title} record ended on {_when(e.valid_to)}.")
        elif not e.current and e.valid_from:
            reasons.append(f"A {title} record starts on {_when(e.valid_from)}.")
        elif e.at_address is False:
            reasons.append(f"A current {title} record is at a different address.")
        elif e.second:
            reasons.append(
                f"Another current {title} record{where} matches as well: often a relative "
                "of the same name. It is not counted as proof."
            )
        elif not e.matches:
            reasons.append(
                f"A current {title} record{where} does not match the details closely enough "
                f"({_PERCENT.format(e.probability)}): it may be a relative's."
            )
    reasons.append("An officer should check the proof of address the applicant can give.")
    return outcome(REFER, resident, p, runner_p, reasons, evidence, public=[PUBLIC["refer"]])
