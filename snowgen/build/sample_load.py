"""Loading source samples (``snowgen sample-data``): typed INSERT batches into source tables.

The rows of a sample go into each table of its source (one per instance) in ``INSERT ...
VALUES`` batches, built as seeds' are (snowgen.build.seed_load: the same batch sizes, the same
typed literals, printed by sqlglot for each warehouse), all of them in one transaction where
the warehouse has transactions, so a failed load adds no row.

A context sample (root_id, root_tstamp, fields) goes where the warehouse keeps the context
(Dialect.context_storage): to the context's own table beside the events table, or nested in
the context's column of the events rows it belongs to (root_id = the event id), as the
warehouse's value of that column (Dialect.context_value): the events sample carries it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from snowgen.build.seed_load import batches, insert_values
from snowgen.build.sessions_events import iglu_parts
from snowgen.build.sources import context_table_beside
from snowgen.dialects.base import ContextValue, Dialect
from snowgen.errors import SnowgenError
from snowgen.plan.data import SeedRow
from snowgen.plan.samples import SamplePlan

ROOT_COLUMNS = ("root_id", "root_tstamp")


@dataclass(frozen=True)
class TableRows:
    table: exp.Table
    columns: tuple[tuple[str, str], ...]  # (column, logical type)
    rows: tuple[SeedRow, ...]


def sample_tables(samples: list[SamplePlan], dialect: Dialect) -> list[TableRows]:
    """Each table the samples fill, with its rows, in the project's order."""
    nested = dialect.context_storage == "column"
    filled = []
    for sample in samples:
        if sample.context_schema is None:
            columns, rows = _with_nested_contexts(sample, samples, dialect) if nested else (sample.columns, sample.rows)
            filled += [TableRows(table, columns, rows) for table in sample.tables]
        elif not nested:
            table = context_table_beside(dialect, sample.context_schema, sample.tables[0])
            columns = tuple((_stored_name(name, dialect), kind) for name, kind in sample.columns)
            filled.append(TableRows(table, columns, sample.rows))
        else:
            _events_sample(sample, samples)  # it must exist to carry the context
    return filled


def sample_inserts(samples: list[SamplePlan], dialect: Dialect) -> list[exp.Expr]:
    """The INSERT statements of every sample, in one transaction where the warehouse has them."""
    inserts = [
        insert_values(filled.table, filled.columns, batch, dialect)
        for filled in sample_tables(samples, dialect)
        for batch in batches(filled.rows)
    ]
    return dialect.in_transaction(inserts)


def _with_nested_contexts(
    events: SamplePlan, samples: list[SamplePlan], dialect: Dialect
) -> tuple[tuple[tuple[str, str], ...], tuple[SeedRow, ...]]:
    """The events sample with one more column per context sample of its source: each row's
    entities (those whose root_id is the row's event id), or NULL."""
    columns, rows = events.columns, events.rows
    for context in [s for s in samples if s.context_schema and s.source == events.source]:
        key = _root_index(events, context)
        entities = _entities_by_root(context)
        types = dict(context.columns)
        column = dialect.context_column(*iglu_parts(context.context_schema))
        columns = (*columns, (column, "json"))
        rows = tuple(_with_value(row, _nested(entities.get(row.values[key]), types, dialect)) for row in rows)
    return columns, rows


def _stored_name(column: str, dialect: Dialect) -> str:
    """A context sample's column in the context's table: a field under the loader's name."""
    return column if column in ROOT_COLUMNS else dialect.context_field(column)


def _nested(entities: list[dict[str, ContextValue]] | None, types: dict[str, str], dialect: Dialect) -> exp.Expr | None:
    return dialect.context_value(entities, types) if entities else None


def _with_value(row: SeedRow, value: exp.Expr | None) -> SeedRow:
    return SeedRow(row.line, (*row.cols, 0), (*row.values, value))


def _entities_by_root(context: SamplePlan) -> dict[str, list[dict[str, ContextValue]]]:
    names = [name for name, _ in context.columns]
    fields = [i for i, name in enumerate(names) if name not in ROOT_COLUMNS]
    root = names.index("root_id") if "root_id" in names else None
    found: dict[str, list[dict[str, ContextValue]]] = {}
    for row in context.rows if root is not None else ():
        found.setdefault(row.values[root], []).append({names[i]: row.values[i] for i in fields})
    return found


def _events_sample(context: SamplePlan, samples: list[SamplePlan]) -> SamplePlan:
    for sample in samples:
        if sample.source == context.source and sample.context_schema is None:
            return sample
    raise SnowgenError.at(
        "SG216",
        f"{context.label} goes into the events rows of '{context.source}' on this warehouse; "
        f"give '{context.source}' a sample too (sources.{context.source}.sample)",
        context.location,
    )


def _root_index(events: SamplePlan, context: SamplePlan) -> int:
    names = [name for name, _ in events.columns]
    if context.root_column not in names:
        raise SnowgenError.at(
            "SG216",
            f"{context.label} is matched to the events by '{context.root_column}', "
            f"which the sample of '{events.source}' does not hold",
            events.location,
        )
    return names.index(context.root_column)
