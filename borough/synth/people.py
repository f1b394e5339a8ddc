"""Households and the people in them, made for a whole chunk at once with NumPy.

Dates are whole days since 1970-01-01 (``int64``); ``NEVER`` stands for "not ended".
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from . import names

NEVER = 1_000_000
YEAR = 365.25

# household types
SINGLE, COUPLE, FAMILY, LONE_PARENT, SHARERS, MULTIGEN, WIDOWED = range(7)
# roles
HEAD, PARTNER, CHILD, SHARER, GRANDPARENT = range(5)
FEMALE, MALE = 0, 1

EMAIL_DOMAINS = np.array(["example.com", "example.org", "example.net", "mail.example"])


@dataclass
class People:
    """One row per person; names are object arrays of ``str``."""

    hh: np.ndarray  # local household index
    role: np.ndarray
    sex: np.ndarray
    group: np.ndarray
    dob: np.ndarray
    dod: np.ndarray  # NEVER if alive
    first: np.ndarray
    middle: np.ndarray
    surname: np.ndarray
    birth_surname: np.ndarray
    title: np.ndarray
    email: np.ndarray
    phone: np.ndarray
    language: np.ndarray
    married: np.ndarray  # bool, the person is one of a married couple

    def __len__(self) -> int:
        return len(self.hh)


def household_types(rng: np.random.Generator, sizes: np.ndarray) -> np.ndarray:
    """A type for each household consistent with its (generated) size."""
    u = rng.random(len(sizes))
    two = np.select([u < 0.55, u < 0.75], [COUPLE, LONE_PARENT], SHARERS)
    more = np.select([u < 0.62, u < 0.78, u < 0.90], [FAMILY, LONE_PARENT, SHARERS], MULTIGEN)
    more = np.where((more == MULTIGEN) & (sizes < 4), FAMILY, more)
    return np.select([sizes == 1, sizes == 2], [SINGLE, two], more).astype(np.int8)


def head_ages(rng: np.random.Generator, types: np.ndarray) -> np.ndarray:
    """Age of each household's lead person: a young borough, peaking at 25-40."""
    n = len(types)
    u = rng.random(n)
    single = np.select(
        [u < 0.40, u < 0.75],
        [np.clip(rng.normal(31, 6, n), 18, 45), rng.uniform(40, 70, n)],
        rng.uniform(65, 95, n),
    )
    couple = np.where(u < 0.6, np.clip(rng.normal(32, 6, n), 20, 50), rng.uniform(45, 88, n))
    return np.select(
        [
            types == SINGLE,
            types == COUPLE,
            types == FAMILY,
            types == LONE_PARENT,
            types == SHARERS,
            types == MULTIGEN,
        ],
        [
            single,
            couple,
            np.clip(rng.normal(41, 8, n), 22, 65),
            np.clip(rng.normal(38, 8, n), 18, 62),
            np.clip(rng.normal(28, 6, n), 18, 50),
            np.clip(rng.normal(44, 7, n), 25, 60),
        ],
        rng.uniform(62, 95, n),  # WIDOWED
    )


