"""The SQL of late-row tracking under the watermark strategy (snowgen.plan.late_data says
what and why): the intervals a watermark model's run records before it reads its source,
the recorded intervals that hold late rows now, the upsert of a run's intervals, and the
cap that keeps a watermark within them.

Every scan of the source is bounded by a value bound before the statement (the watermark
minus the lookback or the horizon), so a warehouse that prunes partitions by the timestamp
reads only the newest ones; no correlated subqueries (Sail has none) and no outer join
without an equality (BigQuery refuses them).
"""

from __future__ import annotations

from sqlglot import exp

from snowgen.build.clock import at_most, not_after, now
from snowgen.dialects.base import Dialect
from snowgen.plan.late_data import INTERVAL_COLUMNS, READ_COLUMNS
from snowgen.plan.watermark import WatermarkRead

# -- small expressions ----------------------------------------------------------------------------


def at_least(value: exp.Expr, floor: exp.Expr) -> exp.Expr:
    """``value``, but ``floor`` where that is later; a NULL floor leaves ``value``."""
    later = exp.GT(this=floor.copy(), expression=value.copy())
    return exp.Case(ifs=[exp.If(this=later, true=floor.copy())], default=value)


def hours(d: Dialect, value: exp.Expr, amount: int) -> exp.Expr:
    return d.add_interval(value, exp.Literal.number(amount), "HOUR") if amount else value


def _day(value: exp.Expr) -> exp.Expr:
    return exp.TimestampTrunc(this=value, unit=exp.var("DAY"))


def _time(d: Dialect, read: WatermarkRead, table: str) -> exp.Expr:
    """The source's timestamp as intervals compare it (a date column as a timestamp)."""
    column = exp.column(read.timestamp, table=table)
    return d.cast(column, "timestamp") if read.logical_type == "date" else column


def _of_model(read: WatermarkRead, table: str | None = None) -> exp.Expr:
    return exp.and_(
        exp.EQ(this=exp.column("model", table=table), expression=exp.Literal.string(read.model)),
        exp.EQ(this=exp.column("source", table=table), expression=exp.Literal.string(read.source)),
    )


def _select(*columns: exp.Expr) -> exp.Select:
    return exp.Select(expressions=list(columns))


def _col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table)


def _newer(d: Dialect, read: WatermarkRead, since: exp.Expr, skew_minutes: int) -> exp.Expr:
    """The rows a regular run reads (as the model's filter, snowgen.plan.watermark)."""
    column = exp.column(read.timestamp, table="s")
    newer = exp.or_(exp.GTE(this=column, expression=since.copy()), exp.Is(this=since.copy(), expression=exp.Null()))
    latest = exp.LTE(this=column.copy(), expression=not_after(d, skew_minutes, read.logical_type))
    return exp.and_(exp.Paren(this=newer), latest)


# -- what a run records, before it reads -----------------------------------------------------------


def read_intervals_query(
    d: Dialect,
    read: WatermarkRead,
    source: exp.Table,
    intervals: exp.Table,
    since: exp.Expr,
    *,
    lookback_hours: int,
    horizon_hours: int,
    skew_minutes: int,
    reprocess: bool,
) -> exp.Query:
    """The intervals this run of ``read.model`` records (and, with ``reprocess``, the late
    ones it reads again), counted before the model reads: one row each (interval_start,
    interval_end, row_count, reread). ``since``: the bound watermark minus the lookback."""
    source_rows = exp.alias_(source.copy(), "s", table=True)
    seen = (
        _select(exp.alias_(at_most(exp.Max(this=_time(d, read, "s")), now(d, read.logical_type)), "read_until"))
        .from_(source_rows.copy(), copy=False)
        .where(_newer(d, read, since, skew_minutes), copy=False)
    )
    recorded = (
        _select(*(_col(c) for c in ("interval_start", "interval_end", "row_count")))
        .from_(intervals.copy(), copy=False)
        .where(_of_model(read), copy=False)
    )
    until = _col("read_until")
    last = _select(exp.alias_(exp.Max(this=_col("interval_end")), "last_end")).from_("recorded")
    start = at_least(at_least(hours(d, until.copy(), -horizon_hours), _col("last_end", "l")), since)
    span = (
        _select(exp.alias_(start, "span_start"), exp.alias_(hours(d, until.copy(), -lookback_hours), "span_end"))
        .from_("seen", copy=False)
        .join(last.subquery("l", copy=False), join_type="CROSS", copy=False)
        .where(exp.Not(this=exp.Is(this=until.copy(), expression=exp.Null())), copy=False)
    )
    query = (
        _rows_of(d, reprocess)
        .with_("seen", as_=seen, copy=False)
        .with_("recorded", as_=recorded, copy=False)
        .with_("span", as_=span, copy=False)
        .with_("pieces", as_=_pieces(d, read, source_rows, since), copy=False)
        .with_("clipped", as_=_clipped(), copy=False)
        .with_("buckets", as_=_buckets(d), copy=False)
        .with_("fresh", as_=_fresh(), copy=False)
    )
    if reprocess:
        horizon = hours(d, since.copy(), lookback_hours - horizon_hours)
        query = query.with_("late", as_=late_query(d, read, source, "recorded", horizon), copy=False)
    return query.with_("now_recorded", as_=_now_recorded(reprocess), copy=False).with_(
        "merged", as_=_merged(), copy=False
    )


