"""The watermark strategy's plans as compiled (the shipped multi_source_deals project): the
filter each dialect spells, the steps of a regular and of a backfill plan, --select, and the
backfill plan's SQL read back by sqlglot and sqlfluff. Engine runs: test_engines_watermark.py."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from functools import cache
from pathlib import Path

import pytest
import sqlglot
from click.testing import CliRunner
from sqlglot import exp
from support.commands import documented_command
from support.deals import SHIPPED
from support.projects import step_statements

from snowgen.api import CompileOptions, compile_loaded
from snowgen.cli import main
from snowgen.dialects import DIALECTS, get_dialect
from snowgen.plan.backfill import Backfill
from snowgen.spec.loader import load_project

BACKFILL = Backfill("p1", dt.datetime(2024, 3, 2), dt.datetime(2024, 3, 5))
SQLFLUFF_DIALECTS = ("redshift", "bigquery", "snowflake", "databricks")


def covers_every_dialect(table: dict) -> dict:
    assert set(table) == set(DIALECTS), f"table must name all six dialects, missing {set(DIALECTS) - set(table)}"
    return table


@cache
def compiled(dialect: str, backfill: Backfill | None = None, select: tuple[str, ...] | None = None) -> dict[str, str]:
    [result] = compile_loaded(
        load_project(SHIPPED),
        [dialect],
        CompileOptions(backfill=backfill, select=tuple(list(select) if select else None or ())),
    )
    return result.files


def statements(files: dict[str, str], step: str, dialect: str) -> list[str]:
    """The step's own statements (without the run metadata each step records)."""
    return [s for s in step_statements(files, step, dialect) if "run_metadata" not in s.lower()]


def model_create(found: list[str]) -> str:
    """The statement creating the model's table (not its scratch table of intervals read)."""
    return next(s for s in found if s.startswith("CREATE") and "snowgen_intervals" not in s.split("\n")[0].lower())


def step_ids(files: dict[str, str]) -> list[str]:
    return [s["id"] for s in json.loads(files["plan.json"])["steps"]]


# -- the watermark filter -----------------------------------------------------------------------------

INLINE = ">= (\n        SELECT\n          MAX({q}watermark{q}) + {interval}\n"
FILTER = covers_every_dialect({
    "redshift": '"deals"."timemsc" ' + INLINE.format(q='"', interval="INTERVAL '-1 HOUR'"),
    "postgres": '"deals"."timemsc" ' + INLINE.format(q='"', interval="INTERVAL '-1 HOUR'"),
    "duckdb": '"deals"."timemsc" ' + INLINE.format(q='"', interval="INTERVAL (-1) HOUR"),
    "bigquery": "`deals`.`timemsc` >= snowgen_watermark_since OR snowgen_watermark_since IS NULL",
    "snowflake": '"DEALS"."TIMEMSC" >= $snowgen_watermark_since OR $snowgen_watermark_since IS NULL',
    "databricks": "`deals`.`timemsc` >= snowgen_watermark_since OR snowgen_watermark_since IS NULL",
})  # fmt: skip
BIND = covers_every_dialect({
    # an inline subquery, evaluated once per statement (the session's zone pinned first: Dialect.session_settings)
    "redshift": ["SET timezone = 'UTC'"],
    "postgres": [],
    "duckdb": [],
    # and the earliest interval read again for late rows (snowgen.plan.late_data), the same way
    "bigquery": ["DECLARE snowgen_watermark_since TIMESTAMP", "DECLARE snowgen_late_since TIMESTAMP",
                 "SET @@time_zone = 'UTC'", "SET snowgen_watermark_since = (", "SET snowgen_late_since = ("],
    "snowflake": ["SET snowgen_watermark_since = (", "SET snowgen_late_since = ("],
    "databricks": ["DECLARE OR REPLACE snowgen_watermark_since TIMESTAMP", "DECLARE OR REPLACE snowgen_late_since TIMESTAMP",
                   "SET TIME ZONE 'UTC'", "SET VARIABLE snowgen_watermark_since = (",
                   "SET VARIABLE snowgen_late_since = ("],
})  # fmt: skip


