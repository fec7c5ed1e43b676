"""Events stamped far in the future (a broken collector or device clock) wait: they neither
steer the manifest nor hide the real events after them, and each run reports them.

The probe that found it: one event at 2099-01-01 made the empty-window jump move every
manifest row to 2099, after which every real event was skipped while runs exited 0."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from support import scenarios as sc
from support.generator import BOT_UA, Event, GeneratorConfig, generate
from support.snowplow_rules import last_processed

FUTURE = dt.datetime(2099, 1, 1, 12, 0)
DAYS = GeneratorConfig(
    seed=3,
    days=2,
    users=3,
    long_bot_sessions=0,
    late_within=0,
    late_beyond=0,
    midnight_sessions=0,
    late_loaded_events=0,
)


def test_a_clock_skew_allowance_longer_than_the_lookback_is_refused():
    from snowgen.errors import SnowgenError

    with pytest.raises(SnowgenError) as info:
        sc.plan("duckdb", start_date="2024-02-29", clock_skew_minutes=120, lookback_window_hours=1)
    assert "SG102 var clock_skew_minutes (120) must not exceed lookback_window_hours (1) x 60" in str(info.value)


def future_copy(event: Event) -> Event:
    """``event`` re-stamped at FUTURE, as its own event in its own session."""
    shift = FUTURE - event.row["collector_tstamp"]
    row = dict(event.row)
    for column in ("collector_tstamp", "dvce_created_tstamp", "dvce_sent_tstamp", "derived_tstamp", "etl_tstamp"):
        row[column] = row[column] + shift
    row.update(
        event_id="f" * 8 + event.row["event_id"][8:], domain_sessionid="f" * 8 + event.row["domain_sessionid"][8:]
    )
    page_view_id = "f" * 8 + event.page_view_id[8:]
    # The web_page entity carries the page view id too: a copy keeping the original's would be
    # read as a second event of the original page view.
    entities = {**event.entities, "web_page": {"id": page_view_id}}
    return dataclasses.replace(event, row=row, page_view_id=page_view_id, entities=entities)


def page_views(events: list[Event]) -> set[str]:
    return {
        e.page_view_id for e in events
        if e.row["event"] == "page_view" and e.row["useragent"] != BOT_UA and "null_session" not in e.tags
    }  # fmt: skip


@pytest.mark.parametrize("engine", ["postgres", "duckdb"], indirect=True)
def test_a_far_future_event_waits_and_later_days_are_still_processed(engine):
    data = generate(DAYS)
    first_day, second_day = data.batches()[0], data.batches()[1]
    stray = future_copy(next(e for e in first_day if e.row["event"] == "page_view" and not e.tags))
    w = sc.Warehouse(engine, sc.plan(engine.name, start_date="2024-02-29", backfill_limit_days=30))
    w.load([*first_day, stray])
    w.run_until_stable(max_runs=4)
    assert max(w.manifest().values()) < dt.datetime(2030, 1, 1), w.manifest()
    assert w.query(f"SELECT future_events FROM {sc.LIMITS}") == [(1,)]
    w.load(second_day)
    w.run_until_stable(max_runs=4)
    assert set(w.manifest().values()) == {last_processed(generate(DAYS))}
    assert w.keys(sc.PAGE_VIEWS, "page_view_id") == page_views(first_day + second_day)
    assert stray.page_view_id not in w.keys(sc.PAGE_VIEWS, "page_view_id")


@pytest.mark.parametrize("engine", ["postgres", "duckdb"], indirect=True)
def test_an_event_within_the_clock_skew_allowance_is_read(engine):
    data = generate(DAYS)
    soon = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=20)
    stray = future_copy(next(e for e in data.batches()[0] if e.row["event"] == "page_view" and not e.tags))
    shift = soon - stray.row["collector_tstamp"]
    row = {c: (v + shift if isinstance(v, dt.datetime) else v) for c, v in stray.row.items()}
    early = dataclasses.replace(stray, row=row)
    w = sc.Warehouse(
        engine, sc.plan(engine.name, start_date="2024-02-29", backfill_limit_days=30, clock_skew_minutes=60)
    )
    w.load([*data.events, early])
    w.run_until_stable(max_runs=8)
    assert early.page_view_id in w.keys(sc.PAGE_VIEWS, "page_view_id")
    assert w.query(f"SELECT future_events FROM {sc.LIMITS}") == [(0,)]
    # The manifest is at the early event; the next window starts lookback_window_hours before
    # it (at least clock_skew_minutes), so an event stamped before it that arrives later is read.
    assert set(w.manifest().values()) == {early.collector_tstamp}
    [(lower, _)] = w.query(f"SELECT lower_limit, upper_limit FROM {sc.LIMITS}")
    assert lower <= early.collector_tstamp - dt.timedelta(minutes=60)