def _pieces(d: Dialect, read: WatermarkRead, source_rows: exp.Expr, since: exp.Expr) -> exp.Query:
    """The span's first instant (so an empty span still records an interval of 0 rows), and
    each UTC day of the span holding rows, with its rows."""
    first = (
        _select(exp.alias_(_col("span_start"), "piece_start"), exp.alias_(d.cast(exp.Literal.number(0), "bigint"), "row_count"))
        .from_("span", copy=False)
        .where(exp.LT(this=_col("span_start"), expression=_col("span_end")), copy=False)
    )  # fmt: skip
    value = _time(d, read, "s")
    in_span = exp.and_(
        exp.GTE(this=value.copy(), expression=_col("span_start", "sp")),
        exp.LT(this=value.copy(), expression=_col("span_end", "sp")),
        exp.Paren(this=exp.or_(
            exp.GTE(this=exp.column(read.timestamp, table="s"), expression=since.copy()),
            exp.Is(this=since.copy(), expression=exp.Null()),
        )),  # the same bound as the read: only the newest partitions
    )  # fmt: skip
    days = (
        _select(_day(value.copy()), exp.Count(this=exp.Star()))
        .from_(source_rows.copy(), copy=False)
        .join(exp.alias_(exp.to_table("span"), "sp", table=True), join_type="CROSS", copy=False)
        .where(in_span, copy=False)
        .group_by(_day(value.copy()), copy=False)
    )
    return exp.Union(this=first, expression=days, distinct=False)


def _clipped() -> exp.Select:
    """Each piece starts no earlier than the span (the first day's piece starts at the span)."""
    start = at_least(_col("piece_start", "p"), _col("span_start", "sp"))
    return (
        _select(exp.alias_(start, "interval_start"), _col("row_count", "p"))
        .from_(exp.alias_(exp.to_table("pieces"), "p", table=True), copy=False)
        .join(exp.alias_(exp.to_table("span"), "sp", table=True), join_type="CROSS", copy=False)
    )


def _buckets(d: Dialect) -> exp.Select:
    total = d.cast(exp.Sum(this=_col("row_count")), "bigint")
    return (
        _select(_col("interval_start"), exp.alias_(total, "row_count"))
        .from_("clipped", copy=False)
        .group_by(_col("interval_start"), copy=False)
    )


def _fresh() -> exp.Select:
    """Contiguous intervals: each bucket up to the next one, the last up to the span's end."""
    order = exp.Order(expressions=[exp.Ordered(this=_col("interval_start", "b"))])
    following = exp.Window(this=exp.Lead(this=_col("interval_start", "b")), order=order)
    end = exp.Coalesce(this=following, expressions=[_col("span_end", "sp")])
    return (
        _select(_col("interval_start", "b"), exp.alias_(end, "interval_end"), _col("row_count", "b"))
        .from_(exp.alias_(exp.to_table("buckets"), "b", table=True), copy=False)
        .join(exp.alias_(exp.to_table("span"), "sp", table=True), join_type="CROSS", copy=False)
    )


def _now_recorded(reprocess: bool) -> exp.Select:
    """The recorded intervals with the counts this run records for them: the count now for
    a late interval it reads again (``reread``), else the recorded count."""
    columns = [_col("interval_start", "r"), _col("interval_end", "r")]
    if not reprocess:
        return _select(*columns, _col("row_count", "r"), exp.alias_(exp.false(), "reread")).from_(
            exp.alias_(exp.to_table("recorded"), "r", table=True), copy=False
        )
    late = _col("interval_start", "l")
    count = exp.Coalesce(this=_col("row_count", "l"), expressions=[_col("row_count", "r")])
    reread = exp.Not(this=exp.Is(this=late.copy(), expression=exp.Null()))
    return (
        _select(*columns, exp.alias_(count, "row_count"), exp.alias_(reread, "reread"))
        .from_(exp.alias_(exp.to_table("recorded"), "r", table=True), copy=False)
        .join(
            exp.alias_(exp.to_table("late"), "l", table=True),
            on=exp.EQ(this=late, expression=_col("interval_start", "r")),
            join_type="LEFT",
            copy=False,
        )
    )


