"""Multi-run scenarios of the consent and Core Web Vitals modules (enable_consent, enable_cwv) over
generated events (support/generator_consent.py), on Postgres and DuckDB.

The oracle: after a run per day of events (a choice landing a day after its banner, a new
version of the privacy policy going live on the last day, a choice delivered twice, bots), every
table of the two modules equals the one full-refresh run over the same data. The web model's
own tables are compared by test_scenarios_snowplow_web.py; here they run alongside.

Fixture: the day-by-day history and the full refresh per engine, module-scoped, read-only.
"""

from __future__ import annotations

import pytest
from support import scenarios as sc
from support.generator import GeneratorConfig, generate

ENGINES = ["postgres", "duckdb"]
START_DATE = "2024-02-29"
ON = {"enable_consent": True, "enable_cwv": True}
CONFIG = GeneratorConfig(seed=21, days=4, users=6, consent_and_vitals=True)

#: table -> its key
TABLES = {
    "derived.snowplow_web_consent_log": "event_id",
    "derived.snowplow_web_consent_cmp_stats": "event_id",
    "derived.snowplow_web_consent_versions": "consent_version",
    "derived.snowplow_web_consent_users": "domain_userid",
    "derived.snowplow_web_consent_totals": "consent_version",
    "derived.snowplow_web_consent_scope_status": "scope",
    "derived.snowplow_web_vitals": "page_view_id",
    "derived.snowplow_web_vital_measurements": "compound_key",
}


class Runs:
    """A run after each day's batch (``inc``) and one full-refresh run (``full``)."""

    def __init__(self, new_engine):
        self.data = generate(CONFIG)
        engine = new_engine()
        self.inc = sc.Warehouse(engine, sc.plan(engine.name, start_date=START_DATE, **ON))
        self.manifests = []
        for batch in range(self.data.batch_count):
            self.inc.load(self.data.batch(batch))
            self.inc.run()
            self.manifests.append(self.inc.manifest())
        engine = new_engine()
        self.full = sc.Warehouse(engine, sc.plan(engine.name, start_date=START_DATE, backfill_limit_days=365, **ON))
        self.full.load(self.data.events)
        self.full.run()

    def close(self):
        self.inc.engine.close()
        self.full.engine.close()


@pytest.fixture(scope="module", params=ENGINES)
def runs(request):
    r = Runs(lambda: request.getfixturevalue(f"{request.param}_engine").fresh())
    yield r
    r.close()


@pytest.mark.parametrize("table", list(TABLES))
def test_day_by_day_runs_equal_one_full_refresh_run(runs, table):
    inc, full = runs.inc.table(table), runs.full.table(table)
    assert full.rows, f"{table} is empty: the scenario exercises nothing"
    assert sc.table_differences(inc, full, TABLES[table]) == []


def test_the_history_has_what_the_scenario_is_about(runs):
    assert runs.data.batch_count >= 4 and len(runs.manifests) >= 4
    [late] = runs.data.tagged("late_choice")
    assert late.batch > min(e.batch for e in runs.data.session(late.session_id))
    versions = dict(
        runs.inc.query("SELECT consent_version, is_latest_version FROM derived.snowplow_web_consent_versions")
    )
    assert versions == {"1.0": False, "2.0": True}
    assert runs.data.tagged("duplicate_choice")


def test_the_modules_models_advance_with_the_others(runs):
    manifest = runs.manifests[-1]
    tracked = {m for m in manifest if "consent" in m or "vital" in m}
    assert tracked == {
        "snowplow_web_consent_log", "snowplow_web_consent_cmp_stats", "snowplow_web_consent_users", "snowplow_web_vitals",
    }  # fmt: skip
    assert len({manifest[m] for m in tracked} | {manifest["snowplow_web_page_views"]}) == 1


def test_a_choice_that_lands_a_day_late_completes_its_banners_row(runs):
    [late], [banner] = runs.data.tagged("late_choice"), runs.data.tagged("late_choice_banner")
    assert late.batch > banner.batch
    rows = runs.inc.query(
        "SELECT first_consent_event_type, first_consent_event_tstamp FROM derived.snowplow_web_consent_cmp_stats "
        f"WHERE event_id = '{banner.event_id}'"
    )
    assert rows == [("allow_all", late.row["derived_tstamp"])]


# -- a fault at every step of the two modules ------------------------------------------------------------
CRASH_CONFIG = GeneratorConfig(seed=15, days=3, users=4, long_bot_sessions=0, consent_and_vitals=True)
#: the crashed run leaves its run lock behind: the next run comes after the lock expired
CRASH_VARS = {"start_date": START_DATE, "lock_timeout_minutes": 0, **ON}
#: a crash after each step of the two modules (the base module's steps: test_scenarios_snowplow_web.py)
CRASH_AFTER = [
    (i + 1, s.id)
    for i, s in enumerate(sc.plan("duckdb", **CRASH_VARS))
    if s.file.split("/")[0].split("_", 1)[1] in ("consent", "cwv")  # the module's folder: NN_module
]


def crash_setup(w: sc.Warehouse) -> None:
    """Run 1 over the first two days; then the rest arrives (the run that crashes reads the
    late choice and the new version)."""
    data = generate(CRASH_CONFIG)
    w.load([e for e in data.events if e.batch < 2])
    w.run()
    w.load([e for e in data.events if e.batch >= 2])


def state(w: sc.Warehouse) -> dict:
    return w.snapshot((*TABLES, sc.MANIFEST))


@pytest.fixture(scope="module", params=ENGINES)
def uninterrupted(request):
    w = sc.Warehouse(request.getfixturevalue(f"{request.param}_engine").fresh(), sc.plan(request.param, **CRASH_VARS))
    crash_setup(w)
    before = state(w)
    w.run()
    after = state(w)
    w.engine.close()
    changed = {t for t in TABLES if after[t].rows != before[t].rows}
    assert changed == set(TABLES), changed  # the run writes to every table (a new version, the late choice)
    yield request.param, after


@pytest.mark.parametrize("k", [k for k, _ in CRASH_AFTER], ids=[f"after-{step}" for _, step in CRASH_AFTER])
def test_a_run_stopped_after_any_step_then_run_again_equals_an_uninterrupted_run(request, uninterrupted, k):
    name, expected = uninterrupted
    w = sc.Warehouse(request.getfixturevalue(f"{name}_engine").fresh(), sc.plan(name, **CRASH_VARS))
    try:
        crash_setup(w)
        w.run(w.steps[:k])  # the scheduler dies here
        w.run()
        keys = {**TABLES, sc.MANIFEST: "model"}
        problems = {t: sc.table_differences(actual, expected[t], keys[t]) for t, actual in state(w).items()}
        assert {t: p for t, p in problems.items() if p} == {}
    finally:
        w.engine.close()
