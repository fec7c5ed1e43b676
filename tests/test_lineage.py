"""Column-level lineage (snowgen.plan.lineage) of the shipped projects' key columns and of
small bodies with CTEs, stars, joins, aggregates, subqueries and unions; `snowgen lineage`'s
text and errors in full."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from support.projects import write_project

from snowgen import api
from snowgen.cli import main

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "model_specs"


@pytest.fixture(scope="module")
def shipped():
    """project -> (plan, lineage), each project planned once for the module."""
    return {
        p: api.lineage(api.load_project(SPECS / p))
        for p in ("snowplow_web", "snowplow_media_player", "multi_source_deals")
    }


def origins(found, model: str, column: str) -> set[str]:
    return {f"{r.kind} {r.relation}.{r.column}" for r in found.origins(model, column)}


# model.column -> the source, seed and context columns it is computed from
SHIPPED = [
    ("snowplow_web", "snowplow_web_page_views.page_view_id", {"context web_page.id"}),
    ("snowplow_web", "snowplow_web_page_views.event_id", {"source events.event_id"}),
    ("snowplow_web", "snowplow_web_sessions.domain_sessionid", {"source events.domain_sessionid"}),
    ("snowplow_web", "snowplow_web_sessions.original_domain_sessionid", {"source events.domain_sessionid"}),
    ("snowplow_web", "snowplow_web_users.domain_userid", {"source events.domain_userid"}),
    ("snowplow_web", "snowplow_web_sessions.geo_country_name", {"seed snowplow_web_dim_geo_country_mapping.name"}),
    ("snowplow_web", "snowplow_web_page_views.end_tstamp", {"source events.derived_tstamp"}),
    ("snowplow_web", "snowplow_web_page_views.vertical_pixels_scrolled",
     {"source events.doc_height", "source events.pp_yoffset_max"}),
    ("snowplow_web", "snowplow_web_page_views.default_channel_group",
     {"seed snowplow_web_dim_ga4_source_categories.source_category", "source events.mkt_campaign",
      "source events.mkt_medium", "source events.mkt_source"}),
    ("snowplow_web", "snowplow_web_user_mapping.user_id", {"source events.user_id"}),
    ("snowplow_web", "snowplow_web_page_views.model_tstamp", set()),
    ("snowplow_media_player", "snowplow_media_player_base.page_view_id", {"context web_page.id"}),
    ("snowplow_media_player", "snowplow_media_player_base.player_id",
     {"context html5_media_element.htmlId", "context youtube.playerId"}),
    ("multi_source_deals", "inter_deals.deal", {"source deals.deal"}),
    ("multi_source_deals", "inter_deals.deal_date", {"source deals.timemsc"}),
    ("multi_source_deals", "inter_deals.server_source", set()),
]  # fmt: skip


@pytest.mark.parametrize(("project", "column", "expected"), SHIPPED, ids=[c for _, c, _ in SHIPPED])
def test_shipped_key_column_comes_from(shipped, project, column, expected):
    _, found = shipped[project]
    assert origins(found, *column.split(".")) == expected


def test_shipped_bodies_are_all_traced(shipped):
    assert {project: dict(found.unknown) for project, (_, found) in shipped.items()} == {
        project: {} for project in shipped
    }


def test_one_step_up_names_the_upstream_model(shipped):
    _, found = shipped["snowplow_web"]
    assert [f"{r.kind} {r.relation}.{r.column}" for r in found.inputs("snowplow_web_page_views", "page_view_id")] == [
        "model snowplow_web_page_views_this_run.page_view_id"
    ]


SMALL_BODY = """
with totals as (
  select e.app_id, sum(e.amount) as revenue, max(e.ts) as last_ts
  from events as e
  group by e.app_id
),
starred as (select * from totals)
select
  s.app_id,
  s.revenue * 2 as doubled,
  (select count(*) from events as x where x.app_id = s.app_id) as event_count,
  u.useragent as agent,
  s.last_ts
