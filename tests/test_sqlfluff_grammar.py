"""A second, independent grammar for the warehouses without a real engine here: every
generated Redshift, BigQuery, Snowflake and Databricks file parses with sqlfluff's grammar
of that warehouse (sqlglot's own parser accepts far more than the warehouses do)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

GENERATED = Path(__file__).resolve().parents[1] / "generated"
SQLFLUFF_DIALECTS = {
    "redshift": "redshift",
    "bigquery": "bigquery",
    "snowflake": "snowflake",
    "databricks": "databricks",
}
FILES = [
    pytest.param(dialect, path, id=str(path.relative_to(GENERATED)))
    for dialect in SQLFLUFF_DIALECTS
    for path in sorted(GENERATED.glob(f"*/{dialect}/**/*.sql"))
]


@cache
def linter(dialect: str):
    from sqlfluff.core import FluffConfig, Linter

    return Linter(config=FluffConfig(overrides={"dialect": SQLFLUFF_DIALECTS[dialect]}))


# A Redshift string literal: quotes doubled or backslash-escaped, backslashes escaped.
_REDSHIFT_STRING = re.compile(r"'(?:[^'\\]|\\.|'')*'", re.DOTALL)


def sqlfluff_text(dialect: str, text: str) -> str:
    """``text`` as sqlfluff can lex it. Redshift processes backslash escapes in string literals
    (its QUOTE_LITERAL doubles backslashes: https://docs.aws.amazon.com/redshift/latest/dg/r_QUOTE_LITERAL.html)
    and sqlglot escapes a quote inside a literal as \\', which sqlfluff's Redshift lexer does not
    know; inside each literal, \\' is rewritten to the equivalent ''."""
    if dialect != "redshift":
        return text
    return _REDSHIFT_STRING.sub(
        lambda m: re.sub(r"\\(.)", lambda e: "''" if e.group(1) == "'" else e.group(0), m.group(0)), text
    )


@pytest.mark.parametrize("dialect,path", FILES)
def test_generated_file_parses_with_sqlfluff(dialect, path):
    parsed = linter(dialect).parse_string(sqlfluff_text(dialect, path.read_text(encoding="utf-8")))
    assert [str(v) for v in parsed.violations] == []
    assert parsed.tree is not None


def test_the_redshift_rewrite_keeps_every_other_escape():
    text = "select 'Mi\\'kmaw', 'a\\\\', 'b''c', 'x\\ny'"
    assert sqlfluff_text("redshift", text) == "select 'Mi''kmaw', 'a\\\\', 'b''c', 'x\\ny'"
    assert sqlfluff_text("snowflake", text) == text
