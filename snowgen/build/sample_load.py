"""Loading source samples (``snowgen sample-data``): typed INSERT batches into source tables.

The rows of a sample go into each table of its source (one per instance) in ``INSERT ...
VALUES`` batches, built as seeds' are (snowgen.build.seed_load: the same batch sizes, the same
typed literals, printed by sqlglot for each warehouse), all of them in one transaction where
the warehouse has transactions, so a failed load adds no row. A context sample goes to the
context's own table beside the events table; where a warehouse nests contexts in a column of
the events table (Dialect.context_storage), that is refused (SG301): not built yet.
"""

from __future__ import annotations

from sqlglot import exp

from snowgen.build.seed_load import batches, insert_values
from snowgen.build.sources import context_table_beside
from snowgen.dialects.base import Dialect
from snowgen.errors import SnowgenError
from snowgen.plan.samples import SamplePlan


def sample_targets(samples: list[SamplePlan], dialect: Dialect) -> list[tuple[exp.Table, SamplePlan]]:
    """Each table a sample fills, with its sample, in the project's order."""
    targets = []
    for sample in samples:
        if sample.context_schema is None:
            targets += [(table, sample) for table in sample.tables]
        else:
            targets.append((_context_table(sample, dialect), sample))
    return targets


def sample_inserts(samples: list[SamplePlan], dialect: Dialect) -> list[exp.Expr]:
    """The INSERT statements of every sample, in one transaction where the warehouse has them."""
    inserts = [
        insert_values(table, sample.columns, batch, dialect)
        for table, sample in sample_targets(samples, dialect)
        for batch in batches(sample.rows)
    ]
    return dialect.in_transaction(inserts)


def _context_table(sample: SamplePlan, dialect: Dialect) -> exp.Table:
    if dialect.context_storage != "table":
        raise SnowgenError.at(
            "SG301",
            f"{dialect.name} keeps Snowplow contexts in a nested column of the events table; "
            f"{sample.label} cannot be loaded there yet",
            sample.location,
        )
    return context_table_beside(dialect, sample.context_schema, sample.tables[0])
