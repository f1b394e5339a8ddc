"""Statistical disclosure control for the open-data tables: Borough's own interface.

A publication is one or more tables of counts of people (or of accounts, permits: each one
stands for a resident) cut from one set of finest-grain counts (``atoms``: a count for each
combination of every dimension used). Each table has one or two dimensions and is published
with its margins (row totals, column totals and the grand total), so every published cell is a
sum of atoms. That is what lets the tables be audited jointly: a cell hidden in one table cannot
be worked out from another table published beside it ("differencing").

The rule (``Rule``, from the council profile's ``[open_data]``):

1. Primary suppression: a cell counting from 1 to ``threshold - 1`` people is not published.
   Zero is published: a cell that nobody is in tells no one anything about a person.
2. Secondary suppression: more cells are hidden until the audit passes.
3. Audit: for each hidden cell the attacker solves two linear programmes over the atoms (each a
   non-negative number) with every published cell as an equation: the least and the most the
   hidden cell can be. The cell is protected when that range is at least ``protection`` wide
   (by default the threshold), so nobody can tell whether it holds fewer than the threshold.
   The audit treats published figures as exact; rounding them (step 4) only widens the range.
4. Published counts are rounded to the nearest ``round_to`` (5 by default; 1 for no rounding),
   halves up, as the ONS does for its small-area tables.

A hidden cell is written ``[c]`` ("confidential"), the symbol the Government Statistical
Service's guidance on symbols in tables gives for it.

The linear programmes are solved with SciPy's HiGHS (``scipy.optimize.linprog``). tau-argus
(through ``pytauargus``) is the tool national statistics offices use for the same job; it
needs the tau-argus program, which Borough does not ship, so ``protect`` takes a ``suppressor``:
a council with tau-argus can pass one that calls it, and the audit here still checks its result
before anything is written (``docs/open-data.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

# Small problems: HiGHS's presolve costs more than it saves.
_OPTIONS = {"presolve": False}
CONFIDENTIAL = "[c]"
TOTAL = "Total"

__all__ = [
    "CONFIDENTIAL",
    "TOTAL",
    "AuditFailure",
    "DisclosureError",
    "ProtectedTable",
    "Rule",
    "TableSpec",
    "audit",
    "protect",
    "protect_tables",
]


class DisclosureError(ValueError):
    """The tables cannot be published as asked (bad input, or the audit failed)."""


@dataclass(frozen=True)
class Rule:
    """The council's disclosure rule (``[open_data]`` in the profile)."""

    threshold: int = 10
    round_to: int = 5
    protection: int | None = None  # how wide a hidden cell's range must be; default: threshold

    def __post_init__(self):
        if self.threshold < 1:
            raise DisclosureError("The threshold must be at least 1")
        if self.round_to < 1:
            raise DisclosureError("round_to must be at least 1 (1: no rounding)")

    @property
    def required_width(self) -> int:
        return self.threshold if self.protection is None else self.protection

    @classmethod
    def from_profile(cls, profile=None) -> Rule:
        if profile is None:
            from django.conf import settings

            profile = settings.COUNCIL
        cfg = profile.open_data
        return cls(threshold=cfg.threshold, round_to=cfg.round_to)

    def rounded(self, count: int) -> int:
        base = self.round_to
        return ((2 * count + base) // (2 * base)) * base


@dataclass(frozen=True)
class TableSpec:
    """A table to publish: its name, its row dimension and (optionally) its column dimension."""

    name: str
    rows: str
    columns: str | None = None

    @property
    def dimensions(self) -> tuple[str, ...]:
        return (self.rows,) if self.columns is None else (self.rows, self.columns)


@dataclass
class ProtectedTable:
    """A table ready to publish: ``published`` holds the rounded counts, or ``[c]``, with the
    margins as a ``Total`` row and column; ``hidden_primary``/``hidden_secondary`` count the
    cells hidden by each step."""

    spec: TableSpec
    published: pd.DataFrame
    hidden_primary: int
    hidden_secondary: int

    def long(self) -> pd.DataFrame:
        """One row a cell (dimensions, then ``count``), totals included: the CSV's shape."""
        frame = self.published.copy()
        if self.spec.columns is None:
            frame = frame.reset_index()
            frame.columns = [self.spec.rows, "count"]
            return frame
        frame.index.name = self.spec.rows
        frame.columns.name = self.spec.columns
        return frame.stack(future_stack=True).rename("count").reset_index()


@dataclass(frozen=True)
class _Cell:
    table: int
    row: object
    column: object  # None in a one-dimensional table
    atoms: frozenset[int]
    value: int


@dataclass
class AuditFailure:
    table: str
    row: object
    column: object
    low: float
    high: float


@dataclass
class _Problem:
    specs: list[TableSpec]
    atoms: pd.DataFrame  # one row an atom: the dimensions and "count"
    cells: list[_Cell] = field(default_factory=list)
    keys: dict[frozenset[int], int] = field(default_factory=dict)  # atoms → first cell index
    same: list[int] = field(default_factory=list)  # each cell → the cell holding its atoms
    incidence: csr_matrix | None = None
    values: np.ndarray | None = None


def _categories(counts: pd.DataFrame, dim: str) -> list:
    values = counts[dim]
    if isinstance(values.dtype, pd.CategoricalDtype):
        return list(values.cat.categories)
    return sorted(values.dropna().unique(), key=str)


def _problem(counts: pd.DataFrame, specs: Sequence[TableSpec]) -> _Problem:
    dims = list(dict.fromkeys(d for s in specs for d in s.dimensions))
    missing = [d for d in [*dims, "count"] if d not in counts.columns]
    if missing:
        raise DisclosureError(f"The counts have no column {', '.join(missing)}")
    if counts[dims].isna().any().any():
        raise DisclosureError("A count has an empty dimension value")
    values = pd.to_numeric(counts["count"], errors="coerce")
    if values.isna().any() or (values < 0).any() or (values % 1 != 0).any():
        raise DisclosureError("Every count must be a whole number, 0 or more")
    grouped = counts.assign(count=values.astype(int)).groupby(dims, observed=True)["count"].sum()
    # The atoms are the combinations with someone in them. The audit so takes the attacker to
    # know which combinations are empty (a ward outside a zone): the cautious assumption.
    atoms = grouped[grouped > 0].reset_index()
    problem = _Problem(list(specs), atoms)
    for t, spec in enumerate(specs):
        rows = _categories(counts, spec.rows)
        columns = [None] if spec.columns is None else _categories(counts, spec.columns)
        for r in [*rows, TOTAL]:
            for c in columns if spec.columns is None else [*columns, TOTAL]:
                mask = np.ones(len(atoms), dtype=bool)
                if r != TOTAL:
                    mask &= (atoms[spec.rows] == r).to_numpy()
                if c is not None and c != TOTAL:
                    mask &= (atoms[spec.columns] == c).to_numpy()
                members = frozenset(np.flatnonzero(mask).tolist())
                value = int(atoms["count"].to_numpy()[mask].sum())
                problem.same.append(problem.keys.setdefault(members, len(problem.cells)))
                problem.cells.append(_Cell(t, r, c, members, value))
    return problem


def _incidence(problem: _Problem) -> csr_matrix:
    """Cells × atoms: 1 where the cell adds up the atom. Built once a problem."""
    if problem.incidence is None:
        rows = [i for i, cell in enumerate(problem.cells) for _ in cell.atoms]
        cols = [a for cell in problem.cells for a in cell.atoms]
        problem.incidence = csr_matrix(
            (np.ones(len(rows)), (rows, cols)), shape=(len(problem.cells), len(problem.atoms))
        )
        problem.values = np.array([cell.value for cell in problem.cells], dtype=float)
    return problem.incidence


def _interval(problem: _Problem, published: list[int], cell_index: int) -> tuple:
    """The least and the most a cell can be, given the published cells (each atom >= 0)."""
    incidence = _incidence(problem)
    objective = incidence[cell_index].toarray().ravel()
    bounds = (0, None)
    eq = {"A_eq": incidence[published], "b_eq": problem.values[published]} if published else {}
    low = linprog(objective, bounds=bounds, method="highs-ds", options=_OPTIONS, **eq)
    high = linprog(-objective, bounds=bounds, method="highs-ds", options=_OPTIONS, **eq)
    if low.status != 0:
        raise DisclosureError(f"The audit could not be solved: {low.message}")
    upper = np.inf if high.status == 3 else -high.fun  # 3: unbounded
    return low.fun, upper


def _hide(problem: _Problem, hidden: set[int], cell_index: int) -> None:
    """Hide a cell and every cell of any table made of the same atoms."""
    key = problem.same[cell_index]
    hidden.update(i for i, s in enumerate(problem.same) if s == key)


def _partner(problem: _Problem, hidden: set[int], failing: int) -> int | None:
    """The complementary cell to hide next: in a table holding the failing cell, a published
    cell in its row or column, smallest first, inner cells before totals; failing that, any
    published cell, smallest first."""
    twins = {i for i, s in enumerate(problem.same) if s == problem.same[failing]}
    lines = []
    for i, other in enumerate(problem.cells):
        if i in hidden or not other.atoms:  # an empty cell hides nothing
            continue
        for twin in twins:
            near = problem.cells[twin]
            if other.table != near.table:
                continue
            if other.row == near.row or (near.column is not None and other.column == near.column):
                is_total = other.row == TOTAL or other.column == TOTAL
                lines.append((is_total, other.value == 0, other.value, i))
                break
    if not lines:
        lines = [
            (True, False, c.value, i)
            for i, c in enumerate(problem.cells)
            if i not in hidden and c.atoms
        ]
    return min(lines)[3] if lines else None


def default_suppressor(problem: _Problem, hidden: set[int], rule: Rule) -> set[int]:
    """Greedy secondary suppression: while the audit finds a hidden cell it can narrow too far,
    hide the smallest published cell beside it. Hiding more cells only widens every range, so
    a cell once found safe stays safe and is not audited again."""
    hidden = set(hidden)
    safe: set[int] = set()
    while True:
        published = [i for i in range(len(problem.cells)) if i not in hidden]
        failing = None
        for i in sorted(hidden - safe):
            low, high = _interval(problem, published, i)
            if high - low < rule.required_width - 1e-6:
                failing = i
                break
            safe.add(i)
        if failing is None:
            return hidden
        partner = _partner(problem, hidden, failing)
        if partner is None:  # everything is hidden already
            return hidden
        _hide(problem, hidden, partner)


Suppressor = Callable[[_Problem, set[int], Rule], set[int]]


def audit(problem: _Problem, hidden: set[int], rule: Rule) -> list[AuditFailure]:
    """Every hidden cell whose range, worked out from the published cells, is too narrow."""
    failures = []
    published = [i for i in range(len(problem.cells)) if i not in hidden]
    for i in sorted(hidden):
        cell = problem.cells[i]
        low, high = _interval(problem, published, i)
        if high - low < rule.required_width - 1e-6:
            name = problem.specs[cell.table].name
            failures.append(AuditFailure(name, cell.row, cell.column, low, high))
    return failures


def protect_tables(
    counts: pd.DataFrame,
    specs: Sequence[TableSpec],
    rule: Rule,
    suppressor: Suppressor = default_suppressor,
) -> list[ProtectedTable]:
    """Protect tables published together, cut from the same ``counts`` (dimension columns and
    ``count``). Raises ``DisclosureError`` if the result fails the audit: nothing is returned to
    be written unless every hidden cell is safe."""
    if not specs:
        raise DisclosureError("There are no tables to protect")
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise DisclosureError("Two tables have the same name")
    problem = _problem(counts, specs)
    primary: set[int] = set()
    for i, cell in enumerate(problem.cells):
        if 0 < cell.value < rule.threshold:
            _hide(problem, primary, i)
    hidden = suppressor(problem, primary, rule) if primary else set()
    if not primary <= hidden:
        raise DisclosureError("The suppressor published a cell below the threshold")
    # The default suppressor audits every hidden cell as it goes and stops only when all pass;
    # any other (tau-argus, a test's) is audited here.
    failures = [] if suppressor is default_suppressor else audit(problem, hidden, rule)
    if failures:
        first = failures[0]
        raise DisclosureError(
            f"{len(failures)} hidden cell(s) could be worked out, for example "
            f"{first.table} {first.row}/{first.column}: between {first.low:g} and {first.high:g}"
        )
    return [_table(problem, t, spec, primary, hidden, rule) for t, spec in enumerate(specs)]


def _table(problem, t, spec, primary, hidden, rule) -> ProtectedTable:
    frame: dict = {}
    counted_primary = counted_secondary = 0
    for i, cell in enumerate(problem.cells):
        if cell.table != t:
            continue
        if i in hidden:
            shown = CONFIDENTIAL
            counted_primary += i in primary
            counted_secondary += i not in primary
        else:
            shown = rule.rounded(cell.value)
        frame.setdefault(cell.column, {})[cell.row] = shown
    if spec.columns is None:
        published = pd.DataFrame({"count": frame[None]})
    else:
        published = pd.DataFrame(frame)
    return ProtectedTable(spec, published.astype(object), counted_primary, counted_secondary)


def protect(
    table: pd.DataFrame,
    rule: Rule,
    name: str = "table",
    suppressor: Suppressor = default_suppressor,
) -> ProtectedTable:
    """Protect one two-way table of counts (rows × columns, no margins: they are added)."""
    rows = table.index.name or "rows"
    columns = table.columns.name or "columns"
    counts = table.rename_axis(index=rows, columns=columns).stack().rename("count").reset_index()
    counts[rows] = pd.Categorical(counts[rows], categories=list(table.index))
    counts[columns] = pd.Categorical(counts[columns], categories=list(table.columns))
    return protect_tables(counts, [TableSpec(name, rows, columns)], rule, suppressor)[0]
