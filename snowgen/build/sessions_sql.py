"""The SQL of the sessions strategy's run window and session state, built for one dialect
(Snowplow's base module): run limits, the sessions lifecycle, the sessions of
the run, the manifest update and the quarantine insert.

Functions take what they read: the events source (:class:`EventSource`), the checked vars,
and fresh nodes for the strategy's tables. :mod:`snowgen.plan.sessions` decides which
steps exist and when they run; :mod:`snowgen.build.sessions_events` builds the events
of the run.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from snowgen.build.clock import not_after, rows_after
from snowgen.build.filters import all_of, app_filter
from snowgen.build.identifiers import identifier, session_user, with_entities
from snowgen.build.sessions_events import late_filter
from snowgen.dialects.base import Dialect
from snowgen.plan.dependencies import with_rows
from snowgen.plan.events import EventSource
from snowgen.plan.sessions import LIFECYCLE_COLUMNS

# -- run limits ---------------------------------------------------------------------------------


def latest_read(d: Dialect, variables: dict[str, Any]) -> exp.Expr:
    """The latest time a run reads: now plus the clock_skew_minutes allowance. An event
    stamped later (a broken collector clock, or a device clock where the session timestamp
    comes from the device) waits until then; were it read, the manifest would move to its
    time and skip every real event before it."""
    return not_after(d, variables["clock_skew_minutes"])


def run_limits_query(
    d: Dialect,
    variables: dict[str, Any],
    manifest: exp.Table,
    tracked: tuple[str, ...],
    events: exp.Table,
    session_timestamp: str,
) -> exp.Query:
    """§1.3: one row (lower_limit, upper_limit) from the manifest rows of the run's models,
    the upper limit never after :func:`latest_read`; and how many events wait beyond it
    (``future_events``, for health checks: they are not read)."""
    start = d.timestamp_literal(variables["start_date"])
    backfill, lookback = variables["backfill_limit_days"], variables["lookback_window_hours"]
    min_ls, max_ls, matched = (
        exp.column(c, table="s") for c in ("min_last_success", "max_last_success", "models_matched")
    )
    days = lambda value, n: d.add_interval(value, exp.Literal.number(n), "DAY")  # noqa: E731
    no_data = exp.EQ(this=matched.copy(), expression=exp.Literal.number(0))
    new_model = exp.LT(this=matched.copy(), expression=exp.Literal.number(len(tracked)))
    out_of_sync = exp.NEQ(this=min_ls.copy(), expression=max_ls.copy())
    lower = exp.Case(
        ifs=[exp.If(this=no_data, true=start.copy()), exp.If(this=new_model, true=start.copy())],
        default=d.add_interval(min_ls.copy(), exp.Literal.number(-lookback), "HOUR"),
    )
    latest = latest_read(d, variables)

    def least(*values: exp.Expr) -> exp.Expr:  # of the values and the latest time a run reads
        return exp.Least(this=values[0], expressions=[*values[1:], latest.copy()])

    upper = exp.Case(
        ifs=[
            exp.If(this=no_data.copy(), true=least(days(start.copy(), backfill))),
            exp.If(this=new_model.copy(), true=least(max_ls.copy(), days(start.copy(), backfill))),
            exp.If(this=out_of_sync, true=least(max_ls.copy(), days(min_ls.copy(), backfill))),
        ],
        default=least(days(min_ls.copy(), backfill)),
    )
    status = _manifest_status(manifest, tracked)
    future = rows_after(events, session_timestamp, latest.copy())
    return exp.Select(
        expressions=[
            exp.alias_(d.cast(lower, "timestamp"), "lower_limit"),
            exp.alias_(d.cast(upper, "timestamp"), "upper_limit"),
            exp.alias_(d.cast(future, "bigint"), "future_events"),
        ]
    ).from_(status.subquery("s", copy=False), copy=False)


def _manifest_status(manifest: exp.Table, tracked: tuple[str, ...]) -> exp.Select:
    """The oldest and newest last_success of the run's models, and how many the manifest has."""
    status = exp.Select(
        expressions=[
            exp.alias_(exp.Min(this=exp.column("last_success")), "min_last_success"),
            exp.alias_(exp.Max(this=exp.column("last_success")), "max_last_success"),
            exp.alias_(exp.Count(this=exp.Star()), "models_matched"),
        ]
    ).from_(manifest, copy=False)
    models = [exp.Literal.string(m) for m in tracked] or [exp.Null()]
    return status.where(exp.In(this=exp.column("model"), expressions=models), copy=False)


