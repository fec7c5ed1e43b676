"""Late rows under the watermark strategy (snowgen.plan.late_data), executed on the shipped
multi_source_deals project: a row that lands below a watermark (minus the lookback) after it
moved is found by ``snowgen health`` and, with ``late_data: reprocess`` (the default), read by
the next run; with ``report`` it is reported and not read; with ``off`` nothing is recorded.
Postgres and DuckDB run every scenario; the Snowflake, BigQuery and Databricks emulators run
the first and the rewind."""

from __future__ import annotations

import datetime as dt

import pytest
from support.deals import DealsOnEngine, deal, project_with

ENGINES = ["postgres", "duckdb"]
ALL_ENGINES = ["postgres", "duckdb", "snowflake", "bigquery", "databricks"]
T = dt.datetime.fromisoformat


def on(engine, tmp_path, **incremental) -> DealsOnEngine:
    project = project_with(engine.name, tmp_path, **incremental) if incremental else None
    return DealsOnEngine.create(engine, tmp_path, project)


def two_days(deals: DealsOnEngine) -> None:
    """p1 with a deal on 1 and 2 March, run once: its watermark is 2 March 10:00, and the
    run recorded [28 Feb 10:00, 1 Mar) with no row and [1 Mar, 2 Mar 09:00) with one."""
    deals.load("p1", [deal(1, "2024-03-01 10:00"), deal(2, "2024-03-02 10:00")])
    deals.run()
    assert deals.intervals("p1") == [
        (T("2024-02-28 10:00"), T("2024-03-01 00:00"), 0),
        (T("2024-03-01 00:00"), T("2024-03-02 09:00"), 1),
    ]


@pytest.mark.parametrize("engine", ALL_ENGINES, indirect=True)
def test_a_late_row_below_the_watermark_is_found_and_read_by_the_next_run(engine, tmp_path):
    deals = on(engine, tmp_path)
    two_days(deals)
    deals.load("p1", [deal(3, "2024-03-01 12:00", "late")])  # 21 h below the watermark, lookback 1 h
    assert deals.late_rows() == [("p1", T("2024-03-01"), 1, 2)]
    deals.run()
    assert deals.deals() == [("p1", 1, "ok"), ("p1", 2, "ok"), ("p1", 3, "late")]
    assert deals.late_rows() == []
    assert deals.intervals("p1")[-1] == (T("2024-03-01 00:00"), T("2024-03-02 09:00"), 2)  # the new count
    assert deals.watermarks() == {"p1": T("2024-03-02 10:00")}


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_with_report_a_late_row_is_reported_and_not_read(engine, tmp_path):
    deals = on(engine, tmp_path, late_data="report")
    two_days(deals)
    deals.load("p1", [deal(3, "2024-03-01 12:00", "late")])
    deals.run()
    assert deals.deals() == [("p1", 1, "ok"), ("p1", 2, "ok")]
    assert deals.late_rows() == [("p1", T("2024-03-01"), 1, 2)]
    report = deals.health_report()
    assert "late_rows" in report.problems and report.exit_code == 1


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_with_off_nothing_is_recorded_reported_or_read(engine, tmp_path):
    deals = on(engine, tmp_path, late_data="off")
    deals.load("p1", [deal(1, "2024-03-01 10:00"), deal(2, "2024-03-02 10:00")])
    deals.run()
    deals.load("p1", [deal(3, "2024-03-01 12:00", "late")])
    deals.run()
    assert deals.deals() == [("p1", 1, "ok"), ("p1", 2, "ok")]
    report = deals.health_report()
    assert report.late_intervals == () and "late_rows" not in report.problems


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_a_row_landing_after_the_read_is_not_counted_as_read(engine, tmp_path):
    # The rows are counted before the model reads: a row that lands while the run goes on
    # (after the read, before the intervals are recorded) was not read, and is found.
    deals = on(engine, tmp_path)
    deals.load("p1", [deal(1, "2024-03-01 10:00"), deal(2, "2024-03-02 10:00")])
    deals.run(after={"stg_deals__p1": lambda: deals.load("p1", [deal(3, "2024-03-01 15:00", "during the run")])})
    assert deals.deals() == [("p1", 1, "ok"), ("p1", 2, "ok")]
    assert deals.late_rows() == [("p1", T("2024-03-01"), 1, 2)]
    deals.run()
    assert deals.deals() == [("p1", 1, "ok"), ("p1", 2, "ok"), ("p1", 3, "during the run")]


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_intervals_are_one_per_day_however_often_the_project_runs(engine, tmp_path):
    deals = on(engine, tmp_path)
    for number, when in enumerate(("2024-03-01 10:00", "2024-03-01 12:00", "2024-03-01 14:00", "2024-03-02 08:00")):
        deals.load("p1", [deal(number, when)])
        deals.run()
    assert deals.intervals("p1") == [
        (T("2024-02-27 10:00"), T("2024-03-01 09:00"), 0),
        (T("2024-03-01 09:00"), T("2024-03-02 07:00"), 3),  # three runs joined on 1 March
    ]
    deals.load("p1", [deal(9, "2024-03-01 20:00", "late")])
    assert deals.late_rows() == [("p1", T("2024-03-01 09:00"), 3, 4)]


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_a_late_row_beyond_the_horizon_is_neither_reported_nor_read(engine, tmp_path):
    deals = on(engine, tmp_path)
    deals.load("p1", [deal(1, "2024-03-10 10:00")])
    deals.run()
    deals.load("p1", [deal(2, "2024-03-01 10:00", "9 days late")])  # late_data_horizon_hours: 72
    assert deals.late_rows() == []
    deals.run()
    assert deals.deals() == [("p1", 1, "ok")]


@pytest.mark.parametrize("engine", ALL_ENGINES, indirect=True)
def test_a_rewind_reads_the_interval_holding_its_date_again_and_leaves_no_late_rows(engine, tmp_path):
    deals = on(engine, tmp_path, late_data="report")
    two_days(deals)
    deals.load("p1", [deal(3, "2024-03-01 12:00", "late")])
    assert deals.late_rows() == [("p1", T("2024-03-01"), 1, 2)]
    deals.rewind("stg_deals__p1", "2024-03-01 11:00")  # inside [1 Mar, 2 Mar 09:00): from 1 Mar
    assert deals.watermarks() == {"p1": T("2024-03-01 00:00")}
    deals.run()
    assert deals.deals() == [("p1", 1, "ok"), ("p1", 2, "ok"), ("p1", 3, "late")]
    assert deals.late_rows() == []
    assert deals.watermarks() == {"p1": T("2024-03-02 10:00")}


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_a_full_refresh_forgets_the_intervals(engine, tmp_path):
    deals = on(engine, tmp_path, late_data="report")
    two_days(deals)
    deals.load("p1", [deal(3, "2024-03-01 12:00", "late")])
    deals.run(full_refresh=True)
    assert deals.deals() == [("p1", 1, "ok"), ("p1", 2, "ok"), ("p1", 3, "late")]
    assert deals.late_rows() == []
    assert deals.intervals("p1")[-1] == (T("2024-03-01 00:00"), T("2024-03-02 09:00"), 2)
