"""The two operating modes of the shipped snowplow_media_player project (it extends
snowplow_web), over generated events with media plays, on Postgres and DuckDB.

Mode A, added to a web project that has been running: the web project runs day by day, then
the media project (the web modules and the media modules, one manifest) takes over on the same
database with no hand edit of the manifest. Its media models are new in the manifest, so they
backfill from start_date a backfill_limit_days window per run while the web models write
nothing (reference §1.3, §1.4), then every model runs on the same events of the run; the media
tables equal one run of the media project over all the data, and the web tables those of the
web project run alone.

Mode B, alone: the media project with the web derived modules left out (web_modules: []):
day-by-day runs equal one full run.
"""

from __future__ import annotations

import datetime as dt

import pytest
from support import media_scenarios as ms
from support import scenarios as sc
from support.generator import GeneratorConfig, generate

ENGINES = ["postgres", "duckdb"]
START_DATE = "2024-03-01"  # the first generated day
#: the special cases of the generator, and media on most page views; no long (quarantined)
#: session, whose pings the media project would read as the web project does
DATA = GeneratorConfig(seed=7, days=4, users=6, media_share=0.8, long_bot_sessions=0)
#: runs of the web project before the media project is added
WEB_DAYS = 3
#: a one-day window: the media models' catch-up takes several runs
VARS = {"start_date": START_DATE, "backfill_limit_days": 1}
ONE_RUN = {"start_date": START_DATE, "backfill_limit_days": 365}


def fresh(request, name: str):
    return request.getfixturevalue(f"{name}_engine").fresh()


def data():
    return generate(DATA)


class ModeA:
    """The web project run after each of the first WEB_DAYS batches, then the media project
    run until every model's last_success is equal, then one more batch and run; and one run
    of the media project over all the data, and the web project day by day alone."""

    def __init__(self, request, name: str):
        events = data()
        self.w = ms.Warehouse(fresh(request, name), sc.plan(name, **VARS))
        for batch in range(WEB_DAYS):
            self.w.load(events.batch(batch))
            self.w.run()
        self.web_before = {t: self.w.table(t, exclude=()) for t in sc.DERIVED}
        self.w.steps = ms.plan(name, **VARS)
        self.runs = [sc.record_run(self.w)]
        self.web_after_first = {t: self.w.table(t, exclude=()) for t in sc.DERIVED}
        while len(set(self.w.manifest().values())) > 1 and len(self.runs) < 10:
            self.runs.append(sc.record_run(self.w))
        self.caught_up = self.w.manifest()
        for batch in range(WEB_DAYS, events.batch_count):
            self.w.load(events.batch(batch))
            self.runs.append(sc.record_run(self.w))
            while self.runs[-1].manifest_before != self.w.manifest():  # a one-day window: until stable
                self.runs.append(sc.record_run(self.w))
        self.full = ms.Warehouse(fresh(request, name), ms.plan(name, **ONE_RUN))
        self.full.load(events.events)
        self.full.run()
        self.web_alone = ms.Warehouse(fresh(request, name), sc.plan(name, **VARS))
        for batch in range(events.batch_count):
            self.web_alone.load(events.batch(batch))
            self.web_alone.run_until_stable()

    def close(self):
        for w in (self.w, self.full, self.web_alone):
            w.engine.close()


@pytest.fixture(scope="module", params=ENGINES)
def mode_a(request):
    scenario = ModeA(request, request.param)
    yield scenario
    scenario.close()


def test_the_media_models_start_in_the_new_model_state(mode_a):
    # Reference §1.3 "New Snowplow incremental model": [start_date, least(max_last_success,
    # start_date + backfill_limit_days)], the manifest holding the web models only.
    first = mode_a.runs[0]
    assert set(first.manifest_before) == set(ms.WEB_MODELS)
    start = dt.datetime.fromisoformat(START_DATE)
    assert first.limits == (start, min(max(first.manifest_before.values()), start + dt.timedelta(days=1)))
    assert set(ms.MEDIA_MODELS) <= set(mode_a.w.manifest())


def test_the_web_tables_do_not_change_while_the_media_models_backfill(mode_a):
    # Reference §1.4: the web models consumed the window; model_tstamp included, nothing is written.
    for table, key in sc.DERIVED.items():
        assert sc.table_differences(mode_a.web_after_first[table], mode_a.web_before[table], key) == []


def test_the_media_models_catch_up_then_every_model_is_in_step(mode_a):
    # Out of sync: [min - 6 h, least(max, min + 1 day)] until the media models reach the web
    # models (§1.3); then one last_success for all, and the next batch moves them together.
    web = max(mode_a.runs[0].manifest_before.values())
    caught_up = [
        i for i, run in enumerate(mode_a.runs)
        if set(ms.MEDIA_MODELS) <= set(run.manifest_before) and set(run.manifest_before.values()) == {web}
    ]  # fmt: skip
    assert caught_up and 2 <= caught_up[0] <= 6
    for run in mode_a.runs[1 : caught_up[0]]:
        media = run.manifest_before[ms.MEDIA_MODELS[0]]
        assert {run.manifest_before[m] for m in ms.MEDIA_MODELS} == {media} and media < web
        assert run.limits == (media - dt.timedelta(hours=6), min(web, media + dt.timedelta(days=1)))
        assert not any(run.wrote(m) for m in ms.WEB_MODELS)
    assert set(mode_a.caught_up.values()) == {web}
    after = next(run for run in mode_a.runs if run.manifest_before == mode_a.caught_up)  # the next batch's run
    assert after.limits[0] == web - dt.timedelta(hours=6) and all(after.wrote(m) for m in ms.WEB_MODELS)
    assert len(set(mode_a.w.manifest().values())) == 1 and max(mode_a.w.manifest().values()) > web