from starred as s
left join (select id, useragent from events union all select id, app_id from events) as u on u.id = 1
"""

SMALL = [
    ("app_id", {"source events.app_id"}),  # through a CTE and a star over it
    ("doubled", {"source events.amount"}),  # an aggregate, then arithmetic
    ("event_count", set()),  # count(*) reads no column's value
    ("agent", {"source events.useragent", "source events.app_id"}),  # both branches of a union
    ("last_ts", {"source events.ts"}),
]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    root = write_project(tmp_path_factory.mktemp("lineage") / "demo", [{"name": "m", "sql": SMALL_BODY}])
    return api.lineage(api.load_project(root))[1]


@pytest.mark.parametrize(("column", "expected"), SMALL, ids=[c for c, _ in SMALL])
def test_small_body_column_comes_from(small, column, expected):
    assert origins(small, "m", column) == expected


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_cli_prints_the_tree_down_to_the_source():
    result = run("lineage", "snowplow_web_sessions.domain_sessionid", "--project", str(SPECS / "snowplow_web"))
    assert result.exit_code == 0, result.output
    assert result.output == (
        "snowplow_web_sessions.domain_sessionid\n"
        "  <- model snowplow_web_sessions_this_run.domain_sessionid\n"
        "    <- model snowplow_web_base_events_this_run.domain_sessionid\n"
        "      <- model snowplow_web_base_sessions_this_run.session_identifier\n"
        "        <- model snowplow_web_base_sessions_lifecycle_manifest.session_identifier\n"
        "          <- source events.domain_sessionid (atomic.events)\n"
    )


def test_cli_says_when_a_column_reads_no_column():
    result = run("lineage", "snowplow_web_page_views.model_tstamp", "--project", str(SPECS / "snowplow_web"))
    assert result.output == (
        "snowplow_web_page_views.model_tstamp\n"
        "  <- model snowplow_web_page_views_this_run.model_tstamp\n"
        "    (reads no column: a constant, or computed by snowgen)\n"
    )


ERRORS = [
    ("snowplow_web_page_view.page_view_id",
     "snowgen: SG290 unknown model 'snowplow_web_page_view' (did you mean 'snowplow_web_page_views'?)\n"),
    ("snowplow_web_page_views.page_view",
     "snowgen: SG291 unknown column 'page_view' of model 'snowplow_web_page_views' (did you mean 'page_view_id'?)\n"),
    ("page_view_id", "snowgen: SG292 'page_view_id' is not MODEL.COLUMN (e.g. snowplow_web_page_views.page_view_id)\n"),
    ("snowplow_web_page_views.", "snowgen: SG292 'snowplow_web_page_views.' is not MODEL.COLUMN (e.g. snowplow_web_page_views.page_view_id)\n"),
]  # fmt: skip


@pytest.mark.parametrize(("argument", "message"), ERRORS, ids=[a for a, _ in ERRORS])
def test_cli_error_in_full(argument, message):
    result = run("lineage", argument, "--project", str(SPECS / "snowplow_web"))
    assert (result.exit_code, result.output) == (2, message)


EXACT_CASE_BODY = 'select "MixedCase" as "Out", App_Id from (select app_id as "MixedCase", app_id from events) as t'


@pytest.mark.parametrize("body_dialect", ["postgres", "snowflake", "duckdb"])
def test_names_are_traced_as_snowgen_stores_them_whatever_the_body_dialect(tmp_path, body_dialect):
    """Plain names in lower case, quoted ones exact (Snowflake's own folding would upper-case them)."""
    root = write_project(tmp_path / "demo", [{"name": "m", "sql": EXACT_CASE_BODY}], sql_dialect=body_dialect)
    _, found = api.lineage(api.load_project(root))
    assert [origins(found, "m", c) for c in ("Out", "app_id")] == [{"source events.app_id"}] * 2


def test_a_body_the_optimizer_cannot_qualify_is_said_not_guessed(tmp_path):
    body = "select a.id from events as a join events as b using (nope)"
    root = write_project(tmp_path / "demo", [{"name": "m", "sql": body}])
    result = run("lineage", "m.id", "--project", str(root))
    assert (result.exit_code, result.output) == (0, "m.id\n  (lineage not traced: Cannot automatically join: nope)\n")
