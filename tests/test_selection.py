"""``--select`` / ``--exclude``: dbt's selector grammar (snowgen.plan.selection) and what a
subset run adds to it (snowgen.plan.subset), resolved on the shipped projects: the exact
set of nodes each form gives. tests/test_run_selection.py runs them; the errors are in
tests/errors/test_selection_errors.py."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import jsonschema
import pytest

from snowgen.api import CompileOptions, compile_loaded, load_project, plan_loaded
from snowgen.plan.selection import ALL, Selector, parse_selection, selection_variant

SPECS = Path(__file__).resolve().parents[1] / "model_specs"


# -- the grammar -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("users", Selector("users", "name", "users")),
        ("+users", Selector("+users", "name", "users", parents=ALL)),
        ("2+users", Selector("2+users", "name", "users", parents=2)),
        ("users+", Selector("users+", "name", "users", children=ALL)),
        ("users+1", Selector("users+1", "name", "users", children=1)),
        ("+users+", Selector("+users+", "name", "users", parents=ALL, children=ALL)),
        ("@users", Selector("@users", "name", "users", at=True)),
        ("tag:nightly", Selector("tag:nightly", "tag", "nightly")),
        ("+tag:nightly", Selector("+tag:nightly", "tag", "nightly", parents=ALL)),
        ("path:models/users", Selector("path:models/users", "path", "models/users")),
        ("path:models/users/", Selector("path:models/users/", "path", "models/users/")),
        ("module:page_views+", Selector("module:page_views+", "module", "page_views", children=ALL)),
        ("MODULE:users", Selector("MODULE:users", "module", "users")),
        ("users_*", Selector("users_*", "name", "users_*")),
    ],
)
def test_one_selector(text, expected):
    assert parse_selection([text], "--select") == ((expected,),)


def test_spaces_separate_a_union_and_commas_an_intersection():
    parsed = parse_selection(["a b,tag:x", "module:m"], "--select")
    assert [[s.text for s in word] for word in parsed] == [["a"], ["b", "tag:x"], ["module:m"]]


# -- resolution on the shipped projects --------------------------------------------------------------------

W = "snowplow_web_"
BASE = {
    f"{W}{n}"
    for n in (
        "incremental_manifest", "base_quarantined_sessions", "base_new_event_limits",
        "base_sessions_lifecycle_manifest", "base_sessions_this_run", "base_quarantine_sessions",
        "base_events_this_run",
    )
}  # fmt: skip
USER_MAPPING = {f"{W}user_mapping", f"{W}user_mapping_complete"}
PAGE_VIEWS_TABLES = {f"{W}{n}" for n in ("pv_engaged_time", "pv_scroll_depth", "page_views_this_run")}
PAGE_VIEWS = PAGE_VIEWS_TABLES | {f"{W}page_views", f"{W}page_views_complete"}
SESSIONS = {f"{W}sessions_this_run", f"{W}sessions", f"{W}sessions_complete"}
USERS_TABLES = {f"{W}{n}" for n in ("users_sessions_this_run", "users_aggs", "users_lasts", "users_this_run")}
USERS = USERS_TABLES | {f"{W}users", f"{W}users_complete"}
EVERYTHING = BASE | USER_MAPPING | PAGE_VIEWS | SESSIONS | USERS


@cache
def selected(project: str, select: tuple[str, ...] = (), exclude: tuple[str, ...] = ()) -> frozenset[str] | None:
    options = CompileOptions(select=select, exclude=exclude)
    return plan_loaded(load_project(SPECS / project), options).selected


@pytest.mark.parametrize(
    ("select", "exclude", "expected"),
    [
        # a model alone: its this-run inputs, the base module and its complete step come with it
        ((f"{W}users",), (), BASE | USERS),
        ((f"{W}page_views",), (), BASE | PAGE_VIEWS),
        # a table alone is just it: it reads the base module's tables as they are
        ((f"{W}users_this_run",), (), {f"{W}users_this_run"}),
        ((f"{W}pv_engaged_time",), (), {f"{W}pv_engaged_time"}),
        # what it reads, transitively (the incremental sessions and user mapping too)
        ((f"+{W}users",), (), BASE | USER_MAPPING | SESSIONS | USERS),
        ((f"1+{W}users",), (), BASE | USERS),
        ((f"2+{W}sessions",), (), BASE | USER_MAPPING | SESSIONS),
        ((f"1+{W}sessions_this_run",), (), BASE | USER_MAPPING | {f"{W}sessions_this_run"}),
        # what reads it
        ((f"{W}sessions+",), (), BASE | SESSIONS | USERS),
        ((f"{W}sessions+1",), (), BASE | SESSIONS | {f"{W}users_sessions_this_run"}),
        ((f"{W}user_mapping+",), (), BASE | USER_MAPPING | SESSIONS | USERS),
        ((f"+{W}sessions+",), (), BASE | USER_MAPPING | SESSIONS | USERS),
        ((f"@{W}sessions",), (), BASE | USER_MAPPING | SESSIONS | USERS),
        # methods
        (("module:users",), (), BASE | USERS),
        (("module:base",), (), BASE),
        (("path:models/users",), (), BASE | USERS),
        (("path:models/users/",), (), BASE | USERS),
        ((f"path:models/page_views/{W}page_views.yml",), (), BASE | PAGE_VIEWS),
        (
            ("path:models/*/*_this_run.yml",),
            (),
            {f"{W}page_views_this_run", f"{W}sessions_this_run", f"{W}users_sessions_this_run", f"{W}users_this_run"},
        ),
        (("tag:this_run",), (), PAGE_VIEWS_TABLES | USERS_TABLES | {f"{W}sessions_this_run"}),
        (("tag:derived",), (), BASE | USER_MAPPING | PAGE_VIEWS | SESSIONS | USERS),
        (("+tag:this_run",), (), BASE | USER_MAPPING | PAGE_VIEWS_TABLES | SESSIONS | USERS_TABLES),
        ((f"{W}users*",), (), BASE | USERS),
        ((f"{W}users_*",), (), USERS_TABLES),  # not the model itself; its complete step is never chosen
        (("snowplow_web_users_?ggs",), (), {f"{W}users_aggs"}),
        # several: a union; with commas: an intersection
        (("module:users module:page_views",), (), BASE | USERS | PAGE_VIEWS),
        (("module:users", "module:page_views"), (), BASE | USERS | PAGE_VIEWS),
        (("tag:derived,module:users",), (), BASE | USERS),
        (("tag:this_run,module:users",), (), USERS_TABLES),
        ((f"+{W}users,module:sessions",), (), BASE | SESSIONS),
        # --exclude, with or without --select
        (("module:users",), (f"{W}users",), USERS_TABLES),
        ((), ("module:page_views",), EVERYTHING - PAGE_VIEWS),
        ((), (f"{W}sessions+",), BASE | USER_MAPPING | PAGE_VIEWS | {f"{W}sessions_this_run"}),
        ((), ("tag:this_run+",), BASE | USER_MAPPING),
        ((f"+{W}users",), ("module:sessions+",), BASE | USER_MAPPING),
    ],
)
def test_snowplow_web(select, exclude, expected):
    assert selected("snowplow_web", select, exclude) == expected


D = "multi_source_deals_"
STAGING = {"stg_deals__p1", "stg_deals__p2", "stg_deals__p3"}
#: the state tables a watermark model reads: the watermarks and the intervals read (late rows)
STATE = {f"{D}watermarks", f"{D}watermarks_intervals"}
DEALS = {*STATE, *STAGING, "inter_deals", f"{D}watermarks_intervals_update", f"{D}watermarks_update"}


@pytest.mark.parametrize(
    ("select", "exclude", "expected"),
    [
        # the watermark update comes with a watermark model and every incremental model reading it
        (("inter_deals",), (), DEALS),
        (("stg_deals",), (), {*STATE, *STAGING}),
        (("stg_deals__p1",), (), {*STATE, "stg_deals__p1"}),
        (("stg_deals__p1+",), (), DEALS),
        (("@stg_deals__p2",), (), DEALS),
        (("+inter_deals",), (), DEALS),
        (("module:staging",), (), {*STATE, *STAGING}),
        (("path:models/stg_deals.yml",), (), {*STATE, *STAGING}),
        (("tag:derived",), (), DEALS),
        ((f"{D}watermark_health",), (), {f"{D}watermarks", f"{D}watermark_health"}),
        ((), ("inter_deals",), {*STATE, f"{D}watermark_health", *STAGING}),
        ((), (f"{D}watermark_health",), DEALS),
    ],
)
def test_multi_source_deals(select, exclude, expected):
    assert selected("multi_source_deals", select, exclude) == expected


def test_no_selection_is_the_whole_plan():
    assert selected("snowplow_web") is None


def test_only_the_selected_tracked_models_count_in_the_run_limits():
    options = CompileOptions(select=(f"{W}sessions+",))
    plan = plan_loaded(load_project(SPECS / "snowplow_web"), options)
    assert plan.strategy.tracked == (f"{W}sessions", f"{W}users")


def test_a_subset_run_still_takes_the_lock_and_records_the_run():
    options = CompileOptions(select=(f"{W}users_this_run",))
    steps = [s.id for s in plan_loaded(load_project(SPECS / "snowplow_web"), options).steps]
    assert steps == ["acquire_lock", "create_schemas", "start_run", f"{W}users_this_run", "release_lock"]


def test_seeds_come_with_the_models_that_read_them():
    options = CompileOptions(select=(f"{W}page_views_this_run",))
    steps = [s.id for s in plan_loaded(load_project(SPECS / "snowplow_web"), options).steps]
    assert f"{W}dim_ga4_source_categories" in steps and f"{W}dim_geo_country_mapping" not in steps


# -- the output folder of a selection ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("select", "exclude", "folder"),
    [
        (("module:page_views",), (), "select-module-page_views"),
        (("+users", "tag:nightly"), (), "select-+users--tag-nightly"),
        (("tag:nightly +users",), (), "select-+users--tag-nightly"),  # the same selection, the same folder
        (("module:users,tag:derived",), (), "select-module-users,tag-derived"),
        (("tag:derived,module:users",), (), "select-module-users,tag-derived"),
        (("@users",), ("path:models/users/lasts.yml",), "select-@users-exclude-path-models.users.lasts.yml"),
        ((), ("users+",), "exclude-users+"),
        (("users_*",), (), "select-users__-2836942b"),  # a pattern: ambiguous as a folder name, so a digest
        (("tag:a-b",), (), "select-tag-a-b-fe518245"),
        ((), (), None),
    ],
)
def test_selection_variant(select, exclude, folder):
    assert selection_variant(select, exclude) == folder


def test_a_long_selection_gets_a_short_digest():
    variant = selection_variant([" ".join(f"model_number_{i}" for i in range(20))], [])
    assert len(variant) <= 90 and variant == selection_variant([" ".join(f"model_number_{i}" for i in range(20))], [])
    assert variant != selection_variant([" ".join(f"model_number_{i}" for i in range(21))], [])


# -- a subset plan is a plan.json like any other ------------------------------------------------------------

SCHEMA = json.loads((SPECS.parent / "docs" / "plan.schema.json").read_text())


@pytest.mark.parametrize(
    ("project", "select", "exclude"),
    [
        ("snowplow_web", (f"{W}users",), ()),
        ("snowplow_web", (f"{W}users_this_run",), ()),
        ("snowplow_web", (f"@{W}sessions",), ()),
        ("snowplow_web", ("tag:this_run",), ()),
        ("snowplow_web", (), ("module:page_views",)),
        ("multi_source_deals", ("stg_deals__p1",), ()),
    ],
)
def test_a_subset_plan_validates_and_depends_only_on_its_own_steps(project, select, exclude):
    options = CompileOptions(select=select, exclude=exclude)
    [compiled] = compile_loaded(load_project(SPECS / project), ["duckdb"], options)
    plan = json.loads(compiled.files["plan.json"])
    jsonschema.Draft202012Validator(SCHEMA).validate(plan)
    ids = [step["id"] for step in plan["steps"]]
    for position, step in enumerate(plan["steps"]):
        assert set(step["depends_on"]) <= set(ids[:position]), step["id"]
    assert set(plan["selected"]) == selected(project, select, exclude)
