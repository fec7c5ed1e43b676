"""Statements the warehouse documents and sqlglot reads as a Command (no node of its own),
each printed from a constant by its dialect module: a parse-back check lets these, and only
these, stay Commands."""

from __future__ import annotations

from sqlglot import exp

READ_AS_COMMANDS = {("databricks", "SET TIME ZONE 'UTC'")}


def documented_command(dialect: str, statement: exp.Expr | str) -> bool:
    """Whether ``statement`` (its text, or its parsed Command) is one of READ_AS_COMMANDS."""
    if not isinstance(statement, str):
        statement = statement.copy()
        statement.comments = None  # a file's header comment rides on its first statement
        statement = statement.sql(dialect=_sqlglot_name(dialect))
    text = statement
    return (dialect, text.strip().rstrip(";")) in READ_AS_COMMANDS


def _sqlglot_name(dialect: str) -> str:
    from snowgen.dialects import get_dialect

    return get_dialect(dialect).sqlglot_dialect