# -- sessions lifecycle -----------------------------------------------------------------------


def lifecycle_query(
    d: Dialect,
    events: EventSource,
    variables: dict[str, Any],
    limits: exp.Table,
    lifecycle: exp.Table,
    quarantine: exp.Table,
) -> exp.Query:
    """§1.5: one row per session of the window's events, merged with the manifest's rows."""
    max_days = variables["max_session_days"]
    gate = _lifecycle_gate(d, lifecycle)
    new_events = _new_events(d, events, variables["days_late_allowed"], limits, gate)
    new_sessions = _new_sessions(quarantine)
    previous = _previous_sessions(d, lifecycle, limits, variables["session_lookback_days"])
    merged = _merged_lifecycle(d, max_days)
    final = _capped_lifecycle(d, max_days)
    for name, query in (
        ("new_events", new_events),
        ("new_sessions", new_sessions),
        ("previous_sessions", previous),
        ("session_lifecycle", merged),
    ):
        final = final.with_(name, as_=query, copy=False)
    return final


def _lifecycle_gate(d: Dialect, lifecycle: exp.Table) -> exp.Expr:
    """§1.4 for the lifecycle: skip when it already holds sessions at or past the window's end."""
    return exp.GT(
        this=exp.column("upper_limit", table="lim"),
        expression=exp.Select(
            expressions=[
                exp.Coalesce(
                    this=exp.Max(this=exp.column("start_tstamp")), expressions=[d.timestamp_literal("1970-01-01")]
                )
            ]
        )
        .from_(lifecycle.copy(), copy=False)
        .subquery(copy=False),
    )


def _new_events(
    d: Dialect, events: EventSource, days_late_allowed: int, limits: exp.Table, gate: exp.Expr
) -> exp.Select:
    """CTE new_events: each session of the window's events, with its first and last event."""
    ts = events.config.session_timestamp
    select = (
        exp.Select(
            expressions=[
                exp.alias_(identifier(d, events, "session", "e"), "session_identifier"),
                exp.alias_(session_user(d, events, "e"), "user_identifier"),
                exp.alias_(exp.Min(this=exp.column(ts, table="e")), "start_tstamp"),
                exp.alias_(exp.Max(this=exp.column(ts, table="e")), "end_tstamp"),
            ]
        )
        .from_(exp.alias_(events.table(), "e", table=True), copy=False)
        .join(exp.alias_(limits.copy(), "lim", table=True), join_type="CROSS", copy=False)
    )
    return (
        with_entities(select, d, events, "e", (limits, "lim"))
        .where(
            all_of(
                late_filter(d, "e", days_late_allowed),
                exp.Between(
                    this=exp.column(ts, table="e"),
                    low=exp.column("lower_limit", table="lim"),
                    high=exp.column("upper_limit", table="lim"),
                ),
                app_filter(events.app_filter, "e"),
                gate,
            ),
            copy=False,
        )
        .group_by(identifier(d, events, "session", "e"), copy=False)
    )


