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
