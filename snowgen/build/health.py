"""The queries of ``snowgen health`` for one warehouse, from the dialect-neutral
:class:`~snowgen.plan.health.HealthPlan`. Each returns rows the runner reads by position
(snowgen.runner.health names the columns); every verdict (stale, lagging, late) is computed
in SQL, against the warehouse's clock."""

from __future__ import annotations

from sqlglot import exp

from snowgen.build.clock import not_after, now
from snowgen.build.late_data import hours, late_query
from snowgen.build.watermark_sql import health_query
from snowgen.dialects.base import Dialect
from snowgen.plan.health import HealthPlan, SessionsChecks, WatermarkChecks
from snowgen.plan.watermark import WatermarkRead

#: query name -> the columns of its rows, in order
COLUMNS = {
    "clock": ("checked_at",),
    "watermarks": ("model", "source", "instance", "watermark", "is_stale", "future_rows"),
    "late_rows": ("model", "source", "instance", "interval_start", "interval_end", "rows_recorded", "rows_now"),
    "events": ("latest_event", "future_events", "is_stale"),
    "models": ("model", "last_success", "most_advanced", "is_lagging"),
}


def health_queries(checks: HealthPlan, d: Dialect) -> dict[str, exp.Query]:
    """Query name (a key of :data:`COLUMNS`) -> its query, for the checks of the strategy."""
    queries: dict[str, exp.Query] = {"clock": exp.Select(expressions=[exp.alias_(d.now_utc(), "checked_at")])}
    if checks.watermarks is not None:
        queries.update(_watermark_queries(checks.watermarks, d))
    if checks.sessions is not None:
        queries.update(_sessions_queries(checks.sessions, d))
    return queries


# -- the watermark strategy ------------------------------------------------------------------------


def _watermark_queries(w: WatermarkChecks, d: Dialect) -> dict[str, exp.Query]:
    sources = {read.model: table for read, table in zip(w.reads, w.sources, strict=True)}
    queries = {
        "watermarks": health_query(d, list(w.reads), w.manifest, w.stale_after_hours, sources, w.clock_skew_minutes)
    }
    if w.intervals is not None and w.reads:
        late = [_late_rows_of(d, w, read, table) for read, table in zip(w.reads, w.sources, strict=True)]
        queries["late_rows"] = _union(late)
    return queries


def _late_rows_of(d: Dialect, w: WatermarkChecks, read: WatermarkRead, source: exp.Table) -> exp.Select:
    """The recorded intervals of one watermark model that hold late rows now, within the
    horizon before its watermark."""
    recorded = (
        exp.Select(expressions=[exp.column(c) for c in ("interval_start", "interval_end", "row_count")])
        .from_(w.intervals.copy(), copy=False)
        .where(_of(read), copy=False)
        .subquery(copy=False)
    )
    watermark = (
        exp.Select(expressions=[exp.Max(this=exp.column("watermark"))])
        .from_(w.manifest.copy(), copy=False)
        .where(_of(read), copy=False)
        .subquery(copy=False)
    )
    late = late_query(d, read, source, recorded, hours(d, watermark, -w.horizon_hours))
    columns = [
        *_labels(d, read),
        *(exp.column(c, table="l") for c in ("interval_start", "interval_end", "rows_recorded")),
        exp.alias_(exp.column("row_count", table="l"), "rows_now"),
    ]
    return exp.Select(expressions=columns).from_(late.subquery("l", copy=False), copy=False)


def _labels(d: Dialect, read: WatermarkRead) -> list[exp.Expr]:
    instance = exp.Literal.string(read.instance) if read.instance is not None else d.cast(exp.Null(), "string")
    values = (exp.Literal.string(read.model), exp.Literal.string(read.source), instance)
    return [exp.alias_(value, name) for value, name in zip(values, ("model", "source", "instance"), strict=True)]


def _of(read: WatermarkRead) -> exp.Expr:
    return exp.and_(
        exp.EQ(this=exp.column("model"), expression=exp.Literal.string(read.model)),
        exp.EQ(this=exp.column("source"), expression=exp.Literal.string(read.source)),
    )


def _union(rows: list[exp.Select]) -> exp.Query:
    query: exp.Query = rows[0]
    for row in rows[1:]:
        query = exp.Union(this=query, expression=row, distinct=False)
    return query


# -- the sessions strategy ------------------------------------------------------------------------


def _sessions_queries(s: SessionsChecks, d: Dialect) -> dict[str, exp.Query]:
    queries = {"events": _events_query(s, d)}
    if s.models:
        queries["models"] = _models_query(s, d)
    return queries


def _events_query(s: SessionsChecks, d: Dialect) -> exp.Select:
    """The latest event stamped within the last ``stale_after_hours`` (none: stale), and the
    events stamped after now plus the clock skew allowance (they wait). Only the newest
    events are scanned (partitions, where the table is partitioned by the timestamp)."""
    stamp = exp.column(s.timestamp, table="s")
    latest_read = not_after(d, s.clock_skew_minutes)
    readable = exp.Case(ifs=[exp.If(this=exp.LTE(this=stamp.copy(), expression=latest_read), true=stamp.copy())])
    waiting = exp.Case(
        ifs=[exp.If(this=exp.GT(this=stamp.copy(), expression=latest_read.copy()), true=exp.Literal.number(1))]
    )
    latest = exp.Max(this=readable)
    return (
        exp.Select(
            expressions=[
                exp.alias_(latest, "latest_event"),
                exp.alias_(d.cast(exp.Count(this=waiting), "bigint"), "future_events"),
                exp.alias_(exp.Is(this=latest.copy(), expression=exp.Null()), "is_stale"),
            ]
        )
        .from_(exp.alias_(s.events.copy(), "s", table=True), copy=False)
        .where(exp.GT(this=stamp.copy(), expression=hours(d, now(d), -s.stale_after_hours)), copy=False)
    )


def _models_query(s: SessionsChecks, d: Dialect) -> exp.Query:
    """Each tracked model's last_success, the most advanced of them, and whether it lags
    that by more than ``lag_after_hours`` (a model without a row lags)."""
    names = [exp.Literal.string(m) for m in s.models]
    expected = _union([exp.Select(expressions=[exp.alias_(name, "model")]) for name in names])
    most = (
        exp.Select(expressions=[exp.alias_(exp.Max(this=exp.column("last_success")), "most_advanced")])
        .from_(s.manifest.copy(), copy=False)
        .where(exp.In(this=exp.column("model"), expressions=[n.copy() for n in names]), copy=False)
    )
    last, top = exp.column("last_success", table="m"), exp.column("most_advanced", table="t")
    behind = exp.LT(this=last.copy(), expression=hours(d, top.copy(), -s.lag_after_hours))
    lagging = exp.or_(exp.Is(this=last.copy(), expression=exp.Null()), behind)
    return (
        exp.Select(
            expressions=[exp.column("model", table="e"), last, top, exp.alias_(exp.Paren(this=lagging), "is_lagging")]
        )
        .from_(expected.subquery("e", copy=False), copy=False)
        .join(
            exp.alias_(s.manifest.copy(), "m", table=True),
            on=exp.EQ(this=exp.column("model", table="m"), expression=exp.column("model", table="e")),
            join_type="LEFT",
            copy=False,
        )
        .join(most.subquery("t", copy=False), join_type="CROSS", copy=False)
    )