def _new_sessions(quarantine: exp.Table) -> exp.Select:
    """CTE new_sessions: the new_events rows with a session id that is not quarantined (§1.8)."""
    quarantined = (
        exp.Select(expressions=[exp.Literal.number(1)])
        .from_(exp.alias_(quarantine, "q", table=True), copy=False)
        .where(
            exp.EQ(
                this=exp.column("session_identifier", table="q"), expression=exp.column("session_identifier", table="n")
            ),
            copy=False,
        )
    )
    return (
        exp.Select(expressions=[exp.Star()])
        .from_(exp.alias_(exp.Table(this=exp.to_identifier("new_events")), "n", table=True), copy=False)
        .where(
            exp.and_(
                exp.Not(this=exp.Is(this=exp.column("session_identifier", table="n"), expression=exp.Null())),
                exp.Not(this=exp.Exists(this=quarantined)),
            ),
            copy=False,
        )
    )


def _previous_sessions(d: Dialect, lifecycle: exp.Table, limits: exp.Table, session_lookback_days: int) -> exp.Select:
    """CTE previous_sessions: the manifest's sessions that started within the lookback."""
    lookback = d.add_interval(exp.column("lower_limit", table="lim"), exp.Literal.number(-session_lookback_days), "DAY")
    return (
        exp.Select(expressions=[exp.column(c, table="p") for c in LIFECYCLE_COLUMNS])
        .from_(exp.alias_(lifecycle.copy(), "p", table=True), copy=False)
        .join(exp.alias_(limits.copy(), "lim", table=True), join_type="CROSS", copy=False)
        .where(exp.GTE(this=exp.column("start_tstamp", table="p"), expression=lookback), copy=False)
    )


def _merged_lifecycle(d: Dialect, max_days: int) -> exp.Select:
    """CTE session_lifecycle: each new session widened by its previous row, unless that row
    already reached max_session_days."""
    ns, ps = "ns", "ps"
    return (
        exp.Select(
            expressions=[
                exp.column("session_identifier", table=ns),
                exp.alias_(
                    exp.Coalesce(
                        this=exp.column("user_identifier", table=ps),
                        expressions=[exp.column("user_identifier", table=ns)],
                    ),
                    "user_identifier",
                ),
                exp.alias_(
                    _least_of_known(exp.column("start_tstamp", table=ns), exp.column("start_tstamp", table=ps)),
                    "start_tstamp",
                ),
                exp.alias_(
                    _greatest_of_known(exp.column("end_tstamp", table=ns), exp.column("end_tstamp", table=ps)),
                    "end_tstamp",
                ),
            ]
        )
        .from_(exp.alias_(exp.Table(this=exp.to_identifier("new_sessions")), ns, table=True), copy=False)
        .join(
            exp.alias_(exp.Table(this=exp.to_identifier("previous_sessions")), ps, table=True),
            on=exp.EQ(
                this=exp.column("session_identifier", table=ns), expression=exp.column("session_identifier", table=ps)
            ),
            join_type="LEFT",
            copy=False,
        )
        .where(
            exp.or_(
                exp.Is(this=exp.column("session_identifier", table=ps), expression=exp.Null()),
                exp.LT(
                    this=exp.column("end_tstamp", table=ps),
                    expression=d.add_interval(
                        exp.column("start_tstamp", table=ps), exp.Literal.number(max_days), "DAY"
                    ),
                ),
            ),
            copy=False,
        )
    )


def _capped_lifecycle(d: Dialect, max_days: int) -> exp.Select:
    """The final projection: session_lifecycle with each end capped at max_session_days."""
    capped_end = exp.Least(
        this=d.add_interval(exp.column("start_tstamp", table="l"), exp.Literal.number(max_days), "DAY"),
        expressions=[exp.column("end_tstamp", table="l")],
    )
    return exp.Select(
        expressions=[
            exp.column("session_identifier", table="l"),
            exp.column("user_identifier", table="l"),
            exp.column("start_tstamp", table="l"),
            exp.alias_(capped_end, "end_tstamp"),
        ]
    ).from_(exp.alias_(exp.Table(this=exp.to_identifier("session_lifecycle")), "l", table=True), copy=False)


# -- sessions this run ----------------------------------------------------------------------------


