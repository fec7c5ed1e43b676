"""What a warehouse cannot express (SG301), unknown dialects (SG302) and targets (SG303)."""

from __future__ import annotations

import pytest

from .conftest import PROJECT

SELECT = "sql: |\n  select event_id, page_url, app_id, platform, useragent, collector_tstamp\n  from events\n"
INCREMENTAL = "materialization: incremental\nunique_key: event_id\n"


@pytest.mark.parametrize(
    ("dialect", "spec", "expected"),
    [
        (
            "bigquery",
            "layout:\n  cluster: [event_id, page_url, app_id, platform, useragent]\n",
            "models/page_views.yml:3:3: SG301 bigquery allows at most 4 clustering columns, got 5\n"
            " 3 |   cluster: [event_id, page_url, app_id, platform, useragent]\n"
            "   |   ^\n",
        ),
        (
            "bigquery",
            "layout:\n  cluster: [event_id]\n  dialects:\n"
            "    bigquery: {cluster: [event_id, page_url, app_id, platform, useragent]}\n",
            "models/page_views.yml:5:16: SG301 bigquery allows at most 4 clustering columns, got 5\n"
            " 5 |     bigquery: {cluster: [event_id, page_url, app_id, platform, useragent]}\n"
            "   |                ^\n",
        ),
        (
            "databricks",
            "layout:\n  partition:\n    column: collector_tstamp\n    by: hour\n",
            "models/page_views.yml:5:5: SG301 databricks cannot partition by hour; supported: day, month\n"
            " 5 |     by: hour\n"
            "   |     ^\n",
        ),
        (
            "databricks",
            "layout:\n  partition: {column: collector_tstamp}\n  cluster: [app_id]\n  clustering: partition\n",
            "models/page_views.yml:4:3: SG301 databricks cannot partition and cluster one Delta table; set "
            "layout.dialects.databricks.cluster to null or clustering: liquid\n"
            " 4 |   cluster: [app_id]\n"
            "   |   ^\n",
        ),
        (
            "redshift",
            INCREMENTAL + "upsert: merge\n",
            "models/page_views.yml:4:1: SG301 redshift cannot run upsert: merge: Redshift's MERGE accepts neither "
            "a target alias nor conditional WHEN clauses; snowgen runs delete+insert in one transaction instead\n"
            " 4 | upsert: merge\n"
            "   | ^\n",
        ),
        (
            "databricks",
            INCREMENTAL + "upsert: delete_insert\n",
            "models/page_views.yml:4:1: SG301 databricks cannot run upsert: delete_insert: Databricks has no "
            "multi-statement transactions, so delete+insert would not be atomic; a Delta MERGE is\n"
            " 4 | upsert: delete_insert\n"
            "   | ^\n",
        ),
    ],
    ids=[
        "bigquery-cluster",
        "bigquery-cluster-override",
        "databricks-hour",
        "databricks-partition-and-cluster",
        "redshift-merge",
        "databricks-delete-insert",
    ],
)
def test_layout_or_upsert_a_dialect_cannot_express(proj, dialect, spec, expected):
    proj.write("models/page_views.yml", "name: page_views\n" + spec + SELECT)
    assert proj.fail("compile", "--dialect", dialect) == expected


def test_refusal_for_one_dialect_writes_no_dialect(proj):
    """--all: every other dialect compiles, but nothing is written (checked by proj.fail)."""
    layout = "layout:\n  cluster: [event_id, page_url, app_id, platform, useragent]\n"
    proj.write("models/page_views.yml", "name: page_views\n" + layout + SELECT)
    assert proj.fail("compile", "--all").startswith("models/page_views.yml:3:3: SG301 bigquery allows at most 4")


def test_project_wide_upsert_a_dialect_refuses_points_at_the_project_file(proj):
    proj.write("snowgen.yml", PROJECT + "dialects:\n  redshift:\n    upsert: merge\n")
    proj.write("models/page_views.yml", "name: page_views\n" + INCREMENTAL + SELECT)
    assert proj.fail("compile", "--dialect", "redshift") == (
        "snowgen.yml:13:5: SG301 redshift cannot run upsert: merge: Redshift's MERGE accepts neither a target "
        "alias nor conditional WHEN clauses; snowgen runs delete+insert in one transaction instead\n"
        " 13 |     upsert: merge\n"
        "    |     ^\n"
    )


def test_unknown_dialect_on_the_command_line(proj):
    assert proj.fail("compile", "--dialect", "snowflak") == (
        "snowgen: SG302 unknown dialect 'snowflak' (did you mean 'snowflake'?)\n"
    )


@pytest.mark.parametrize(
    ("relative", "text", "expected"),
    [
        (
            "models/page_views.yml",
            "name: page_views\nlayout:\n  dialects:\n    snowflak: {cluster: [app_id]}\n" + SELECT,
            "models/page_views.yml:4:5: SG302 unknown dialect 'snowflak' (did you mean 'snowflake'?)\n"
            " 4 |     snowflak: {cluster: [app_id]}\n"
            "   |     ^\n",
        ),
        (
            "snowgen.yml",
            PROJECT + "  prod:\n    dialect: bigqeury\n",
            "snowgen.yml:12:14: SG302 unknown dialect 'bigqeury' (did you mean 'bigquery'?)\n"
            " 12 |     dialect: bigqeury\n"
            "    |              ^\n",
        ),
        (
            "snowgen.yml",
            PROJECT + "sql_dialect: mysql\n",
            "snowgen.yml:11:14: SG302 unknown dialect 'mysql'; choose one of redshift, bigquery, snowflake, "
            "databricks, postgres, duckdb\n"
            " 11 | sql_dialect: mysql\n"
            "    |              ^\n",
        ),
    ],
    ids=["layout.dialects", "target", "sql_dialect"],
)
def test_unknown_dialect_in_a_spec(proj, relative, text, expected):
    proj.write(relative, text)
    assert proj.fail("compile", "--dialect", "duckdb") == expected


def test_unknown_target(proj):
    assert proj.fail("compile", "--target", "prod") == (
        "snowgen.yml:8:1: SG303 unknown target 'prod'; known: dev\n 8 | targets:\n   | ^\n"
    )


def test_unknown_target_with_did_you_mean(proj):
    assert proj.fail("compile", "--dialect", "duckdb", "--target", "dve") == (
        "snowgen.yml:8:1: SG303 unknown target 'dve' (did you mean 'dev'?)\n 8 | targets:\n   | ^\n"
    )
