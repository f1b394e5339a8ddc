"""The analyst-impostor's attack on published tables, written apart from ``disclosure.py``.

It reads only what was published (the long tables: dimension columns and ``count``, with
``Total`` rows, ``[c]`` for hidden cells), takes each unknown finest-grain count as a
non-negative number, and for every ``[c]`` cell asks SciPy's HiGHS how small and how large it
can be. A rounded count ``n`` is taken to mean ``n - round_to/2 <= true count <= n + round_to/2``.
"""

from itertools import product

import numpy as np
from scipy.optimize import linprog


def hidden_ranges(tables, dims_levels, round_to=5):
    """``tables``: list of (dimensions, long DataFrame). ``dims_levels``: every dimension's
    categories. Returns [(table index, row of the long table, low, high)] for each ``[c]``."""
    dims = list(dims_levels)
    atoms = list(product(*(dims_levels[d] for d in dims)))
    position = {d: i for i, d in enumerate(dims)}
    rows_ub, rhs_ub, targets = [], [], []
    slack = round_to / 2 if round_to > 1 else 0
    for t, (table_dims, frame) in enumerate(tables):
        for _, row in frame.iterrows():
            member = np.array(
                [
                    all(row[d] == "Total" or atom[position[d]] == row[d] for d in table_dims)
                    for atom in atoms
                ],
                dtype=float,
            )
            if row["count"] == "[c]":
                targets.append((t, row, member))
            else:
                value = float(row["count"])
                rows_ub += [member, -member]
                rhs_ub += [value + slack, -(value - slack)]
    found = []
    for t, row, member in targets:
        kwargs = {"A_ub": np.array(rows_ub), "b_ub": np.array(rhs_ub)} if rows_ub else {}
        low = linprog(member, bounds=(0, None), method="highs", **kwargs)
        high = linprog(-member, bounds=(0, None), method="highs", **kwargs)
        assert low.status == 0, low.message
        found.append((t, row, low.fun, np.inf if high.status == 3 else -high.fun))
    return found
