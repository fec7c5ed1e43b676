"""Where a command works: its dialect and database, the project's sources' DDL and
sample rows, and statements run on a database."""

from __future__ import annotations

from pathlib import Path

from snowgen.api.compiling import check_dialects, target_dialects, target_of
from snowgen.build.sample_load import sample_inserts, sample_tables
from snowgen.build.sources import source_ddl as _source_statements
from snowgen.build.summary import row_count
from snowgen.dialects import get_dialect
from snowgen.dialects.base import Dialect
from snowgen.dialects.shapes import NameTooLong
from snowgen.errors import SnowgenError
from snowgen.plan.samples import plan_samples
from snowgen.runner.connections import dialect_for_url, execute_statements
from snowgen.runner.samples import FilledTable, SampleLoad
from snowgen.runner.session import Database, choose_database, shown_database
from snowgen.spec.loader import LoadedProject
from snowgen.spec.samples import load_samples


def dialect_for(
    loaded: LoadedProject, *, dialect: str | None = None, target: str | None = None, db: str | None = None
) -> Dialect:
    """The dialect a command speaks: the database's, else the one named, else the target's."""
    if db is not None:
        return dialect_for_url(db)
    if dialect:
        return get_dialect(check_dialects([dialect])[0])
    return get_dialect(target_dialects(loaded, target_of(loaded, target))[0])


def source_ddl(loaded: LoadedProject, dialect: Dialect) -> list[str]:
    """CREATE statements for the project's declared sources, as text; a name over the
    warehouse's limit is SG105 at the sources."""
    try:
        return [dialect.render(dialect.lower(s)) for s in _source_statements(loaded.spec, dialect)]
    except NameTooLong as exc:
        raise SnowgenError.at("SG105", str(exc), loaded.doc.location(("sources",), key=True)) from None


def database_for(loaded: LoadedProject, target: str | None, db: str | None) -> Database:
    """The database a command given ``target`` (already resolved: :func:`target_of`) and
    ``db`` works on (snowgen.runner.session.choose_database); a target of another dialect
    than the database's is SG403."""
    database = choose_database(loaded, target, db)
    dialect = dialect_for_url(database.url)
    if target is not None and loaded.spec.targets[target].dialect != dialect.name:
        declared = loaded.spec.targets[target].dialect
        raise SnowgenError.at(
            "SG403",
            f"target '{target}' is {declared} but {shown_database(database.url, database.base)} is a {dialect.name} database",
            loaded.doc.location(("targets", target, "dialect")),
        )
    return database


def sample_data(loaded: LoadedProject, dialect: Dialect) -> SampleLoad:
    """The statements that create the project's source tables and load its samples
    (``sources.<name>.sample``) into them, rendered for ``dialect``; run them with
    :func:`load_sample`, which refuses to load into a table that holds rows."""
    samples = plan_samples(loaded, load_samples(loaded))
    inserts = [dialect.render(dialect.lower(s)) for s in sample_inserts(samples, dialect)]
    tables = [
        FilledTable(f"{filled.table.db}.{filled.table.name}", row_count(filled.table, dialect), len(filled.rows))
        for filled in sample_tables(samples, dialect)
    ]
    return SampleLoad(source_ddl(loaded, dialect), tables, inserts)


def execute_sql(url: str, base: Path, statements: list[str]) -> None:
    """Run ``statements`` in order on ``url`` (the first the database refuses is SG408)."""
    execute_statements(url, base, statements)
