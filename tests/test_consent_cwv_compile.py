"""The consent and Core Web Vitals modules of the shipped snowplow_web project, compiled: off by
default (the plan is the committed one: test_golden), on for every dialect with every statement
parsed back in its dialect and with sqlfluff's grammar; and how each warehouse reads a
self-describing event's fields (kind: event), with the spec's mistakes as located errors.

The committed generated/ holds the defaults, so the options-on output is checked here.
"""

from __future__ import annotations

import json
import re
import shutil
from functools import cache
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp
from test_dialect_features import covers_every_dialect
from test_golden import documented_command
from test_sqlfluff_grammar import SQLFLUFF_DIALECTS, linter, sqlfluff_text

from snowgen.api import CompileOptions, compile_project
from snowgen.build.sources import source_ddl
from snowgen.dialects import DIALECTS, get_dialect
from snowgen.errors import SnowgenError
from snowgen.runner.statements import split_statements
from snowgen.spec.loader import load_project

PROJECT = Path(__file__).resolve().parents[1] / "model_specs" / "snowplow_web"
ON = {"enable_consent": True, "enable_cwv": True}
CONSENT_MODELS = {
    "snowplow_web_consent_events_this_run", "snowplow_web_consent_log", "snowplow_web_consent_cmp_stats",
    "snowplow_web_consent_versions", "snowplow_web_consent_users", "snowplow_web_consent_totals",
    "snowplow_web_consent_scope_status",
}  # fmt: skip
CWV_MODELS = {
    "snowplow_web_vital_events_this_run", "snowplow_web_vitals_this_run", "snowplow_web_vitals",
    "snowplow_web_vital_measurements",
}  # fmt: skip


@cache
def compiled(dialect: str, variables: str = json.dumps(ON)) -> dict[str, str]:
    [project] = compile_project(PROJECT, [dialect], CompileOptions(vars=json.loads(variables)))
    return project.files


def plan(dialect: str, variables: dict) -> dict:
    return json.loads(compiled(dialect, json.dumps(variables))["plan.json"])


def step_text(dialect: str, step_id: str, variables: dict = ON) -> str:
    """A step's file on one line."""
    files = compiled(dialect, json.dumps(variables))
    [step] = [s for s in json.loads(files["plan.json"])["steps"] if s["id"] == step_id]
    return re.sub(r"\s+", " ", files[step["file"]]).replace("( ", "(").replace(" )", ")")


# -- off by default, on by var ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "variables, modules",
    [
        ({}, set()),
        ({"enable_consent": True}, {"consent"}),
        ({"enable_cwv": True}, {"cwv"}),
        (ON, {"consent", "cwv"}),
    ],
)
def test_each_module_is_planned_only_when_its_var_is_on(variables, modules):
    p = plan("duckdb", variables)
    assert {m["name"] for m in p["modules"]} & {"consent", "cwv"} == modules
    models = {s.get("model") for s in p["steps"]}
    assert models & CONSENT_MODELS == (CONSENT_MODELS if "consent" in modules else set())
    assert models & CWV_MODELS == (CWV_MODELS if "cwv" in modules else set())


def test_with_the_modules_off_the_events_of_the_run_carry_no_field_of_theirs():
    off, on = (
        step_text("duckdb", "snowplow_web_base_events_this_run", {}),
        step_text("duckdb", "snowplow_web_base_events_this_run"),
    )
    for column in ('"consent_scopes"', '"cmp_load_time"', '"lcp"', "com_snowplowanalytics_snowplow_web_vitals_1"):
        assert column not in off and column in on


def test_each_module_has_a_complete_step_advancing_its_incremental_models():
    p = plan("duckdb", ON)
    completes = {s["id"]: s["module"] for s in p["steps"] if s["id"].endswith("_complete")}
    assert completes["snowplow_web_consent_complete"] == "consent"
    assert completes["snowplow_web_cwv_complete"] == "cwv"


# -- every dialect --------------------------------------------------------------------------------------------
def module_statements():
    for dialect in DIALECTS:
        files = compiled(dialect)
        for step in json.loads(files["plan.json"])["steps"]:
            if step["module"] in ("consent", "cwv") or step["id"].endswith("base_events_this_run"):
                for index, text in enumerate(
                    split_statements(files[step["file"]], get_dialect(dialect).sqlglot_dialect)
                ):
                    yield pytest.param(dialect, text, id=f"{dialect}/{step['id']}#{index + 1}")


