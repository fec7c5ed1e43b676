"""A small project whose grants use every form: a project default per warehouse, schema usage
and select, a view whose grants inherit the project's, a scratch model (no default) and a model
that opts out (tests/test_grants_compile.py, tests/test_engines_grants.py)."""

from __future__ import annotations

from pathlib import Path

PROJECT = """\
project: shop
sources:
  orders: {schema: raw, table: orders}
grants:
  select:
    postgres: [reporting]
    redshift: [group reporting]
    snowflake: [reporting]
    databricks: [reporting]
    bigquery: ["group:reporting@example.com"]
    duckdb: [reporting]
  schemas:
    derived:
      usage: [analyst]
      select: {bigquery: ["user:analyst@example.com"], postgres: [analyst], redshift: [analyst],
               snowflake: [analyst], databricks: [analyst]}
"""
MODELS = {
    "orders_daily": "name: orders_daily\nsql: select order_id, amount from orders\n",
    "revenue": """\
name: revenue
materialization: view
grants:
  inherit: true
  select: {postgres: [finance], redshift: [role finance], snowflake: [finance], databricks: [finance@example.com],
           bigquery: ["serviceAccount:finance@p.iam.gserviceaccount.com"]}
sql: select sum(amount) as total from orders_daily
""",
    "stage": "name: stage\nschema: scratch\nsql: select order_id from orders\n",  # scratch: no default
    "private": "name: private\ngrants: {select: []}\nsql: select order_id from orders\n",  # opted out
}


def write_project(root: Path) -> Path:
    (root / "snowgen.yml").write_text(PROJECT, encoding="utf-8")
    (root / "models").mkdir()
    for name, text in MODELS.items():
        (root / "models" / f"{name}.yml").write_text(text, encoding="utf-8")
    return root
