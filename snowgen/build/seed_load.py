"""Loading a seed into the warehouse: the same rows on every run, swapped in at once.

1. A stage table ``<scratch>.<seed>__snowgen_stage`` is dropped and created with the declared
   column types.
2. The rows go into it in ``INSERT ... VALUES`` batches of at most ``BATCH_ROWS`` rows and
   about ``BATCH_CHARS`` characters of values: far below the warehouses' statement limits
   (Snowflake: 16,384 rows in one VALUES clause,
   https://docs.snowflake.com/en/sql-reference/sql/insert#usage-notes; BigQuery: 1,024K
   characters of query text, https://cloud.google.com/bigquery/quotas#query_jobs).
3. One ``CREATE OR REPLACE TABLE ... AS SELECT`` from the stage swaps the seed in (DROP and
   CREATE AS inside one transaction where the warehouse has no CREATE OR REPLACE TABLE):
   a reader sees the old rows or the new ones, never part of them. A run that fails before
   this leaves the old seed as it was, and running the step again starts from step 1.
4. The stage is dropped.

Every value is a literal of its type (typed by a cast where a bare literal would be read as
another type), printed by sqlglot, which escapes it for each warehouse.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from sqlglot import exp

from snowgen.build import ddl
from snowgen.build.materialize import STAGE_SUFFIX
from snowgen.dialects.base import Dialect
from snowgen.dialects.shapes import Layout, Script, TableShape
from snowgen.errors import SnowgenError
from snowgen.plan import seed_values
from snowgen.plan.data import Plan, SeedPlan, SeedRow, Step
from snowgen.plan.references import qualified
from snowgen.plan.sqlbody import literal as neutral_literal

BATCH_ROWS = 500
BATCH_CHARS = 200_000


def build_seed(plan: Plan, step: Step, dialect: Dialect) -> Script:
    seed = plan.seeds[step.id]
    check_string_bytes(seed, dialect)
    stage = qualified(seed.name + STAGE_SUFFIX, plan.schemas["scratch"], plan.database)
    typed = [(name, dialect.data_type(logical)) for name, logical in seed.columns]
    stage_props = dialect.table_properties(TableShape(stage, Layout()), scratch=True)
    statements: list[exp.Expr] = [dialect.drop_table(stage), ddl.create_table_columns(stage, typed, stage_props)]
    statements += [insert_values(stage, seed.columns, batch, dialect) for batch in batches(seed.rows)]
    statements += _swap_in(seed, stage, dialect)
    statements.append(dialect.drop_table(stage))
    return Script(statements=statements)


def batches(rows: tuple[SeedRow, ...]) -> Iterator[list[SeedRow]]:
    """Consecutive runs of rows, each at most BATCH_ROWS rows and about BATCH_CHARS characters."""
    batch: list[SeedRow] = []
    size = 0
    for row in rows:
        length = sum(len(str(v)) + 4 for v in row.values)
        if batch and (len(batch) == BATCH_ROWS or size + length > BATCH_CHARS):
            yield batch
            batch, size = [], 0
        batch.append(row)
        size += length
    if batch:
        yield batch


def insert_values(
    table: exp.Table, columns: tuple[tuple[str, str], ...], rows: list[SeedRow], dialect: Dialect
) -> exp.Insert:
    """``INSERT INTO table (columns) VALUES ...``: one typed literal per value (``columns``:
    (name, logical type) in the order of each row's values)."""
    logical = [t for _, t in columns]
    tuples = [
        exp.Tuple(expressions=[literal(v, t, dialect) for v, t in zip(row.values, logical, strict=True)])
        for row in rows
    ]
    target = exp.Schema(this=table.copy(), expressions=[exp.to_identifier(name) for name, _ in columns])
    return dialect.insert_rows(target, tuples)


def _swap_in(seed: SeedPlan, stage: exp.Table, dialect: Dialect) -> list[exp.Expr]:
    rows = exp.Select(expressions=[exp.column(name) for name, _ in seed.columns]).from_(stage.copy(), copy=False)
    props = dialect.table_properties(TableShape(seed.table, Layout()), scratch=seed.schema_key == "scratch")
    statements = ddl.replace_table(seed.table, rows, props, dialect)
    return statements if dialect.create_or_replace_table else dialect.in_transaction(statements)


def literal(value: Any, logical: str, dialect: Dialect) -> exp.Expr:
    """A SQL literal of ``value`` (a value of seed_values.convert) for a column of ``logical``:
    the dialect's own spelling where a neutral literal would load wrong (sqlbody.literal)."""
    if value.__class__ is str:  # most seed values: what neutral_literal makes of a str
        return exp.Literal.string(value)
    if isinstance(value, exp.Expr):  # already a value of its column (a sample's nested context)
        return value
    if isinstance(value, Decimal):
        # A bare 1.5 is a FLOAT64 on BigQuery, which does not coerce to NUMERIC on insert.
        return dialect.cast(exp.Literal.number(str(value)), logical)
    if isinstance(value, dt.datetime):
        return dialect.timestamp_literal(value.isoformat(sep=" "))
    if isinstance(value, dt.date):
        return dialect.cast(exp.Literal.string(value.isoformat()), "date")
    return neutral_literal(value)


def check_string_bytes(seed: SeedPlan, dialect: Dialect) -> None:
    """Where string(n) counts bytes (Redshift), every value must fit in n bytes of UTF-8."""
    if not dialect.string_length_in_bytes:
        return
    for index, (column, logical) in enumerate(seed.columns):
        limit = seed_values.string_limit(logical)
        for row in seed.rows if limit is not None else ():
            value = row.values[index]
            size = len(value.encode("utf-8")) if value is not None else 0
            if size > limit:
                message = (
                    f"seed '{seed.name}', column '{column}': the value is {size} bytes long in UTF-8; "
                    f"{dialect.name} counts the length of {logical} in bytes"
                )
                raise SnowgenError.at("SG214", message, seed.seed.csv.at(row.line, row.cols[index]))