@pytest.mark.parametrize("table", list(ms.MEDIA_DERIVED))
def test_the_media_tables_equal_one_run_of_the_media_project(mode_a, table):
    inc, full = mode_a.w.table(table), mode_a.full.table(table)
    assert full.rows and sc.table_differences(inc, full, ms.MEDIA_DERIVED[table]) == []


@pytest.mark.parametrize("table", list(sc.DERIVED))
def test_the_web_tables_equal_the_web_project_run_alone(mode_a, table):
    # The media project runs the web models as the web project does: the same rows, whichever ran them.
    assert sc.table_differences(mode_a.w.table(table), mode_a.web_alone.table(table), sc.DERIVED[table]) == []


def test_the_data_exercises_every_kind_of_play(mode_a):
    base = mode_a.full.table(ms.BASE)
    rows = [dict(zip(base.columns, row, strict=True)) for row in base.rows]
    kinds = {r["media_player_type"] for r in rows}
    assert {"com.youtube-youtube", "org.whatwg-media_element", "com.vimeo-vimeo"} <= kinds
    assert {True, False} == {r["is_played"] for r in rows} and any(r["is_complete_play"] for r in rows)
    assert any(r["ads"] for r in rows) and mode_a.full.table(ms.AD_VIEWS).rows
    # the play across midnight was read by two runs of the day-by-day history
    assert len({r["start_tstamp"].date() for r in rows} | {r["end_tstamp"].date() for r in rows}) == DATA.days


# -- mode B: alone -------------------------------------------------------------------------------------
ALONE = {"web_modules": []}


class ModeB:
    def __init__(self, request, name: str):
        events = data()
        self.steps = ms.plan(name, **VARS, **ALONE)
        self.w = ms.Warehouse(fresh(request, name), self.steps)
        for batch in range(events.batch_count):
            self.w.load(events.batch(batch))
            self.w.run_until_stable()
        self.full = ms.Warehouse(fresh(request, name), ms.plan(name, **ONE_RUN, **ALONE))
        self.full.load(events.events)
        self.full.run()


@pytest.fixture(scope="module", params=ENGINES)
def mode_b(request):
    scenario = ModeB(request, request.param)
    yield scenario
    scenario.w.engine.close()
    scenario.full.engine.close()


def test_alone_the_plan_has_the_base_and_media_modules_only(mode_b):
    modules = {step.file.split("/")[0].split("_", 1)[1] for step in mode_b.steps}
    assert modules == {
        "setup",
        "base",
        "media_base",
        "media_stats",
        "media_sessions",
        "media_users",
        "media_ads",
        "finish",
    }
    assert set(mode_b.w.manifest()) == set(ms.MEDIA_MODELS)
    assert not any(mode_b.w.exists(table) for table in sc.DERIVED)


@pytest.mark.parametrize("table", list(ms.MEDIA_DERIVED))
def test_alone_incremental_runs_equal_one_full_run(mode_b, table):
    inc, full = mode_b.w.table(table), mode_b.full.table(table)
    assert full.rows and sc.table_differences(inc, full, ms.MEDIA_DERIVED[table]) == []


# -- a run stopped after any step, then run again (alone) ---------------------------------------------------
CRASH_DATA = GeneratorConfig(seed=9, days=2, users=3, media_share=0.9, long_bot_sessions=0)
#: the crashed run leaves its run lock behind; a lock that expires at once lets the next run in
CRASH_VARS = {**ONE_RUN, **ALONE, "lock_timeout_minutes": 0}
CRASH_STEPS = [step.id for step in ms.plan("duckdb", **CRASH_VARS)]


def crash_setup(w: ms.Warehouse) -> None:
    """Run 1 over the first day; then the second day arrives (the run that crashes reads it)."""
    events = generate(CRASH_DATA)
    w.load(events.batch(0))
    w.run()
    w.load([e for e in events.events if e.batch > 0])


@pytest.fixture(scope="module", params=ENGINES)
def uninterrupted(request):
    w = ms.Warehouse(fresh(request, request.param), ms.plan(request.param, **CRASH_VARS))
    crash_setup(w)
    before = w.media_snapshot()
    w.run()
    state = {**w.media_snapshot(), **w.snapshot(tables=tuple(sc.STATE))}
    w.engine.close()
    assert state[ms.BASE].rows != before[ms.BASE].rows  # the run has work to do
    yield request.param, state


@pytest.mark.parametrize("k", range(1, len(CRASH_STEPS)), ids=[f"after-{step}" for step in CRASH_STEPS[:-1]])
def test_a_run_stopped_after_any_step_then_run_again_equals_an_uninterrupted_run(request, uninterrupted, k):
    name, expected = uninterrupted
    w = ms.Warehouse(fresh(request, name), ms.plan(name, **CRASH_VARS))
    try:
        crash_setup(w)
        w.run(w.steps[:k])  # the scheduler dies here
        w.run()
        actual = {**w.media_snapshot(), **w.snapshot(tables=tuple(sc.STATE))}
        keys = {**ms.MEDIA_DERIVED, **sc.STATE}
        problems = {t: sc.table_differences(actual[t], expected[t], keys[t]) for t in expected}
        assert {t: p for t, p in problems.items() if p} == {}
    finally:
        w.engine.close()