def make_people(
    rng: np.random.Generator,
    sizes: np.ndarray,
    types: np.ndarray,
    ref_date: np.ndarray,
    group: np.ndarray,
    first_id: int,
    head_age: np.ndarray | None = None,
) -> People:
    """People for households of the given sizes, types, naming group and reference date.

    Ages are drawn as at each household's reference date (today for current households,
    the day they left for former ones).
    """
    n_h = len(sizes)
    starts = np.cumsum(sizes) - sizes
    hh = np.repeat(np.arange(n_h), sizes)
    pos = np.arange(len(hh)) - starts[hh]
    htype = types[hh]
    n = len(hh)

    has_partner = np.isin(types, (COUPLE, FAMILY, MULTIGEN, WIDOWED))
    role = np.full(n, CHILD, dtype=np.int8)
    role[pos == 0] = HEAD
    role[(pos == 1) & has_partner[hh]] = PARTNER
    role[(htype == SHARERS) & (pos > 0)] = SHARER
    role[(htype == MULTIGEN) & (pos == sizes[hh] - 1)] = GRANDPARENT

    if head_age is None:
        head_age = head_ages(rng, types)
    h_age = head_age[hh]
    age = np.select(
        [role == HEAD, role == PARTNER, role == SHARER, role == GRANDPARENT],
        [
            h_age,
            np.maximum(18, h_age + rng.normal(-1.5, 3.5, n)),
            np.clip(rng.normal(27, 5, n), 18, 45),
            np.minimum(100, h_age + rng.uniform(22, 35, n)),
        ],
        rng.uniform(0, 1, n) * np.clip(h_age - 17, 1, 25),
    )
    dob = ref_date[hh] - np.floor(age * YEAR).astype(np.int64)

    # sex: lone parents are mostly mothers; couples are mostly of opposite sex
    head_sex = np.where(types == LONE_PARENT, rng.random(n_h) < 0.15, rng.random(n_h) < 0.5)
    sex = (rng.random(n) < 0.5).astype(np.int8)
    sex[role == HEAD] = head_sex[hh[role == HEAD]]
    same_sex = rng.random(n_h) < 0.05
    is_partner = role == PARTNER
    sex[is_partner] = np.where(
        same_sex[hh[is_partner]], head_sex[hh[is_partner]], 1 - head_sex[hh[is_partner]]
    )

    # naming group: a household's own, with mixed couples and sharers from anywhere
    shares = names.group_shares()
    pgroup = group[hh].copy()
    other = rng.choice(len(shares), size=n, p=shares).astype(pgroup.dtype)
    mixed_partner = is_partner & (rng.random(n) < 0.12)
    pgroup[mixed_partner | (role == SHARER)] = other[mixed_partner | (role == SHARER)]

    first, middle, birth = _draw_names(rng, pgroup, sex)
    married, surname, birth = _family_surnames(
        rng, starts, hh, role, sex, pgroup, birth, has_partner
    )
    # Juniors: a son sometimes carries his father's first name.
    head = starts[hh]
    junior = (role == CHILD) & (sex == MALE) & (sex[head] == MALE) & (rng.random(n) < 0.04)
    first[junior] = first[head[junior]]

    ref_age = (ref_date[hh] - dob) / YEAR
    title = _titles(rng, sex, ref_age, married, surname != birth)
    email, phone = _contacts(rng, first, surname, ref_age, first_id)
    lang_group = np.array([g.language for g in names.groups()], dtype=object)[pgroup]
    lang_rate = np.array([g.language_rate for g in names.groups()])[pgroup]
    lang_rate = np.where(role == CHILD, lang_rate * 0.4, lang_rate)
    language = np.where(rng.random(n) < lang_rate, lang_group, "en").astype(object)

    return People(
        hh=hh,
        role=role,
        sex=sex,
        group=pgroup,
        dob=dob,
        dod=np.full(n, NEVER, np.int64),
        first=first,
        middle=middle,
        surname=surname,
        birth_surname=birth,
        title=title,
        email=email,
        phone=phone,
        language=language,
        married=married,
    )


def _draw_names(rng, pgroup, sex):
    n = len(pgroup)
    first = np.empty(n, dtype=object)
    middle = np.full(n, "", dtype=object)
    surname = np.empty(n, dtype=object)
    for g, grp in enumerate(names.groups()):
        in_g = pgroup == g
        if not in_g.any():
            continue
        for s, pool in ((FEMALE, grp.female), (MALE, grp.male)):
            idx = np.flatnonzero(in_g & (sex == s))
            first[idx] = pool[rng.integers(len(pool), size=len(idx))]
            has_mid = idx[rng.random(len(idx)) < grp.middle_rate]
            middle[has_mid] = pool[rng.integers(len(pool), size=len(has_mid))]
            two = has_mid[rng.random(len(has_mid)) < 0.15]
            second = pool[rng.integers(len(pool), size=len(two))]
            middle[two] = [f"{a} {b}" for a, b in zip(middle[two], second, strict=True)]
        idx = np.flatnonzero(in_g)
        surname[idx] = rng.choice(grp.surnames, size=len(idx), p=grp.surname_p)
        if grp.compound_surname:
            two = idx[rng.random(len(idx)) < grp.compound_surname]
            second = rng.choice(grp.surnames, size=len(two), p=grp.surname_p)
            surname[two] = [f"{a} {b}" for a, b in zip(surname[two], second, strict=True)]
        if grp.female_surname_rate:
            women = idx[(sex[idx] == FEMALE) & (rng.random(len(idx)) < grp.female_surname_rate)]
            surname[women] = rng.choice(grp.female_surnames, size=len(women))
    return first, middle, surname


def _feminise(surnames, who, pgroup, sex):
    polish = [g.key for g in names.groups()].index("polish")
    fix = who[(pgroup[who] == polish) & (sex[who] == FEMALE)]
    surnames[fix] = [names.feminine_surname(s) for s in surnames[fix]]


