"""The shipped snowplow_web project's identifier, stitching, page view scope and table vars
(docs/snowplow-web-vars.md) compiled for all six dialects: where each warehouse reads an
identifier from an entity (a joined table, or the events' nested column) and from SQL, what
the other vars change in the steps, and that each compiles with its value changed.
tests/test_engines_snowplow_vars.py runs them on Postgres and DuckDB; the located errors are in
tests/errors/test_identifier_errors.py.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest
from test_dialect_features import covers_every_dialect
from test_engines_snowplow_vars import ENTITY_URI, SWAPPED, copy_with_own_tables

from snowgen.api import CompileOptions, compile_project
from snowgen.dialects import DIALECTS

PROJECT = Path(__file__).resolve().parents[1] / "model_specs" / "snowplow_web"
IDENTIFIERS = {
    "session_identifiers": [
        {"schema": ENTITY_URI, "field": "sessionKey"},  # as the schema spells it
        {"schema": "atomic", "field": "domain_sessionid"},
    ],
    "user_sql": "e.user_id || '-' || e.domain_userid",
}


@cache
def steps(dialect: str, variables: str = "{}", root: Path = PROJECT) -> dict[str, str]:
    """step id -> its file's text on one line (pretty-printing breaks long expressions)."""
    [project] = compile_project(root, [dialect], CompileOptions(vars=json.loads(variables)))
    plan = json.loads(project.files["plan.json"])["steps"]
    flat = {s["id"]: re.sub(r"\s+", " ", project.files[s["file"]]) for s in plan}
    return {k: v.replace("( ", "(").replace(" )", ")") for k, v in flat.items()}


def step(dialect: str, name: str, variables: dict | None = None) -> str:
    return steps(dialect, json.dumps(variables or {}, sort_keys=True))[f"snowplow_web_{name}"]


def quoted(dialect: str, name: str) -> str:
    quote = "`" if dialect in ("bigquery", "databricks") else '"'
    return f"{quote}{name}{quote}"


# -- identifiers ---------------------------------------------------------------------------------------
#: an event's session (the entity's field: its table joined as sg_identity0, or the nested
#: column; else the column) and the user SQL's max(), as the lifecycle selects them
SESSION = covers_every_dialect({
    "redshift": 'CAST(COALESCE("sg_identity0"."session_key", "e"."domain_sessionid") AS VARCHAR(MAX))',
    "bigquery": "CAST(COALESCE(`e`.`contexts_com_acme_session_1`[SAFE_OFFSET(0)].`session_key`, `e`.`domain_sessionid`) AS STRING)",
    "snowflake": 'CAST(COALESCE(CAST(GET_PATH("E"."CONTEXTS_COM_ACME_SESSION_1"[0], \'sessionKey\') AS VARCHAR), "E"."DOMAIN_SESSIONID") '
                 "AS VARCHAR)",
    "databricks": "CAST(COALESCE(TRY_ELEMENT_AT(`e`.`contexts_com_acme_session_1`, 1).`session_key`, `e`.`domain_sessionid`) AS STRING)",
    "postgres": 'CAST(COALESCE("sg_identity0"."session_key", "e"."domain_sessionid") AS TEXT)',
    "duckdb": 'CAST(COALESCE("sg_identity0"."session_key", "e"."domain_sessionid") AS TEXT)',
})  # fmt: skip
USER = covers_every_dialect({
    "redshift": 'MAX(CAST("e"."user_id" || \'-\' || "e"."domain_userid" AS VARCHAR(MAX))) AS "user_identifier"',
    "bigquery": "MAX(CAST(`e`.`user_id` || '-' || `e`.`domain_userid` AS STRING)) AS `user_identifier`",
    "snowflake": 'MAX(CAST("E"."USER_ID" || \'-\' || "E"."DOMAIN_USERID" AS VARCHAR)) AS "USER_IDENTIFIER"',
    "databricks": "MAX(CAST(`e`.`user_id` || '-' || `e`.`domain_userid` AS STRING)) AS `user_identifier`",
    "postgres": 'MAX(CAST("e"."user_id" || \'-\' || "e"."domain_userid" AS TEXT)) AS "user_identifier"',
    "duckdb": 'MAX(CAST("e"."user_id" || \'-\' || "e"."domain_userid" AS TEXT)) AS "user_identifier"',
})  # fmt: skip
#: where contexts are tables, the entity's rows of the window are joined (first entity per event)
ENTITY_ROWS = {
    dialect: 'ROW_NUMBER() OVER (PARTITION BY "c"."root_id" ORDER BY "c"."root_tstamp", "c"."session_key") AS "entity_index" '
    'FROM "atomic"."com_acme_session_1" AS "c" CROSS JOIN {limits} WHERE "c"."root_tstamp" BETWEEN'
    for dialect in ("redshift", "postgres", "duckdb")
}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_lifecycle_reads_the_identifiers_where_each_warehouse_keeps_them(dialect):
    text = step(dialect, "base_sessions_lifecycle_manifest", IDENTIFIERS)
    identifier = '"SESSION_IDENTIFIER"' if dialect == "snowflake" else quoted(dialect, "session_identifier")
    assert f"{SESSION[dialect]} AS {identifier}, {USER[dialect]}" in text
    limits = '"scratch"."snowplow_web_base_new_event_limits" AS "lim"'
    if dialect in ENTITY_ROWS:
        assert ENTITY_ROWS[dialect].format(limits=limits) in text
        assert (
            '"sg_identity0"."root_id" = "e"."event_id" AND "sg_identity0"."root_tstamp" = "e"."collector_tstamp"'
            in text
        )
    else:
        assert "sg_identity" not in text.lower() and "root_id" not in text.lower()  # no join: the nested column


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_events_of_the_run_join_their_session_by_the_same_identifier(dialect):
    text = step(dialect, "base_events_this_run", IDENTIFIERS)
    assert re.search(r"ON " + re.escape(SESSION[dialect]) + r" = \S+\.\Ssession_identifier\S", text, re.IGNORECASE)
    if dialect in ENTITY_ROWS:
        assert ENTITY_ROWS[dialect].format(limits='"session_limits" AS "cl"') in text
    assert "original_domain_sessionid" in text.lower() and "original_domain_userid" in text.lower()


