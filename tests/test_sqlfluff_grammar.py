"""A second, independent grammar for the warehouses without a real engine here: every
generated Redshift, BigQuery, Snowflake and Databricks file parses with sqlfluff's grammar
of that warehouse (sqlglot's own parser accepts far more than the warehouses do)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

GENERATED = Path(__file__).resolve().parents[1] / "generated"
SQLFLUFF_DIALECTS = {"redshift": "redshift", "bigquery": "bigquery", "snowflake": "snowflake", "databricks": "databricks"}
FILES = [
    pytest.param(dialect, path, id=str(path.relative_to(GENERATED)))
    for dialect in SQLFLUFF_DIALECTS
    for path in sorted(GENERATED.glob(f"*/{dialect}/**/*.sql"))
]


@cache
def linter(dialect: str):
    from sqlfluff.core import FluffConfig, Linter

    return Linter(config=FluffConfig(overrides={"dialect": SQLFLUFF_DIALECTS[dialect]}))


@pytest.mark.parametrize("dialect,path", FILES)
def test_generated_file_parses_with_sqlfluff(dialect, path):
    parsed = linter(dialect).parse_string(path.read_text(encoding="utf-8"))
    assert [str(v) for v in parsed.violations] == []
    assert parsed.tree is not None