#: rows stamped after now plus clock_skew_minutes (60 by default) wait (clock.not_after)
NOT_AFTER = covers_every_dialect({
    "redshift": "\"deals\".\"timemsc\" <= (\n      GETDATE() + INTERVAL '60 MINUTE'\n    )",
    "postgres": "\"deals\".\"timemsc\" <= (\n      CURRENT_TIMESTAMP AT TIME ZONE 'UTC' + INTERVAL '60 MINUTE'\n    )",
    "duckdb": "\"deals\".\"timemsc\" <= (\n      CURRENT_TIMESTAMP AT TIME ZONE 'UTC' + INTERVAL 60 MINUTE\n    )",
    "bigquery": "`deals`.`timemsc` <= TIMESTAMP_ADD(CURRENT_TIMESTAMP(), INTERVAL 60 MINUTE)",
    "snowflake": "\"DEALS\".\"TIMEMSC\" <= TIMESTAMPADD(MINUTE, 60, CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP_NTZ))",
    "databricks": "`deals`.`timemsc` <= TIMESTAMPADD(MINUTE, 60, CURRENT_TIMESTAMP())",
})  # fmt: skip


@pytest.mark.parametrize("dialect", DIALECTS)
def test_each_instance_reads_no_row_stamped_after_now_plus_the_clock_skew_allowance(dialect):
    found = statements(compiled(dialect), "stg_deals__p2", dialect)
    create = model_create(found)
    assert NOT_AFTER[dialect] in create


@pytest.mark.parametrize("dialect", DIALECTS)
def test_each_instance_reads_its_source_after_its_own_watermark(dialect):
    found = statements(compiled(dialect), "stg_deals__p2", dialect)
    create = model_create(found)
    assert FILTER[dialect] in create
    assert "'stg_deals__p2'" in "\n".join(found) and "'stg_deals__p1'" not in "\n".join(found)
    assert [s.split("\n")[0] for s in found if s.startswith(("DECLARE", "SET"))] == BIND[dialect]


# -- the steps ------------------------------------------------------------------------------------------


def test_the_update_runs_last_after_every_model_downstream():
    plan = json.loads(compiled("postgres")["plan.json"])
    update, release = plan["steps"][-2:]
    assert (update["id"], update["module"]) == ("multi_source_deals_watermarks_update", "complete")
    assert release["id"] == "release_lock" and update["id"] in release["depends_on"]
    assert {"stg_deals__p1", "stg_deals__p2", "stg_deals__p3", "inter_deals"} <= set(update["depends_on"])
    health = next(s for s in plan["steps"] if s["id"] == "multi_source_deals_watermark_health")
    assert (health["kind"], health["depends_on"]) == (
        "view",
        ["acquire_lock", "create_schemas", "start_run", "multi_source_deals_watermarks"],
    )


@pytest.mark.parametrize(
    ("select", "updated"),
    [(("inter_deals",), True), (("stg_deals",), False), (("stg_deals__p1",), False)],
    ids=["with-the-consumer", "staging-only", "one-instance"],
)
def test_select_advances_a_watermark_only_with_its_consumers(select, updated):
    assert ("multi_source_deals_watermarks_update" in step_ids(compiled("duckdb", select=select))) is updated


def test_a_backfill_plan_has_no_update_and_no_watermark_read():
    files = compiled("postgres", BACKFILL)
    assert "multi_source_deals_watermarks_update" not in step_ids(files)
    [p1] = [s for s in statements(files, "stg_deals__p1", "postgres") if s.startswith("CREATE")]
    assert (
        '"timemsc" >= CAST(\'2024-03-02 00:00:00\' AS TIMESTAMP)\n    AND "deals"."timemsc" < CAST(\'2024-03-05 00:00:00\' AS TIMESTAMP)'
        in p1
    )
    assert "watermark" not in p1
    [p2] = [s for s in statements(files, "stg_deals__p2", "postgres") if s.startswith("CREATE")]
    assert "WHERE\n    FALSE\n" in p2


