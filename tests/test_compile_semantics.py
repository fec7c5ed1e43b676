"""What a spec means, checked on the compiled SQL (one behaviour per test)."""

from __future__ import annotations

from support.projects import compile_files, step_statements, write_project


def model_sql(tmp_path, model: dict, dialect: str = "postgres", **project) -> str:
    root = write_project(tmp_path / "p", [{"name": "m", **model}], **project)
    return "\n".join(step_statements(compile_files(root, dialect), "m", dialect))


def test_star_except_is_left_as_written(tmp_path):
    sql = model_sql(tmp_path, {"sql_dialect": "bigquery", "sql": "select * except (amount) from events"}, "bigquery")
    assert "*\n  EXCEPT (`amount`)" in sql and "`useragent`" not in sql


def test_star_is_expanded_from_the_declared_source_columns(tmp_path):
    sql = model_sql(tmp_path, {"sql": "select * from events"})
    assert '"events"."id",\n  "events"."ts",\n  "events"."useragent"' in sql


def test_model_switches_on_a_filter_the_project_switched_off(tmp_path):
    model = {"bot_filter": {"patterns": ["crawler"]}, "sql": "select id from events as ev where bot_filter(ev)"}
    sql = model_sql(tmp_path, model, bot_filter={"enabled": False})
    assert 'LOWER("ev"."useragent") ~ \'crawler\'' in sql


def test_model_switches_off_the_project_filter(tmp_path):
    sql = model_sql(tmp_path, {"bot_filter": False, "sql": "select id from events as ev where bot_filter(ev)"})
    assert "WHERE\n  (\n    TRUE\n  )" in sql


def test_var_date_time_with_an_offset_becomes_utc(tmp_path):
    model = {"sql": "select id from events where ts > {{ var('since') }}"}
    sql = model_sql(tmp_path, model, vars={"since": "2024-01-01T10:00:00+02:00"})
    # YAML gives a string here; a YAML timestamp (no quotes) is a datetime with its offset:
    assert "'2024-01-01T10:00:00+02:00'" in sql
    root = tmp_path / "q"
    write_project(root, [{"name": "m", **model}])
    (root / "snowgen.yml").write_text(
        (root / "snowgen.yml").read_text() + "vars:\n  since: 2024-01-01 10:00:00+02:00\n"
    )
    sql = "\n".join(step_statements(compile_files(root, "bigquery"), "m", "bigquery"))
    assert "CAST('2024-01-01 08:00:00' AS TIMESTAMP)" in sql


def test_bigquery_body_keeps_the_case_of_table_names(tmp_path):
    model = {"sql_dialect": "bigquery", "sql": "select Amount from MyDataset.MyTable"}
    assert "FROM `MyDataset`.`MyTable`" in model_sql(tmp_path, model, "bigquery")
    assert '"AMOUNT"' in model_sql(tmp_path / "again", model, "snowflake")


def test_generated_postgres_table_is_dropped_with_cascade(tmp_path):
    assert 'DROP TABLE IF EXISTS "derived"."m" CASCADE' in model_sql(tmp_path, {"sql": "select id from events"})


def test_declared_column_types_apply_to_table_models_too(tmp_path):
    sql = model_sql(tmp_path, {"columns": {"id": "string", "amount": "double"}, "sql": "select id, amount from events"})
    assert 'CAST("snowgen_body"."id" AS TEXT) AS "id"' in sql
    assert 'CAST("snowgen_body"."amount" AS DOUBLE PRECISION) AS "amount"' in sql
