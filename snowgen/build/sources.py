"""DDL for a project's declared sources (and Snowplow context tables or columns).

Not part of a compiled plan: sources belong to the loaders. This creates empty source
tables for local development and for tests that execute a plan on a real engine.
"""

from __future__ import annotations

from sqlglot import exp

from snowgen.build import ddl
from snowgen.build.sessions_events import context_columns, iglu_parts
from snowgen.dialects.base import Dialect
from snowgen.dialects.shapes import Layout, TableShape
from snowgen.plan.references import source_tables
from snowgen.spec.models import ProjectSpec, SessionsStrategySpec


def source_ddl(spec: ProjectSpec, dialect: Dialect) -> list[exp.Expr]:
    """CREATE SCHEMA / CREATE TABLE IF NOT EXISTS for every source with declared columns."""
    statements: list[exp.Expr] = []
    contexts = _contexts(spec)
    for name, source in spec.sources.items():
        if not source.columns:
            continue
        columns = [(c, dialect.data_type(col.type)) for c, col in source.columns.items()]
        if dialect.context_storage == "column":
            columns += [column for context in contexts.get(name, []) for column in _context_columns(dialect, context)]
        tables = source_tables(spec, source)
        if dialect.context_storage == "table":
            tables_of_contexts = [_context_table(dialect, context, tables[0]) for context in contexts.get(name, [])]
        else:
            tables_of_contexts = []
        for table in tables:
            statements.append(ddl.create_schema(table.db, table.catalog or None))
            properties = dialect.table_properties(TableShape(table, Layout()), scratch=False)
            statements.append(ddl.create_table_columns(table, columns, properties))
        statements += [ddl.create_table_columns(table, typed, []) for table, typed in tables_of_contexts]
    return list({statement.sql(): statement for statement in statements}.values())


def _context_columns(dialect: Dialect, context) -> list[tuple[str, exp.DataType]]:
    typed = [(field, context.field_type(field)) for field in context.fields]
    kind = dialect.event_column_type(typed) if context.kind == "event" else dialect.context_column_type(typed)
    return [(column, kind.copy()) for column in context_columns(dialect, context)]


def _context_table(dialect: Dialect, context, events: exp.Table) -> tuple[exp.Table, list[tuple[str, exp.DataType]]]:
    """A shredded context table beside the events table: root_id, root_tstamp, fields."""
    table = context_table_beside(dialect, context.schema_, events)
    typed = [("root_id", dialect.data_type("string")), ("root_tstamp", dialect.data_type("timestamp"))]
    # named and typed as the loaders do; an event's array is the text of its JSON
    fields = [(dialect.context_field(f), _stored_type(dialect, context, f)) for f in context.fields]
    return table, typed + fields


def _stored_type(dialect: Dialect, context, field: str) -> exp.DataType:
    logical = context.field_type(field)
    return dialect.data_type("string" if logical == "array" else logical)


def context_table_beside(dialect: Dialect, schema_uri: str, events: exp.Table) -> exp.Table:
    """The table of the context ``schema_uri`` (an iglu URI), in the events table's schema."""
    vendor, name, version = iglu_parts(schema_uri)
    table = events.copy()
    table.set("this", exp.to_identifier(dialect.context_table(vendor, name, version)))
    return table


def _contexts(spec: ProjectSpec) -> dict[str, list]:
    """Snowplow contexts of the sessions strategy's events source (other strategies have none)."""
    incremental = spec.incremental
    return {incremental.source: list(incremental.contexts)} if isinstance(incremental, SessionsStrategySpec) else {}
