"""Lineage of the tables an incremental strategy generates (snowgen.plan.lineage).

Their queries are built per dialect in the build stage, so the planner cannot trace them
like a body; what they select is fixed by the strategy's plan instead, and this module
states it from there. The sessions strategy's events of the run (``base_events_this_run``)
carry every column of the events source as it is, except the session and user id, which
are the identifiers the lifecycle settled on (``original_*`` keep the ids as sent), and
one column per field of each enabled context. The lifecycle reads the identifiers and the
session timestamp of the events; ``base_sessions_this_run`` copies the lifecycle's rows.
Run limits and manifests are bookkeeping computed from timestamps, not data columns:
they have no inputs here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from snowgen.plan.data import Plan
from snowgen.plan.events import first_column
from snowgen.plan.identifiers import EntityField, IdentifierSource
from snowgen.plan.sessions import SessionsPlan


@dataclass(frozen=True, order=True)
class ColumnRef:
    """A column one step up in the lineage: ``kind`` is model, source, seed, context (a
    field of an entity or self-describing event attached to the events) or table (a
    qualified table no model or source owns); ``relation`` names it."""

    kind: str
    relation: str
    column: str


Columns = dict[str, tuple[ColumnRef, ...]]


def generated_lineage(plan: Plan) -> dict[str, Columns]:
    """model -> output column -> its inputs, for every model the strategy generated."""
    lineage = {
        name: {c: () for c in model.output_columns or ()} for name, model in plan.models.items() if model.generated
    }
    strategy = plan.strategy
    if isinstance(strategy, SessionsPlan):
        lineage.update(_sessions_lineage(strategy))
    return lineage


def _sessions_lineage(strategy: SessionsPlan) -> dict[str, Columns]:
    events = strategy.events
    source = strategy.config.source
    names = strategy.names
    session = _identifier(strategy, events.identifiers["session"], source)
    user = _identifier(strategy, events.identifiers["user"], source)
    timestamp = (ColumnRef("source", source, strategy.config.session_timestamp),)
    lifecycle = {
        "session_identifier": session,
        "user_identifier": user,
        "start_tstamp": timestamp,
        "end_tstamp": timestamp,
    }
    settled = {c: (ColumnRef("model", names["lifecycle"], c),) for c in lifecycle}
    return {
        names["lifecycle"]: lifecycle,
        names["sessions"]: settled,
        names["events"]: _events_columns(strategy, source),
    }


def _events_columns(strategy: SessionsPlan, source: str) -> Columns:
    events = strategy.events
    session_col, user_col = first_column(strategy.config.session_id), first_column(strategy.config.user_id)
    sessions = strategy.names["sessions"]
    columns: Columns = {column: (ColumnRef("source", source, column),) for column in events.source.columns}
    columns[session_col] = (ColumnRef("model", sessions, "session_identifier"),)
    columns[user_col] = (ColumnRef("model", sessions, "user_identifier"),)
    columns[f"original_{user_col}"] = (ColumnRef("source", source, user_col),)
    columns[f"original_{session_col}"] = (ColumnRef("source", source, session_col),)
    for context in strategy.config.contexts:
        for field_name, alias in context.fields.items():
            columns[alias] = (ColumnRef("context", context.name, field_name),)
    return columns


def _identifier(strategy: SessionsPlan, identifier: IdentifierSource, source: str) -> tuple[ColumnRef, ...]:
    """The columns an identifier is read from: its SQL's columns, or its parts coalesced."""
    if identifier.sql is not None:
        names = sorted({column.name for column in identifier.sql.find_all(exp.Column)})
        return tuple(ColumnRef("source", source, name) for name in names)
    refs = []
    for part in identifier.parts:
        if isinstance(part, EntityField):
            refs.append(ColumnRef("context", _entity_name(strategy, part), part.field))
        else:
            refs.append(ColumnRef("source", source, part))
    return tuple(refs)


def _entity_name(strategy: SessionsPlan, part: EntityField) -> str:
    """The context's name where the strategy declares the entity, else its Iglu URI or
    loader name."""
    entity = part.entity
    if entity.iglu is not None:
        vendor, name, version = entity.iglu
        uri = f"iglu:{vendor}/{name}/jsonschema/{version}"
        for context in strategy.config.contexts:
            if context.schema_ == uri:
                return context.name
        return uri
    return entity.loader_name or ""
