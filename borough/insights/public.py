"""The headline figures of the public "How our services are doing" page, from the warehouse.

Each figure says its period and how it is counted. The period is the last 12 months the
published warehouse covers (fewer if it holds less). A figure that rests on fewer people than
the council's disclosure threshold is not published ("[c]"), as in the dashboards.
"""

from __future__ import annotations

from dataclasses import dataclass

from borough.insights.charts import SUPPRESSED, format_cell
from borough.insights.dashboards_forms import DEFAULT_MONTHS, last_day
from borough.insights.dashboards_queries import Filters, month_label, months


@dataclass(frozen=True)
class Headline:
    title: str
    figure: str
    detail: str
    how_counted: str


def period(con) -> Filters | None:
    """The last 12 months the warehouse covers, or None if it covers none."""
    covered = months(con)
    if not covered:
        return None
    return Filters(covered[max(0, len(covered) - DEFAULT_MONTHS)], last_day(covered[-1]))


def period_in_words(filters: Filters) -> str:
    first, last = month_label(filters.start), month_label(filters.end)
    return first if first == last else f"{first} to {last}"


def duration_in_words(seconds: float) -> str:
    """A typical wait in words: "under a minute", "12 minutes", "5 hours", "3 days"."""
    minutes = seconds / 60
    if minutes < 1:
        return "under a minute"
    if minutes < 120:
        n = round(minutes)
        return f"{n} minute{'s' if n != 1 else ''}"
    hours = minutes / 60
    if hours < 48:
        return f"{round(hours)} hours"
    return f"{round(hours / 24)} days"


def _one(con, sql: str, params: list) -> tuple:
    return con.execute(sql, params).fetchone()


def headlines(con, threshold: int) -> tuple[Filters | None, list[Headline]]:
    filters = period(con)
    if filters is None:
        return None, []
    where, params = filters.where()
    out = []

    decided, automatic = _one(
        con,
        "SELECT count(*), count(*) FILTER (WHERE decided_automatically) "  # noqa: S608
        f"FROM fact_permit_application WHERE {where} AND decided_at IS NOT NULL",
        params,
    )
    out.append(
        Headline(
            "Applications decided automatically",
            _share(automatic, decided, threshold),
            f"of {format_cell(decided, 'count')} parking permit applications"
            if decided >= threshold
            else "",
            "Parking permit applications made in the period and decided since. Decided "
            "automatically means checked against the council's own records and decided with "
            "no officer involved.",
        )
    )

    issued, median_seconds = _one(
        con,
        "SELECT count(*), median(epoch(p.issued_at - a.created_at)) "  # noqa: S608
        "FROM fact_permit p JOIN fact_permit_application a USING (application_key) "
        f"WHERE {filters.where('a.partition_date')[0]} "
        "AND p.issued_at IS NOT NULL",
        params,
    )
    out.append(
        Headline(
            "Time to get a parking permit",
            duration_in_words(median_seconds) if issued >= threshold else _hidden(issued),
            "typical time from applying to the permit being issued" if issued >= threshold else "",
            f"The median time from applying to the permit being issued, over the "
            f"{format_cell(issued, 'count')} permits applied for in the period and issued. Half "
            "of permits took less time than this, half took more.",
        )
    )

    accounts, collected, charged = _one(
        con,
        "SELECT count(DISTINCT l.account_key) FILTER (WHERE m.is_payment), "  # noqa: S608
        "coalesce(-sum(l.amount_pence) FILTER (WHERE m.is_payment "
        "OR l.payment_method = 'reversal'), 0), "
        "coalesce(sum(l.amount_pence) FILTER (WHERE l.payment_method = 'charge'), 0) "
        "FROM fact_rent_ledger l JOIN dim_payment_method m USING (payment_method) "
        f"WHERE {filters.where('l.partition_date')[0]}",
        params,
    )
    out.append(
        Headline(
            "Rent collected",
            format_cell(collected, "pence") if accounts >= threshold else _hidden(accounts),
            f"{_share(collected, charged, 1)} of the rent and charges due"
            if accounts >= threshold and charged
            else "",
            "Money paid into council tenants' rent accounts in the period by any means, less "
            "payments the bank reversed, against the rent and service charges due in the period.",
        )
    )

    responses, satisfied = _one(
        con,
        "SELECT count(*), count(*) FILTER (WHERE satisfaction >= 4) "  # noqa: S608
        f"FROM fact_feedback WHERE {where}",
        params,
    )
    out.append(
        Headline(
            "How people rated our services",
            _share(satisfied, responses, threshold),
            f"satisfied or very satisfied, of {format_cell(responses, 'count')} responses"
            if responses >= threshold
            else "",
            "Answers to the feedback form linked from every page: the share who said they were "
            "satisfied or very satisfied with the service.",
        )
    )
    return filters, out


def _share(part: int, whole: int, threshold: int) -> str:
    if whole < threshold or whole == 0:
        return _hidden(whole)
    return f"{round(100 * part / whole)}%"


#: What a headline says when the period has nothing to count: not "[c]", which says a few people.
NOTHING = "None in this period"


def _hidden(people: int) -> str:
    """A figure that rests on too few people: "[c]", or ``NOTHING`` when there are none."""
    return NOTHING if people == 0 else SUPPRESSED
