"""The shipped snowplow_web project's vars for identifiers, stitching, page view scope and the
tables it reads (docs/snowplow-web-vars.md), run on Postgres and DuckDB over a few hand-made
events: each var at Snowplow's default and changed, the expected rows worked out by hand from
the documented behaviour (custom identifiers, user mapping, stray page pings, sessions table,
seed tables). tests/test_snowplow_vars_compile.py compiles the same settings for all six
dialects.

The events (2024-03-01; ``original_*``: the raw atomic ids):

| event | kind | session | user (cookie) | user_id | page view | entity com_acme_session_1 (sessionKey, userKey) |
|---|---|---|---|---|---|---|
| e1 10:00:00 | page view | s1 | u1 | | pv1 | none |
| e2 10:00:20 | page ping | s1 | u1b | bob | pv1 | none |
| e3 11:00:00 | page view (app shop) | s2 | u2 | alice | pv2 | none |
| e7 11:00:30 | page ping (stray: pv1's) | s2 | u2 | alice | pv1 | none |
| e4 12:00:00 | page view | NULL | u3 | | pv3 | k3 |
| e5 13:00:00 | page view | s4 | u4 | | pv4 | k1, member-9 |
| e6 13:05:00 | page view | s5 | u5 | | pv5 | k1, NULL |
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import snowplow_dataset as ds
from support.data import insert_rows

from snowgen.api import CompileOptions, compile_loaded
from snowgen.build.sources import source_ddl
from snowgen.dialects import get_dialect
from snowgen.runner.execute import read_plan, run_steps
from snowgen.spec.loader import load_project

PROJECT = Path(__file__).resolve().parents[1] / "model_specs" / "snowplow_web"
ENGINES = ["postgres", "duckdb"]
WEB_PAGE = "com_snowplowanalytics_snowplow_web_page_1"
ENTITY = "com_acme_session_1"
ENTITY_URI = "iglu:com.acme/session/jsonschema/1-0-0"
D1 = "2024-03-01 "

DOC = dict(doc_width=1000, doc_height=2000, br_viewwidth=800, br_viewheight=500)
EVENTS = [
    ds.event("e1", "pv", "s1", "u1", D1 + "10:00:00", page_view_id="pv1", mkt_source="example.org",
             mkt_medium="referral", br_lang="en-GB", geo_country="GB", **DOC),
    ds.event("e2", "pp", "s1", "u1b", D1 + "10:00:20", page_view_id="pv1", user_id="bob",
             pp_xoffset_max=0, pp_yoffset_max=500, **DOC),
    ds.event("e3", "pv", "s2", "u2", D1 + "11:00:00", page_view_id="pv2", user_id="alice", app_id="shop"),
    ds.event("e7", "pp", "s2", "u2", D1 + "11:00:30", page_view_id="pv1", user_id="alice",
             pp_xoffset_max=0, pp_yoffset_max=1500, **DOC),
    ds.event("e4", "pv", None, "u3", D1 + "12:00:00", page_view_id="pv3"),
    ds.event("e5", "pv", "s4", "u4", D1 + "13:00:00", page_view_id="pv4"),
    ds.event("e6", "pv", "s5", "u5", D1 + "13:05:00", page_view_id="pv5"),
]  # fmt: skip
ENTITIES = [
    {"root_id": "e4", "root_tstamp": ds.ts(D1 + "12:00:00"), "session_key": "k3", "user_key": None},
    {"root_id": "e5", "root_tstamp": ds.ts(D1 + "13:00:00"), "session_key": "k1", "user_key": "member-9"},
    {"root_id": "e6", "root_tstamp": ds.ts(D1 + "13:05:00"), "session_key": "k1", "user_key": None},
]


# -- running the project -------------------------------------------------------------------------------
def run_project(engine, variables: dict[str, Any], root: Path = PROJECT) -> None:
    """Source tables (and the custom entity's), the events, then one run with ``variables``."""
    loaded = load_project(root)
    d = get_dialect(engine.name)
    for statement in source_ddl(loaded.spec, d):
        engine.execute(d.render(statement))
    engine.execute(
        f"CREATE TABLE atomic.{ENTITY} (root_id TEXT, root_tstamp TIMESTAMP, session_key TEXT, user_key TEXT)"
    )
    rows = ds.atomic_rows(EVENTS, list(loaded.spec.sources["events"].columns))
    statements = insert_rows(engine.name, "atomic", "events", rows)
    statements += insert_rows(engine.name, "atomic", WEB_PAGE, ds.context_rows(EVENTS))
    statements += insert_rows(engine.name, "atomic", ENTITY, ENTITIES)
    for statement in statements:
        engine.execute(statement)
    [project] = compile_loaded(loaded, [engine.name], CompileOptions(vars={**ds.VARS, **variables}))
    for _ in run_steps(read_plan(project.files, engine.name), engine.execute):
        pass


def rows(engine, table: str, key: str, *columns: str) -> dict[Any, Any]:
    """key -> the value of one column, or the tuple of several."""
    found = engine.query(f"SELECT {', '.join([key, *columns])} FROM {table}")
    assert len({r[0] for r in found}) == len(found), f"{table}: duplicate keys"
    return {r[0]: (r[1] if len(columns) == 1 else tuple(r[1:])) for r in found}


# -- session identifiers -------------------------------------------------------------------------------
# fields as the schema spells them (sessionKey): the loader's table has them in snake case
ENTITY_FIRST = [{"schema": ENTITY_URI, "field": "sessionKey"}, {"schema": "atomic", "field": "domain_sessionid"}]
#: session -> its original_domain_sessionid (the first page event's raw id); page view -> session
SESSION_CASES = {
    "default": (
        {},
        {"s1": "s1", "s2": "s2", "s4": "s4", "s5": "s5"},  # e4 has no session: not processed
        {"pv1": "s1", "pv2": "s2", "pv4": "s4", "pv5": "s5"},
    ),
    "an atomic column": (
        {"session_identifiers": [{"schema": "atomic", "field": "domain_userid"}]},
        {"u1": "s1", "u1b": "s1", "u2": "s2", "u3": None, "u4": "s4", "u5": "s5"},  # u1b: its ping only
        {"pv1": "u1", "pv2": "u2", "pv3": "u3", "pv4": "u4", "pv5": "u5"},
    ),
    "an entity, then the column": (
        {"session_identifiers": ENTITY_FIRST},
        {"s1": "s1", "s2": "s2", "k3": None, "k1": "s4"},  # e5 and e6 share k1; e4 has one
        {"pv1": "s1", "pv2": "s2", "pv3": "k3", "pv4": "k1", "pv5": "k1"},
    ),
    "the entity by its table name": (
        {"session_identifiers": [{"schema": ENTITY, "field": "session_key", "prefix": "si"}, ENTITY_FIRST[1]]},
        {"s1": "s1", "s2": "s2", "k3": None, "k1": "s4"},
        {"pv1": "s1", "pv2": "s2", "pv3": "k3", "pv4": "k1", "pv5": "k1"},
    ),
    "sql": (
        {"session_sql": "upper(coalesce(e.domain_sessionid, e.domain_userid))"},
        {"S1": "s1", "S2": "s2", "U3": None, "S4": "s4", "S5": "s5"},
        {"pv1": "S1", "pv2": "S2", "pv3": "U3", "pv4": "S4", "pv5": "S5"},
    ),
}


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
@pytest.mark.parametrize("case", list(SESSION_CASES))
def test_the_session_identifier_is_read_where_the_vars_say(engine, case):
    variables, sessions, page_views = SESSION_CASES[case]
    run_project(engine, variables)
    assert rows(engine, "derived.snowplow_web_sessions", "domain_sessionid", "original_domain_sessionid") == sessions
    assert rows(engine, "derived.snowplow_web_page_views", "page_view_id", "domain_sessionid") == page_views
    lifecycle = "snowplow_manifest.snowplow_web_base_sessions_lifecycle_manifest"
    assert set(rows(engine, lifecycle, "session_identifier", "start_tstamp")) == set(sessions)


# -- user identifiers ----------------------------------------------------------------------------------
#: session -> (domain_userid: the session's user, original_domain_userid: the first page event's cookie)
USER_CASES = {
    "default": ({}, {"s1": ("u1b", "u1"), "s2": ("u2", "u2"), "s4": ("u4", "u4"), "s5": ("u5", "u5")}),
    "two columns": (  # s1: coalesce gives u1 and bob, the greatest is u1
        {
            "user_identifiers": [
                {"schema": "atomic", "field": "user_id"},
                {"schema": "atomic", "field": "domain_userid"},
            ]
        },
        {"s1": ("u1", "u1"), "s2": ("alice", "u2"), "s4": ("u4", "u4"), "s5": ("u5", "u5")},
    ),
    "an entity, then the column": (  # s1, s2: no entity row; s5: an entity without userKey
        {"user_identifiers": [{"schema": ENTITY, "field": "userKey"}, {"schema": "atomic", "field": "domain_userid"}]},
        {"s1": ("u1b", "u1"), "s2": ("u2", "u2"), "s4": ("member-9", "u4"), "s5": ("u5", "u5")},
    ),
    "sql": (
        {"user_sql": "upper(e.domain_userid)"},
        {"s1": ("U1B", "u1"), "s2": ("U2", "u2"), "s4": ("U4", "u4"), "s5": ("U5", "u5")},
    ),
    "sql that aggregates": (
        {"user_sql": "min(e.domain_userid)"},
        {"s1": ("u1", "u1"), "s2": ("u2", "u2"), "s4": ("u4", "u4"), "s5": ("u5", "u5")},
    ),
}


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
@pytest.mark.parametrize("case", list(USER_CASES))
def test_the_user_identifier_is_read_where_the_vars_say(engine, case):
    variables, sessions = USER_CASES[case]
    run_project(engine, variables)
    found = rows(engine, "derived.snowplow_web_sessions", "domain_sessionid", "domain_userid", "original_domain_userid")
    assert found == sessions
    assert set(rows(engine, "derived.snowplow_web_users", "domain_userid", "sessions")) == {
        user for user, _ in sessions.values()
    }


# -- the user stitching id -----------------------------------------------------------------------------
#: (user_mapping: user -> user_id, sessions: session -> stitched_user_id)
STITCHING_CASES = {
    "default": (
        {},
        {"u1b": "bob", "u2": "alice"},
        {"s1": "bob", "s2": "alice", "s4": "u4", "s5": "u5"},
    ),
    "an expression": (
        {"user_stitching_id": "upper(user_id)"},
        {"u1b": "BOB", "u2": "ALICE"},
        {"s1": "BOB", "s2": "ALICE", "s4": "u4", "s5": "u5"},
    ),
    "a fallback that every event has": (  # the latest event of each user: e2, e7, e5, e6
        {"user_stitching_id": "coalesce(user_id, network_userid)"},
        {"u1b": "bob", "u2": "alice", "u4": "n-u4", "u5": "n-u5"},
        {"s1": "bob", "s2": "alice", "s4": "n-u4", "s5": "n-u5"},
    ),
}


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
@pytest.mark.parametrize("case", list(STITCHING_CASES))
def test_user_mapping_copies_the_user_stitching_id(engine, case):
    variables, mapping, stitched = STITCHING_CASES[case]
    run_project(engine, variables)
    assert rows(engine, "derived.snowplow_web_user_mapping", "domain_userid", "user_id") == mapping
    assert rows(engine, "derived.snowplow_web_sessions", "domain_sessionid", "stitched_user_id") == stitched


# -- page views limited to their session ---------------------------------------------------------------
#: pv1's engaged and absolute time, end, vertical and horizontal scroll: s1's ping only (5 s, 50 %),
#: or s2's stray ping too (two heartbeat buckets: 10 x 1 + 5 = 15 s; y offset 1500 + 500 of 2000: 100 %)
PV1 = ["engaged_time_in_s", "absolute_time_in_s", "end_tstamp", "vertical_percentage_scrolled",
       "horizontal_percentage_scrolled"]  # fmt: skip
LIMIT_CASES = {
    "default": ({}, (5, 20, ds.ts(D1 + "10:00:20"), 50, 80)),
    "false": ({"limit_page_views_to_session": False}, (15, 3630, ds.ts(D1 + "11:00:30"), 100, 80)),
}


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
@pytest.mark.parametrize("case", list(LIMIT_CASES))
def test_a_page_views_pings_count_in_its_own_session_unless_the_var_is_false(engine, case):
    variables, expected = LIMIT_CASES[case]
    run_project(engine, variables)
    [found] = engine.query(f"SELECT {', '.join(PV1)} FROM derived.snowplow_web_page_views WHERE page_view_id = 'pv1'")
    assert tuple(v if isinstance(v, dt.datetime) else float(v) for v in found) == expected
    pv2 = engine.query("SELECT engaged_time_in_s FROM derived.snowplow_web_page_views WHERE page_view_id = 'pv2'")
    assert pv2 == [(0,)]  # no ping of its own either way


# -- the tables the users and sessions read --------------------------------------------------------------
SITE_SESSIONS = {
    "name": "site_sessions",
    "module": "sessions",
    "materialization": "table",
    "sql": "select s.* from snowplow_web_sessions as s where s.app_id = 'site'",
}
OWN_SEEDS = {
    "my_ga4_categories": (
        "source,source_category\nexample.org,SOURCE_CATEGORY_SOCIAL\n",
        ["source", "source_category"],
    ),
    "my_languages": ("lang_tag,name\nen-GB,English of England\n", ["lang_tag", "name"]),
    "my_countries": ("alpha_2,name,region\nGB,Britain,Europa\n", ["alpha_2", "name", "region"]),
}
SWAPPED = {
    "sessions_table": "site_sessions",
    "ga4_categories_seed": "my_ga4_categories",
    "rfc_5646_seed": "my_languages",
    "geo_mapping_seed": "my_countries",
}
LOOKUPS = ("default_channel_group", "br_lang_name", "geo_country_name", "geo_continent")


@pytest.fixture
def project_with_own_tables(tmp_path) -> Path:
    return copy_with_own_tables(tmp_path)


def copy_with_own_tables(folder: Path) -> Path:
    """The shipped project with a sessions model of its own (the sessions of app site) and
    three seeds of its own (a source category, a language name, a country)."""
    root = folder / "snowplow_web"
    shutil.copytree(PROJECT, root, ignore=shutil.ignore_patterns("*.duckdb*"))
    (root / "models" / "site_sessions.yml").write_text(yaml.safe_dump(SITE_SESSIONS), encoding="utf-8")
    spec = yaml.safe_load((root / "snowgen.yml").read_text(encoding="utf-8"))
    for name, (text, columns) in OWN_SEEDS.items():
        (root / "seeds" / f"{name}.csv").write_text(text, encoding="utf-8")
        spec["seeds"][name] = {"file": f"seeds/{name}.csv", "columns": dict.fromkeys(columns, "string")}
    (root / "snowgen.yml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return root


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_by_default_users_and_lookups_read_the_shipped_tables(engine, project_with_own_tables):
    run_project(engine, {}, project_with_own_tables)
    assert rows(engine, "derived.snowplow_web_users", "domain_userid", "sessions") == {
        "u1b": 1, "u2": 1, "u4": 1, "u5": 1,
    }  # fmt: skip
    s1 = rows(engine, "derived.snowplow_web_sessions", "domain_sessionid", *LOOKUPS)["s1"]
    assert s1[0] == "Referral" and s1[1] not in (None, "English of England")
    assert s1[2:] == ("United Kingdom of Great Britain and Northern Ireland", "Europe")  # the ISO seed


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_users_and_lookups_read_the_tables_the_vars_name(engine, project_with_own_tables):
    run_project(engine, SWAPPED, project_with_own_tables)
    # s2 (app shop) is not in site_sessions, so its user is not either
    assert rows(engine, "derived.snowplow_web_users", "domain_userid", "sessions") == {"u1b": 1, "u4": 1, "u5": 1}
    s1 = rows(engine, "derived.snowplow_web_sessions", "domain_sessionid", *LOOKUPS)["s1"]
    assert s1 == ("Organic Social", "English of England", "Britain", "Europa")
    pv1 = rows(engine, "derived.snowplow_web_page_views", "page_view_id", "default_channel_group")["pv1"]
    assert pv1 == "Organic Social"
