"""The shipped snowplow_web project, executed on real engines from atomic.events and the web_page
context table: the generated base module and the derived models, checked against the values of
the hand-made dataset in support/snowplow_dataset.py (worked out from the reference).

Most tests read the tables of one shared first run per engine (``first_run``, module-scoped:
nothing writes to it after the run). The incremental tests share a second run on another
database (``second_run``); the idempotency test has an engine of its own.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from support import snowplow_dataset as ds
from support.data import insert_rows

from snowgen.api import CompileOptions, compile_loaded
from snowgen.build.sources import source_ddl
from snowgen.dialects import get_dialect
from snowgen.runner.execute import read_plan, run_steps
from snowgen.spec.loader import load_project

PROJECT = Path(__file__).resolve().parents[1] / "model_specs" / "snowplow_web"
ENGINES = ["postgres", "duckdb"]
CONTEXT_TABLE = "com_snowplowanalytics_snowplow_web_page_1"

PAGE_VIEWS = "derived.snowplow_web_page_views"
SESSIONS = "derived.snowplow_web_sessions"
USERS = "derived.snowplow_web_users"
USER_MAPPING = "derived.snowplow_web_user_mapping"
LIFECYCLE = "snowplow_manifest.snowplow_web_base_sessions_lifecycle_manifest"
MANIFEST = "snowplow_manifest.snowplow_web_incremental_manifest"
EVENTS_THIS_RUN = "scratch.snowplow_web_base_events_this_run"
SESSIONS_THIS_RUN = "scratch.snowplow_web_base_sessions_this_run"
ENGAGED_TIME = "scratch.snowplow_web_pv_engaged_time"
SCROLL_DEPTH = "scratch.snowplow_web_pv_scroll_depth"
USERS_AGGS = "scratch.snowplow_web_users_aggs"


# -- running the project ---------------------------------------------------------------------------
@cache
def compiled(dialect: str):
    """(source DDL, plan steps, atomic.events columns) of the project for one dialect."""
    loaded = load_project(PROJECT)
    d = get_dialect(dialect)
    ddl = [d.render(statement) for statement in source_ddl(loaded.spec, d)]
    [project] = compile_loaded(loaded, [dialect], CompileOptions(vars=ds.VARS))
    return ddl, read_plan(project.files, dialect), list(loaded.spec.sources["events"].columns)


def create_sources(engine) -> None:
    for statement in compiled(engine.name)[0]:
        engine.execute(statement)


def load(engine, events: list[dict]) -> None:
    rows = ds.atomic_rows(events, compiled(engine.name)[2])
    statements = insert_rows(engine.name, "atomic", "events", rows)
    statements += insert_rows(engine.name, "atomic", CONTEXT_TABLE, ds.context_rows(events))
    for statement in statements:
        engine.execute(statement)


def run(engine) -> None:
    for _ in run_steps(compiled(engine.name)[1], engine.execute):
        pass


def fresh_engine(request):
    return request.getfixturevalue(f"{request.param}_engine").fresh()


@pytest.fixture(scope="module", params=ENGINES)
def first_run(request):
    """An isolated database after one run over the dataset (read-only for the tests)."""
    engine = fresh_engine(request)
    try:
        create_sources(engine)
        load(engine, ds.EVENTS)
        run(engine)
        yield engine
    finally:
        engine.close()


@pytest.fixture(scope="module", params=ENGINES)
def second_run(request):
    """An isolated database after run 1, then run 2 over the late-arriving events. ``run1`` holds
    the model_tstamp of every session and page view as run 1 wrote it."""
    engine = fresh_engine(request)
    try:
        create_sources(engine)
        load(engine, ds.EVENTS)
        run(engine)
        engine.run1 = {
            table: dict(engine.query(f"SELECT {key}, model_tstamp FROM {table}"))
            for table, key in ((SESSIONS, "domain_sessionid"), (PAGE_VIEWS, "page_view_id"))
        }
        load(engine, ds.RUN2_EVENTS)
        run(engine)
        yield engine
    finally:
        engine.close()


# -- comparing -----------------------------------------------------------------------------------------
def same(actual: Any, expected: Any) -> bool:
    numeric = (int, float, Decimal)
    if isinstance(expected, numeric) and not isinstance(expected, bool):
        if not isinstance(actual, numeric) or isinstance(actual, bool):
            return False
        return abs(float(actual) - float(expected)) < 1e-9
    return actual == expected and type(actual) is type(expected)


def fetch(engine, table: str, key: str, columns: list[str]) -> dict[Any, dict[str, Any]]:
    rows = engine.query(f"SELECT {', '.join([key, *columns])} FROM {table}")
    keys = [row[0] for row in rows]
    assert len(keys) == len(set(keys)), f"{table}: duplicate keys {sorted(k for k in keys if keys.count(k) > 1)}"
    return {row[0]: dict(zip(columns, row[1:], strict=True)) for row in rows}


def check(engine, table: str, columns: list[str], expected=ds.EXPECTED) -> None:
    """Every hand-computed value of ``columns`` in ``table`` (keys without a value are skipped)."""
    key, rows = expected[table]
    wanted = {k: {c: v[c] for c in columns if c in v} for k, v in rows.items()}
    assert any(wanted.values()), f"no expected value for {columns} in {table}"
    got = fetch(engine, table, key, columns)
    problems = []
    for k, values in wanted.items():
        if values and k not in got:
            problems.append(f"{k}: missing row")
            continue
        for column, value in values.items():
            if not same(got[k][column], value):
                problems.append(f"{k}.{column}: got {got[k][column]!r}, expected {value!r}")
    assert not problems, f"{engine.name} {table}:\n  " + "\n  ".join(problems)


def keys(engine, table: str, key: str) -> set:
    return {row[0] for row in engine.query(f"SELECT {key} FROM {table}")}


# -- base module -----------------------------------------------------------------------------------------
def test_lifecycle_manifest_has_one_row_per_session_with_its_first_user_and_collector_span(first_run):
    # s2: raw domain_userids u0-rot and u1 -> max = u1; s7: the late events do not widen the span
    check(first_run, LIFECYCLE, ["user_identifier", "start_tstamp", "end_tstamp"])


def test_events_this_run_keeps_the_earliest_collector_copy_of_a_duplicated_event(first_run):
    assert first_run.query(f"SELECT count(*) FROM {EVENTS_THIS_RUN} WHERE event_id = 'e-s1-06'") == [(1,)]
    check(first_run, EVENTS_THIS_RUN, ["collector_tstamp", "page_title", "page_view_id"])


def test_events_sent_more_than_days_late_allowed_after_creation_are_dropped(first_run):
    s7 = keys(first_run, EVENTS_THIS_RUN, "event_id") & {"e-s7-01", "e-s7-02", "e-s7-03"}
    assert s7 == {"e-s7-01"}  # exactly 3 days: kept; 3 days + 1 s or no dvce_sent_tstamp: dropped


def test_events_without_a_session_id_are_dropped(first_run):
    assert "e-x-01" not in keys(first_run, EVENTS_THIS_RUN, "event_id")
    assert first_run.query(f"SELECT count(*) FROM {LIFECYCLE} WHERE session_identifier IS NULL") == [(0,)]
    assert "pv13" not in keys(first_run, PAGE_VIEWS, "page_view_id")


def test_events_this_run_carry_the_session_user_identifier_and_the_raw_ids(first_run):
    check(first_run, EVENTS_THIS_RUN, [
        "domain_userid", "original_domain_userid", "domain_sessionid", "original_domain_sessionid",
    ])  # fmt: skip


def test_incremental_manifest_has_last_success_of_every_tracked_model(first_run):
    rows = first_run.query(f"SELECT model, last_success FROM {MANIFEST} ORDER BY model")
    assert rows == [(model, ds.RUN1_LAST_SUCCESS) for model in ds.TRACKED_MODELS]


# -- which rows, which columns ---------------------------------------------------------------------------------
@pytest.mark.parametrize("table", list(ds.EXPECTED))
def test_table_has_exactly_the_expected_rows(first_run, table):
    key, rows = ds.EXPECTED[table]
    assert keys(first_run, table, key) == set(rows)


@pytest.mark.parametrize("table", list(ds.EXPECTED_COLUMN_COUNTS))
def test_final_table_column_count(first_run, table):
    schema, name = table.split(".")
    [(count,)] = first_run.query(
        f"SELECT count(*) FROM information_schema.columns WHERE table_schema = '{schema}' AND table_name = '{name}'"
    )
    assert count == ds.EXPECTED_COLUMN_COUNTS[table]


def test_model_tstamp_is_the_current_utc_time(first_run):
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for table in (PAGE_VIEWS, SESSIONS, USERS):
        [(low, high)] = first_run.query(f"SELECT min(model_tstamp), max(model_tstamp) FROM {table}")
        for value in (low, high):
            assert abs((now - value).total_seconds()) < 300, (table, value, now)


# -- user mapping ----------------------------------------------------------------------------------------
def test_user_mapping_takes_the_latest_identified_event_of_each_user(first_run):
    check(first_run, USER_MAPPING, ["user_id", "end_tstamp"])


# -- page views ----------------------------------------------------------------------------------------------
def test_engaged_time_counts_distinct_heartbeat_buckets_of_pings(first_run):
    check(first_run, ENGAGED_TIME, ["engaged_time_in_s", "end_tstamp"])
    check(first_run, PAGE_VIEWS, ["engaged_time_in_s", "end_tstamp"])


def test_scroll_depth_rounds_half_up_on_every_engine(first_run):
    check(first_run, SCROLL_DEPTH, ["hmin", "hmax", "vmin", "vmax", "relative_hmax", "relative_vmax"])
    check(first_run, PAGE_VIEWS, [
        "horizontal_pixels_scrolled", "vertical_pixels_scrolled",
        "horizontal_percentage_scrolled", "vertical_percentage_scrolled",
    ])  # fmt: skip


def test_page_view_index_and_count_in_session(first_run):
    check(first_run, PAGE_VIEWS, ["domain_sessionid", "page_view_in_session_index", "page_views_in_session"])


def test_page_view_start_end_and_absolute_time(first_run):
    check(first_run, PAGE_VIEWS, ["start_tstamp", "end_tstamp", "absolute_time_in_s"])


def test_page_view_id_duplicates_keep_the_earliest_page_view(first_run):
    check(first_run, PAGE_VIEWS, ["event_id", "page_title"])


def test_page_view_content_and_channel_groups(first_run):
    check(first_run, PAGE_VIEWS, ["content_group", "default_channel_group"])


def test_page_view_identity_and_device_columns(first_run):
    check(first_run, PAGE_VIEWS, [
        "user_id", "domain_userid", "original_domain_userid", "stitched_user_id",
        "screen_resolution", "device_category", "doc_width", "doc_height", "br_viewwidth",
    ])  # fmt: skip


def test_bots_and_null_useragents_are_filtered_except_from_pings_and_user_mapping(first_run):
    assert {"pv8", "pv9"}.isdisjoint(keys(first_run, PAGE_VIEWS, "page_view_id"))
    assert "s4" not in keys(first_run, SESSIONS, "domain_sessionid")
    assert "pv8" in keys(first_run, ENGAGED_TIME, "page_view_id") & keys(first_run, SCROLL_DEPTH, "page_view_id")
    assert first_run.query(f"SELECT user_id FROM {USER_MAPPING} WHERE domain_userid = 'u2'") == [("bob",)]


# -- sessions -----------------------------------------------------------------------------------------------------
def test_session_aggregates(first_run):
    check(first_run, SESSIONS, [
        "start_tstamp", "end_tstamp", "absolute_time_in_s", "page_views", "engaged_time_in_s", "total_events",
        "is_engaged",
    ])  # fmt: skip


def test_session_first_fields_come_from_the_first_page_event(first_run):
    check(first_run, SESSIONS, [
        "user_id", "domain_userid", "original_domain_userid", "domain_sessionidx", "first_page_title", "first_page_url",
        "referrer", "mkt_source_platform", "default_channel_group", "geo_country", "geo_city", "br_lang",
        "screen_resolution", "device_category",
    ])  # fmt: skip


def test_session_last_fields_come_from_the_last_page_view_or_fall_back_to_the_first(first_run):
    check(first_run, SESSIONS, [
        "last_page_title", "last_page_url", "last_page_urlquery", "last_geo_country", "last_geo_city",
        "last_geo_region_name", "last_br_lang",
    ])  # fmt: skip


def test_sessions_are_stitched_to_the_mapped_user_id(first_run):
    check(first_run, SESSIONS, ["stitched_user_id"])


def test_session_country_continent_and_language_names_come_from_the_seeds(first_run):
    # Reference §2.4: s8 comes from Namibia ("NA") in en-us, then from Antarctica (no continent)
    # in a language no seed row names; s1 from GB in en-GB, then FR in fr; s3 has no geo at all.
    check(first_run, SESSIONS, [
        "geo_country", "geo_country_name", "geo_continent", "last_geo_country", "last_geo_country_name",
        "last_geo_continent", "br_lang", "br_lang_name", "last_br_lang", "last_br_lang_name",
    ])  # fmt: skip


def test_channel_group_reads_the_source_category_seed(first_run):
    # Reference §2.2: a paid click from " Google " (a search source) is Paid Search, not Paid Other.
    check(first_run, SESSIONS, ["default_channel_group"])
    check(first_run, PAGE_VIEWS, ["default_channel_group"])


@pytest.mark.parametrize("table, positions", [
    (SESSIONS, {59: "geo_country_name", 60: "geo_continent", 64: "last_geo_country_name", 65: "last_geo_continent",
                70: "br_lang_name", 72: "last_br_lang_name"}),
    (USERS, {19: "first_geo_country_name", 20: "first_geo_continent", 24: "first_br_lang_name",
             33: "last_geo_country_name", 34: "last_geo_continent", 38: "last_br_lang_name"}),
])  # fmt: skip
def test_seed_derived_columns_stand_where_the_reference_puts_them(first_run, table, positions):
    schema, name = table.split(".")
    rows = first_run.query(
        f"SELECT ordinal_position, column_name FROM information_schema.columns "
        f"WHERE table_schema = '{schema}' AND table_name = '{name}'"
    )
    assert {p: c for p, c in rows if c in positions.values()} == positions


# -- users -----------------------------------------------------------------------------------------------------
def test_users_first_and_last_session_and_totals(first_run):
    check(first_run, USERS_AGGS, [
        "first_domain_sessionid", "last_domain_sessionid", "page_views", "sessions", "engaged_time_in_s",
    ])  # fmt: skip
    check(first_run, USERS, ["start_tstamp", "end_tstamp", "page_views", "sessions", "engaged_time_in_s"])


def test_users_first_fields_come_from_the_first_session(first_run):
    check(first_run, USERS, [
        "user_id", "original_domain_userid", "first_page_title", "first_geo_country", "first_geo_city",
        "first_geo_region_name", "first_br_lang", "referrer", "mkt_source_platform", "default_channel_group",
    ])  # fmt: skip


def test_users_last_fields_come_from_the_last_session(first_run):
    check(first_run, USERS, ["last_page_title", "last_geo_country", "last_geo_city", "last_br_lang"])


def test_users_country_continent_and_language_names_come_from_their_first_and_last_session(first_run):
    check(first_run, USERS, [
        "first_geo_country", "first_geo_country_name", "first_geo_continent", "first_br_lang", "first_br_lang_name",
        "last_geo_country", "last_geo_country_name", "last_geo_continent", "last_br_lang", "last_br_lang_name",
    ])  # fmt: skip


# -- the incremental run ------------------------------------------------------------------------------------------
def test_rerun_processes_only_the_sessions_with_new_events(second_run):
    assert keys(second_run, SESSIONS_THIS_RUN, "session_identifier") == set(ds.RUN2_SESSIONS_THIS_RUN)


def test_rerun_leaves_rows_of_other_sessions_untouched(second_run):
    for table, key in ((SESSIONS, "domain_sessionid"), (PAGE_VIEWS, "page_view_id")):
        now = dict(second_run.query(f"SELECT {key}, model_tstamp FROM {table}"))
        touched = set(second_run.query(f"SELECT {key} FROM {table} WHERE domain_sessionid IN ('s2', 's3', 's6')"))
        untouched = {k for k in now if (k,) not in touched}
        assert untouched and all(now[k] == second_run.run1[table][k] for k in untouched), table
        assert all(now[k] != second_run.run1[table].get(k) for (k,) in touched), table


def test_rerun_lifecycle_keeps_the_first_user_identifier_and_extends_the_span(second_run):
    check(second_run, LIFECYCLE, ["user_identifier", "start_tstamp", "end_tstamp"], ds.EXPECTED_RUN2)
    check(second_run, PAGE_VIEWS, ["domain_userid", "original_domain_userid"], ds.EXPECTED_RUN2)


def test_rerun_recomputes_page_views_of_touched_sessions(second_run):
    assert keys(second_run, PAGE_VIEWS, "page_view_id") == set(ds.EXPECTED_RUN2[PAGE_VIEWS][1])
    check(second_run, PAGE_VIEWS, [
        "page_view_in_session_index", "page_views_in_session", "engaged_time_in_s", "end_tstamp", "absolute_time_in_s",
        "user_id", "content_group",
    ], ds.EXPECTED_RUN2)  # fmt: skip


def test_rerun_recomputes_touched_sessions_from_their_first_event(second_run):
    assert keys(second_run, SESSIONS, "domain_sessionid") == set(ds.EXPECTED_RUN2[SESSIONS][1])
    check(second_run, SESSIONS, [
        "page_views", "total_events", "engaged_time_in_s", "end_tstamp", "absolute_time_in_s", "is_engaged",
        "first_page_title", "last_page_title", "stitched_user_id",
    ], ds.EXPECTED_RUN2)  # fmt: skip


def test_rerun_recomputes_users_from_their_whole_history(second_run):
    assert keys(second_run, USERS, "domain_userid") == set(ds.EXPECTED_RUN2[USERS][1])
    check(second_run, USERS, [
        "page_views", "sessions", "engaged_time_in_s", "start_tstamp", "end_tstamp",
        "first_page_title", "last_page_title",
    ], ds.EXPECTED_RUN2)  # fmt: skip


def test_rerun_replaces_the_mapping_of_users_identified_in_the_run(second_run):
    check(second_run, USER_MAPPING, ["user_id", "end_tstamp"], ds.EXPECTED_RUN2)


def test_rerun_advances_the_manifest_to_the_latest_processed_event(second_run):
    rows = second_run.query(f"SELECT model, last_success FROM {MANIFEST} ORDER BY model")
    assert rows == [(model, ds.RUN2_LAST_SUCCESS) for model in ds.TRACKED_MODELS]


def test_rerun_restitches_sessions_outside_the_run(second_run):
    # Reference §7.2: u1's mapping became alice@new in run 2; s1 was not processed in run 2, and
    # the sessions model's stitch re-sets every row of the table from the mapping.
    rows = second_run.query(f"SELECT stitched_user_id FROM {SESSIONS} WHERE domain_sessionid = 's1'")
    assert rows == [("alice@new",)]


# -- idempotence -----------------------------------------------------------------------------------------------------
def snapshot(engine) -> dict[str, list[tuple]]:
    """Every row of the final tables and the manifests, model_tstamp left out."""
    out = {}
    tables = {
        PAGE_VIEWS: "page_view_id", SESSIONS: "domain_sessionid", USERS: "domain_userid", USER_MAPPING: "domain_userid",
        LIFECYCLE: "session_identifier", MANIFEST: "model",
    }  # fmt: skip
    for table, key in tables.items():
        schema, name = table.split(".")
        columns = [
            c for (c,) in engine.query(
                f"SELECT column_name FROM information_schema.columns WHERE table_schema = '{schema}' "
                f"AND table_name = '{name}' ORDER BY ordinal_position"
            ) if c != "model_tstamp"
        ]  # fmt: skip
        out[table] = engine.query(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {key}")
    return out


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_rerun_without_new_events_changes_nothing(engine):
    create_sources(engine)
    load(engine, ds.EVENTS)
    run(engine)
    first = snapshot(engine)
    run(engine)  # the window's lookback re-reads s2, whose values must come out the same
    assert keys(engine, SESSIONS_THIS_RUN, "session_identifier") == {"s2"}
    assert snapshot(engine) == first