@pytest.mark.parametrize("dialect,statement", list(module_statements()))
def test_every_statement_of_the_modules_parses_back_in_its_dialect(dialect, statement):
    parsed = sqlglot.parse(statement, read=get_dialect(dialect).sqlglot_dialect)
    assert len(parsed) == 1 and parsed[0] is not None
    if not documented_command(dialect, statement):
        assert not isinstance(parsed[0], exp.Command) and parsed[0].find(exp.Command) is None


def module_files():
    for dialect in SQLFLUFF_DIALECTS:
        files = compiled(dialect)
        for step in json.loads(files["plan.json"])["steps"]:
            if step["module"] in ("consent", "cwv") or step["id"].endswith("base_events_this_run"):
                yield pytest.param(dialect, files[step["file"]], id=f"{dialect}/{step['id']}")


@pytest.mark.parametrize("dialect,text", list(module_files()))
def test_every_file_of_the_modules_parses_with_sqlfluff(dialect, text):
    parsed = linter(dialect).parse_string(sqlfluff_text(dialect, text))
    assert [str(v) for v in parsed.violations] == []


# -- how each warehouse reads an event's fields --------------------------------------------------------------
CONSENT = "com_snowplowanalytics_snowplow_consent_preferences_1"
UNSTRUCT = "unstruct_event_" + CONSENT

#: the array field consentScopes, as the events of the run read it
ARRAY_FIELD = covers_every_dialect({
    "redshift": "REPLACE(TRANSLATE(\"ctx1\".\"consent_scopes\", '[]\"', ''), ',', ', ') AS \"consent_scopes\"",
    "bigquery": f"ARRAY_TO_STRING(`e`.`{UNSTRUCT}`.`consent_scopes`, ', ') AS `consent_scopes`",
    "snowflake": f"ARRAY_TO_STRING(GET_PATH(\"E\".\"{UNSTRUCT.upper()}\", 'consentScopes'), ', ') AS \"CONSENT_SCOPES\"",
    "databricks": f"ARRAY_JOIN(`e`.`{UNSTRUCT}`.`consent_scopes`, ', ') AS `consent_scopes`",
    "postgres": "CASE WHEN \"ctx1\".\"consent_scopes\" IS NULL THEN NULL ELSE ARRAY_TO_STRING(ARRAY(SELECT "
                "JSONB_ARRAY_ELEMENTS_TEXT(CAST(\"ctx1\".\"consent_scopes\" AS JSONB))), ', ') END AS \"consent_scopes\"",
    "duckdb": "ARRAY_TO_STRING(CAST(CAST(\"ctx1\".\"consent_scopes\" AS JSON) AS TEXT[]), ', ') AS \"consent_scopes\"",
})  # fmt: skip

#: the boolean field gdprApplies
TYPED_FIELD = covers_every_dialect({
    "redshift": 'CAST("ctx1"."gdpr_applies" AS BOOLEAN) AS "gdpr_applies"',
    "bigquery": f"CAST(`e`.`{UNSTRUCT}`.`gdpr_applies` AS BOOL) AS `gdpr_applies`",
    "snowflake": f"CAST(GET_PATH(\"E\".\"{UNSTRUCT.upper()}\", 'gdprApplies') AS BOOLEAN) AS \"GDPR_APPLIES\"",
    "databricks": f"CAST(`e`.`{UNSTRUCT}`.`gdpr_applies` AS BOOLEAN) AS `gdpr_applies`",
    "postgres": 'CAST("ctx1"."gdpr_applies" AS BOOLEAN) AS "gdpr_applies"',
    "duckdb": 'CAST("ctx1"."gdpr_applies" AS BOOLEAN) AS "gdpr_applies"',
})  # fmt: skip

