"""The snowgen command run in-process on empty databases made for a test: a DuckDB file, or a
database of the test session's PostgreSQL (tests/engines), each reached by its URL as a user
would, and read back with plain SQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import duckdb
from click.testing import CliRunner

from snowgen.cli import main


def cli(*args: str) -> str:
    """Run a command that must succeed; its stdout."""
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


@dataclass
class Database:
    url: str
    query: Callable[[str], list[tuple]]

    def exists(self, name: str) -> bool:
        schema, table = name.split(".")
        found = self.query(
            f"SELECT count(*) FROM information_schema.tables WHERE table_schema = '{schema}' AND table_name = '{table}'"
        )
        return found[0][0] > 0

    def rows(self, name: str) -> list[tuple]:
        """A table's rows, sorted, without model_tstamp (the time of the run that wrote it)."""
        schema, table = name.split(".")
        columns = [
            c
            for (c,) in self.query(
                f"SELECT column_name FROM information_schema.columns WHERE table_schema = '{schema}' "
                f"AND table_name = '{table}' ORDER BY ordinal_position"
            )
            if c != "model_tstamp"
        ]
        return sorted(self.query(f"SELECT {', '.join(columns)} FROM {name}"), key=repr)


def database_maker(request, tmp_path_factory) -> Iterator[Callable[[str], Database]]:
    """For a fixture: makes empty databases by engine name ("duckdb" or "postgres"); the
    Postgres ones are dropped when the fixture ends."""
    opened = []

    def make(engine: str) -> Database:
        if engine == "duckdb":
            path = tmp_path_factory.mktemp("db") / "run.duckdb"

            def query(sql: str) -> list[tuple]:
                with duckdb.connect(str(path)) as con:
                    return con.execute(sql).fetchall()

            return Database(str(path), query)
        pg = request.getfixturevalue("postgres_engine").fresh()
        opened.append(pg)
        info = pg.conn.info
        return Database(f"postgresql://{info.user}@{info.host}:{info.port}/{info.dbname}", pg.query)

    yield make
    for pg in opened:
        pg.close()