def sessions_this_run_query(d: Dialect, lifecycle: exp.Table, limits: exp.Table, max_session_days: int) -> exp.Query:
    """§1.6: sessions overlapping the window, end capped at upper_limit."""
    s, lim = "s", "lim"
    start, end = exp.column("start_tstamp", table=s), exp.column("end_tstamp", table=s)
    lower, upper = exp.column("lower_limit", table=lim), exp.column("upper_limit", table=lim)
    capped = exp.Case(
        ifs=[exp.If(this=exp.GT(this=end.copy(), expression=upper.copy()), true=upper.copy())], default=end.copy()
    )
    earliest = d.add_interval(lower.copy(), exp.Literal.number(-max_session_days), "DAY")
    return (
        exp.Select(
            expressions=[
                exp.column("session_identifier", table=s),
                exp.column("user_identifier", table=s),
                start.copy(),
                exp.alias_(capped, "end_tstamp"),
            ]
        )
        .from_(exp.alias_(lifecycle, s, table=True), copy=False)
        .join(exp.alias_(limits, lim, table=True), join_type="CROSS", copy=False)
        .where(
            exp.and_(
                exp.GTE(this=start.copy(), expression=earliest),
                exp.LTE(this=start.copy(), expression=upper.copy()),
                exp.Not(
                    this=exp.Paren(
                        this=exp.or_(
                            exp.GT(this=start.copy(), expression=upper.copy()),
                            exp.LT(this=end.copy(), expression=lower.copy()),
                        )
                    )
                ),
            ),
            copy=False,
        )
    )


# -- manifest update and quarantine -----------------------------------------------------------------


def manifest_update_query(
    d: Dialect,
    variables: dict[str, Any],
    session_timestamp: str,
    tables: dict[str, exp.Table],
    tracked: tuple[str, ...],
) -> exp.Query:
    """§1.9: last_success = greatest(old, max(session timestamp of the run)) for each
    model of the run.

    Upstream, a run that reaches no newer event leaves the manifest where it was, so every
    later run computes the same window again, forever (§1.9 caveats): after a gap in the
    data longer than backfill_limit_days, or from a start_date far before the first event.
    (The window is never empty after the first run: its lookback re-reads the last
    session.) Here, when a model's window reached past its last_success and found nothing
    newer, the model moves to the first source event after the window, if there is one:
    nothing lies in between, and the next window starts there (minus the lookback). A model
    whose window stopped at its last_success (it is ahead of the others) stays, and so does
    one with no later event, waiting for data. Events after :func:`latest_read` do not count:
    one event from a broken clock would otherwise move the manifest years ahead."""
    processed = exp.Select(expressions=[exp.Max(this=exp.column(session_timestamp))]).from_(
        tables["events"], copy=False
    )
    after_window = (
        exp.Select(expressions=[exp.Min(this=exp.column(session_timestamp, table="e"))])
        .from_(exp.alias_(tables["source"], "e", table=True), copy=False)
        .join(exp.alias_(tables["limits"], "lim", table=True), join_type="CROSS", copy=False)
        .where(
            exp.and_(
                exp.GT(
                    this=exp.column(session_timestamp, table="e"), expression=exp.column("upper_limit", table="lim")
                ),
                exp.LTE(this=exp.column(session_timestamp, table="e"), expression=latest_read(d, variables)),
            ),
            copy=False,
        )
    )
    upper = exp.Select(expressions=[exp.column("upper_limit")]).from_(tables["limits"], copy=False)
    run = exp.Select(
        expressions=[
            exp.alias_(processed.subquery(copy=False), "processed"),
            exp.alias_(after_window.subquery(copy=False), "after_window"),
            exp.alias_(upper.subquery(copy=False), "upper_limit"),
        ]
    )
    old, reached = exp.column("last_success", table="m"), exp.column("processed", table="n")
    after, upper_limit = exp.column("after_window", table="n"), exp.column("upper_limit", table="n")
    is_null = lambda value: exp.Is(this=value.copy(), expression=exp.Null())  # noqa: E731
    new = exp.Case(
        ifs=[
            # first run, or a new model: what it reached, else where the data starts
            exp.If(this=is_null(old), true=exp.Coalesce(this=reached.copy(), expressions=[after.copy()])),
            exp.If(this=exp.GT(this=reached.copy(), expression=old.copy()), true=reached.copy()),
            # the window went past last_success and found nothing newer: (old, upper] is
            # empty, so the next events are the first after the window
            exp.If(
                this=exp.GT(this=upper_limit.copy(), expression=old.copy()),
                true=exp.Coalesce(this=after.copy(), expressions=[reached.copy()]),
            ),
        ],
        default=reached.copy(),
    )
    greatest = exp.Case(
        ifs=[exp.If(this=exp.GT(this=old.copy(), expression=new.copy()), true=old.copy())], default=new.copy()
    )
    return (
        exp.Select(expressions=[exp.column("model", table="r"), exp.alias_(greatest, "last_success")])
        .from_(_tracked_model_rows(d, tracked).subquery("r", copy=False), copy=False)
        .join(run.subquery("n", copy=False), join_type="CROSS", copy=False)
        .join(
            exp.alias_(with_rows(tables["manifest"], tracked), "m", table=True),
            on=exp.EQ(this=exp.column("model", table="m"), expression=exp.column("model", table="r")),
            join_type="LEFT",
            copy=False,
        )
        .where(exp.Not(this=is_null(new)), copy=False)
    )


