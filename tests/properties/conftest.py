"""Shared helpers for the property tests: build a project on disk, compile it for every
dialect, parse the output back with sqlglot, and run it on DuckDB and Postgres."""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import hypothesis.configuration
import pytest
import sqlglot
import yaml
from sqlglot import exp
from support.commands import documented_command

from snowgen.api import CompiledProject, compile_project
from snowgen.dialects import DIALECTS

# No example database or caches in the repository: every run draws fresh examples (a failure
# prints the falsifying example, which can be pinned with @example).
hypothesis.configuration.set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "snowgen-hypothesis"))
hypothesis.settings.register_profile("snowgen-properties", database=None)
hypothesis.settings.load_profile("snowgen-properties")


def examples(default: int) -> int:
    """Hypothesis examples per test: small by default (the suite stays well under a minute);
    SNOWGEN_PROPERTY_EXAMPLES=500 for a deeper run."""
    return int(os.environ.get("SNOWGEN_PROPERTY_EXAMPLES", default))


def quote(name: str) -> str:
    """A double-quoted identifier (Postgres body dialect, DuckDB and Postgres checks)."""
    return '"' + name.replace('"', '""') + '"'


def write_project(root: Path, project: dict[str, Any], models: list[dict[str, Any]]) -> Path:
    """Write the spec files; skip (hypothesis: reject) values PyYAML cannot round-trip."""
    texts = {"snowgen.yml": project, **{f"models/model_{i}.yml": m for i, m in enumerate(models)}}
    for relative, data in texts.items():
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
        if yaml.safe_load(text) != data:  # pragma: no cover - a PyYAML limit, not snowgen's
            from hypothesis import reject

            reject()
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def compile_specs(
    project: dict[str, Any], models: list[dict[str, Any]], dialects=tuple(DIALECTS)
) -> dict[str, CompiledProject]:
    with tempfile.TemporaryDirectory() as tmp:
        root = write_project(Path(tmp), project, models)
        return {c.dialect: c for c in compile_project(root, list(dialects))}


def ordered_sql(compiled: CompiledProject) -> list[tuple[str, str]]:
    """(file, text) of every step, in the order plan.json gives."""
    plan = json.loads(compiled.files["plan.json"])
    return [(step["file"], compiled.files[step["file"]]) for step in plan["steps"]]


def parse_back(text: str, dialect: str) -> list[exp.Expr]:
    """Every statement of ``text`` parsed in the dialect; none may fall back to a Command."""
    statements = [s for s in sqlglot.parse(text, read=DIALECTS[dialect].sqlglot_dialect) if s is not None]
    assert statements, text
    commands = [s for s in statements if isinstance(s, exp.Command) and not documented_command(dialect, s)]
    assert not commands, f"{dialect}: parsed as an opaque Command: {commands[0].sql()[:200]}"
    return statements


def string_literals(statements: list[exp.Expr]) -> list[str]:
    return [lit.this for s in statements for lit in s.find_all(exp.Literal) if lit.is_string]


# -- engines ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg(postgres_engine):
    """A connection to the suite's Postgres server (tests/engines: the cluster the suite
    starts, or SNOWGEN_PG_DSN), autocommit: generated SQL has its own BEGIN/COMMIT."""
    import psycopg

    connection = psycopg.connect(postgres_engine.conninfo, autocommit=True)
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def pg_scratch_db(pg):
    """A throwaway database of its own, so examples may create and drop any schema name."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    name = f"sgprop_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    pg.execute(f"CREATE DATABASE {quote(name)} TEMPLATE template0 ENCODING 'UTF8'")
    connection = psycopg.connect(make_conninfo(pg.info.dsn, dbname=name), autocommit=True)
    try:
        yield connection
    finally:
        connection.close()
        pg.execute(f"DROP DATABASE IF EXISTS {quote(name)} WITH (FORCE)")


class PgSchemas:
    """Unique schema names for one example, dropped afterwards."""

    def __init__(self, connection):
        self.connection = connection
        self.prefix = "sgprop_" + uuid.uuid4().hex[:10]
        self.names: list[str] = []

    def name(self, suffix: str) -> str:
        name = f"{self.prefix}_{suffix}"
        self.names.append(name)
        return name

    def drop(self) -> None:
        for name in self.names:
            self.connection.execute(f"DROP SCHEMA IF EXISTS {quote(name)} CASCADE")


def run_all(execute, compiled: CompiledProject) -> None:
    for _, text in ordered_sql(compiled):
        execute(text)


def fresh_duckdb() -> Iterator:
    import duckdb

    return duckdb.connect(":memory:")
