"""The staff dashboards: which charts each shows, what each says, and the disclosure rule.

Every chart comes from one query in ``dashboards_queries`` and shows the same rows three ways:
an SVG drawn on the server, a GOV.UK table and a CSV. A row that counts fewer people than the
council's ``threshold`` (``[open_data]`` in the profile; 10 by default) shows every
figure as ``[c]`` (primary suppression, as open data does first), and a part of a row shown
(decided automatically, allowed, matched) as ``[c]`` when it or the rest of the row is that
small (``suppress``).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from borough.insights import dashboards_queries as q
from borough.insights.charts import SUPPRESSED, Chart, Column
from borough.insights.dashboards_queries import Filters

NO_WARD = "The ward filter does not apply: these records have no ward."
AS_BUILT = "The period does not apply: this is how things stood when the warehouse was built."


@dataclass(frozen=True)
class Context:
    """What a dashboard needs beyond the filters: the profile's figures and today's date."""

    threshold: int
    minutes_per_manual_check: int
    officer_hour_pence: int
    today: dt.date
    #: The published build's folder: what the results of whole-warehouse queries are kept by.
    build: str = ""

    @classmethod
    def from_profile(cls, today: dt.date, build: str = "") -> Context:
        council = settings.COUNCIL
        return cls(
            threshold=council.open_data.threshold,
            minutes_per_manual_check=council.insights.minutes_per_manual_check,
            officer_hour_pence=council.unit_costs.officer_hour_pence,
            today=today,
            build=build,
        )

    def per_build(self, name: str, query: Callable, con):
        """``query(con)``, run once for this build and kept (``RESULTS``)."""
        if not self.build:
            return query(con)
        return RESULTS.get_or_make((self.build, name), lambda: query(con))


def suppress(rows: list[dict], columns: list[Column], threshold: int) -> list[dict]:
    """Rows with every figure of a row that counts 1 to ``threshold - 1`` people as ``[c]``,
    and, in a row shown, its parts (``Column.part``: the applications decided automatically,
    the share of them) as ``[c]`` when the part or the rest of the row's people is 1 to
    ``threshold - 1``: 25 decided and 24 automatically would say that 1 was not.

    ``people`` is each row's count of people (or applications, accounts, payments). A count of
    none is shown: it tells no one anything about a person. A row's figures are never added
    across rows here (no totals), so hiding within the row is enough."""
    figures = [c.key for c in columns if c.kind != "text"]
    parts = [c for c in columns if c.part]
    out = []
    for row in rows:
        people = row["people"]
        if 0 < people < threshold:
            row = {**row, **dict.fromkeys(figures, SUPPRESSED)}
        elif any(_reveals_few(row.get(c.key), c, people, threshold) for c in parts):
            row = {**row, **dict.fromkeys((c.key for c in parts), SUPPRESSED)}
        out.append(row)
    return out


def _reveals_few(value, column: Column, people: int, threshold: int) -> bool:
    """Whether a part of ``people`` (a count, or a share as a fraction) or the rest of them is
    1 to ``threshold - 1``."""
    if value is None or value == SUPPRESSED:
        return False
    some = round(value * people) if column.kind == "percent" else int(value)
    return 0 < some < threshold or 0 < people - some < threshold


def _months(rows: list[dict]) -> list[dict]:
    return [{**row, "month": q.month_label(row["month"])} for row in rows]


MONTH = Column("month", "Month")


def _chart(ctx: Context, rows: list[dict], **kwargs) -> Chart:
    chart = Chart(rows=[], drawings=ctx.build, **kwargs)
    chart.rows = suppress(rows, chart.columns, ctx.threshold)
    return chart


# --- the dashboards --------------------------------------------------------------------------


def applications(con, filters: Filters, ctx: Context) -> list[Chart]:
    decided = Column("people", "Applications decided", "count")
    automatic = Column("automatic", "Decided automatically", "count", part=True)
    share = Column("share", "Share decided automatically", "percent", part=True)
    return [
        _chart(
            ctx,
            _months(q.applications_by_month(con, filters)),
            slug="applications-by-month",
            title="Permit applications decided automatically, by month",
            sentence=(
                "Of the parking permit applications made each month and decided since, the "
                "share decided with no officer: checked against the council's records and "
                "issued at once."
            ),
            columns=[MONTH, decided, automatic, share],
            x="month",
            y="share",
            mark="line",
        ),
        _chart(
            ctx,
            q.applications_by_ward(con, filters),
            slug="applications-by-ward",
            title="Permit applications decided automatically, by ward",
            sentence=(
                "The same share for each ward of the applicant's address, over the whole period."
            ),
            columns=[Column("ward", "Ward"), decided, automatic, share],
            x="ward",
            y="share",
            mark="bar-horizontal",
        ),
        _chart(
            ctx,
            _months(q.time_to_decision(con, filters)),
            slug="time-to-decision",
            title="Time from application to decision",
            sentence=(
                "The median number of days from a permit application to its decision, for "
                "applications decided automatically and for those an officer decided."
            ),
            columns=[
                MONTH,
                Column("how", "Decided"),
                decided,
                Column("days", "Median days", "days"),
            ],
            x="month",
            y="days",
            series="how",
            mark="bar",
        ),
        _chart(
            ctx,
            q.verifications_by_service(con, filters),
            slug="verifications-by-service",
            title="Checks against the council's records, by service",
            sentence=(
                "Every check of an applicant against the resident index, by the service that "
                "asked, and the share answered with no officer."
            ),
            columns=[
                Column("service", "Service"),
                Column("people", "Checks", "count"),
                Column("automatic", "Answered automatically", "count", part=True),
                Column("share", "Share answered automatically", "percent", part=True),
            ],
            x="service",
            y="share",
            mark="bar-horizontal",
            notes=[NO_WARD],
        ),
    ]


def savings(con, filters: Filters, ctx: Context) -> list[Chart]:
    rows = []
    for row in q.automatic_checks_by_month(con, filters):
        minutes = row["people"] * ctx.minutes_per_manual_check
        rows.append(
            {
                "month": q.month_label(row["month"]),
                "people": row["people"],
                "hours": minutes / 60,
                "saved_pence": round(minutes * ctx.officer_hour_pence / 60),
            }
        )
    checks = Column("people", "Checks answered automatically", "count")
    hours = Column("hours", "Officer hours saved", "hours")
    money = Column("saved_pence", "Officer time saved", "pence")
    how = (
        f"Each check answered automatically counts as {ctx.minutes_per_manual_check} minutes "
        f"of an officer's time at £{ctx.officer_hour_pence / 100:,.2f} an hour (the council "
        "profile's figures)."
    )
    return [
        _chart(
            ctx,
            rows,
            slug="hours-saved",
            title="Officer hours saved, by month",
            sentence="The hours officers did not spend checking applicants by hand. " + how,
            columns=[MONTH, checks, hours, money],
            x="month",
            y="hours",
            notes=[NO_WARD],
        ),
        _chart(
            ctx,
            rows,
            slug="money-saved",
            title="Money saved against checking by hand, by month",
            sentence="What those hours would have cost. " + how,
            columns=[MONTH, checks, hours, money],
            x="month",
            y="saved_pence",
            notes=[NO_WARD],
        ),
    ]


def parking(con, filters: Filters, ctx: Context) -> list[Chart]:
    permits = Column("people", "Permits issued", "count")
    return [
        _chart(
            ctx,
            q.permits_by_zone(con, filters),
            slug="permits-by-zone",
            title="Permits issued, by zone",
            sentence="Parking permits issued in the period, by controlled parking zone.",
            columns=[Column("zone", "Zone"), permits],
            x="zone",
            y="people",
            mark="bar-horizontal",
        ),
        _chart(
            ctx,
            q.permits_by_band(con, filters),
            slug="permits-by-band",
            title="Permits issued, by emission band",
            sentence=(
                "Parking permits issued in the period, by the vehicle's CO2 emission band (A is "
                "the cleanest); permits with no vehicle have no band."
            ),
            columns=[Column("band", "Emission band"), permits],
            x="band",
            y="people",
        ),
        _chart(
            ctx,
            _months(q.permit_money_by_month(con, filters)),
            slug="permit-revenue",
            title="Permit revenue and refunds, by month",
            sentence=(
                "What residents paid for the permits issued each month, what has been refunded "
                "on those permits since, and what the council kept."
            ),
            columns=[
                MONTH,
                permits,
                Column("paid_pence", "Paid", "pence"),
                Column("refunded_pence", "Refunded", "pence"),
                Column("net_pence", "Kept", "pence"),
            ],
            x="month",
            y="net_pence",
        ),
        _chart(
            ctx,
            _months(q.enforcement_checks_by_month(con, filters)),
            slug="enforcement-checks",
            title="Enforcement checks, by month",
            sentence=(
                "Checks of a parked vehicle by civil enforcement officers and their devices, and "
                "the share of vehicles that were allowed to park."
            ),
            columns=[
                MONTH,
                Column("people", "Checks", "count"),
                Column("allowed", "Allowed to park", "count", part=True),
                Column("share", "Share allowed", "percent", part=True),
            ],
            x="month",
            y="people",
            notes=[NO_WARD],
        ),
    ]


def rent(con, filters: Filters, ctx: Context) -> list[Chart]:
    # Carrying balances month to month is done by the build (``agg_arrears``), by ward and
    # month; its few hundred rows are kept a build and added up for each choice of filters.
    arrears_cube = ctx.per_build("arrears", q.arrears_cube, con)
    collected = [
        {**row, "method": q.METHOD_GROUPS.get(row["method"], row["method"])}
        for row in _months(q.rent_collected_by_method(con, filters))
    ]
    return [
        _chart(
            ctx,
            collected,
            slug="rent-collected",
            title="Rent collected, by payment method",
            sentence=(
                "Money paid into rent accounts each month by how tenants paid: Direct Debit, "
                "standing order or any other way (card, bank transfer, benefit). Payments the "
                "bank reversed are taken off as a row of their own."
            ),
            columns=[
                MONTH,
                Column("method", "Payment method"),
                Column("people", "Accounts that paid", "count"),
                Column("collected_pence", "Collected", "pence"),
            ],
            x="month",
            y="collected_pence",
            series="method",
        ),
        _chart(
            ctx,
            _months(q.direct_debits_on_time(con, filters)),
            slug="direct-debits-on-time",
            title="Direct Debits paid on time, by month",
            sentence=(
                "Direct Debit collections due each month and the share the tenant's bank paid "
                "on the day rather than returning unpaid."
            ),
            columns=[
                MONTH,
                Column("people", "Accounts", "count"),
                Column("collections", "Collections", "count"),
                Column("share", "Paid on time", "percent"),
            ],
            x="month",
            y="share",
            mark="line",
        ),
        _chart(
            ctx,
            _months(q.arrears_by_month_end(arrears_cube, filters)),
            slug="arrears-trend",
            title="Rent arrears at each month's end",
            sentence=(
                "What tenants owed at the end of each month: the sum of every rent account "
                "balance above zero on that day, from the ledger."
            ),
            columns=[
                MONTH,
                Column("people", "Accounts in arrears", "count"),
                Column("arrears_pence", "Arrears", "pence"),
            ],
            x="month",
            y="arrears_pence",
            mark="line",
        ),
        _chart(
            ctx,
            q.arrears_by_ward(con, filters),
            slug="arrears-by-ward",
            title="Rent arrears, by ward",
            sentence="Open rent accounts in arrears and what they owe, by the property's ward.",
            columns=[
                Column("ward", "Ward"),
                Column("people", "Accounts in arrears", "count"),
                Column("arrears_pence", "Arrears", "pence"),
            ],
            x="ward",
            y="arrears_pence",
            mark="bar-horizontal",
            notes=[AS_BUILT],
        ),
        _chart(
            ctx,
            q.suspense_by_age(con, ctx.today),
            slug="suspense-age",
            title="Payments in suspense, by age",
            sentence=(
                "Payments into the rent account that matching could not place and no officer "
                "has resolved yet, by how long they have waited."
            ),
            columns=[
                Column("age", "Waiting"),
                Column("people", "Payments", "count"),
                Column("amount_pence", "Amount", "pence"),
            ],
            x="age",
            y="people",
            notes=[NO_WARD, AS_BUILT],
        ),
        _chart(
            ctx,
            _months(q.suspense_by_month(con, filters)),
            slug="suspense-volume",
            title="Payments into suspense, by month",
            sentence=(
                "Payments that went to suspense each month, their amount, and how many are "
                "still there."
            ),
            columns=[
                MONTH,
                Column("people", "Payments", "count"),
                Column("amount_pence", "Amount", "pence"),
                Column("still_open", "Still in suspense", "count", part=True),
            ],
            x="month",
            y="people",
            notes=[NO_WARD],
        ),
        _chart(
            ctx,
            _months(q.statement_lines_matched(con, filters)),
            slug="statement-lines-matched",
            title="Bank statement lines matched automatically, by month",
            sentence=(
                "Money-in lines on the council's bank statements each month and the share "
                "posted to a rent account with no officer."
            ),
            columns=[
                MONTH,
                Column("people", "Lines", "count"),
                Column("automatic", "Matched automatically", "count", part=True),
                Column("share", "Share matched automatically", "percent", part=True),
            ],
            x="month",
            y="share",
            mark="line",
            notes=[NO_WARD],
        ),
    ]


RATINGS = {
    5: "Very satisfied",
    4: "Satisfied",
    3: "Neither satisfied or dissatisfied",
    2: "Dissatisfied",
    1: "Very dissatisfied",
}


def feedback(con, filters: Filters, ctx: Context) -> list[Chart]:
    ratings = [
        {"rating": RATINGS.get(row["satisfaction"], str(row["satisfaction"])), **row}
        for row in q.feedback_ratings(con, filters)
    ]
    comments = q.feedback_comment_count(con, filters)
    return [
        _chart(
            ctx,
            ratings,
            slug="feedback-ratings",
            title="How people rated the service",
            sentence="Answers to the feedback form's question about how people felt about the service.",
            columns=[Column("rating", "Rating"), Column("people", "Responses", "count")],
            x="rating",
            y="people",
            mark="bar-horizontal",
            notes=[NO_WARD],
        ),
        _chart(
            ctx,
            _months(q.feedback_by_month(con, filters)),
            slug="feedback-by-month",
            title="Share satisfied, by month",
            sentence=(
                "The share of responses each month that were satisfied or very satisfied, and "
                "the average rating from 1 (very dissatisfied) to 5 (very satisfied)."
            ),
            columns=[
                MONTH,
                Column("people", "Responses", "count"),
                Column("rating", "Average rating", "rating"),
                Column("share", "Satisfied or very satisfied", "percent", part=True),
            ],
            x="month",
            y="share",
            mark="line",
            notes=[NO_WARD],
        ),
        _chart(
            ctx,
            q.feedback_themes(con, filters),
            slug="feedback-themes",
            title="What comments were about",
            sentence=(
                f"How many of the period's {comments:,} comments mention each theme, found by "
                "the words they use (docs/insights.md lists them). A comment can touch several "
                "themes or none. The comments themselves are not shown, as people sometimes "
                "write their own details in them."
            ),
            columns=[
                Column("theme", "Theme"),
                Column("people", "Comments", "count"),
                Column("share", "Share of comments", "percent"),
            ],
            x="theme",
            y="people",
            mark="bar-horizontal",
            notes=[NO_WARD],
        ),
    ]


@dataclass(frozen=True)
class Dashboard:
    slug: str
    title: str
    description: str
    charts: Callable[..., list[Chart]]


DASHBOARDS = {
    d.slug: d
    for d in [
        Dashboard(
            "applications",
            "Applications and automatic checks",
            "The share of applications decided automatically and the time to a decision, by "
            "month, ward and service.",
            applications,
        ),
        Dashboard(
            "savings",
            "Officer time and money saved",
            "Officer hours and money saved by automatic checks, against checking by hand.",
            savings,
        ),
        Dashboard(
            "parking",
            "Parking permits and enforcement",
            "Permits by zone and emission band, permit revenue and refunds, and enforcement "
            "checks.",
            parking,
        ),
        Dashboard(
            "rent",
            "Rent collection",
            "Rent collected by payment method and on time, arrears by month and ward, "
            "suspense, and bank statement lines matched automatically.",
            rent,
        ),
        Dashboard(
            "feedback",
            "Feedback",
            "How people rated the service, and what their comments were about.",
            feedback,
        ),
    ]
}


class ResultCache:
    """The last ``size`` results, by key. A published warehouse never changes (a new build gets
    a new ID), so a dashboard's charts for one build, filters and day can be kept and served
    again: a CSV download reuses the page's queries, and a repeat view queries nothing."""

    def __init__(self, size: int = 128) -> None:
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key, make: Callable):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


RESULTS = ResultCache()
