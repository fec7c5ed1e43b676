"""The events the sessions strategy reads: the source, which of its rows count, and
``base_events_this_run`` with its contexts, as Snowplow's packages build it.

:mod:`snowgen.build.sessions_sql` builds the run window and the session state from the
same :class:`EventSource`.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from snowgen.build.filters import all_of, app_filter
from snowgen.build.identifiers import identifier, with_entities
from snowgen.build.row_order import whole_row_order
from snowgen.dialects.base import Dialect
from snowgen.plan.events import EventSource, events_this_run_columns, events_this_run_types, first_column
from snowgen.spec.models import SessionContextSpec


def late_filter(d: Dialect, table: str, days_late_allowed: int) -> exp.Expr:
    """§1.5: drop events the device sent more than days_late_allowed after creating them."""
    sent, created = exp.column("dvce_sent_tstamp", table=table), exp.column("dvce_created_tstamp", table=table)
    limit = d.add_interval(created, exp.Literal.number(days_late_allowed), "DAY")
    return exp.LTE(this=sent, expression=limit)


# -- events this run ------------------------------------------------------------------------------


def events_this_run_query(d: Dialect, events: EventSource, variables: dict[str, Any], sessions: exp.Table) -> exp.Query:
    """§1.7: every event of the run's sessions, one row per event id."""
    select = _events_of_run_sessions(d, events, sessions)
    for index, context in enumerate(events.config.contexts):
        select = _attach_context(select, d, events, context, index)
    select = select.where(_event_in_window(d, events, variables), copy=False)
    session_limits = exp.Select(
        expressions=[
            exp.alias_(exp.Min(this=exp.column("start_tstamp")), "lower_limit"),
            exp.alias_(exp.Max(this=exp.column("end_tstamp")), "upper_limit"),
        ]
    ).from_(sessions.copy(), copy=False)
    columns = list(events_this_run_columns(events))
    order = [exp.Ordered(this=exp.column(c, table="snowgen_src")) for c in _dedupe_order(events)]
    order = whole_row_order(d, order, events_this_run_types(events), "snowgen_src", (events.config.event_id,))
    deduped = d.keep_first_row(select, [exp.column(events.config.event_id, table="snowgen_src")], order, columns)
    return deduped.with_("session_limits", as_=session_limits, copy=False)


def _events_of_run_sessions(d: Dialect, events: EventSource, sessions: exp.Table) -> exp.Select:
    """The source's events joined to their session, with the session and user ids the
    lifecycle settled on (the ids as sent are kept as ``original_*``)."""
    session_col, user_col = first_column(events.config.session_id), first_column(events.config.user_id)
    projection: list[exp.Expr] = []
    for column in events.source.columns:
        if column == session_col:
            projection.append(exp.alias_(exp.column("session_identifier", table="b"), column))
        elif column == user_col:
            projection.append(exp.alias_(exp.column("user_identifier", table="b"), column))
        else:
            projection.append(exp.column(column, table="e"))
    projection += [
        exp.alias_(exp.column(user_col, table="e"), f"original_{user_col}"),
        exp.alias_(exp.column(session_col, table="e"), f"original_{session_col}"),
    ]
    select = exp.Select(expressions=projection).from_(exp.alias_(events.table(), "e", table=True), copy=False)
    session_limits = (exp.Table(this=exp.to_identifier("session_limits")), "cl")
    select = with_entities(select, d, events, "e", session_limits, read=("session",))  # the user is b's
    return select.join(
        exp.alias_(sessions, "b", table=True),
        on=exp.EQ(this=identifier(d, events, "session", "e"), expression=exp.column("session_identifier", table="b")),
        join_type="INNER",
        copy=False,
    ).join(
        exp.alias_(exp.Table(this=exp.to_identifier("session_limits")), "lim", table=True),
        join_type="CROSS",
        copy=False,
    )


