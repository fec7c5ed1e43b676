"""``grants:`` compiled for every dialect (compile only; tests/test_engines_grants.py runs them
on Postgres): the statements each warehouse gets, where the grant steps go, and that every
grant and every statement of ``snowgen privileges`` parses back with sqlglot in its dialect
and with sqlfluff's grammar of the warehouse."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp
from support.cli_runs import cli
from support.grants_project import MODELS, write_project

from snowgen.api import CompileOptions, compile_project, load_project, plan_loaded
from snowgen.build.grants import CatalogNotRead, reader_checks
from snowgen.dialects import NAMES, get_dialect
from snowgen.dialects.grants import grant_read
from snowgen.errors import SnowgenError
from snowgen.runner.statements import split_statements

SHIPPED = Path(__file__).resolve().parents[1] / "model_specs" / "snowplow_web"

# The grant steps' statements in plan order: grant_schemas, orders_daily, revenue.
EXPECTED = {
    "postgres": [
        'GRANT USAGE ON SCHEMA "derived" TO "analyst"',
        'ALTER DEFAULT PRIVILEGES IN SCHEMA "derived"\nGRANT SELECT ON TABLES TO "analyst"',
        'GRANT SELECT ON TABLE "derived"."orders_daily" TO "reporting"',
        'GRANT SELECT ON TABLE "derived"."revenue" TO "reporting"',
        'GRANT SELECT ON TABLE "derived"."revenue" TO "finance"',
    ],
    "redshift": [
        'GRANT USAGE ON SCHEMA "derived" TO "analyst"',
        'ALTER DEFAULT PRIVILEGES IN SCHEMA "derived"\nGRANT SELECT ON TABLES TO "analyst"',
        'GRANT SELECT ON TABLE "derived"."orders_daily" TO GROUP "reporting"',
        'GRANT SELECT ON TABLE "derived"."revenue" TO GROUP "reporting"',
        'GRANT SELECT ON TABLE "derived"."revenue" TO ROLE "finance"',
    ],
    "snowflake": [
        'GRANT USAGE ON SCHEMA "DERIVED" TO ROLE "ANALYST"',
        'GRANT SELECT ON FUTURE TABLES IN SCHEMA "DERIVED" TO ROLE "ANALYST"',
        'GRANT SELECT ON FUTURE VIEWS IN SCHEMA "DERIVED" TO ROLE "ANALYST"',
        'GRANT SELECT ON TABLE "DERIVED"."ORDERS_DAILY" TO ROLE "REPORTING"',
        'GRANT SELECT ON VIEW "DERIVED"."REVENUE" TO ROLE "REPORTING"',
        'GRANT SELECT ON VIEW "DERIVED"."REVENUE" TO ROLE "FINANCE"',
    ],
    "bigquery": [
        "GRANT `roles/bigquery.dataViewer` ON SCHEMA `derived` TO 'user:analyst@example.com'",
        "GRANT `roles/bigquery.dataViewer` ON TABLE `derived`.`orders_daily` TO 'group:reporting@example.com'",
        "GRANT `roles/bigquery.dataViewer` ON VIEW `derived`.`revenue` TO 'group:reporting@example.com'",
        "GRANT `roles/bigquery.dataViewer` ON VIEW `derived`.`revenue` TO "
        "'serviceAccount:finance@p.iam.gserviceaccount.com'",
    ],
    "databricks": [
        "GRANT USE SCHEMA ON SCHEMA `derived` TO `analyst`",
        "GRANT SELECT ON SCHEMA `derived` TO `analyst`",
        "GRANT SELECT ON TABLE `derived`.`orders_daily` TO `reporting`",
        "GRANT SELECT ON VIEW `derived`.`revenue` TO `reporting`",
        "GRANT SELECT ON VIEW `derived`.`revenue` TO `finance@example.com`",
    ],
    "duckdb": [],  # no privileges: the steps are there, without statements
}
#: sqlfluff's grammar per warehouse; BigQuery's (sqlfluff 4.5) has no DCL at all
SQLFLUFF = {"postgres": "postgres", "redshift": "redshift", "snowflake": "snowflake", "databricks": "databricks"}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    root = write_project(tmp_path_factory.mktemp("shop"))
    return {c.dialect: c.files for c in compile_project(root, list(NAMES))}


def grant_steps(files: dict[str, str]) -> list[dict]:
    return [step for step in json.loads(files["plan.json"])["steps"] if step["kind"] == "grant"]


def grant_statements(dialect: str, files: dict[str, str]) -> list[str]:
    """The statements of the grant steps, their session settings left out."""
    texts = [files[step["file"]] for step in grant_steps(files)]
    statements = [s for text in texts for s in split_statements(text, get_dialect(dialect).sqlglot_dialect)]
    return [s for s in statements if s.startswith(("GRANT", "ALTER"))]


@pytest.mark.parametrize("dialect", NAMES)
def test_each_warehouse_gets_its_own_grants(compiled, dialect):
    assert grant_statements(dialect, compiled[dialect]) == EXPECTED[dialect]


def test_grant_steps_follow_the_schemas_and_each_granted_model(compiled):
    steps = grant_steps(compiled["postgres"])
    # no "model": a grant step builds no table (a scheduler makes an asset per model)
    assert [(s["id"], s.get("model"), s["module"]) for s in steps] == [
        ("grant_schemas", None, "setup"),
        ("orders_daily__grants", None, "main"),
        ("revenue__grants", None, "main"),
    ]
    assert "create_schemas" in steps[0]["depends_on"] and "revenue" in steps[2]["depends_on"]
    order = [s["id"] for s in json.loads(compiled["postgres"]["plan.json"])["steps"]]
    assert order.index("revenue__grants") == order.index("revenue") + 1


def test_duckdb_grant_steps_say_why_they_are_empty(compiled):
    for step in grant_steps(compiled["duckdb"]):
        assert step["statements"] == 0 and step["note"].startswith("DuckDB has no users, roles or privileges")
        assert "-- No statements: DuckDB has no users, roles or privileges" in compiled["duckdb"][step["file"]]


def test_enabled_false_compiles_no_grant_step():
    [project] = compile_project(SHIPPED, ["postgres"])  # the shipped project: enable_grants is false
    assert grant_steps(project.files) == []


@cache
def shipped_with_grants(dialect: str) -> dict[str, str]:
    [project] = compile_project(SHIPPED, [dialect], CompileOptions(vars={"enable_grants": True}))
    return project.files


def privileges_statements(dialect: str) -> list[str]:
    role = {"bigquery": "serviceAccount:runner@p.iam.gserviceaccount.com"}.get(dialect, "snowgen_runner")
    printed = cli("privileges", "--project", str(SHIPPED), "-d", dialect, "--role", role, "--database", "analytics")
    return [line for line in printed.splitlines() if line and not line.startswith("--")]


@pytest.mark.parametrize("dialect", [d for d in NAMES if d != "duckdb"])
def test_grants_and_privileges_parse_back_in_their_dialect(compiled, dialect):
    statements = grant_statements(dialect, compiled[dialect]) + grant_statements(dialect, shipped_with_grants(dialect))
    statements += privileges_statements(dialect)
    assert len(statements) > 8
    sqlglot_dialect = get_dialect(dialect).sqlglot_dialect
    for statement in statements:
        assert sqlglot.parse_one(statement.rstrip(";"), read=sqlglot_dialect) is not None, statement
    if dialect not in SQLFLUFF:
        return
    from sqlfluff.core import FluffConfig, Linter

    linter = Linter(config=FluffConfig(overrides={"dialect": SQLFLUFF[dialect]}))
    parsed = linter.parse_string(";\n".join(s.rstrip(";") for s in statements) + ";\n")
    assert [str(v) for v in parsed.violations] == []


def test_duckdb_privileges_say_there_are_none():
    printed = cli("privileges", "--project", str(SHIPPED), "-d", "duckdb", "--role", "anyone")
    assert printed.startswith("-- DuckDB has no users, roles or privileges")
    assert "GRANT" not in printed


def test_a_scheduler_sees_one_table_step_per_model(compiled):
    from snowgen.integrations.plan import plan_of_files

    tables = [step.model for step in plan_of_files(compiled["snowflake"]).table_steps]
    assert sorted(tables) == ["orders_daily", "private", "revenue", "stage"]


@pytest.mark.parametrize(
    "dialect,grantee",
    [("postgres", 'evil";drop'), ("redshift", "group a\"b"), ("snowflake", "r'x\""), ("databricks", "a`b c"),
     ("bigquery", "user:o'brien@example.com")],
)  # fmt: skip
def test_a_hostile_grantee_is_quoted_not_spliced(dialect, grantee):
    d = get_dialect(dialect)
    statement = d.render(d.lower(grant_read(d.grants, exp.table_("t", db="s"), False, grantee)[0]))
    parsed = sqlglot.parse_one(statement, read=d.sqlglot_dialect)
    assert isinstance(parsed, exp.Grant), statement
    assert parsed.args["principals"][0].this.name == grantee.removeprefix("group "), statement


VAR_PROJECT = """\
project: shop
sources:
  orders: {schema: raw, table: orders}
