"""A tiny project whose model's output columns have one type each, for the tests of inferred
column types (tests/test_column_types.py, tests/test_engines_column_types.py)."""

from __future__ import annotations

from pathlib import Path

from support.projects import write_project

# BASE_PROJECT's source: id bigint, ts timestamp, useragent string, app_id string, amount decimal(18,2)
EXPRESSIONS = {
    "id": ("e.id", "bigint"),
    "amount": ("e.amount", "decimal(18,2)"),
    "n": ("count(*)", "bigint"),
    "n_apps": ("count(distinct e.app_id)", "bigint"),
    "ids": ("sum(cast(e.id as int))", "bigint"),
    "label": ("case when e.amount > 0 then 'paid' else 'free' end", "string"),
    "amount_d": ("cast(e.amount as double precision)", "double"),
    "day": ("cast(date_trunc('day', e.ts) as date)", "date"),
    "hour": ("date_trunc('hour', e.ts)", "timestamp"),
    "latest": ("max(e.ts)", "timestamp"),
    "is_big": ("e.amount > 100", "boolean"),
    "agent": ("lower(e.useragent)", "string"),
}


def write_typed_project(root: Path) -> Path:
    """Models ``typed`` (every expression above), ``downstream`` (a star over it) and
    ``declared`` (declared types that differ from the body's)."""
    selects = ", ".join(f"{sql} as {name}" for name, (sql, _) in EXPRESSIONS.items())
    groups = "e.id, e.amount, e.app_id, e.useragent, e.ts"
    models = [
        {"name": "typed", "materialization": "table", "sql": f"select {selects} from events as e group by {groups}"},
        {"name": "downstream", "materialization": "view", "sql": "select t.n + 1 as n1, t.* from typed as t"},
        {
            "name": "declared",
            "materialization": "table",
            "columns": {"id": "string", "amount": "double"},
            "sql": "select e.id, e.amount from events as e",
        },
    ]
    return write_project(root, models)