@pytest.mark.parametrize("dialect", ["redshift", "postgres", "duckdb"])
def test_an_entity_of_the_user_only_is_joined_by_the_lifecycle_alone(dialect):
    # the events of the run take their user from the lifecycle's sessions, not from the entity
    user_entity = {"user_identifiers": [{"schema": ENTITY_URI, "field": "userKey"}]}
    assert '"sg_identity0"."user_key"' in step(dialect, "base_sessions_lifecycle_manifest", user_entity)
    assert "sg_identity" not in step(dialect, "base_events_this_run", user_entity)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_snowplows_defaults_read_the_atomic_columns_as_before(dialect):
    text = step(dialect, "base_sessions_lifecycle_manifest")
    assert "sg_identity" not in text and "CAST(COALESCE" not in text
    column = f"{quoted(dialect, 'e')}.{quoted(dialect, 'domain_sessionid')} as {quoted(dialect, 'session_identifier')}"
    assert column in text.lower()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_user_sql_that_aggregates_is_used_as_it_is(dialect):
    text = step(dialect, "base_sessions_lifecycle_manifest", {"user_sql": "min(e.domain_userid)"}).lower()
    assert re.search(r"cast\(min\(\S+domain_userid\S\) as [a-z()]+\) as \S+user_identifier", text)
    assert "max(cast(min(" not in text


# -- the other vars ------------------------------------------------------------------------------------
@pytest.mark.parametrize("dialect", DIALECTS)
def test_page_views_are_scoped_by_session_only_while_the_var_is_true(dialect):
    for scoped, variables in ((True, {}), (False, {"limit_page_views_to_session": False})):
        for name in ("pv_engaged_time", "pv_scroll_depth"):
            assert ("domain_sessionid" in step(dialect, name, variables).lower()) is scoped
        joins = step(dialect, "page_views_this_run", variables).lower()
        assert bool(re.search(r"\S+ev\S\.\S+domain_sessionid\S = \S+t\S\.\S+domain_sessionid\S", joins)) is scoped
        assert bool(re.search(r"\S+ev\S\.\S+domain_sessionid\S = \S+sd\S\.\S+domain_sessionid\S", joins)) is scoped


@pytest.mark.parametrize("dialect", DIALECTS)
def test_user_mapping_reads_the_user_stitching_id(dialect):
    text = step(dialect, "user_mapping", {"user_stitching_id": "upper(user_id)"}).lower()
    user_id = quoted(dialect, "user_id")
    assert f"upper({user_id}) as {user_id}" in text and f"upper({user_id}) is not null" in text


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_sessions_table_and_seeds_are_the_ones_the_vars_name(dialect, tmp_path):
    root = copy_with_own_tables(tmp_path)
    default, swapped = steps(dialect, "{}", root), steps(dialect, json.dumps(SWAPPED, sort_keys=True), root)
    for text, names in (
        (default, ("snowplow_web_sessions", "snowplow_web_dim_ga4_source_categories", "snowplow_web_dim_rfc_5646",
                   "snowplow_web_dim_geo_country_mapping")),
        (swapped, ("site_sessions", "my_ga4_categories", "my_languages", "my_countries")),
    ):  # fmt: skip
        users = text["snowplow_web_users_sessions_this_run"].lower()
        sessions = text["snowplow_web_sessions_this_run"].lower()
        assert f".{names[0][:-1]}" in users.replace('"', "").replace("`", "")
        assert names[1] in sessions and names[2] in sessions and names[3] in sessions
        assert names[1] in text["snowplow_web_page_views_this_run"].lower()
