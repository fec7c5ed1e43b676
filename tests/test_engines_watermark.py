"""The watermark strategy of the shipped multi_source_deals project, executed: one watermark
per server, late rows within the lookback, a dormant server and the health view, and a
selective backfill of one server. Postgres and DuckDB run every scenario; the Snowflake,
BigQuery and Databricks emulators run the dormant-server and backfill scenarios."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml
from support.deals import SHIPPED, DealsOnEngine, deal, project_with, utc_now

ENGINES = ["postgres", "duckdb"]
ALL_ENGINES = ["postgres", "duckdb", "snowflake", "bigquery", "databricks"]
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def deals(engine, tmp_path) -> DealsOnEngine:
    return DealsOnEngine.create(engine, tmp_path)


@pytest.mark.parametrize("engine", ALL_ENGINES, indirect=True)
def test_a_dormant_server_keeps_its_watermark_and_is_flagged_while_the_others_advance(deals):
    now = utc_now()
    for server in ("p1", "p2", "p3"):
        deals.load(server, [deal(1, now - 30 * HOUR)])
    deals.run()
    assert deals.health() == {"p1": True, "p2": True, "p3": True}  # nothing for 30 h > 24 h

    deals.load("p1", [deal(2, now - HOUR)])  # p2 stops producing
    deals.load("p3", [deal(2, now - 2 * HOUR)])
    deals.run()

    assert deals.watermarks() == {"p1": now - HOUR, "p2": now - 30 * HOUR, "p3": now - 2 * HOUR}
    assert deals.health() == {"p1": False, "p2": True, "p3": False}
    assert deals.deals() == [("p1", 1, "ok"), ("p1", 2, "ok"), ("p2", 1, "ok"), ("p3", 1, "ok"), ("p3", 2, "ok")]


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_a_server_without_any_deal_yet_is_listed_as_stale(deals):
    deals.load("p1", [deal(1, utc_now() - HOUR)])
    deals.run()
    assert deals.watermarks().keys() == {"p1"}  # no row until a server brings one
    assert deals.health() == {"p1": False, "p2": True, "p3": True}


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_late_rows_within_the_lookback_are_read_and_older_ones_are_not(engine, tmp_path):
    # late_data: off, the lookback alone (test_engines_late_data.py: the older ones found and read)
    deals = DealsOnEngine.create(engine, tmp_path, project_with(engine.name, tmp_path, late_data="off"))
    deals.load("p1", [deal(1, "2024-03-01 10:00")])
    deals.run()
    # lookback_hours: 1, so the next run reads p1's rows after 09:00.
    deals.load(
        "p1",
        [deal(2, "2024-03-01 09:30", "late"), deal(3, "2024-03-01 08:30", "too late"), deal(4, "2024-03-01 11:00")],
    )
    deals.run()
    assert deals.deals() == [("p1", 1, "ok"), ("p1", 2, "late"), ("p1", 4, "ok")]
    assert deals.watermarks() == {"p1": dt.datetime(2024, 3, 1, 11)}


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_the_watermark_never_moves_backwards(deals):
    deals.load("p1", [deal(1, "2024-03-01 09:45"), deal(2, "2024-03-01 10:00")])
    deals.run()
    deals.change("DELETE FROM mt5_p1.deals WHERE deal = 2")  # the run re-reads only 09:45 now
    deals.run()
    assert deals.watermarks() == {"p1": dt.datetime(2024, 3, 1, 10)}


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_a_rerun_reads_the_lookback_again_and_changes_nothing(deals):
    deals.load("p2", [deal(1, "2024-03-01 10:00"), deal(2, "2024-03-01 10:30")])
    deals.run()
    first, marks = deals.deals(), deals.watermarks()
    deals.run()
    assert (deals.deals(), deals.watermarks()) == (first, marks)


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_a_rewound_watermark_reads_again_from_there(deals):
    deals.load("p1", [deal(1, "2024-03-01 10:00"), deal(2, "2024-03-05 10:00")])
    deals.run()
    deals.change("UPDATE mt5_p1.deals SET comment = 'changed' WHERE deal = 1")
    deals.run()  # far behind the watermark: not read
    assert deals.deals() == [("p1", 1, "ok"), ("p1", 2, "ok")]
    deals.rewind("stg_deals__p1", "2024-03-01")
    deals.run()
    assert deals.deals() == [("p1", 1, "changed"), ("p1", 2, "ok")]
    assert deals.watermarks() == {"p1": dt.datetime(2024, 3, 5, 10)}


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_a_full_refresh_drops_the_watermarks_and_reads_every_row_again(deals):
    deals.load("p1", [deal(1, "2024-03-01 10:00"), deal(2, "2024-03-05 10:00")])
    deals.load("p3", [deal(1, "2024-03-02 10:00")])
    deals.run()
    deals.change("UPDATE mt5_p1.deals SET comment = 'changed' WHERE deal = 1")
    deals.change("DELETE FROM mt5_p3.deals")
    deals.run(full_refresh=True)
    assert deals.deals() == [("p1", 1, "changed"), ("p1", 2, "ok")]
    assert deals.watermarks() == {"p1": dt.datetime(2024, 3, 5, 10)}


# -- backfill ------------------------------------------------------------------------------------


def load_three_servers(deals: DealsOnEngine) -> None:
    deals.load(
        "p1",
        [
            deal(1, "2024-03-01 10:00"),
            deal(2, "2024-03-02 10:00"),
            deal(3, "2024-03-03 10:00"),
            deal(4, "2024-03-06 10:00"),
        ],
    )
    deals.load("p2", [deal(1, "2024-03-02 10:00")])
    deals.load("p3", [deal(1, "2024-03-03 12:00")])


@pytest.mark.parametrize("engine", ALL_ENGINES, indirect=True)
def test_backfill_replaces_exactly_one_servers_rows_in_the_range(deals):
    load_three_servers(deals)
    deals.run()
    marks = deals.watermarks()
    deals.change("UPDATE mt5_p1.deals SET comment = 'changed' WHERE deal IN (1, 2, 4)")  # 1 and 4: outside the range
    deals.change("DELETE FROM mt5_p1.deals WHERE deal = 3")
    deals.load("p1", [deal(5, "2024-03-04 23:59:59", "late")])  # long behind p1's watermark
    deals.change("UPDATE mt5_p2.deals SET comment = 'changed' WHERE deal = 1")  # another server

    deals.backfill("p1", "2024-03-02", "2024-03-05")

    assert deals.deals() == [
        ("p1", 1, "ok"), ("p1", 2, "changed"), ("p1", 4, "ok"), ("p1", 5, "late"), ("p2", 1, "ok"), ("p3", 1, "ok"),
    ]  # fmt: skip
    assert deals.watermarks() == marks


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_regular_runs_resume_from_the_watermarks_after_a_backfill(deals):
    load_three_servers(deals)
    deals.run()
    deals.backfill("deals.p1", "2024-02-01", "2024-03-03")  # older than p1's watermark: never moves it back
    deals.load("p1", [deal(6, "2024-03-07 10:00")])
    deals.run()
    assert deals.watermarks()["p1"] == dt.datetime(2024, 3, 7, 10)
    assert [row[1] for row in deals.deals() if row[0] == "p1"] == [1, 2, 3, 4, 6]


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_a_backfill_on_an_empty_range_deletes_that_servers_rows_there(deals):
    load_three_servers(deals)
    deals.run()
    deals.change("DELETE FROM mt5_p2.deals")
    deals.backfill("p2", "2024-03-01", "2024-03-03")
    assert [row[:2] for row in deals.deals()] == [("p1", 1), ("p1", 2), ("p1", 3), ("p1", 4), ("p3", 1)]


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_a_row_stamped_in_the_far_future_waits_and_does_not_move_the_watermark(deals):
    # A broken server clock: were the 2099 row read, p1's watermark would move to 2099 and
    # every real row after it would never be read again.
    deals.load("p1", [deal(1, "2024-03-01 10:00"), deal(9, "2099-01-01 12:00", "broken clock")])
    deals.run()
    deals.load("p1", [deal(2, "2024-03-02 10:00")])
    deals.run()
    assert deals.deals() == [("p1", 1, "ok"), ("p1", 2, "ok")]
    assert deals.watermarks() == {"p1": dt.datetime(2024, 3, 2, 10)}
    assert deals.future_rows() == {"p1": 1, "p2": 0, "p3": 0}


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_a_row_read_within_the_clock_skew_allowance_does_not_lift_the_watermark_past_now(engine, tmp_path):
    # lookback 1 h, allowance 2 h: a row stamped 100 minutes ahead is read; were the watermark
    # moved to it, a row stamped 30 minutes ahead that lands later (below watermark - lookback)
    # would never be read. The watermark stops at now instead, and the early row is read again.
    root = Path(shutil.copytree(SHIPPED, tmp_path / "deals"))
    spec = yaml.safe_load((root / "snowgen.yml").read_text(encoding="utf-8"))
    spec["incremental"]["clock_skew_minutes"] = 120
    (root / "snowgen.yml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    deals = DealsOnEngine.create(engine, tmp_path, root)
    now = utc_now()
    deals.load("p1", [deal(1, now + 100 * MINUTE, "early")])
    deals.run()
    assert deals.watermarks()["p1"] <= utc_now() + MINUTE
    deals.load("p1", [deal(2, now + 30 * MINUTE, "landed later")])
    deals.run()
    assert deals.deals() == [("p1", 1, "early"), ("p1", 2, "landed later")]
