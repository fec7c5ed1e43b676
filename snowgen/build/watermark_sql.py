"""The SQL of the watermark strategy, built for one dialect: the filtered source a watermark
model reads, the watermark it reads it from, the end-of-run update and the health view.

:mod:`snowgen.plan.watermark` decides which steps exist; these functions take what they
read (fresh table nodes, the models' :class:`WatermarkRead` rows) and return sqlglot trees.
"""

from __future__ import annotations

from sqlglot import exp

from snowgen.build.clock import at_most, not_after, now, rows_after
from snowgen.build.late_data import capped, watermark_cap
from snowgen.dialects.base import Dialect
from snowgen.dialects.shapes import Script
from snowgen.plan.watermark import MANIFEST_COLUMNS, WatermarkRead

# -- run time -----------------------------------------------------------------------------------


def bind_since(d: Dialect, script: Script, manifest: exp.Table, read: WatermarkRead, lookback_hours: int) -> exp.Expr:
    """The model's watermark minus the lookback (NULL before the first watermark), computed
    once per run the dialect's way: an inline subquery, or a script or session variable
    that the warehouse can prune the source's partitions with."""
    rows = (
        exp.Select(expressions=[exp.column("watermark")])
        .from_(manifest.copy(), copy=False)
        .where(_row_of(read, None), copy=False)
    )
    since: exp.Expr = exp.Max(this=exp.column("watermark"))
    if lookback_hours:
        since = d.add_interval(since, exp.Literal.number(-lookback_hours), "HOUR")
    values = {"since": ("timestamp", since)}
    return d.bind_values(script, "snowgen_watermark", values, rows.subquery("snowgen_watermark", copy=False))["since"]


def update_query(
    d: Dialect,
    reads: list[WatermarkRead],
    tables: dict[str, exp.Table],
    manifest: exp.Table,
    intervals: exp.Table | None = None,
    lookback_hours: int = 0,
) -> exp.Query:
    """One row per watermark that moves: greatest(old, max(timestamp) of the model's rows of
    this run), but never after now: a row read within the clock skew allowance (stamped up to
    ``clock_skew_minutes`` ahead) must not lift the watermark over rows stamped before it that
    arrive later; it is read again next run, and upserted again, which changes nothing. Never
    backwards; no row (the watermark stays) when the model read no row. With ``intervals``
    (late rows tracked), never past the end of the recorded intervals plus the lookback
    (snowgen.plan.late_data)."""
    new = []
    for read in reads:
        latest = at_most(exp.Max(this=exp.column(read.timestamp)), now(d, read.logical_type))
        if intervals is not None:
            latest = capped(latest, watermark_cap(d, read, intervals, lookback_hours))
        new.append(_literal_row(d, read, latest).from_(tables[read.model].copy(), copy=False))
    old, latest = exp.column("watermark", table="m"), exp.column("watermark", table="n")
    newer = exp.GT(this=old.copy(), expression=latest.copy())
    greatest = exp.Case(ifs=[exp.If(this=newer, true=old.copy())], default=latest.copy())
    keys = [exp.column(c, table="n") for c in ("model", "source", "instance")]
    return (
        exp.Select(expressions=[*keys, exp.alias_(greatest, "watermark")])
        .from_(_union(d, new).subquery("n", copy=False), copy=False)
        .join(exp.alias_(manifest.copy(), "m", table=True), on=_same_row("m", "n"), join_type="LEFT", copy=False)
        .where(exp.Not(this=exp.Is(this=latest.copy(), expression=exp.Null())), copy=False)
    )


def health_query(
    d: Dialect,
    reads: list[WatermarkRead],
    manifest: exp.Table,
    stale_after_hours: int,
    sources: dict[str, exp.Table],
    skew_minutes: int,
) -> exp.Query:
    """Every watermark the project keeps, stale when older than ``stale_after_hours`` (or
    never set), and how many rows of its source wait because they are stamped after now
    plus the clock skew allowance (``future_rows``). A view: ``now`` is the time of the
    query, so a scheduler's ``select * from ... where is_stale or future_rows > 0`` alerts
    even when runs have stopped altogether. ``sources``: model -> the table it reads."""
    expected = [
        _with_future_rows(d, _literal_row(d, read, None), read, sources[read.model], skew_minutes) for read in reads
    ]
    watermark = exp.column("watermark", table="m")
    threshold = d.add_interval(d.now_utc(), exp.Literal.number(-stale_after_hours), "HOUR")
    never = exp.Is(this=watermark.copy(), expression=exp.Null())
    stale = exp.or_(never, exp.LT(this=watermark.copy(), expression=threshold))
    return (
        exp.Select(
            expressions=[
                *(exp.column(c, table="e") for c in ("model", "source", "instance")),
                watermark.copy(),
                exp.alias_(exp.Paren(this=stale), "is_stale"),
                exp.column("future_rows", table="e"),
            ]
        )
        .from_(_union(d, expected, {**MANIFEST_COLUMNS, "future_rows": "bigint"}).subquery("e", copy=False), copy=False)
        .join(exp.alias_(manifest.copy(), "m", table=True), on=_same_row("m", "e"), join_type="LEFT", copy=False)
    )


# -- helpers --------------------------------------------------------------------------------------


def _literal_row(d: Dialect, read: WatermarkRead, watermark: exp.Expr | None) -> exp.Select:
    """SELECT 'model' AS model, 'source' AS source, 'instance' AS instance [, watermark]."""
    instance = exp.Literal.string(read.instance) if read.instance is not None else d.cast(exp.Null(), "string")
    values = [exp.Literal.string(read.model), exp.Literal.string(read.source), instance]
    columns = [exp.alias_(v, name) for v, name in zip(values, ("model", "source", "instance"), strict=True)]
    if watermark is not None:
        columns.append(exp.alias_(watermark, "watermark"))
    return exp.Select(expressions=columns)


def _with_future_rows(
    d: Dialect, row: exp.Select, read: WatermarkRead, source: exp.Table, skew_minutes: int
) -> exp.Select:
    """``row`` and the number of rows of ``source`` stamped after now plus the allowance."""
    count = rows_after(source, read.timestamp, not_after(d, skew_minutes, read.logical_type))
    return row.select(exp.alias_(d.cast(count, "bigint"), "future_rows"), copy=False)


def _union(d: Dialect, rows: list[exp.Select], columns: dict[str, str] = MANIFEST_COLUMNS) -> exp.Query:
    if not rows:  # nothing to list (a --select without watermark models): no rows
        empty = exp.Select(expressions=[exp.alias_(d.cast(exp.Null(), t), c) for c, t in columns.items()])
        return empty.where(exp.EQ(this=exp.Literal.number(1), expression=exp.Literal.number(0)), copy=False)
    query: exp.Query = rows[0]
    for row in rows[1:]:
        query = exp.Union(this=query, expression=row, distinct=False)
    return query


def _row_of(read: WatermarkRead, table: str | None) -> exp.Expr:
    """The manifest row of ``read``: its (model, source)."""
    return exp.and_(
        exp.EQ(this=exp.column("model", table=table), expression=exp.Literal.string(read.model)),
        exp.EQ(this=exp.column("source", table=table), expression=exp.Literal.string(read.source)),
    )


def _same_row(left: str, right: str) -> exp.Expr:
    keys = ("model", "source")
    return exp.and_(*(exp.EQ(this=exp.column(c, table=left), expression=exp.column(c, table=right)) for c in keys))
