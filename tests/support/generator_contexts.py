"""The contexts of generated events, where each warehouse's loader puts them.

Table-driven by the shipped snowplow_web project: each context of its ``incremental.contexts``
(its iglu schema, the fields it reads and their ``types``) is loaded from the entities the
generator attached to the events under the context's name (``Event.entities``: the web_page
context for every event of a page view, the enrichment contexts with
``GeneratorConfig(enrichments=True)``, ...). A context goes into its own table beside the
events table where the warehouse keeps it there (Postgres, Redshift, DuckDB: a column per
field, named as the loader names it, ``Dialect.context_field``), else into its nested column
of the events row (BigQuery, Snowflake, Databricks: ``Dialect.context_value``). An entity
without a value for a field loads NULL there; an event without the entity has no row, or a
NULL column.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from snowgen.build.sessions_events import iglu_parts
from snowgen.dialects import get_dialect
from snowgen.spec.loader import load_project

SHIPPED_PROJECT = Path(__file__).resolve().parents[2] / "model_specs" / "snowplow_web"
ROOT_COLUMNS = ("root_id", "root_tstamp")


@dataclass(frozen=True)
class Context:
    """A context of the shipped project: its name, iglu schema and fields (as the schema
    spells them) with their logical types, in the project's order."""

    name: str
    schema: str
    fields: tuple[tuple[str, str], ...]

    def table(self, dialect: str) -> str:
        return get_dialect(dialect).context_table(*iglu_parts(self.schema))

    def column(self, dialect: str) -> str:
        return get_dialect(dialect).context_column(*iglu_parts(self.schema))

    @property
    def types(self) -> dict[str, str]:
        return dict(self.fields)


@functools.cache
def contexts() -> tuple[Context, ...]:
    """Every context (entity) the shipped project declares, enabled or not; its self-describing
    events (``kind: event``) are support.generator_consent's."""
    spec = load_project(SHIPPED_PROJECT).spec.incremental
    return tuple(
        Context(c.name, c.schema_, tuple((f, c.field_type(f)) for f in c.fields))
        for c in spec.contexts
        if c.kind == "entity"
    )


def table_rows(events, context: Context, dialect: str) -> tuple[list[str], list[tuple]]:
    """(columns, rows) of ``context``'s own table: root_id, root_tstamp and a column per
    field, one row per event that has the entity."""
    d = get_dialect(dialect)
    columns = [*ROOT_COLUMNS, *(d.context_field(f) for f, _ in context.fields)]
    rows = [
        (event.event_id, event.collector_tstamp, *(entity.get(f) for f, _ in context.fields))
        for event in events
        if (entity := event.entities.get(context.name)) is not None
    ]
    return columns, rows


def table_dicts(events, context: Context, dialect: str) -> list[dict]:
    """The rows of :func:`table_rows` as column -> value (for support.data.insert_rows)."""
    columns, rows = table_rows(events, context, dialect)
    return [dict(zip(columns, row, strict=True)) for row in rows]


def nested_values(event, dialect: str, events_columns: list[str]) -> dict:
    """Each nested context column of ``event``'s row -> the warehouse's value of it (only the
    contexts the event has); a context whose column the events table lacks is an error, not
    a silent NULL."""
    d = get_dialect(dialect)
    values = {}
    for context in contexts():
        entity = event.entities.get(context.name)
        if entity is None:
            continue
        column = context.column(dialect)
        if column not in events_columns:
            raise AssertionError(f"atomic.events has no column {column} for the {context.name} context")
        values[column] = d.context_value([{f: entity.get(f) for f, _ in context.fields}], context.types)
    return values
