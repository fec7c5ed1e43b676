"""Late rows under the watermark strategy: the intervals of source timestamps each run read,
with how many rows each held (``incremental.late_data``).

A watermark is a single maximum: a row that lands after the watermark moved, stamped below
it (minus the lookback), is never read by a regular run. So each run also records, per
watermark model, the intervals of timestamps it read and the number of source rows each held
then, in ``<prefix>watermarks_intervals(model, source, instance, interval_start, interval_end,
row_count, recorded_at)``. A recorded interval that holds more rows now than then has late
rows. ``late_data: reprocess`` makes the next run read exactly those intervals again (the
upserts make that harmless) and record their new counts; ``report`` leaves them to
``snowgen health``; ``off`` records nothing.

How a run records (snowgen.build.late_data builds it), for each watermark model, before it
reads its source:

1. ``read_until``: the latest timestamp the read will see, least(max(timestamp) of the rows
   it reads, now), counted *before* the read;
2. the interval ``[start, read_until - lookback_hours)``, where ``start`` is where the
   recorded intervals end (the run reads from the watermark minus the lookback, never later
   than that), or the horizon for a first run; its rows counted per UTC day (an interval
   starts at the first row of each day, so a late row is re-read with its day, not with the
   whole read); the first of them joins the last recorded interval when both start on one day
   (one interval per day and model, however often the project runs);
3. with ``reprocess``, the recorded intervals starting within ``late_data_horizon_hours``
   of the watermark that hold more rows now than recorded: the model reads them too, and
   their counts are recorded again.

The rows go to a scratch table per model (``<model>__snowgen_intervals``); the step
``<prefix>watermarks_intervals_update`` upserts them into the intervals table after every
model downstream ran, just before the watermarks move, and the watermark never moves past the
end of the recorded intervals plus the lookback. Why counted before the read and why that
cap: every row counted in an interval was there when the model read it, and the next run
reads from no later than where the recorded intervals end, so a row that lands later in a
recorded interval raises its count: it is found, never recorded as read. (A row landing
between the count and the read is read but not counted: it is read once more later, which
changes nothing.) A row deleted from the source lowers the count; the check compares counts,
so a deletion and a late row in one interval cancel out.
"""

from __future__ import annotations

from sqlglot import exp

from snowgen.errors import SnowgenError
from snowgen.spec.loader import LoadedProject
from snowgen.spec.models import WatermarkStrategySpec

#: the intervals table (manifest schema), one row per recorded interval
INTERVAL_COLUMNS = {
    "model": "string",
    "source": "string",
    "instance": "string",
    "interval_start": "timestamp",
    "interval_end": "timestamp",
    "row_count": "bigint",
    "recorded_at": "timestamp",
}
INTERVAL_KEY = ("model", "source", "interval_start")

#: a model's scratch table of the intervals its run records (and re-reads: ``reread``)
READ_COLUMNS = {"interval_start": "timestamp", "interval_end": "timestamp", "row_count": "bigint", "reread": "boolean"}
READ_SUFFIX = "__snowgen_intervals"

#: the placeholder standing for "the earliest interval this run reads again" (NULL: none),
#: bound like the watermark so that the warehouse can prune the source's partitions
LATE_SINCE = "snowgen_late_since"
LATE_ALIAS = "snowgen_late"


def tracks_intervals(config: WatermarkStrategySpec) -> bool:
    return config.late_data != "off"


def check_late_data(loaded: LoadedProject) -> None:
    """The horizon must reach further back than the lookback: a first run records the
    interval between the two, and a watermark never moves past the recorded intervals."""
    config: WatermarkStrategySpec = loaded.spec.incremental
    if tracks_intervals(config) and config.late_data_horizon_hours <= config.lookback_hours:
        raise SnowgenError.at(
            "SG102",
            f"late_data_horizon_hours ({config.late_data_horizon_hours}) must be larger than lookback_hours "
            f"({config.lookback_hours}): rows within the lookback are read again anyway, late rows are found "
            "between the two (or set late_data: off)",
            loaded.doc.location(("incremental", "late_data_horizon_hours")),
        )


def with_late_rows(
    fresh: exp.Subquery, table: exp.Table, alias: str, timestamp: str, since: exp.Expr, reads: exp.Table
) -> exp.Subquery:
    """The filtered source (``fresh``: the rows after the watermark) and the rows of the
    intervals this run reads again (``reads``: the model's scratch table of intervals, rows
    with ``reread``), those below the watermark only, so no row is read twice."""
    column = exp.column(timestamp, table=alias)
    on = exp.and_(
        exp.GTE(this=column.copy(), expression=exp.column("interval_start", table=LATE_ALIAS)),
        exp.LT(this=column.copy(), expression=exp.column("interval_end", table=LATE_ALIAS)),
    )
    below = exp.and_(
        exp.column("reread", table=LATE_ALIAS),
        exp.LT(this=column.copy(), expression=since),
        exp.GTE(this=column.copy(), expression=exp.Placeholder(this=LATE_SINCE)),
    )
    again = (
        exp.Select(expressions=[exp.Column(this=exp.Star(), table=exp.to_identifier(alias))])
        .from_(exp.alias_(table.copy(), alias, table=True), copy=False)
        .join(exp.alias_(reads, LATE_ALIAS, table=True), on=on, join_type="INNER", copy=False)
        .where(below, copy=False)
    )
    return exp.Union(this=fresh.this, expression=again, distinct=False).subquery(copy=False)
