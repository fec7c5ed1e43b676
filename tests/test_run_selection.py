"""``snowgen run --select/--exclude`` on DuckDB and PostgreSQL, through the command line: the
tables a selected run (or a sequence of them, as a scheduler runs modules on their own
schedules) builds equal what one full run builds for those models, and the others are not
built. snowplow_web runs on its bundled sample; multi_source_deals on a few deals."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from support.cli_runs import Database, cli, database_maker
from support.data import insert_rows

SPECS = Path(__file__).resolve().parents[1] / "model_specs"
ENGINES = ["duckdb", "postgres"]

PAGE_VIEWS = "derived.snowplow_web_page_views"
SESSIONS = "derived.snowplow_web_sessions"
USERS = "derived.snowplow_web_users"
USER_MAPPING = "derived.snowplow_web_user_mapping"
WEB_TABLES = (PAGE_VIEWS, SESSIONS, USERS, USER_MAPPING)
WEB_MANIFEST = "snowplow_manifest.snowplow_web_incremental_manifest"
INTER_DEALS = "deals.inter_deals"
WATERMARKS = "deals_manifest.multi_source_deals_watermarks"


@pytest.fixture(scope="module")
def databases(request, tmp_path_factory) -> Iterator[Callable[[str], Database]]:
    yield from database_maker(request, tmp_path_factory)


@pytest.fixture(scope="module")
def web(tmp_path_factory) -> Path:
    return Path(shutil.copytree(SPECS / "snowplow_web", tmp_path_factory.mktemp("web") / "snowplow_web"))


def run_web(web: Path, db: Database, *options: str) -> None:
    cli("run", "--project", str(web), "--db", db.url, "-q", *options)


def web_database(web: Path, databases, engine: str) -> Database:
    db = databases(engine)
    cli("sample-data", "--project", str(web), "--db", db.url)
    return db


@pytest.fixture(scope="module", params=ENGINES)
def full_web_run(request, web, databases) -> tuple[str, dict[str, list[tuple]]]:
    """One full run of snowplow_web on the sample: each derived table and the manifest."""
    db = web_database(web, databases, request.param)
    run_web(web, db)
    return request.param, {name: db.rows(name) for name in (*WEB_TABLES, WEB_MANIFEST)}


def manifest_of(rows: list[tuple], tables: set[str]) -> list[tuple]:
    models = {name.split(".")[1] for name in tables}
    return [row for row in rows if row[0] in models]


WEB_CASES = {
    "a-model": ([("-s", "snowplow_web_page_views")], {PAGE_VIEWS}),
    "tag-and-module": ([("-s", "tag:derived,module:page_views")], {PAGE_VIEWS}),
    "path": ([("-s", "path:models/page_views")], {PAGE_VIEWS}),
    "parents": ([("-s", "+snowplow_web_users")], {USERS, SESSIONS, USER_MAPPING}),
    "children-after-their-parent": (
        [("-s", "snowplow_web_user_mapping"), ("-s", "snowplow_web_sessions+")],
        {USER_MAPPING, SESSIONS, USERS},
    ),
    "at": ([("-s", "@snowplow_web_sessions")], {USER_MAPPING, SESSIONS, USERS}),
    "exclude": ([("--exclude", "module:page_views")], {USER_MAPPING, SESSIONS, USERS}),
    "modules-on-their-own-schedules": (
        [("-s", "module:user_mapping"), ("-s", "module:sessions"), ("-s", "module:users"), ("-s", "module:page_views")],
        set(WEB_TABLES),
    ),
}


@pytest.mark.parametrize(("runs", "built"), WEB_CASES.values(), ids=WEB_CASES.keys())
def test_a_selected_run_builds_what_a_full_run_builds_for_its_models(web, databases, full_web_run, runs, built):
    engine, full = full_web_run
    db = web_database(web, databases, engine)
    for options in runs:
        run_web(web, db, *options)
    for name in WEB_TABLES:
        if name in built:
            assert db.rows(name) == full[name], name
        else:
            assert not db.exists(name), f"{name} was built"
    assert db.rows(WEB_MANIFEST) == manifest_of(full[WEB_MANIFEST], built)


def test_a_model_alone_reads_an_unselected_parent_as_it_is(web, databases, full_web_run):
    engine, full = full_web_run
    db = web_database(web, databases, engine)
    run_web(web, db, "-s", "+snowplow_web_sessions")
    run_web(web, db, "-s", "snowplow_web_users")  # reads the sessions table of the earlier run
    assert db.rows(USERS) == full[USERS]


# -- the watermark strategy ----------------------------------------------------------------------------------

DEAL = {"login": 1, "symbol": "EURUSD", "action": 0, "entry": 0, "volume": Decimal("1"), "price": Decimal("1.1"),
        "profit": Decimal("2"), "commission": Decimal("0"), "swap": Decimal("0"), "comment": "ok"}  # fmt: skip


def deals_database(databases, engine: str, deals: Path) -> Database:
    db = databases(engine)
    cli("sources", "--project", str(deals), "--db", db.url)
    statements = []
    for number, server in enumerate(("p1", "p2", "p3", "p1"), start=1):
        row = {**DEAL, "deal": number, "timemsc": dt.datetime(2024, 3, 1, 10, number)}
        statements += insert_rows(engine, f"mt5_{server}", "deals", [row])
    for statement in statements:
        db.query(statement)
    return db


@pytest.mark.parametrize("engine", ENGINES)
def test_a_selected_watermark_run_equals_the_full_run(databases, tmp_path, engine):
    deals = Path(shutil.copytree(SPECS / "multi_source_deals", tmp_path / "multi_source_deals"))
    full = deals_database(databases, engine, deals)
    cli("run", "--project", str(deals), "--db", full.url, "-q")
    db = deals_database(databases, engine, deals)
    cli("run", "--project", str(deals), "--db", db.url, "-q", "-s", "stg_deals__p1")
    assert db.rows(WATERMARKS) == []  # a watermark model without its readers: its watermark stays
    cli("run", "--project", str(deals), "--db", db.url, "-q", "-s", "inter_deals")
    assert db.rows(INTER_DEALS) == full.rows(INTER_DEALS) and len(db.rows(INTER_DEALS)) == 4
    assert db.rows(WATERMARKS) == full.rows(WATERMARKS)