#: where the event is read from
EVENT_SOURCE = covers_every_dialect({
    "redshift": f'FROM "atomic"."{CONSENT}" AS "c"',
    "bigquery": f"`e`.`{UNSTRUCT}`.`event_type` AS `event_type`",
    "snowflake": f"CAST(GET_PATH(\"E\".\"{UNSTRUCT.upper()}\", 'eventType') AS VARCHAR) AS \"EVENT_TYPE\"",
    "databricks": f"`e`.`{UNSTRUCT}`.`event_type` AS `event_type`",
    "postgres": f'FROM "atomic"."{CONSENT}" AS "c"',
    "duckdb": f'FROM "atomic"."{CONSENT}" AS "c"',
})  # fmt: skip


@pytest.mark.parametrize("table", [ARRAY_FIELD, TYPED_FIELD, EVENT_SOURCE], ids=["array", "boolean", "source"])
@pytest.mark.parametrize("dialect", DIALECTS)
def test_an_event_field_is_read_where_and_as_the_loader_stores_it(table, dialect):
    assert table[dialect] in step_text(dialect, "snowplow_web_base_events_this_run")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_source_ddl_holds_each_event_where_the_loader_puts_it(dialect):
    d = get_dialect(dialect)
    text = "\n".join(d.render(s) for s in source_ddl(load_project(PROJECT).spec, d))
    if d.context_storage == "table":  # a table per event, its fields in snake_case (an array as text)
        table = re.sub(r"\s+", " ", text[text.index(f'"{CONSENT}"') :].split("CREATE")[0])
        for column in (
            '"root_id"',
            '"root_tstamp"',
            '"basis_for_processing"',
            '"consent_scopes"',
            '"gdpr_applies" BOOLEAN',
        ):
            assert column in table, table
        assert "com_snowplowanalytics_snowplow_web_vitals_1" in text
    else:
        column = UNSTRUCT.upper() if d.folds_to_upper_case else UNSTRUCT
        assert column in text


TYPED_RECORD = {  # Databricks writes a struct's field as `name`: TYPE
    "bigquery": ("`event_type` STRING", "`consent_scopes` ARRAY<STRING>", "`gdpr_applies` BOOL"),
    "databricks": ("`event_type`: STRING", "`consent_scopes`: ARRAY<STRING>", "`gdpr_applies`: BOOLEAN"),
}


@pytest.mark.parametrize("dialect", list(TYPED_RECORD))
def test_bigquery_and_databricks_declare_the_event_as_a_typed_record(dialect):
    d = get_dialect(dialect)
    text = re.sub(r"\s+", " ", " ".join(d.render(s) for s in source_ddl(load_project(PROJECT).spec, d)))
    record = text[text.index(f"`{UNSTRUCT}` STRUCT<") :].split(" >")[0]
    assert all(field in record for field in TYPED_RECORD[dialect]), record


# -- mistakes ---------------------------------------------------------------------------------------------
def project_with(tmp_path: Path, old: str, new: str) -> Path:
    root = Path(shutil.copytree(PROJECT, tmp_path / "snowplow_web", ignore=shutil.ignore_patterns(".snowgen-cache")))
    spec = root / "snowgen.yml"
    text = spec.read_text(encoding="utf-8")
    assert old in text
    spec.write_text(text.replace(old, new, 1), encoding="utf-8")
    return root


@pytest.mark.parametrize(
    "old, new, message",
    [
        (
            "types: {elapsedTime: double}",
            "types: {elapsedTime: double, loadTime: double}",
            "types names fields the context does not read: loadTime",
        ),
        (
            "types: {elapsedTime: double}",
            "types: {elapsedTime: number}",
            "types.elapsedTime: input should be",
        ),
        (
            "      fields: {id: page_view_id}\n",
            "      fields: {id: page_view_id}\n      types: {id: array}\n",
            "an array field is read from a self-describing event only (kind: event)",
        ),
        (
            "      fields: {elapsedTime: cmp_load_time}\n",
            "      fields: {elapsedTime: cmp_load_time}\n      sample: samples/web_page.csv\n",
            "a self-describing event takes none",
        ),
        ("      kind: event\n", "      kind: unstruct\n", "kind: input should be 'entity' or 'event'"),
    ],
)
def test_a_mistake_in_an_event_is_a_located_error(tmp_path, old, new, message):
    with pytest.raises(SnowgenError) as caught:
        load_project(project_with(tmp_path, old, new))
    text = str(caught.value)
    assert re.search(r"snowgen\.yml:\d+:\d+: SG102 ", text) and message in text, text
