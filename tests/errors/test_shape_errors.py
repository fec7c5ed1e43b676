"""The shape of a spec: unknown keys (SG101), wrong types (SG102), missing keys (SG103)."""

from __future__ import annotations

import pytest

from .conftest import PROJECT

COMPILE = ("compile", "--dialect", "duckdb")
BODY = "sql: |\n  select event_id, page_url\n  from events\n"


@pytest.mark.parametrize(
    ("relative", "text", "expected"),
    [
        (
            "models/page_views.yml",
            "name: page_views\nmaterialization: incremental\nuniqe_key: event_id\n" + BODY,
            "models/page_views.yml:3:1: SG101 unknown key 'uniqe_key' (did you mean 'unique_key'?)\n"
            " 3 | uniqe_key: event_id\n"
            "   | ^\n",
        ),
        (
            "snowgen.yml",
            PROJECT + "sql_dialcet: postgres\n",
            "snowgen.yml:11:1: SG101 unknown key 'sql_dialcet' (did you mean 'sql_dialect'?)\n"
            " 11 | sql_dialcet: postgres\n"
            "    | ^\n",
        ),
        (
            "models/page_views.yml",
            "name: page_views\nlayout:\n  partiton: {column: page_url}\n" + BODY,
            "models/page_views.yml:3:3: SG101 unknown key 'partiton' (did you mean 'partition'?)\n"
            " 3 |   partiton: {column: page_url}\n"
            "   |   ^\n",
        ),
        (
            "models/page_views.yml",
            "name: page_views\nlayout:\n  dialects:\n    bigquery: {clusters: [page_url]}\n" + BODY,
            "models/page_views.yml:4:16: SG101 unknown key 'clusters' (did you mean 'cluster'?)\n"
            " 4 |     bigquery: {clusters: [page_url]}\n"
            "   |                ^\n",
        ),
        (
            "models/page_views.yml",
            "name: page_views\nwhatever: 1\n" + BODY,
            "models/page_views.yml:2:1: SG101 unknown key 'whatever'; allowed keys: app_filter, backfill, bot_filter, "
            "columns, dedupe_order_by, description, disable_upsert_lookback, enabled, for_each, grants, layout, "
            "materialization, module, name, schema, sql, sql_dialect, staged, stitch, tags, tests, unique_key, upsert, upsert_date_key, "
            "upsert_lookback_days, watermark\n"
            " 2 | whatever: 1\n"
            "   | ^\n",
        ),
    ],
    ids=["model", "project", "layout", "layout-dialect-override", "no-close-match"],
)
def test_unknown_key(proj, relative, text, expected):
    proj.write(relative, text)
    assert proj.fail(*COMPILE) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "materialization: tabel",
            "models/page_views.yml:2:18: SG102 materialization: input should be 'view', 'table' or 'incremental'\n"
            " 2 | materialization: tabel\n"
            "   |                  ^\n",
        ),
        (
            "unique_key: 5",
            "models/page_views.yml:2:13: SG102 unique_key: value has the wrong type for this key\n"
            " 2 | unique_key: 5\n"
            "   |             ^\n",
        ),
        (
            "enabled: maybe",
            "models/page_views.yml:2:10: SG102 enabled: input should be true or false, or \"{{ var('name') }}\"\n"
            " 2 | enabled: maybe\n"
            "   |          ^\n",
        ),
        (
            "columns: {page_url: {type: strin}}",
            "models/page_views.yml:2:28: SG102 columns.page_url.type: unknown type; expected one of string, "
            "string(n), int, bigint, decimal(p,s), double, boolean, date, timestamp, timestamptz, json\n"
            " 2 | columns: {page_url: {type: strin}}\n"
            "   |                            ^\n",
        ),
        pytest.param(
            "columns: {page_url: strin}",
            "models/page_views.yml:2:21: SG102 columns.page_url: unknown type; expected one of string, "
            "string(n), int, bigint, decimal(p,s), double, boolean, date, timestamp, timestamptz, json\n"
            " 2 | columns: {page_url: strin}\n"
            "   |                     ^\n",
        ),
    ],
    ids=["materialization", "unique_key", "enabled", "column-type", "column-type-shorthand"],
)
def test_wrong_type(proj, line, expected):
    proj.write("models/page_views.yml", f"name: page_views\n{line}\n" + BODY)
    assert proj.fail(*COMPILE) == expected


def test_key_that_only_applies_to_incremental_models(proj):
    proj.write("models/page_views.yml", "name: page_views\nunique_key: event_id\n" + BODY)
    assert proj.fail(*COMPILE) == (
        "models/page_views.yml:2:1: SG102 'unique_key' only applies to materialization: incremental\n"
        " 2 | unique_key: event_id\n"
        "   | ^\n"
    )


def test_missing_required_key(proj):
    proj.write("models/page_views.yml", "name: page_views\ndescription: no body\n")
    assert proj.fail(*COMPILE) == (
        "models/page_views.yml:1:1: SG103 missing required key 'sql'\n 1 | name: page_views\n   | ^\n"
    )


def test_missing_required_key_in_a_nested_block(proj):
    proj.write("models/page_views.yml", "name: page_views\nlayout:\n  partition: {by: day}\n" + BODY)
    assert proj.fail(*COMPILE) == (
        "models/page_views.yml:3:3: SG103 missing required key 'column'\n 3 |   partition: {by: day}\n   |   ^\n"
    )


def test_incremental_model_without_unique_key(proj):
    proj.write("models/page_views.yml", "name: page_views\nmaterialization: incremental\n" + BODY)
    assert proj.fail(*COMPILE) == (
        "models/page_views.yml:2:18: SG103 an incremental model needs 'unique_key'\n"
        " 2 | materialization: incremental\n"
        "   |                  ^\n"
    )


def test_model_name_is_not_an_identifier(proj):
    proj.write("models/page_views.yml", "name: page views\n" + BODY)
    assert proj.fail(*COMPILE) == (
        "models/page_views.yml:1:7: SG104 name: 'page views' is not a valid name: use letters, digits and underscores, not starting with a digit\n"
        " 1 | name: page views\n"
        "   |       ^\n"
    )


def test_every_shape_error_of_every_file_is_reported_at_once(proj):
    proj.write("snowgen.yml", PROJECT + "sql_dialcet: postgres\n")
    proj.write("models/page_views.yml", "name: page_views\nenabled: maybe\n" + BODY)
    assert proj.fail(*COMPILE) == (
        "snowgen.yml:11:1: SG101 unknown key 'sql_dialcet' (did you mean 'sql_dialect'?)\n"
        " 11 | sql_dialcet: postgres\n"
        "    | ^\n"
        "models/page_views.yml:2:10: SG102 enabled: input should be true or false, or \"{{ var('name') }}\"\n"
        " 2 | enabled: maybe\n"
        "   |          ^\n"
    )