REPLACE = covers_every_dialect({
    "redshift": ["Transaction", "Delete", "Insert", "Commit"],
    "bigquery": ["Transaction", "Delete", "Insert", "Commit"],
    "snowflake": ["Transaction", "Delete", "Insert", "Commit"],
    "databricks": ["Insert"],  # INSERT INTO ... REPLACE WHERE: Delta's atomic selective overwrite
    # then the target's indexes, built after its rows so a first fill records the row count
    "postgres": ["Transaction", "Delete", "Insert", "Commit", "Create", "Create"],
    "duckdb": ["Transaction", "Delete", "Insert", "Commit"],
})  # fmt: skip


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_backfill_replaces_the_instances_rows_in_the_range(dialect):
    found = statements(compiled(dialect, BACKFILL), "inter_deals", dialect)
    stage = next(i for i, s in enumerate(found) if s.startswith("CREATE") and "inter_deals__snowgen_stage" in s.lower())
    parsed = [sqlglot.parse_one(s, read=get_dialect(dialect).sqlglot_dialect) for s in found[stage + 1 :]]
    if get_dialect(dialect).analyzes_new_tables:
        assert isinstance(parsed[0], exp.Analyze)  # the stage's statistics first (Postgres)
        parsed = parsed[1:]
    assert [type(p).__name__ for p in parsed] == REPLACE[dialect]
    for tree in parsed:
        if isinstance(tree, (exp.Delete, exp.Insert)):  # both sides filtered by the instance and the range
            text = tree.sql("postgres").lower()
            assert "server_source\" = 'p1'" in text and "< cast('2024-03-05 00:00:00' as timestamp" in text


# -- the backfill plan reads back -------------------------------------------------------------------


def backfill_statements():
    for dialect in DIALECTS:
        files = compiled(dialect, BACKFILL)
        for step in step_ids(files):
            for index, text in enumerate(step_statements(files, step, dialect)):
                yield pytest.param(dialect, text, id=f"{dialect}/{step}#{index + 1}")


@pytest.mark.parametrize("dialect,statement", list(backfill_statements()))
def test_backfill_statement_parses_back_in_its_dialect(dialect, statement):
    parsed = sqlglot.parse(statement, read=get_dialect(dialect).sqlglot_dialect)
    assert len(parsed) == 1 and parsed[0] is not None
    if documented_command(dialect, statement):
        return
    assert not isinstance(parsed[0], exp.Command) and parsed[0].find(exp.Command) is None


@cache
def linter(dialect: str):
    from sqlfluff.core import FluffConfig, Linter

    return Linter(config=FluffConfig(overrides={"dialect": dialect}))


@pytest.mark.parametrize("dialect", SQLFLUFF_DIALECTS)
def test_backfill_files_parse_with_sqlfluff(dialect):
    files = compiled(dialect, BACKFILL)
    problems = {}
    for name, text in sorted(files.items()):
        if name.endswith(".sql"):
            parsed = linter(dialect).parse_string(text)
            if parsed.violations:
                problems[name] = [str(v) for v in parsed.violations]
    assert problems == {}


# -- the command ------------------------------------------------------------------------------------


def test_compile_writes_a_backfill_beside_the_regular_plan(tmp_path, monkeypatch):
    shutil.copytree(SHIPPED, tmp_path / "multi_source_deals")
    monkeypatch.chdir(tmp_path / "multi_source_deals")
    backfill = ("--backfill", "p1", "--from", "2024-03-02", "--to", "2024-03-05")
    assert CliRunner().invoke(main, ["compile", "-d", "postgres"]).exit_code == 0
    regular = Path("generated/multi_source_deals/postgres")
    before = {p: p.read_text() for p in regular.rglob("*.sql")}
    result = CliRunner().invoke(main, ["compile", "-d", "postgres", *backfill])
    assert result.output == "wrote generated/multi_source_deals/postgres-backfill-p1-2024-03-02-2024-03-05\n"
    assert {p: p.read_text() for p in regular.rglob("*.sql")} == before
    assert CliRunner().invoke(main, ["compile", "-d", "postgres", "--check", *backfill]).exit_code == 0
