"""Specs whose meaning would be silently wrong if compiled: each is a located error."""

from __future__ import annotations

from .conftest import PROJECT

COMPILE = ("compile", "--dialect", "duckdb")


def test_model_named_like_an_instance_of_another(proj):
    with_instances = PROJECT.replace(
        "    table: events\n", "    table: events\n    instances: {eu: {schema: eu}, us: {schema: us}}\n"
    )
    proj.write("snowgen.yml", with_instances)
    proj.write("models/stg.yml", "name: stg\nfor_each: events\nsql: select event_id from events\n")
    proj.write("models/stg__eu.yml", "name: stg__eu\nsql: select event_id from events\n")
    assert proj.fail(*COMPILE) == (
        "models/stg__eu.yml:1:7: SG203 model name 'stg__eu' is already used by model 'stg' (models/stg.yml:1)\n"
        " 1 | name: stg__eu\n"
        "   |       ^\n"
    )


def test_incremental_model_declaring_only_some_columns(proj):
    proj.write(
        "models/page_views.yml",
        "name: page_views\nmaterialization: incremental\nunique_key: event_id\n"
        "columns: {event_id: string}\nsql: select event_id, page_url from events\n",
    )
    assert proj.fail(*COMPILE) == (
        "models/page_views.yml:4:1: SG207 the SQL body's output has columns that 'columns' does not "
        "declare: page_url; declare every column (or none)\n"
        " 4 | columns: {event_id: string}\n"
        "   | ^\n"
    )


def test_dedupe_order_by_names_an_output_column(proj):
    proj.write(
        "models/page_views.yml",
        "name: page_views\nmaterialization: incremental\nunique_key: event_id\n"
        "dedupe_order_by: [collector_tstam]\nsql: select event_id, collector_tstamp from events\n",
    )
    assert proj.fail(*COMPILE) == (
        "models/page_views.yml:4:19: SG207 column 'collector_tstam' is not an output column of model "
        "'page_views' (did you mean 'collector_tstamp'?)\n"
        " 4 | dedupe_order_by: [collector_tstam]\n"
        "   |                   ^\n"
    )


def test_similar_to_on_a_warehouse_without_it(proj):
    proj.write(
        "models/page_views.yml",
        "name: page_views\nsql: |\n  select event_id from events\n  where page_url similar to '%shop%'\n",
    )
    assert proj.fail(*COMPILE) == (
        "models/page_views.yml:2:1: SG301 duckdb has no SIMILAR TO; write the condition with LIKE or a "
        "regular expression\n"
        " 2 | sql: |\n"
        "   | ^\n"
    )


def test_function_name_printed_by_jinja(proj):
    proj.write(
        "models/page_views.yml", "name: page_views\nsql: select {{ var('start_date') }}(page_url) as x from events\n"
    )
    assert proj.fail(*COMPILE).startswith("models/page_views.yml:2:13: SG209 a Jinja value is printed")