def _merged() -> exp.Select:
    """The fresh intervals, the first joined to the last recorded one when that ends where
    it starts, on the same UTC day (one interval per day and model, compact)."""
    joins = exp.and_(
        exp.Not(this=exp.Is(this=_col("interval_start", "r"), expression=exp.Null())),
        exp.EQ(this=_day(_col("interval_start", "r")), expression=_day(_col("interval_start", "f"))),
    )

    def when_joined(joined: exp.Expr, alone: exp.Expr) -> exp.Expr:
        return exp.Case(ifs=[exp.If(this=joins.copy(), true=joined)], default=alone)

    count = exp.Add(this=_col("row_count", "f"), expression=when_joined(_col("row_count", "r"), exp.Literal.number(0)))
    return (
        _select(
            exp.alias_(when_joined(_col("interval_start", "r"), _col("interval_start", "f")), "interval_start"),
            _col("interval_end", "f"),
            exp.alias_(count, "row_count"),
            exp.alias_(when_joined(_col("reread", "r"), exp.false()), "reread"),
        )
        .from_(exp.alias_(exp.to_table("fresh"), "f", table=True), copy=False)
        .join(
            exp.alias_(exp.to_table("now_recorded"), "r", table=True),
            on=exp.EQ(this=_col("interval_end", "r"), expression=_col("interval_start", "f")),
            join_type="LEFT",
            copy=False,
        )
    )


def _rows_of(d: Dialect, reprocess: bool) -> exp.Select:
    """The rows to record: the merged fresh intervals, and (reprocess) the late recorded
    intervals that none of them joined, each typed as the scratch table holds it."""
    rows: exp.Query = _select(exp.Star()).from_("merged")
    if reprocess:
        again = (
            _select(*(_col(c, "n") for c in READ_COLUMNS))
            .from_(exp.alias_(exp.to_table("now_recorded"), "n", table=True), copy=False)
            .join(
                exp.alias_(exp.to_table("merged"), "m", table=True),
                on=exp.EQ(this=_col("interval_start", "m"), expression=_col("interval_start", "n")),
                join_type="LEFT",
                copy=False,
            )
            .where(
                exp.and_(_col("reread", "n"), exp.Is(this=_col("interval_start", "m"), expression=exp.Null())),
                copy=False,
            )
        )
        rows = exp.Union(this=rows, expression=again, distinct=False)
    typed = [exp.alias_(d.cast(_col(c, "t"), logical), c) for c, logical in READ_COLUMNS.items()]
    return _select(*typed).from_(rows.subquery("t", copy=False), copy=False)


# -- late rows -----------------------------------------------------------------------------------


def late_query(
    d: Dialect, read: WatermarkRead, source: exp.Table, recorded: str | exp.Expr, horizon: exp.Expr
) -> exp.Select:
    """The recorded intervals of ``read`` starting at or after ``horizon`` that hold more rows
    now than recorded: (interval_start, interval_end, row_count: the rows now, rows_recorded).
    ``recorded``: a relation of the model's intervals (interval_start, interval_end, row_count)."""
    value = _time(d, read, "s")
    relation = exp.alias_(exp.to_table(recorded) if isinstance(recorded, str) else recorded, "r", table=True)
    on = exp.and_(
        exp.GTE(this=value.copy(), expression=_col("interval_start", "r")),
        exp.LT(this=value.copy(), expression=_col("interval_end", "r")),
    )
    within = exp.and_(
        exp.GTE(this=_col("interval_start", "r"), expression=horizon.copy()),
        exp.GTE(this=exp.column(read.timestamp, table="s"), expression=horizon.copy()),  # bounds the scan
    )
    keys = [_col(c, "r") for c in ("interval_start", "interval_end", "row_count")]
    counted = (
        _select(*keys[:2], exp.alias_(keys[2].copy(), "rows_recorded"), exp.alias_(exp.Count(this=exp.Star()), "rows_now"))
        .from_(relation, copy=False)
        .join(exp.alias_(source.copy(), "s", table=True), on=on, join_type="INNER", copy=False)
        .where(within, copy=False)
        .group_by(*keys, copy=False)
    )  # fmt: skip
    return (
        _select(
            _col("interval_start"), _col("interval_end"),
            exp.alias_(d.cast(_col("rows_now"), "bigint"), "row_count"), _col("rows_recorded"),
        )
        .from_(counted.subquery("c", copy=False), copy=False)
        .where(exp.GT(this=_col("rows_now"), expression=_col("rows_recorded")), copy=False)
    )  # fmt: skip