vars:
  readers: [reporting, finance]
grants:
  select: "{{ var('readers') }}"
"""


@pytest.mark.parametrize(
    "readers,expected",
    [
        (None, ['"reporting"', '"finance"']),
        ({"postgres": ["ops"], "snowflake": ["other"]}, ['"ops"']),
        ([], []),
    ],
)
def test_grantees_from_a_var(tmp_path, readers, expected):
    (tmp_path / "snowgen.yml").write_text(VAR_PROJECT, encoding="utf-8")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "orders_daily.yml").write_text(MODELS["orders_daily"], encoding="utf-8")
    options = CompileOptions(vars={} if readers is None else {"readers": readers})
    [project] = compile_project(tmp_path, ["postgres"], options)
    granted = [s.rsplit(" TO ", 1)[1] for s in grant_statements("postgres", project.files)]
    assert granted == expected


def test_grantees_from_a_var_of_the_wrong_type(tmp_path):
    (tmp_path / "snowgen.yml").write_text(VAR_PROJECT.replace("[reporting, finance]", "reporting"), encoding="utf-8")
    (tmp_path / "models").mkdir()
    with pytest.raises(SnowgenError) as raised:
        compile_project(tmp_path, ["postgres"])
    assert raised.value.diagnostics[0].code == "SG240"
    assert "var 'readers' is 'reporting' (str); this setting takes a list of strings" in str(raised.value)


def test_revoke_unlisted_reads_the_postgres_catalog_only(tmp_path):
    plan = plan_loaded(load_project(write_project(tmp_path)))
    listed = {c.table.name: c.listed for c in reader_checks(plan, get_dialect("postgres"))}
    assert listed == {
        "orders_daily": {"reporting"}, "revenue": {"reporting", "finance"}, "private": set(), "stage": set(),
    }  # fmt: skip
    assert list(reader_checks(plan, get_dialect("duckdb"))) == []  # no privileges to revoke
    with pytest.raises(CatalogNotRead, match="snowflake: snowgen reads the grants of postgres only so far"):
        list(reader_checks(plan, get_dialect("snowflake")))
