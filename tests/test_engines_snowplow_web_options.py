"""The shipped snowplow_web project with its options on (conversions, passthroughs, event
counts, page-view stitching, a custom engagement and content group), on Postgres and DuckDB,
against the values worked out by hand in support/snowplow_options_dataset.py; and the
switches that a target or --vars flips (app_ids, ua_bot_filter, the stitching switches).
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from support import snowplow_dataset as ds
from support import snowplow_options_dataset as opt
from support.data import insert_rows

from snowgen.api import CompileOptions, compile_loaded
from snowgen.build.sources import source_ddl
from snowgen.dialects import get_dialect
from snowgen.runner.execute import read_plan, run_steps
from snowgen.spec.loader import load_project

PROJECT = Path(__file__).resolve().parents[1] / "model_specs" / "snowplow_web"
ENGINES = ["postgres", "duckdb"]
CONTEXT_TABLE = "com_snowplowanalytics_snowplow_web_page_1"
PAGE_VIEWS, SESSIONS, USERS = (
    "derived.snowplow_web_page_views",
    "derived.snowplow_web_sessions",
    "derived.snowplow_web_users",
)


@cache
def compiled(dialect: str, cli_vars: str):
    loaded = load_project(PROJECT)
    d = get_dialect(dialect)
    ddl = [d.render(statement) for statement in source_ddl(loaded.spec, d)]
    [project] = compile_loaded(loaded, [dialect], CompileOptions(vars=json.loads(cli_vars)))
    return ddl, read_plan(project.files, dialect), list(loaded.spec.sources["events"].columns)


def run_over(engine, events: list[dict], cli_vars: dict[str, Any]):
    """``engine`` after one run of the plan compiled with ``cli_vars`` over ``events``."""
    ddl, steps, columns = compiled(engine.name, json.dumps(cli_vars, sort_keys=True))
    for statement in ddl:
        engine.execute(statement)
    statements = insert_rows(engine.name, "atomic", "events", ds.atomic_rows(events, columns))
    statements += insert_rows(engine.name, "atomic", CONTEXT_TABLE, ds.context_rows(events))
    for statement in statements:
        engine.execute(statement)
    for _ in run_steps(steps, engine.execute):
        pass
    return engine


@pytest.fixture(scope="module", params=ENGINES)
def options_run(request):
    """One run with every option on (read-only for the tests)."""
    engine = request.getfixturevalue(f"{request.param}_engine").fresh()
    try:
        yield run_over(engine, opt.EVENTS, opt.OPTION_VARS)
    finally:
        engine.close()


def plain(value: Any) -> Any:
    """A value as the hand-worked tables write it: JSON text (DuckDB's) parsed, numbers as
    floats (a list's too), so that 21, 21.0 and Decimal('21.00') compare equal."""
    if isinstance(value, str) and value[:1] in "{[":
        value = json.loads(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return float(value)
    return value


def check(engine, table: str, columns: list[str]) -> None:
    key, rows = opt.EXPECTED[table]
    got = {
        row[0]: dict(zip(columns, row[1:], strict=True))
        for row in engine.query(f"SELECT {', '.join([key, *columns])} FROM {table}")
    }
    problems = []
    for k, values in rows.items():
        for column in [c for c in columns if c in values]:
            actual = plain(got[k][column]) if k in got else "<no row>"
            if actual != plain(values[column]) or type(actual) is not type(plain(values[column])):
                problems.append(f"{k}.{column}: got {actual!r}, expected {values[column]!r}")
    assert not problems, f"{engine.name} {table}:\n  " + "\n  ".join(problems)


def columns_of(engine, table: str) -> list[str]:
    schema, name = table.split(".")
    return [
        c for (c,) in engine.query(
            f"SELECT column_name FROM information_schema.columns WHERE table_schema = '{schema}' "
            f"AND table_name = '{name}' ORDER BY ordinal_position"
        )
    ]  # fmt: skip


# -- columns and their order ---------------------------------------------------------------------
@pytest.mark.parametrize("table", list(opt.ADDED_COLUMNS))
def test_the_options_columns_follow_the_standard_ones_in_list_order(options_run, table):
    standard, added = opt.ADDED_COLUMNS[table]
    columns = columns_of(options_run, table)
    assert columns[standard:] == added and len(columns) == standard + len(added)


def test_event_counts_stand_after_engaged_time(options_run):
    columns = columns_of(options_run, SESSIONS)
    assert columns[columns.index("engaged_time_in_s") + 1 : columns.index("total_events")] == ["event_counts"]


# -- conversions (reference §5.4) ----------------------------------------------------------------------
def test_conversions_with_values_and_lists(options_run):
    check(
        options_run,
        SESSIONS,
        [f"cv_purchase_{c}" for c in ("volume", "events", "values", "total", "first_conversion", "converted")],
    )


def test_a_conversion_without_value_or_list_has_volume_first_conversion_and_converted(options_run):
    check(options_run, SESSIONS, ["cv_checkout_volume", "cv_checkout_first_conversion", "cv_checkout_converted"])


def test_a_conversion_no_event_matches_gives_zero_empty_lists_and_no_first_conversion(options_run):
    check(
        options_run,
        SESSIONS,
        [f"cv_signup_{c}" for c in ("volume", "events", "values", "total", "first_conversion", "converted")],
    )


def test_conversion_totals_over_every_definition(options_run):
    check(options_run, SESSIONS, ["cv__all_volume", "cv__all_total"])


# -- event counts (reference §5.2) ------------------------------------------------------------------------
def test_event_counts_of_each_session(options_run):
    check(options_run, SESSIONS, ["event_counts"])


# -- engagement and content group (reference §2.3, §5.3) ----------------------------------------------------
def test_a_custom_engagement_expression_or_a_conversion_engages(options_run):
    check(options_run, SESSIONS, ["is_engaged"])


def test_a_custom_content_group_expression(options_run):
    check(options_run, PAGE_VIEWS, ["content_group"])


# -- passthroughs (reference §2.6, §6.3, §6.4) ------------------------------------------------------------
def test_page_view_passthroughs(options_run):
    check(options_run, PAGE_VIEWS, ["dvce_screenwidth", "upper_path"])


def test_session_passthroughs_come_from_the_first_page_event(options_run):
    check(options_run, SESSIONS, ["event_id", "first_event_app"])


def test_user_passthroughs_come_from_the_first_and_the_last_session(options_run):
    check(options_run, USERS, ["first_event_id", "first_marker", "last_event_id", "last_marker"])


# -- stitching (reference §7.2) ------------------------------------------------------------------------------
def test_page_views_are_stitched_when_page_view_stitching_is_on(options_run):
    check(options_run, PAGE_VIEWS, ["stitched_user_id"])


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_stitching_switched_off_leaves_stitched_user_id_null(engine):
    run_over(engine, ds.EVENTS, {**ds.VARS, "session_stitching": False})
    for table in (PAGE_VIEWS, SESSIONS):
        assert engine.query(f"SELECT count(*) FROM {table} WHERE stitched_user_id IS NOT NULL") == [(0,)]
    assert engine.query(f"SELECT count(*) FROM {SESSIONS}") == [(len(ds.EXPECTED[SESSIONS][1]),)]


# -- the base module's switches from --vars ------------------------------------------------------------------
@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_app_ids_and_the_bot_filter_follow_vars(engine):
    # s9 is app 'shop'; s4 is a bot, kept when ua_bot_filter is off (pv9's NULL useragent too)
    run_over(engine, opt.EVENTS, {**ds.VARS, "app_ids": ["site"], "ua_bot_filter": False})
    sessions = {s for (s,) in engine.query(f"SELECT domain_sessionid FROM {SESSIONS}")}
    page_views = {p for (p,) in engine.query(f"SELECT page_view_id FROM {PAGE_VIEWS}")}
    assert sessions == set(ds.EXPECTED[SESSIONS][1]) | {"s4"}
    assert {"pv8", "pv9"} <= page_views and "pv16" not in page_views


def test_by_default_every_app_is_processed_and_bots_are_filtered(options_run):
    sessions = {s for (s,) in options_run.query(f"SELECT domain_sessionid FROM {SESSIONS}")}
    assert "s9" in sessions and "s4" not in sessions
