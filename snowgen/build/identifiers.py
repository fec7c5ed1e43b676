"""Each event's session and user identifier, read where :mod:`snowgen.plan.identifiers` says:
columns of the events table and entity fields coalesced in order, or a SQL expression.

An entity is read as Snowplow's packages read it: its first entity, each field under the name
its loader gives it (:meth:`Dialect.context_field`: ``sessionId`` is ``session_id`` in a table).
Where contexts are nested columns (BigQuery, Snowflake, Databricks) that is a field of the events
table's column; where
they are tables of their own (Redshift, Postgres, DuckDB) the entity's table is joined on the
event (``root_id``, ``root_tstamp``), one subquery per entity, its rows limited to the run's
window. An identifier that is not plain columns is cast to text, the type of the lifecycle
manifest and quarantine columns it is compared with.
"""

from __future__ import annotations

from sqlglot import exp

from snowgen.dialects.base import Dialect
from snowgen.plan.events import EventSource
from snowgen.plan.identifiers import EVENTS_ALIAS, Entity, EntityField, IdentifierSource, Which, aggregates

_ENTITY_ALIAS = "sg_identity"


def identifier(d: Dialect, events: EventSource, which: Which, table: str) -> exp.Expr:
    """The ``which`` identifier of an event of ``table`` (an alias of the events table)."""
    source = _source(events, which)
    if source.sql is not None:
        value = source.sql.copy()
        for column in value.find_all(exp.Column):
            if column.table == EVENTS_ALIAS:
                column.set("table", exp.to_identifier(table))
    else:
        aliases = _entity_aliases(events)
        parts = [_part(d, part, table, aliases) for part in source.parts]
        value = parts[0] if len(parts) == 1 else exp.Coalesce(this=parts[0], expressions=parts[1:])
    return value if source.plain else d.cast(value, "string")


def session_user(d: Dialect, events: EventSource, table: str) -> exp.Expr:
    """The user of a session's events: the max() of their user identifiers (§1.5), or the
    user SQL itself when it aggregates."""
    value = identifier(d, events, "user", table)
    sql = _source(events, "user").sql
    return value if sql is not None and aggregates(sql) else exp.Max(this=value)


def with_entities(
    select: exp.Select,
    d: Dialect,
    events: EventSource,
    table: str,
    limits: tuple[exp.Table, str],
    read: tuple[Which, ...] = ("session", "user"),
) -> exp.Select:
    """``select`` with the entity tables the ``read`` identifiers read joined to its events
    (``table``); ``limits``: the one-row relation (and its alias) of the window their rows are
    read in."""
    if d.context_storage == "column":
        return select
    needed = {entity for which in read for entity in _source(events, which).entities()}
    for entity, alias in _entity_aliases(events).items():
        if entity not in needed:
            continue
        on = exp.and_(
            exp.EQ(this=exp.column("root_id", table=alias), expression=exp.column(events.config.event_id, table=table)),
            exp.EQ(
                this=exp.column("root_tstamp", table=alias),
                expression=exp.column(events.config.session_timestamp, table=table),
            ),
            exp.EQ(this=exp.column("entity_index", table=alias), expression=exp.Literal.number(1)),
        )
        rows = _first_entities(events, d, entity, _fields(events, entity), *limits)
        select = select.join(rows.subquery(alias, copy=False), on=on, join_type="LEFT", copy=False)
    return select


# -- helpers --------------------------------------------------------------------------------------


def _source(events: EventSource, which: Which) -> IdentifierSource:
    source = events.identifiers.get(which)
    if source is None:  # a plan made without them: the strategy's columns
        columns = events.config.session_id if which == "session" else events.config.user_id
        return IdentifierSource(parts=tuple([columns] if isinstance(columns, str) else columns))
    return source


def _part(d: Dialect, part: str | EntityField, table: str, aliases: dict[Entity, str]) -> exp.Expr:
    if isinstance(part, str):
        return exp.column(part, table=table)
    if d.context_storage == "column":
        return d.first_context_field(exp.column(entity_column(d, part.entity), table=table), part.field, "string")
    return exp.column(d.context_field(part.field), table=aliases[part.entity])


def _entity_aliases(events: EventSource) -> dict[Entity, str]:
    """One join per entity the identifiers read, in the order they name them."""
    entities = [entity for which in ("session", "user") for entity in _source(events, which).entities()]
    return {entity: f"{_ENTITY_ALIAS}{index}" for index, entity in enumerate(dict.fromkeys(entities))}


def _fields(events: EventSource, entity: Entity) -> list[str]:
    parts = [part for which in ("session", "user") for part in _source(events, which).parts]
    return list(dict.fromkeys(p.field for p in parts if isinstance(p, EntityField) and p.entity == entity))


def _first_entities(
    events: EventSource, d: Dialect, entity: Entity, fields: list[str], limits: exp.Table, limits_alias: str
) -> exp.Select:
    """The entity's rows of the window, numbered within their event (first: the earliest)."""
    fields = [d.context_field(f) for f in fields]  # the table's columns
    order = [exp.Ordered(this=exp.column(c, table="c")) for c in ("root_tstamp", *fields)]
    number = exp.Window(
        this=exp.RowNumber(), partition_by=[exp.column("root_id", table="c")], order=exp.Order(expressions=order)
    )
    table = events.context_table(entity_table(d, entity))
    return (
        exp.Select(
            expressions=[
                exp.column("root_id", table="c"),
                exp.column("root_tstamp", table="c"),
                *(exp.column(f, table="c") for f in fields),
                exp.alias_(number, "entity_index"),
            ]
        )
        .from_(exp.alias_(table, "c", table=True), copy=False)
        .join(exp.alias_(limits.copy(), limits_alias, table=True), join_type="CROSS", copy=False)
        .where(
            exp.Between(
                this=exp.column("root_tstamp", table="c"),
                low=exp.column("lower_limit", table=limits_alias),
                high=exp.column("upper_limit", table=limits_alias),
            ),
            copy=False,
        )
    )


def entity_table(d: Dialect, entity: Entity) -> str:
    """The entity's own table (shredded loaders): named by the loaders' rule from its Iglu
    URI, or the name given (without the ``contexts_`` of a nested column's name)."""
    if entity.iglu is not None:
        return d.context_table(*entity.iglu)
    name = entity.loader_name or ""
    return name[len("contexts_") :] if name.startswith("contexts_") else name


def entity_column(d: Dialect, entity: Entity) -> str:
    """The events table's nested column of the entity, as the loaders name it."""
    if entity.iglu is not None:
        return d.context_column(*entity.iglu)
    name = entity.loader_name or ""
    return name if name.startswith("contexts_") else f"contexts_{name}"
