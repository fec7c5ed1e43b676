"""``snowgen sample-data``: create the source tables and load the project's samples into them.

The statements come compiled (snowgen.api.sample_data); this runs them on one connection:
the source tables first (``CREATE ... IF NOT EXISTS``, as ``snowgen sources``), then a count
of every table the samples fill, and only when each is empty the inserts (one transaction
where the warehouse has them). A table that holds rows is refused (SG409) before any row is
written: loading the sample twice, or over real data, would duplicate or mix events.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from snowgen.errors import SnowgenError
from snowgen.runner.connections import Connection, connected, statement_failed
from snowgen.runner.session import shown_database


@dataclass(frozen=True)
class FilledTable:
    name: str  # schema.table, as printed
    count_query: str  # how many rows it holds now
    rows: int  # how many the sample adds


@dataclass(frozen=True)
class SampleLoad:
    setup: list[str]  # the source tables, created where missing
    tables: list[FilledTable]
    inserts: list[str]  # the rows (with BEGIN/COMMIT where the warehouse has transactions)


def load_sample(url: str, base: Path, load: SampleLoad) -> None:
    """Run ``load`` on ``url`` (a relative DuckDB path relative to ``base``); SG409 when a
    table already holds rows, SG408 when the database refuses a statement."""
    with connected(url, base) as connection:
        _execute(connection, load.setup)
        for table in load.tables:
            held = _count(connection, table)
            if held:
                raise SnowgenError.at(
                    "SG409",
                    f"{table.name} on {shown_database(url, base)} already holds {held:,} rows; sample-data loads only "
                    "into empty tables (empty it, or use another database with --db)",
                )
        _execute(connection, load.inserts)


def _count(connection: Connection, table: FilledTable) -> int:
    try:
        [(count,)] = connection.query(table.count_query)
    except connection.errors as exc:
        raise statement_failed(connection.url, f"counting the rows of {table.name}", exc) from None
    return int(count)


def _execute(connection: Connection, statements: list[str]) -> None:
    for statement in statements:
        try:
            connection.execute(statement)
        except connection.errors as exc:
            connection.recover()  # the open transaction, if any, goes: no row of the sample stays
            what = f"the statement {' '.join(statement.split())[:120]}"
            raise statement_failed(connection.url, what, exc) from None