def _event_in_window(d: Dialect, events: EventSource, variables: dict[str, Any]) -> exp.Expr:
    """An event of the run: within its session's max_session_days, not late, in the window."""
    event_ts = exp.column(events.config.session_timestamp, table="e")
    session_cap = d.add_interval(
        exp.column("start_tstamp", table="b"), exp.Literal.number(variables["max_session_days"]), "DAY"
    )
    return all_of(
        exp.LTE(this=event_ts.copy(), expression=session_cap),
        late_filter(d, "e", variables["days_late_allowed"]),
        exp.Between(
            this=event_ts.copy(),
            low=exp.column("lower_limit", table="lim"),
            high=exp.column("upper_limit", table="lim"),
        ),
        exp.GTE(this=event_ts.copy(), expression=exp.column("start_tstamp", table="b")),
        app_filter(events.app_filter, "e"),
    )


def _dedupe_order(events: EventSource) -> list[str]:
    """§7.1: the earliest session timestamp, then the earliest device time; the further
    keys, and then the rest of the row (snowgen.build.row_order), make the choice deterministic
    where Snowplow's is arbitrary."""
    wanted = [
        events.config.session_timestamp,
        "dvce_created_tstamp",
        "dvce_sent_tstamp",
        "derived_tstamp",
        "etl_tstamp",
        "event_fingerprint",
    ]
    present = set(events_this_run_columns(events))
    return [c for c in dict.fromkeys(wanted) if c in present]


def _attach_context(
    select: exp.Select, d: Dialect, events: EventSource, context: SessionContextSpec, index: int
) -> exp.Select:
    """Add a context's fields to the events: the first entity's, from the events' context
    column or joined from the context table (entities ordered by time, then by value)."""
    if context.kind == "event":
        return _attach_event(select, d, events, context, index)
    vendor, name, version = iglu_parts(context.schema_)
    fields = list(context.fields.items())
    if d.context_storage == "column":
        columns = [exp.column(c, table="e") for c in context_columns(d, context)]
        extra = [exp.alias_(_first_entity_field(d, columns, f, context.field_type(f)), a) for f, a in fields]
        select.set("expressions", [*select.expressions, *extra])
        return select
    alias = f"ctx{index}"
    stored = [(d.context_field(f), a) for f, a in fields]  # the table's columns
    numbered = _numbered_context_rows(events.context_table(d.context_table(vendor, name, version)), stored)
    select = _join_first_rows(select, events, numbered, alias)
    select.set("expressions", [*select.expressions, *(exp.column(a, table=alias) for _, a in fields)])
    return select


def _join_first_rows(select: exp.Select, events: EventSource, numbered: exp.Select, alias: str) -> exp.Select:
    """Left-join a context's (or an event's) own rows to the events: the first entity of each
    event, matched on the event id and the session timestamp (root_id, root_tstamp)."""
    on = [
        exp.EQ(this=exp.column("root_id", table=alias), expression=exp.column(events.config.event_id, table="e")),
        exp.EQ(
            this=exp.column("root_tstamp", table=alias),
            expression=exp.column(events.config.session_timestamp, table="e"),
        ),
        exp.EQ(this=exp.column("entity_index", table=alias), expression=exp.Literal.number(1)),
    ]
    return select.join(numbered.subquery(alias, copy=False), on=exp.and_(*on), join_type="LEFT", copy=False)


def context_columns(d: Dialect, context: SessionContextSpec) -> list[str]:
    """The nested columns of the events table that hold ``context``: the ones the spec lists,
    else the loaders' column for the schema's major version (:meth:`Dialect.context_column`,
    :meth:`Dialect.event_column` for a self-describing event)."""
    if context.columns:
        return list(context.columns)
    if context.kind == "event":
        return [d.event_column(*iglu_parts(context.schema_))]
    return [d.context_column(*iglu_parts(context.schema_))]


# -- self-describing events ------------------------------------------------------------------------


