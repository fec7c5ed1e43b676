"""Multi-run scenarios of the shipped snowplow_web project with the IAB, UA parser and YAUAA
enrichments on (enable_iab, enable_ua, enable_yauaa), over generated events that carry the
three contexts (GeneratorConfig(enrichments=True), support/generator_enrichments.py), on
Postgres and DuckDB: day-by-day runs equal one full-refresh run, as with the options off
(test_scenarios_snowplow_web.py, whose comparison this module reuses on its own history).
"""

from __future__ import annotations

import dataclasses

import pytest
from support import scenarios as sc
from support.snowplow_rules import History
from test_scenarios_snowplow_web import DAY_BY_DAY, START_DATE
from test_scenarios_snowplow_web import test_day_by_day_runs_equal_one_full_refresh_run as equal_to_a_full_refresh

ENGINES = ["postgres", "duckdb"]
ON = {"enable_iab": True, "enable_ua": True, "enable_yauaa": True}
ENRICHED = dataclasses.replace(DAY_BY_DAY, enrichments=True)


@pytest.fixture(scope="module", params=ENGINES)
def history(request):
    """Day-by-day runs and a one-run full refresh of ENRICHED, the options on (read-only)."""
    h = History(ENRICHED, lambda: request.getfixturevalue(f"{request.param}_engine").fresh(), START_DATE, ON)
    yield h
    h.close()


@pytest.mark.parametrize("table", [sc.PAGE_VIEWS, sc.SESSIONS, sc.USERS])
def test_day_by_day_runs_equal_one_full_refresh_run_with_the_enrichments_on(history, table):
    equal_to_a_full_refresh(history, table)


def test_the_enrichment_columns_hold_every_kind_of_value(history):
    # The data exercise the columns: IAB's flag both ways, every device category, and events
    # without a context (NULL).
    page_views = history.full.table(sc.PAGE_VIEWS)
    assert set(page_views.column("spider_or_robot")) == {True, False, None}
    assert set(page_views.column("device_category")) == {"Desktop", "Mobile", "Tablet", "Other"}
    assert None in page_views.column("useragent_family") and "Firefox" in page_views.column("useragent_family")
    sessions = history.full.table(sc.SESSIONS)
    assert {"Desktop", "Mobile", "Tablet"} <= set(sessions.column("device_category"))