def _family_surnames(rng, starts, hh, role, sex, pgroup, birth, has_partner):
    """Married women often take the husband's surname; children take the family's."""
    groups = names.groups()
    take = np.array([g.take_surname for g in groups])
    hyphen = np.array([g.hyphenate for g in groups])
    surname = birth.copy()
    married = np.zeros(len(hh), dtype=bool)
    family = surname[starts].copy()  # what the children are called

    couple_h = np.flatnonzero(has_partner)
    head_i, partner_i = starts[couple_h], starts[couple_h] + 1
    mixed_sex = sex[head_i] != sex[partner_i]
    is_married = rng.random(len(couple_h)) < np.where(mixed_sex, 0.65, 0.4)
    married[head_i[is_married]] = married[partner_i[is_married]] = True
    husband = np.where(sex[head_i] == MALE, head_i, partner_i)
    wife = np.where(sex[head_i] == MALE, partner_i, head_i)
    u = rng.random(len(couple_h))
    # a "Begum" keeps her name; otherwise take or hyphenate by the wife's custom
    female_only = list({s for g in groups if g.female_surname_rate for s in g.female_surnames})
    keeps_own = np.isin(birth[wife], female_only)
    wife_takes = is_married & mixed_sex & ~keeps_own & (u < take[pgroup[wife]])
    hyphenates = is_married & mixed_sex & ~keeps_own & (u > 1 - hyphen[pgroup[husband]])
    surname[wife[wife_takes]] = birth[husband[wife_takes]]
    _feminise(surname, wife[wife_takes], pgroup, sex)
    double = [
        f"{a}-{b}" for a, b in zip(birth[husband[hyphenates]], birth[wife[hyphenates]], strict=True)
    ]
    surname[husband[hyphenates]] = double
    surname[wife[hyphenates]] = double
    fathers_name = rng.random(len(couple_h)) < 0.75
    family[couple_h] = np.where(is_married | fathers_name, surname[husband], surname[wife])

    kids = np.flatnonzero(role == CHILD)
    # a mother's "Begum" is hers alone: such children keep the surname drawn for them
    kids = kids[~np.isin(family[hh[kids]], female_only)]
    surname[kids] = family[hh[kids]]
    _feminise(surname, kids, pgroup, sex)
    birth[kids] = surname[kids]
    gp = np.flatnonzero(role == GRANDPARENT)
    surname[gp] = birth[gp] = birth[starts[hh[gp]]]
    return married, surname, birth


def _titles(rng, sex, age, married, changed):
    n = len(sex)
    u = rng.random(n)
    woman = np.select(
        [changed, married & (u < 0.6), age < 30],
        ["Mrs", "Mrs", np.where(u < 0.6, "Miss", "Ms")],
        np.where(u < 0.5, "Ms", np.where(u < 0.75, "Mrs", "Miss")),
    )
    man = np.where(u < 0.02, "Dr", "Mr")
    woman = np.where(u > 0.985, "Dr", woman)
    title = np.where(sex == MALE, man, woman).astype(object)
    title[age < 18] = ""
    return title


def _contacts(rng, first, surname, age, first_id):
    n = len(first)
    has_email = (age >= 16) & (rng.random(n) < 0.85)
    idx = np.flatnonzero(has_email)
    pattern = rng.integers(3, size=len(idx))
    domain = EMAIL_DOMAINS[rng.integers(len(EMAIL_DOMAINS), size=len(idx))]
    email = np.full(n, "", dtype=object)
    # the person id makes every address unique (names repeat, people do not)
    email[idx] = [
        f"{_local_part(_plain(f), _plain(s), p)}{first_id + i}@{d}"
        for f, s, p, d, i in zip(first[idx], surname[idx], pattern, domain, idx, strict=True)
    ]
    has_phone = (age >= 16) & (rng.random(n) < 0.7)
    phone = np.full(n, "", dtype=object)
    # Ofcom's drama range: 07700 900000-900999 are never allocated to real phones.
    numbers = rng.integers(1000, size=int(has_phone.sum()))
    phone[has_phone] = [f"07700 900{k:03d}" for k in numbers]
    return email, phone


@functools.lru_cache(maxsize=100_000)
def _plain(name: str) -> str:
    """A name as it can appear in an e-mail address: lower case, unaccented, letters only."""
    return "".join(c for c in names.ascii_fold(name).lower() if c.isalnum())


def _local_part(first: str, surname: str, pattern: int) -> str:
    if pattern == 0:
        return f"{first}.{surname}"
    if pattern == 1:
        return f"{first[:1]}{surname}"
    return f"{first}{surname[:1]}"
