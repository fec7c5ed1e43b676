"""The ``stitch`` model option, compiled: the statement per dialect (sqlglot's validate_all
style, all six named), where it sits in the step, and how it orders and selects steps.
tests/test_engines_stitch.py runs the statements; tests/errors/test_stitch_errors.py has the
located errors."""

from __future__ import annotations

import json

import pytest
from support.projects import compile_files, step_statements, write_project

from snowgen.dialects import DIALECTS

MAPPING = {
    "name": "user_map", "materialization": "incremental", "unique_key": "cookie",
    "sql": "select cookie, login from logins",
}  # fmt: skip
STITCH = {"column": "user_key", "key": "cookie", "mapping": "user_map", "value": "login"}
VISITS = {
    "name": "visits", "materialization": "incremental", "unique_key": "visit_id", "stitch": STITCH,
    "sql": "select visit_id, cookie, cookie as user_key from visit_events",
}  # fmt: skip
SOURCES = {
    "visit_events": {"schema": "raw", "table": "visits"},
    "logins": {"schema": "raw", "table": "logins"},
}


def compiled(tmp_path, models: list[dict], dialect: str = "postgres", **options) -> dict[str, str]:
    root = write_project(tmp_path / "p", models, sources=SOURCES, run_metadata=False)
    return compile_files(root, dialect, **options)


def plan_steps(files: dict[str, str]) -> dict[str, dict]:
    """The plan's steps by id, without the run lock's first and last steps."""
    steps = json.loads(files["plan.json"])["steps"]
    return {step["id"]: step for step in steps if step["kind"] not in ("acquire_lock", "release_lock")}


STATEMENT = {
    "redshift": 'UPDATE "derived"."visits" SET "user_key" = "mapping"."login"\nFROM "derived"."user_map" AS "mapping"\nWHERE\n  "visits"."cookie" = "mapping"."cookie"\n  AND (\n    (\n      "visits"."user_key" <> "mapping"."login"\n      OR "visits"."user_key" IS NULL\n      OR "mapping"."login" IS NULL\n    )\n    AND NOT (\n      "visits"."user_key" IS NULL AND "mapping"."login" IS NULL\n    )\n  )',
    "bigquery": "UPDATE `derived`.`visits` SET `user_key` = `mapping`.`login`\nFROM `derived`.`user_map` AS `mapping`\nWHERE\n  `visits`.`cookie` = `mapping`.`cookie`\n  AND `visits`.`user_key` IS DISTINCT FROM `mapping`.`login`",
    "snowflake": 'UPDATE "DERIVED"."VISITS" SET "USER_KEY" = "MAPPING"."LOGIN"\nFROM "DERIVED"."USER_MAP" AS "MAPPING"\nWHERE\n  "VISITS"."COOKIE" = "MAPPING"."COOKIE"\n  AND "VISITS"."USER_KEY" IS DISTINCT FROM "MAPPING"."LOGIN"',
    "databricks": "MERGE INTO `derived`.`visits` AS `target`\nUSING `derived`.`user_map` AS `mapping`\nON `target`.`cookie` = `mapping`.`cookie`\nAND `target`.`user_key` IS DISTINCT FROM `mapping`.`login`\nWHEN MATCHED THEN UPDATE SET\n  `user_key` = `mapping`.`login`",
    "postgres": 'UPDATE "derived"."visits" SET "user_key" = "mapping"."login"\nFROM "derived"."user_map" AS "mapping"\nWHERE\n  "visits"."cookie" = "mapping"."cookie"\n  AND "visits"."user_key" IS DISTINCT FROM "mapping"."login"',
    "duckdb": 'UPDATE "derived"."visits" SET "user_key" = "mapping"."login"\nFROM "derived"."user_map" AS "mapping"\nWHERE\n  "visits"."cookie" = "mapping"."cookie"\n  AND "visits"."user_key" IS DISTINCT FROM "mapping"."login"',
}  # fmt: skip


def test_the_table_names_all_six_dialects():
    assert set(STATEMENT) == set(DIALECTS)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_stitch_is_the_last_statement_of_the_step(tmp_path, dialect):
    files = compiled(tmp_path, [MAPPING, VISITS], dialect)
    assert step_statements(files, "visits", dialect)[-1] == STATEMENT[dialect]


def test_the_stitch_follows_the_upsert_transaction(tmp_path):
    statements = step_statements(compiled(tmp_path, [MAPPING, VISITS]), "visits", "postgres")
    # the upsert's transaction, the target's index (built after its rows), then the stitch
    assert statements[-3] == "COMMIT" and statements[-2].startswith("CREATE INDEX IF NOT EXISTS")
    assert statements[-1].startswith('UPDATE "derived"."visits"')


def test_a_table_model_is_stitched_after_its_rebuild(tmp_path):
    table = {**{k: v for k, v in VISITS.items() if k != "unique_key"}, "materialization": "table"}
    statements = step_statements(compiled(tmp_path, [MAPPING, table]), "visits", "postgres")
    assert statements[-2] == "COMMIT" and statements[-1] == STATEMENT["postgres"]


def test_a_declared_column_type_casts_the_mapped_value(tmp_path):
    typed = {**VISITS, "columns": {"visit_id": "bigint", "cookie": "string", "user_key": "string(64)"}}
    statement = step_statements(compiled(tmp_path, [MAPPING, typed]), "visits", "postgres")[-1]
    assert 'SET "user_key" = CAST("mapping"."login" AS VARCHAR(64))' in statement
    assert 'IS DISTINCT FROM CAST("mapping"."login" AS VARCHAR(64))' in statement


def test_models_without_stitch_have_no_update(tmp_path):
    plain = {k: v for k, v in VISITS.items() if k != "stitch"}
    statements = step_statements(compiled(tmp_path, [MAPPING, plain]), "visits", "postgres")
    assert not any(s.startswith("UPDATE") for s in statements)


# -- order and selection -----------------------------------------------------------------------------------
def test_the_step_depends_on_its_mapping(tmp_path):
    steps = plan_steps(compiled(tmp_path, [MAPPING, VISITS]))
    assert steps["visits"]["depends_on"] == ["create_schemas", "user_map"]


def test_the_mapping_runs_first_even_when_its_name_sorts_later(tmp_path):
    # Same module, no SQL dependency: only the stitch orders them (by name, visits would go first).
    mapping = {**MAPPING, "name": "z_map"}
    files = compiled(tmp_path, [mapping, {**VISITS, "stitch": {**STITCH, "mapping": "z_map"}}])
    assert [s for s in plan_steps(files) if s != "create_schemas"] == ["z_map", "visits"]


def test_selecting_the_stitched_model_with_its_parents_selects_its_mapping(tmp_path):
    # The stitch reads the mapping: on a first run its table must exist.
    steps = plan_steps(compiled(tmp_path, [MAPPING, VISITS], select=("+visits",)))
    assert list(steps) == ["create_schemas", "user_map", "visits"]


def test_selecting_the_stitched_model_alone_reads_the_mapping_as_it_is(tmp_path):
    steps = plan_steps(compiled(tmp_path, [MAPPING, VISITS], select=("visits",)))
    assert list(steps) == ["create_schemas", "visits"]


def test_selecting_the_mapping_alone_leaves_the_stitch_to_the_models_next_run(tmp_path):
    steps = plan_steps(compiled(tmp_path, [MAPPING, VISITS], select=("user_map",)))
    assert list(steps) == ["create_schemas", "user_map"]