def late_since_value() -> tuple[str, exp.Expr]:
    """The earliest interval a run reads again (NULL: none), from the model's scratch table."""
    first = exp.Min(this=exp.Case(ifs=[exp.If(this=_col("reread"), true=_col("interval_start"))]))
    return "timestamp", first


# -- after the run ---------------------------------------------------------------------------------


def intervals_update_query(d: Dialect, reads: list[WatermarkRead], tables: dict[str, exp.Table]) -> exp.Query:
    """The intervals each tracked watermark model's run recorded (``tables``: model -> its
    scratch table), for the upsert into the intervals table on (model, source, interval_start)."""
    rows = []
    for read in reads:
        instance = exp.Literal.string(read.instance) if read.instance is not None else d.cast(exp.Null(), "string")
        names = [exp.Literal.string(read.model), exp.Literal.string(read.source), instance]
        labels = [exp.alias_(v, c) for v, c in zip(names, ("model", "source", "instance"), strict=True)]
        counted = [_col(c) for c in ("interval_start", "interval_end", "row_count")]
        rows.append(
            _select(*labels, *counted, exp.alias_(now(d), "recorded_at")).from_(tables[read.model].copy(), copy=False)
        )
    if not rows:
        empty = _select(*(exp.alias_(d.cast(exp.Null(), t), c) for c, t in INTERVAL_COLUMNS.items()))
        return empty.where(exp.EQ(this=exp.Literal.number(1), expression=exp.Literal.number(0)), copy=False)
    query: exp.Query = rows[0]
    for row in rows[1:]:
        query = exp.Union(this=query, expression=row, distinct=False)
    return query


def watermark_cap(d: Dialect, read: WatermarkRead, intervals: exp.Table, lookback_hours: int) -> exp.Expr:
    """How far the watermark of ``read`` may move: the end of its recorded intervals plus
    the lookback (NULL, no move, before any interval is recorded), so that the next run
    reads from no later than where the recorded intervals end."""
    last = _select(exp.Max(this=_col("interval_end"))).from_(intervals.copy(), copy=False).where(_of_model(read))
    return hours(d, last.subquery(copy=False), lookback_hours)


def capped(value: exp.Expr, cap: exp.Expr) -> exp.Expr:
    """``value``, at most ``cap``; NULL when ``cap`` is NULL."""
    unknown = exp.Is(this=cap.copy(), expression=exp.Null())
    over = exp.GT(this=value.copy(), expression=cap.copy())
    return exp.Case(ifs=[exp.If(this=unknown, true=exp.Null()), exp.If(this=over, true=cap.copy())], default=value)


# -- snowgen manifest ----------------------------------------------------------------------------


def forget_intervals(intervals: exp.Table, models: list[str]) -> exp.Delete:
    """``manifest remove``: the models' recorded intervals go with their watermarks (the
    next run reads everything again and records from the horizon on)."""
    names = [exp.Literal.string(m) for m in models]
    return exp.Delete(this=intervals.copy(), where=exp.Where(this=exp.In(this=_col("model"), expressions=names)))


def rewind_watermarks(manifest: exp.Table, intervals: exp.Table, models: list[str], when: exp.Expr) -> list[exp.Expr]:
    """``manifest rewind --to WHEN``: each model's watermark goes back to WHEN, or to the
    start of the recorded interval holding WHEN (never forward), and the intervals ending
    after WHEN are forgotten: the next runs read them again whole and record them anew, so
    neither a late row read again stays reported nor a part of an interval goes unrecorded."""
    statements: list[exp.Expr] = []
    for model in models:
        of_model = exp.EQ(this=_col("model"), expression=exp.Literal.string(model))
        after = exp.and_(of_model.copy(), exp.GT(this=_col("interval_end"), expression=when.copy()))
        holding = _select(exp.Min(this=_col("interval_start"))).from_(intervals.copy(), copy=False).where(after.copy())
        back = at_most(when.copy(), holding.subquery(copy=False))  # NULL (no such interval): WHEN
        earlier = exp.and_(of_model.copy(), exp.GT(this=_col("watermark"), expression=back.copy()))
        statements.append(
            exp.Update(
                this=manifest.copy(),
                expressions=[exp.EQ(this=_col("watermark"), expression=back)],
                where=exp.Where(this=earlier),
            )
        )
        statements.append(exp.Delete(this=intervals.copy(), where=exp.Where(this=after)))
    return statements
