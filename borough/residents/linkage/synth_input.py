"""Development and benchmark adapter: the linkage input frame built straight from a synthetic
borough's CSV files.

The product path is ``borough.residents.queries.records_for_linkage()``, which returns the
loaded, standardised ``SourceRecord`` rows. This module stands in for it so that the linkage
code, its tests and its benchmark can run without a database: it reads the seven source
datasets that ``borough.synth.generate`` writes and applies a deliberately simple
standardisation (lower case, accents folded, punctuation removed, common address
abbreviations expanded, postcodes normalised, dates parsed per dataset, nicknames mapped with
the synth package's nickname list). It is not the product's standardisation and must not be
used on real data.

The frame has the columns of the contract (``LINKAGE_COLUMNS``) and the residence dates
(``RESIDENCE_COLUMNS``, ISO) of council tax, tenancies and benefit claims, as
``records_for_linkage(with_validity=True)`` gives them; ``unique_id`` is
``"{dataset}:{record_id}"`` with ``record_id`` as in ``ground_truth.csv``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from borough.residents.linkage.model import LINKAGE_COLUMNS, RESIDENCE_COLUMNS

#: ``records_for_linkage()``'s boolean column saying a record's dataset is declared link-only
#: (its records are never linked to each other). No synthetic dataset is: always false here.
LINK_ONLY = "link_only"

#: The columns of the frame: the contract, ``link_only`` (false), then the residence dates
#: of the datasets whose period is the residence (council tax, tenancies, benefit claims), as
#: ``records_for_linkage(with_validity=True)`` gives them with the shipped configuration.
FRAME_COLUMNS = (
    *LINKAGE_COLUMNS,
    *((LINK_ONLY,) if LINK_ONLY not in LINKAGE_COLUMNS else ()),
    *RESIDENCE_COLUMNS,
)

TITLES = frozenset({"mr", "mrs", "ms", "miss", "dr", "mx", "prof", "rev", "sir"})
ADDRESS_WORDS = {
    "rd": "road",
    "st": "street",
    "ave": "avenue",
    "av": "avenue",
    "gr": "grove",
    "gro": "grove",
    "cl": "close",
    "ter": "terrace",
    "terr": "terrace",
    "gdns": "gardens",
    "pl": "place",
    "ln": "lane",
    "cres": "crescent",
    "sq": "square",
    "ct": "court",
    "hse": "house",
    "dr": "drive",
    "mans": "mansions",
    "flt": "flat",
    "apt": "flat",
    "ho": "house",
}
_FOLD = str.maketrans(
    {"ı": "i", "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "đ": "d", "Đ": "D", "æ": "ae"}
)
_NOT_WORD = re.compile(r"[^a-z0-9 ]+")
_SPACES = re.compile(r"\s+")
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")


@functools.lru_cache(maxsize=500_000)
def clean_text(text: str) -> str:
    """Lower case ASCII words: accents folded, hyphens and slashes as spaces, other
    punctuation (apostrophes, full stops, commas) removed."""
    if not text:
        return ""
    text = text.translate(_FOLD)
    if not text.isascii():
        text = "".join(
            c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
        )
    text = text.lower().replace("-", " ").replace("/", " ").replace(",", " ")
    text = _NOT_WORD.sub("", text)
    return _SPACES.sub(" ", text).strip()


@functools.lru_cache(maxsize=500_000)
def clean_address(text: str) -> str:
    """``clean_text`` with the usual abbreviations expanded and the post town dropped."""
    words = [ADDRESS_WORDS.get(w, w) for w in clean_text(text).split()]
    return " ".join(w for w in words if w != "london")


@functools.lru_cache(maxsize=200_000)
def normalise_postcode(text: str) -> str | None:
    """``E21 3AB`` form, or None when it is blank or not postcode-shaped. Fixes the letter O
    typed for a zero where a digit must be (the district's digit, the inward code's digit)."""
    pc = re.sub(r"[^A-Za-z0-9]", "", text or "").upper()
    if len(pc) < 5 or len(pc) > 7:
        return None
    outward, inward = pc[:-3], pc[-3:]
    if inward[0] == "O":
        inward = "0" + inward[1:]
    # no district letter after a digit is ever O (Royal Mail's format rules)
    outward = re.sub(r"(?<=[0-9])O", "0", outward)
    pc = outward + inward
    m = _POSTCODE.match(pc)
    return f"{m.group(1)} {m.group(2)}" if m else None


@functools.lru_cache(maxsize=1)
def nickname_canon() -> dict[str, str]:
    """Cleaned first name -> canonical name: every name in a group of nickname variants maps to
    the group's alphabetically first formal name (Bob, Rob, Robert -> robert). Groups joined
    through a shared variant (Kate: Katherine and Catherine) become one group."""
    from borough.synth.names import nicknames

    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    formal = set()
    for name, variants in nicknames().items():
        a = clean_text(name)
        formal.add(a)
        for v in variants:
            ra, rb = find(a), find(clean_text(v))
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[str]] = {}
    for x in list(parent):
        groups.setdefault(find(x), []).append(x)
    out = {}
    for members in groups.values():
        names = sorted(m for m in members if m in formal) or sorted(members)
        for m in members:
            out[m] = names[0]
    return out


def canonical_first_name(first: pd.Series) -> pd.Series:
    canon = nickname_canon()
    return first.map(lambda f: canon.get(f, f) if f else f)


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(
        folder / f"{name}.csv", dtype=str, keep_default_na=False, na_filter=False
    ).replace({"": None})


def _clean(series: pd.Series) -> pd.Series:
    return series.fillna("").map(clean_text)


def _join(df: pd.DataFrame, columns: list[str]) -> pd.Series:
    return df[columns].fillna("").agg(" ".join, axis=1)


def _date(series: pd.Series, fmt: str) -> pd.Series:
    parsed = pd.to_datetime(series, format=fmt, errors="coerce")
    return parsed.dt.strftime("%Y-%m-%d").where(parsed.notna(), None)


class _NameVocabulary:
    """Known multi-word forenames and surnames, learnt from the datasets that hold names in
    separate fields, to split a name typed in one field ("Gabriela Macedo Batista")."""

    def __init__(self, forenames: pd.Series, surnames: pd.Series):
        self.forenames = {f for f in forenames.dropna().unique() if " " in f}
        self.surnames = {s for s in surnames.dropna().unique() if " " in s}

    def split(self, full: str, initials_are_middle: bool) -> tuple[str, str, str]:
        words = [w for w in clean_text(full).split() if w]
        while words and words[0] in TITLES and len(words) > 2:
            words = words[1:]
        if not words:
            return "", "", ""
        if len(words) == 1:
            return words[0], "", ""
        n_first = 2 if len(words) >= 3 and " ".join(words[:2]) in self.forenames else 1
        rest = words[n_first:]
        if initials_are_middle:
            # "arthur gabriel m v dias": the initials mark where the surname starts
            last_initial = max((k for k, w in enumerate(rest) if len(w) == 1), default=-1)
            if last_initial >= 0:
                first = words[:n_first] + [w for w in rest[:last_initial] if len(w) > 1]
                middle = [w for w in rest[: last_initial + 1] if len(w) == 1]
                surname = rest[last_initial + 1 :]
                if surname:
                    return " ".join(first), " ".join(middle), " ".join(surname)
        n_sur = 2 if len(rest) >= 2 and " ".join(rest[-2:]) in self.surnames else 1
        surname = rest[-n_sur:]
        middle = rest[:-n_sur]
        return " ".join(words[:n_first]), " ".join(middle), " ".join(surname)


def _frame(dataset: str, ids: pd.Series, **cols: pd.Series | None) -> pd.DataFrame:
    out = pd.DataFrame({"unique_id": dataset + ":" + ids.astype(str)})
    out["source_dataset"] = dataset
    n = len(out)
    for name in FRAME_COLUMNS[2:]:
        value = cols.get(name)
        out[name] = value.to_numpy() if value is not None else np.full(n, None, dtype=object)
    return out


def _uprn(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce").astype("Int64")


def _email(series: pd.Series) -> pd.Series:
    return series.str.strip().str.lower()


def records_from_synth(folder: str | Path) -> pd.DataFrame:
    """The linkage input frame (``FRAME_COLUMNS``) for the synthetic borough in ``folder``."""
    folder = Path(folder)
    frames: list[pd.DataFrame] = []

    er = _read(folder, "electoral_register")
    attain = pd.to_datetime(er["DATE_OF_ATTAINMENT"], format="%d/%m/%Y", errors="coerce")
    er_dob = (attain - pd.DateOffset(years=18)).dt.strftime("%Y-%m-%d").where(attain.notna())
    frames.append(
        _frame(
            "electoral_register",
            er["ELECTOR_NUMBER"],
            first_name=_clean(er["FORENAME"]),
            middle_names=_clean(er["MIDDLE_NAMES"]),
            surname=_clean(er["SURNAME"]),
            date_of_birth=er_dob.astype(object).where(er_dob.notna(), None),
            postcode=er["POSTCODE"].map(normalise_postcode),
            uprn=_uprn(er["UPRN"]),
            address_text=_join(er, ["ADDRESS_1", "ADDRESS_2", "ADDRESS_3", "ADDRESS_4"]).map(
                clean_address
            ),
        )
    )

    ht = _read(folder, "housing_tenancies")
    frames.append(
        _frame(
            "housing_tenancies",
            ht["TENANT_REF"],
            first_name=_clean(ht["FORENAME"]),
            surname=_clean(ht["SURNAME"]),
            date_of_birth=_date(ht["DATE_OF_BIRTH"].str.title(), "%d-%b-%Y"),
            postcode=ht["POSTCODE"].map(normalise_postcode),
            uprn=_uprn(ht["UPRN"]),
            address_text=ht["ADDRESS"].fillna("").map(clean_address),
            email=_email(ht["EMAIL"]),
            phone=ht["PHONE"].str.replace(" ", "", regex=False),
            resident_from=_date(ht["TENANCY_START"].str.title(), "%d-%b-%Y"),
            resident_to=_date(ht["TENANCY_END"].str.title(), "%d-%b-%Y"),
        )
    )

    hb = _read(folder, "housing_benefit")
    hb_address = _join(hb, ["ADDRESS_1", "ADDRESS_2", "ADDRESS_3"]).map(clean_address)
    hb_postcode = hb["POSTCODE"].map(normalise_postcode)
    for k, who in ((1, "CLAIMANT"), (2, "PARTNER")):
        part = hb[hb[f"{who}_FORENAME"].notna()] if k == 2 else hb
        frames.append(
            _frame(
                "housing_benefit",
                part["CLAIM_REF"] + f"#{k}",
                first_name=_clean(part[f"{who}_FORENAME"]),
                surname=_clean(part[f"{who}_SURNAME"]),
                date_of_birth=_date(part[f"{who}_DOB"], "%d/%m/%Y"),
                postcode=hb_postcode[part.index],
                address_text=hb_address[part.index],
                resident_from=_date(part["CLAIM_START"], "%d/%m/%Y"),
                resident_to=_date(part["CLAIM_END"], "%d/%m/%Y"),
            )
        )

    sa = _read(folder, "school_admissions")
    frames.append(
        _frame(
            "school_admissions",
            sa["ADMISSION_ID"],
            first_name=_clean(sa["PUPIL_FORENAME"]),
            middle_names=_clean(sa["PUPIL_MIDDLE_NAMES"]),
            surname=_clean(sa["PUPIL_SURNAME"]),
            date_of_birth=_date(sa["PUPIL_DOB"], "%Y-%m-%d"),
            postcode=sa["POSTCODE"].map(normalise_postcode),
            address_text=_join(sa, ["ADDRESS_LINE_1", "ADDRESS_LINE_2", "ADDRESS_LINE_3"]).map(
                clean_address
            ),
        )
    )

    fp = _read(folder, "freedom_pass")
    frames.append(
        _frame(
            "freedom_pass",
            fp["PASS_NUMBER"],
            first_name=_clean(fp["FIRST_NAME"]),
            surname=_clean(fp["LAST_NAME"]),
            date_of_birth=_date(fp["DATE_OF_BIRTH"], "%d/%m/%Y"),
            postcode=fp["POSTCODE"].map(normalise_postcode),
            address_text=_join(fp, ["ADDRESS_LINE_1", "ADDRESS_LINE_2", "ADDRESS_LINE_3"]).map(
                clean_address
            ),
        )
    )

    structured = pd.concat(frames, ignore_index=True)
    vocab = _NameVocabulary(structured["first_name"], structured["surname"])

    ct = _read(folder, "council_tax")
    ct_address = _join(ct, ["ADDRESS_1", "ADDRESS_2", "ADDRESS_3", "ADDRESS_4"]).map(clean_address)
    ct_postcode = ct["POSTCODE"].map(normalise_postcode)
    ct_uprn = _uprn(ct["UPRN"])
    for k in (1, 2):
        part = ct[ct[f"LIABLE_PARTY_{k}"].notna()]
        names = [vocab.split(n, initials_are_middle=True) for n in part[f"LIABLE_PARTY_{k}"]]
        first, middle, surname = (pd.Series(x, index=part.index) for x in zip(*names, strict=True))
        frames.append(
            _frame(
                "council_tax",
                part["ACCOUNT_REF"] + f"#{k}",
                first_name=first,
                middle_names=middle,
                surname=surname,
                postcode=ct_postcode[part.index],
                uprn=ct_uprn[part.index],
                address_text=ct_address[part.index],
                resident_from=_date(part["LIABILITY_START"], "%d/%m/%Y"),
                resident_to=_date(part["LIABILITY_END"], "%d/%m/%Y"),
            )
        )

    pp = _read(folder, "parking_permits_history")
    names = [vocab.split(n, initials_are_middle=False) for n in pp["APPLICANT_NAME"].fillna("")]
    first, middle, surname = (pd.Series(x, index=pp.index) for x in zip(*names, strict=True))
    frames.append(
        _frame(
            "parking_permits_history",
            pp["PERMIT_REF"],
            first_name=first,
            middle_names=middle,
            surname=surname,
            date_of_birth=_date(pp["APPLICANT_DOB"], "%Y-%m-%d"),
            postcode=pp["POSTCODE"].map(normalise_postcode),
            uprn=_uprn(pp["UPRN"]),
            address_text=pp["ADDRESS"].fillna("").map(clean_address),
            email=_email(pp["EMAIL"]),
        )
    )

    df = pd.concat(frames, ignore_index=True)
    for col in ("first_name", "middle_names", "surname", "address_text", "email", "phone"):
        df[col] = df[col].where(df[col].notna() & (df[col] != ""), None)
    df["first_name_canonical"] = canonical_first_name(df["first_name"])
    df["uprn"] = df["uprn"].astype("Int64")
    df[LINK_ONLY] = False
    return df[list(FRAME_COLUMNS)]


def truth_from_synth(folder: str | Path) -> pd.DataFrame:
    """``ground_truth.csv`` as (unique_id, person_id)."""
    gt = pd.read_csv(Path(folder) / "ground_truth.csv", dtype={"record_id": str, "dataset": str})
    return pd.DataFrame(
        {"unique_id": gt["dataset"] + ":" + gt["record_id"], "person_id": gt["person_id"]}
    )


RAW_COLUMNS = ("unique_id", "first_name", "surname", "date_of_birth", "postcode", "email")


def raw_records_from_synth(folder: str | Path) -> pd.DataFrame:
    """The same records as ``records_from_synth`` as an out-of-the-box user would give them
    to Splink: names, postcodes and e-mails as each system holds them (accents, punctuation,
    nicknames, typos, mangled postcodes) with only the case made the same (names and e-mails
    lower, postcodes upper), names typed in one field split at the first and last word after
    a title, and dates of birth turned into ISO strings (Splink's date comparison needs one
    format). No UPRN, no address text, no other standardisation."""
    folder = Path(folder)
    parts: list[pd.DataFrame] = []

    def add(dataset, ids, first, surname, dob=None, postcode=None, email=None):
        n = len(ids)
        none = pd.Series([None] * n, index=ids.index, dtype=object)
        parts.append(
            pd.DataFrame(
                {
                    "unique_id": (dataset + ":" + ids.astype(str)).to_numpy(),
                    "first_name": first.to_numpy(),
                    "surname": surname.to_numpy(),
                    "date_of_birth": (dob if dob is not None else none).to_numpy(),
                    "postcode": (postcode if postcode is not None else none).to_numpy(),
                    "email": (email if email is not None else none).to_numpy(),
                }
            )
        )

    def split(names: pd.Series) -> tuple[pd.Series, pd.Series]:
        words = names.fillna("").str.split()
        words = words.map(lambda w: w[1:] if len(w) > 2 and w[0].lower() in TITLES else w)
        first = words.map(lambda w: w[0] if w else None)
        last = words.map(lambda w: w[-1] if len(w) > 1 else None)
        return first, last

    er = _read(folder, "electoral_register")
    attain = pd.to_datetime(er["DATE_OF_ATTAINMENT"], format="%d/%m/%Y", errors="coerce")
    er_dob = (attain - pd.DateOffset(years=18)).dt.strftime("%Y-%m-%d")
    add(
        "electoral_register",
        er["ELECTOR_NUMBER"],
        er["FORENAME"],
        er["SURNAME"],
        er_dob.astype(object).where(attain.notna(), None),
        er["POSTCODE"],
    )
    ht = _read(folder, "housing_tenancies")
    add(
        "housing_tenancies",
        ht["TENANT_REF"],
        ht["FORENAME"],
        ht["SURNAME"],
        _date(ht["DATE_OF_BIRTH"].str.title(), "%d-%b-%Y"),
        ht["POSTCODE"],
        ht["EMAIL"],
    )
    hb = _read(folder, "housing_benefit")
    for k, who in ((1, "CLAIMANT"), (2, "PARTNER")):
        part = hb[hb[f"{who}_FORENAME"].notna()] if k == 2 else hb
        add(
            "housing_benefit",
            part["CLAIM_REF"] + f"#{k}",
            part[f"{who}_FORENAME"],
            part[f"{who}_SURNAME"],
            _date(part[f"{who}_DOB"], "%d/%m/%Y"),
            part["POSTCODE"],
        )
    sa = _read(folder, "school_admissions")
    add(
        "school_admissions",
        sa["ADMISSION_ID"],
        sa["PUPIL_FORENAME"],
        sa["PUPIL_SURNAME"],
        _date(sa["PUPIL_DOB"], "%Y-%m-%d"),
        sa["POSTCODE"],
    )
    fp = _read(folder, "freedom_pass")
    add(
        "freedom_pass",
        fp["PASS_NUMBER"],
        fp["FIRST_NAME"],
        fp["LAST_NAME"],
        _date(fp["DATE_OF_BIRTH"], "%d/%m/%Y"),
        fp["POSTCODE"],
    )
    ct = _read(folder, "council_tax")
    for k in (1, 2):
        part = ct[ct[f"LIABLE_PARTY_{k}"].notna()]
        first, last = split(part[f"LIABLE_PARTY_{k}"])
        add("council_tax", part["ACCOUNT_REF"] + f"#{k}", first, last, None, part["POSTCODE"])
    pp = _read(folder, "parking_permits_history")
    first, last = split(pp["APPLICANT_NAME"])
    add(
        "parking_permits_history",
        pp["PERMIT_REF"],
        first,
        last,
        _date(pp["APPLICANT_DOB"], "%Y-%m-%d"),
        pp["POSTCODE"],
        pp["EMAIL"],
    )
    raw = pd.concat(parts, ignore_index=True)[list(RAW_COLUMNS)]
    for col in ("first_name", "surname", "email"):
        raw[col] = raw[col].str.strip().str.lower()
    raw["postcode"] = raw["postcode"].str.strip().str.upper()
    return raw