def _attach_event(
    select: exp.Select, d: Dialect, events: EventSource, context: SessionContextSpec, index: int
) -> exp.Select:
    """Add a self-describing event's fields to the events: from its record in the events'
    nested column (from the first listed column that has it), or joined from its own table
    as a context is (one row per event; a duplicate row of the loader is read once)."""
    fields = list(context.fields.items())
    if d.context_storage == "column":
        columns = [exp.column(c, table="e") for c in context_columns(d, context)]
        extra = [exp.alias_(_event_field(d, columns, f, context.field_type(f)), a) for f, a in fields]
        select.set("expressions", [*select.expressions, *extra])
        return select
    alias = f"ctx{index}"
    table = events.context_table(d.context_table(*iglu_parts(context.schema_)))
    numbered = _numbered_context_rows(table, [(d.context_field(f), a) for f, a in fields])
    select = _join_first_rows(select, events, numbered, alias)
    extra = [_table_field(d, exp.column(a, table=alias), context.field_type(f), a) for f, a in fields]
    select.set("expressions", [*select.expressions, *extra])
    return select


def _event_field(d: Dialect, columns: list[exp.Column], field: str, logical: str) -> exp.Expr:
    """``field`` of the event's record, from the first of ``columns`` that has it."""
    values = [d.event_field(column.copy(), field, logical) for column in columns]
    if len(values) == 1:
        return values[0]
    return exp.Coalesce(this=values[0], expressions=values[1:])


def _table_field(d: Dialect, value: exp.Column, logical: str, alias: str) -> exp.Expr:
    """A field of an event's own table: text as it is, an array (the text of its JSON) joined,
    another type cast to it."""
    if logical == "string":
        return value
    read = d.json_array_text(value) if logical == "array" else d.cast(value, logical)
    return exp.alias_(read, alias)


def _first_entity_field(d: Dialect, columns: list[exp.Column], field: str, logical: str) -> exp.Expr:
    """``field`` of the first entity, from the first of ``columns`` that has it: a loader
    writes each event's context into one of them (older events stay in a column of an older
    version), as Snowplow's packages coalesce the version columns on BigQuery."""
    values = [d.first_context_field(column.copy(), field, logical) for column in columns]
    if len(values) == 1:
        return values[0]
    return exp.Coalesce(this=values[0], expressions=values[1:])


def _numbered_context_rows(table: exp.Table, fields: list[tuple[str, str]]) -> exp.Select:
    """The context rows of the sessions' time span, each entity numbered within its event."""
    order = exp.Order(
        expressions=[
            exp.Ordered(this=exp.column("root_tstamp", table="c")),
            *(exp.Ordered(this=exp.column(f, table="c")) for f, _ in fields),
        ]
    )
    return (
        exp.Select(
            expressions=[
                exp.column("root_id", table="c"),
                exp.column("root_tstamp", table="c"),
                *(exp.alias_(exp.column(f, table="c"), a) for f, a in fields),
                exp.alias_(
                    exp.Window(this=exp.RowNumber(), partition_by=[exp.column("root_id", table="c")], order=order),
                    "entity_index",
                ),
            ]
        )
        .from_(exp.alias_(table, "c", table=True), copy=False)
        .join(
            exp.alias_(exp.Table(this=exp.to_identifier("session_limits")), "cl", table=True),
            join_type="CROSS",
            copy=False,
        )
        .where(
            exp.Between(
                this=exp.column("root_tstamp", table="c"),
                low=exp.column("lower_limit", table="cl"),
                high=exp.column("upper_limit", table="cl"),
            ),
            copy=False,
        )
    )


# -- helpers --------------------------------------------------------------------------------------


def iglu_parts(uri: str) -> tuple[str, str, str]:
    """(vendor, name, version) of an ``iglu:vendor/name/jsonschema/version`` URI."""
    vendor, name, _, version = uri[len("iglu:") :].split("/")
    return vendor, name, version