def _tracked_model_rows(d: Dialect, tracked: tuple[str, ...]) -> exp.Query:
    """One row (model) per model of the run, as a UNION ALL of literal rows."""
    models: exp.Query | None = None
    for name in tracked:
        item = exp.Select(expressions=[exp.alias_(exp.Literal.string(name), "model")])
        models = item if models is None else exp.Union(this=models, expression=item, distinct=False)
    if models is None:  # no tracked model: an empty list of models
        models = exp.Select(expressions=[exp.alias_(d.cast(exp.Null(), "string"), "model")]).where(
            exp.EQ(this=exp.Literal.number(1), expression=exp.Literal.number(0)), copy=False
        )
    return models


def quarantine_insert(d: Dialect, quarantine: exp.Table, sessions: exp.Table, max_session_days: int) -> exp.Insert:
    """§1.8: sessions that reached max_session_days join the quarantine (once)."""
    present = (
        exp.Select(expressions=[exp.Literal.number(1)])
        .from_(exp.alias_(quarantine.copy(), "q", table=True), copy=False)
        .where(
            exp.EQ(
                this=exp.column("session_identifier", table="q"), expression=exp.column("session_identifier", table="s")
            ),
            copy=False,
        )
    )
    cap = d.add_interval(exp.column("start_tstamp", table="s"), exp.Literal.number(max_session_days), "DAY")
    select = (
        exp.Select(expressions=[exp.column("session_identifier", table="s")])
        .from_(exp.alias_(sessions, "s", table=True), copy=False)
        .where(
            exp.and_(
                exp.EQ(this=exp.column("end_tstamp", table="s"), expression=cap), exp.Not(this=exp.Exists(this=present))
            ),
            copy=False,
        )
    )
    return exp.Insert(
        this=exp.Schema(this=quarantine, expressions=[exp.to_identifier("session_identifier")]), expression=select
    )


# -- helpers --------------------------------------------------------------------------------------


def _least_of_known(new: exp.Expr, old: exp.Expr) -> exp.Expr:
    """least(new, coalesce(old, new)): BigQuery's LEAST is NULL when any argument is."""
    return exp.Least(this=new, expressions=[exp.Coalesce(this=old, expressions=[new.copy()])])


def _greatest_of_known(new: exp.Expr, old: exp.Expr) -> exp.Expr:
    return exp.Greatest(this=new, expressions=[exp.Coalesce(this=old, expressions=[new.copy()])])
