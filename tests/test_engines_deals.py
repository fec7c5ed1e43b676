"""The shipped multi_source_deals project, executed on real engines: staging per server,
then the composite-key upsert into inter_deals, run after run."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from support.data import insert_rows

from snowgen.api import compile_loaded
from snowgen.build.sources import source_ddl
from snowgen.dialects import get_dialect
from snowgen.runner.execute import read_plan, run_steps
from snowgen.spec.loader import load_project

PROJECT = Path(__file__).resolve().parents[1] / "model_specs" / "multi_source_deals"
ENGINES = ["postgres", "duckdb"]


def deal(number: int, when: str, profit: str = "1.00", comment: str = "ok") -> dict:
    return {
        "deal": number, "login": 1000 + number, "timemsc": dt.datetime.fromisoformat(when), "symbol": "EURUSD",
        "action": 0, "entry": 0, "volume": Decimal("1.5"), "price": Decimal("1.08500"),
        "profit": Decimal(profit), "commission": Decimal("0"), "swap": Decimal("0"), "comment": comment,
    }  # fmt: skip


@pytest.fixture
def deals_engine(engine):
    loaded = load_project(PROJECT)
    dialect = get_dialect(engine.name)
    for statement in source_ddl(loaded.spec, dialect):
        engine.execute(dialect.render(statement))
    [compiled] = compile_loaded(loaded, [engine.name])
    engine.steps = read_plan(compiled.files, engine.name)
    return engine


def load(engine, server: str, rows: list[dict]) -> None:
    for statement in insert_rows(engine.name, f"mt5_{server}", "deals", rows):
        engine.execute(statement)


def run(engine) -> None:
    for _ in run_steps(engine.steps, engine.execute):
        pass


def table(engine) -> list[tuple]:
    return engine.query(
        'SELECT "server_source", "deal", CAST("profit" AS VARCHAR), "comment", CAST("deal_date" AS VARCHAR) '
        'FROM "deals"."inter_deals" ORDER BY 1, 2'
    )


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_first_run_merges_every_server(deals_engine):
    load(deals_engine, "p1", [deal(1, "2024-03-01 10:00"), deal(2, "2024-03-02 11:00")])
    load(deals_engine, "p2", [deal(1, "2024-03-01 12:00")])
    run(deals_engine)
    assert table(deals_engine) == [
        ("p1", 1, "1.00", "ok", "2024-03-01"),
        ("p1", 2, "1.00", "ok", "2024-03-02"),
        ("p2", 1, "1.00", "ok", "2024-03-01"),
    ]


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_same_deal_number_on_two_servers_stays_two_rows_after_updates(deals_engine):
    load(deals_engine, "p1", [deal(7, "2024-03-01 10:00")])
    load(deals_engine, "p3", [deal(7, "2024-03-01 10:00")])
    run(deals_engine)
    deals_engine.execute('UPDATE "mt5_p3"."deals" SET "profit" = 9.5, "comment" = \'fixed\' WHERE "deal" = 7')
    run(deals_engine)
    assert table(deals_engine) == [("p1", 7, "1.00", "ok", "2024-03-01"), ("p3", 7, "9.50", "fixed", "2024-03-01")]


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_rerun_changes_nothing(deals_engine):
    load(deals_engine, "p2", [deal(1, "2024-03-01 10:00"), deal(2, "2024-03-05 10:00")])
    run(deals_engine)
    first = table(deals_engine)
    run(deals_engine)
    assert table(deals_engine) == first


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_duplicate_source_rows_keep_the_latest(deals_engine):
    # The same (server, deal) twice in one batch: the stage keeps one row (the latest timemsc),
    # so neither MERGE nor delete+insert ever sees duplicates.
    load(deals_engine, "p1", [deal(3, "2024-03-01 10:00", comment="old"), deal(3, "2024-03-01 10:05", comment="new")])
    run(deals_engine)
    assert table(deals_engine) == [("p1", 3, "1.00", "new", "2024-03-01")]


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_rows_outside_the_upsert_window_are_not_matched(deals_engine):
    # upsert_lookback_days is 7: a stored row whose timemsc is older than min(batch) - 7 days
    # is outside the window and survives next to the new copy (reference §3.2, made explicit).
    load(deals_engine, "p1", [deal(5, "2024-01-01 10:00", comment="january")])
    run(deals_engine)
    deals_engine.execute('DELETE FROM "mt5_p1"."deals"')
    load(deals_engine, "p1", [deal(5, "2024-03-01 10:00", comment="march")])
    run(deals_engine)
    assert [row[3] for row in table(deals_engine)] == ["january", "march"]
