"""The snowplow_web seeds in a real run on Postgres and DuckDB: the country names the sessions
show under each value of the var geo_country_names (ISO 3166-1 by default, CLDR's on request),
and the channel group of traffic from sources Google's list categorizes differently from a
guess (crunchyroll and niconico are social sites there, rakuten a search site)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from support import snowplow_dataset as ds
from support.data import insert_rows

from snowgen.api import CompileOptions, compile_loaded
from snowgen.build.sources import source_ddl
from snowgen.dialects import get_dialect
from snowgen.runner.execute import read_plan, run_steps
from snowgen.spec.loader import load_project

PROJECT = Path(__file__).resolve().parents[1] / "model_specs" / "snowplow_web"
SEEDS = PROJECT / "seeds"
ENGINES = ["postgres", "duckdb"]
CONTEXT_TABLE = "com_snowplowanalytics_snowplow_web_page_1"

#: session -> (geo_country, mkt_source, mkt_medium, the channel group Google's categories give)
SESSIONS = {
    "s-crunchyroll": ("GB", "crunchyroll", None, "Organic Social"),  # a video site would be Organic Video
    "s-crunchyroll-paid": ("US", "Crunchyroll.com ", "cpc", "Paid Social"),
    "s-niconico": ("IR", "niconico", "referral", "Organic Social"),  # the category wins over medium referral
    "s-nicovideo-paid": ("KR", "nicovideo.jp", "paid_video", "Paid Social"),
    "s-rakuten": ("VN", "rakuten", None, "Organic Search"),  # a shopping site would be Organic Shopping
    "s-rakuten-paid": ("NA", "rakuten.co.jp", "ppc", "Paid Search"),
    "s-antarctica": ("AQ", "google", "organic", "Organic Search"),
}


def events() -> list[dict]:
    """One page view per session, each from its country and source."""
    return [
        ds.event(f"e-{session}", "pv", session, f"u-{session}", f"2024-03-01 10:{n:02d}:00", page_view_id=f"pv-{session}",
                 page_url="https://shop.example.com/", page_title="Home", geo_country=country, br_lang="en-GB",
                 mkt_source=source, mkt_medium=medium)
        for n, (session, (country, source, medium, _)) in enumerate(SESSIONS.items())
    ]  # fmt: skip


def seed_names(file: str) -> dict[str, tuple[str, str | None]]:
    """alpha_2 -> (name, region) as the seed file holds them (an empty region loads as NULL)."""
    with open(SEEDS / file, encoding="utf-8", newline="") as handle:
        return {row["alpha_2"]: (row["name"], row["region"] or None) for row in csv.DictReader(handle)}


def run_project(engine, geo_country_names: str) -> None:
    loaded = load_project(PROJECT)
    dialect = get_dialect(engine.name)
    options = CompileOptions(vars={**ds.VARS, "geo_country_names": geo_country_names})
    [project] = compile_loaded(loaded, [engine.name], options)
    for statement in source_ddl(loaded.spec, dialect):
        engine.execute(dialect.render(statement))
    rows = ds.atomic_rows(events(), list(loaded.spec.sources["events"].columns))
    inserts = insert_rows(engine.name, "atomic", "events", rows)
    inserts += insert_rows(engine.name, "atomic", CONTEXT_TABLE, ds.context_rows(events()))
    for statement in inserts:
        engine.execute(statement)
    for _ in run_steps(read_plan(project.files, engine.name), engine.execute):
        pass


def sessions(engine, columns: str) -> dict[str, tuple]:
    rows = engine.query(f"SELECT domain_sessionid, {columns} FROM derived.snowplow_web_sessions")
    return {row[0]: tuple(row[1:]) for row in rows}


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
@pytest.mark.parametrize(
    "choice, seed_file", [("iso", "geo_country_mapping.csv"), ("cldr", "geo_country_mapping_cldr.csv")]
)
def test_geo_country_names_picks_the_country_seed(engine, choice, seed_file):
    run_project(engine, choice)
    names = seed_names(seed_file)
    expected = {session: names[country] for session, (country, *_) in SESSIONS.items()}
    assert sessions(engine, "geo_country_name, geo_continent") == expected
    users = engine.query("SELECT domain_userid, first_geo_country_name FROM derived.snowplow_web_users")
    assert dict(users) == {f"u-{session}": name for session, (name, _) in expected.items()}
    gb = "United Kingdom of Great Britain and Northern Ireland" if choice == "iso" else "United Kingdom"
    assert expected["s-crunchyroll"] == (gb, "Europe") and expected["s-antarctica"] == ("Antarctica", None)


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_the_channel_group_follows_googles_source_categories(engine):
    run_project(engine, "iso")
    channel = {session: (group,) for session, (*_, group) in SESSIONS.items()}
    assert sessions(engine, "default_channel_group") == channel
    page_views = engine.query("SELECT domain_sessionid, default_channel_group FROM derived.snowplow_web_page_views")
    assert {session: (group,) for session, group in page_views} == channel
