"""What the what-ifs share: rows of figures grouped so that no row counts fewer than the
disclosure threshold, and counts inside a row protected with ``disclosure.protect``."""

from __future__ import annotations

import pandas as pd

from borough.insights.disclosure import CONFIDENTIAL, Rule, protect


def grouped_rows(
    frame: pd.DataFrame, by: str, rule: Rule, other: str, order: list | None = None
) -> pd.Series:
    """Each row's group label: its own value of ``by``, or ``other`` for values with fewer than
    ``rule.threshold`` rows. If ``other`` itself would hold 1 to ``threshold - 1`` rows, the
    smallest remaining groups join it until it holds enough (or everything is in it)."""
    sizes = frame[by].value_counts()
    small = set(sizes[sizes < rule.threshold].index)
    kept = sizes[sizes >= rule.threshold].sort_values()
    while 0 < int(sizes[list(small)].sum()) < rule.threshold and len(kept):
        small.add(kept.index[0])
        kept = kept.iloc[1:]
    return frame[by].where(~frame[by].isin(small), other)


def protected_counts(counts: pd.DataFrame, rule: Rule) -> dict:
    """``counts``: rows × columns of counts. The same with totals, each a number or ``[c]``."""
    table = protect(counts, Rule(threshold=rule.threshold, round_to=1))
    published = table.published
    return {
        str(row): {str(col): _plain(published.loc[row, col]) for col in published.columns}
        for row in published.index
    }


def _plain(value):
    return value if value == CONFIDENTIAL else int(value)
