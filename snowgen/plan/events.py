"""The events the sessions strategy reads: the source, and how its rows name sessions, users
and events (snowgen.build.sessions_events builds ``base_events_this_run`` from it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlglot import exp

from snowgen.plan.identifiers import IdentifierSource, Which
from snowgen.plan.references import qualified
from snowgen.spec.models import AppFilterSpec, SessionsStrategySpec, SourceSpec


@dataclass(frozen=True)
class EventSource:
    """The events table the strategy reads, and how its rows name sessions, users and events."""

    config: SessionsStrategySpec
    source: SourceSpec
    database: str | None  # the source's database, else the project's
    app_filter: AppFilterSpec | None  # the project's, when enabled
    #: where the session's and the user's identifier are read from (snowgen.plan.identifiers)
    identifiers: Mapping[Which, IdentifierSource] = field(default_factory=dict)

    def table(self) -> exp.Table:
        return qualified(self.source.table, self.source.schema_, self.database)

    def context_table(self, name: str) -> exp.Table:
        """Context tables (dialects that load contexts into tables) sit next to the events."""
        return qualified(name, self.source.schema_, self.database)

    def session_expr(self, table: str) -> exp.Expr:
        return _coalesce(self.config.session_id, table)

    def user_expr(self, table: str) -> exp.Expr:
        return _coalesce(self.config.user_id, table)


def events_this_run_columns(events: EventSource) -> tuple[str, ...]:
    session_col, user_col = first_column(events.config.session_id), first_column(events.config.user_id)
    extra = [f"original_{user_col}", f"original_{session_col}"]
    extra += [alias for context in events.config.contexts for alias in context.fields.values()]
    return (*events.source.columns, *extra)


def events_this_run_types(events: EventSource) -> dict[str, str]:
    """The logical type of each column of the events of the run (a context field's is its
    ``types`` entry, else string; an event's array field is read as text)."""
    declared = {name: column.type for name, column in events.source.columns.items()}
    for context in events.config.contexts:
        declared.update({alias: _field_column_type(context.field_type(f)) for f, alias in context.fields.items()})
    session_col, user_col = first_column(events.config.session_id), first_column(events.config.user_id)
    originals = {f"original_{user_col}": user_col, f"original_{session_col}": session_col}
    return {c: declared.get(originals.get(c, c), "string") for c in events_this_run_columns(events)}


def _field_column_type(logical: str) -> str:
    """The column type of a context field of ``logical`` type: an array is read as text."""
    return "string" if logical == "array" else logical


def first_column(value: str | list[str]) -> str:
    return value if isinstance(value, str) else value[0]


def _coalesce(columns: str | list[str], table: str) -> exp.Expr:
    names = [columns] if isinstance(columns, str) else list(columns)
    parts = [exp.column(n, table=table) for n in names]
    return parts[0] if len(parts) == 1 else exp.Coalesce(this=parts[0], expressions=parts[1:])
