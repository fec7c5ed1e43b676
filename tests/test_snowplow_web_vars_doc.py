"""docs/snowplow-web-vars.md, the table of Snowplow's web vars and their snowgen settings, cannot
drift from the shipped project: every var of model_specs/snowplow_web/snowgen.yml has a row,
every row marked offered names a var the project has with the default the row shows, and every
variable of Snowplow's configuration page for web 1.0.1 has a row."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from snowgen.plan.planner import DEFAULT_VARS
from snowgen.plan.sessions import SESSION_VARS

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "snowplow-web-vars.md"
PROJECT_VARS = yaml.safe_load((ROOT / "model_specs" / "snowplow_web" / "snowgen.yml").read_text(encoding="utf-8"))[
    "vars"
]
#: the vars every sessions project has without setting them
BUILT_IN = {**DEFAULT_VARS, **SESSION_VARS}

#: the variables of Snowplow's configuration page for web 1.0.1, by its groups (names without
#: the snowplow__ prefix; `events` is on the page's earlier copies)
SNOWPLOW_PAGE = {
    "Warehouse and tracker": [
        "atomic_schema", "database", "dev_target_name", "events", "events_table", "heartbeat", "min_visit_length",
        "sessions_table", "ga4_categories_seed", "geo_mapping_seed", "rfc_5646_seed",
    ],
    "Operation and logic": [
        "allow_refresh", "backfill_limit_days", "conversion_events", "cwv_days_to_measure", "cwv_percentile",
        "days_late_allowed", "limit_page_views_to_session", "list_event_counts", "lookback_window_hours",
        "max_session_days", "session_lookback_days", "session_stitching", "start_date", "total_all_conversions",
        "upsert_lookback_days", "session_identifiers", "session_sql", "session_timestamp", "user_identifiers",
        "user_sql", "user_stitching_id", "page_view_stitching",
    ],
    "Entities (contexts), filters and logs": [
        "app_id", "enable_consent", "enable_cwv", "enable_iab", "enable_ua", "enable_yauaa", "has_log_enabled",
        "ua_bot_filter", "page_view_passthroughs", "session_passthroughs", "user_first_passthroughs",
        "user_last_passthroughs",
    ],
    "Warehouse-specific": ["databricks_catalog", "enable_load_tstamp", "derived_tstamp_partitioned", "entities_or_sdes"],
}  # fmt: skip
STATUS = re.compile(r"^(offered|not needed|being added \([A-Za-z ]+\)|gap)(?![a-z])")
SNOWGEN_VAR = re.compile(r"var `([a-z_0-9]+)`(?: = `([^`]*)`)?")


def sections() -> dict[str, list[list[str]]]:
    """Each heading's table rows (header and rule left out), split into their cells."""
    found: dict[str, list[list[str]]] = {}
    heading = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
        elif line.startswith("|") and heading is not None:
            cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            if cells and not set(cells[0]) <= {"-"}:
                found.setdefault(heading, []).append(cells)
    return {name: rows[1:] for name, rows in found.items()}  # without each table's header


def rows() -> list[list[str]]:
    return [row for table in sections().values() for row in table]


def names(first_cell: str) -> list[str]:
    """The variables a row is about: the names in backticks before its default."""
    return re.findall(r"`([a-z_0-9]+)`", first_cell.split("(")[0])


def test_every_row_has_three_cells_and_a_known_status():
    for row in rows():
        assert len(row) == 3, row
        assert STATUS.match(row[2]), f"status of {row[0]}: {row[2]!r}"


@pytest.mark.parametrize("group", list(SNOWPLOW_PAGE))
def test_every_variable_of_snowplows_page_has_a_row_in_its_group(group):
    table = sections()[group]
    assert sorted(name for row in table for name in names(row[0])) == sorted(SNOWPLOW_PAGE[group])


def test_every_var_of_the_shipped_project_is_named():
    named = {name for row in rows() for name, _ in SNOWGEN_VAR.findall(row[1])}
    named |= {name for row in sections()["snowgen vars that Snowplow does not have"] for name in names(row[0])}
    assert set(PROJECT_VARS) <= named, sorted(set(PROJECT_VARS) - named)


def test_an_offered_var_exists_with_the_default_the_row_shows():
    for row in rows():
        if not row[2].startswith("offered"):
            continue
        for name, default in SNOWGEN_VAR.findall(row[1]):
            assert name in PROJECT_VARS or name in BUILT_IN, f"{row[0]}: the project has no var {name}"
            if default:
                value = PROJECT_VARS.get(name, BUILT_IN.get(name))
                assert yaml.safe_load(default) == value, f"{name}: the doc says {default}, the project {value!r}"


def test_the_snowgen_only_vars_show_their_defaults():
    for row in sections()["snowgen vars that Snowplow does not have"]:
        if row[2] == "offered":
            [name] = names(row[0])
            default = re.search(r"\(`([^`]*)`\)", row[0]).group(1)
            assert yaml.safe_load(default) == PROJECT_VARS.get(name, BUILT_IN.get(name)), name
