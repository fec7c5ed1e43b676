"""Errors about the project as a whole: cycles (SG202), duplicate models (SG203), key and
layout columns (SG207), modules (SG210), output columns (SG211), var values."""

from __future__ import annotations

import pytest

from .conftest import PROJECT

COMPILE = ("compile", "--dialect", "duckdb")


def test_dependency_cycle(proj):
    proj.remove("models/page_views.yml")
    proj.write("models/a.yml", "name: a\nsql: select x from b\n")
    proj.write("models/b.yml", "name: b\nsql: select x from a\n")
    assert proj.fail(*COMPILE) == (
        "models/a.yml:1:7: SG202 dependency cycle: a -> b -> a\n 1 | name: a\n   |       ^\n"
    )


def test_model_reading_itself(proj):
    proj.write("models/page_views.yml", "name: page_views\nsql: select x from page_views\n")
    assert proj.fail(*COMPILE) == (
        "models/page_views.yml:2:20: SG201 model 'page_views' reads itself\n"
        " 2 | sql: select x from page_views\n"
        "   |                    ^\n"
    )


def test_model_reading_a_later_module(proj):
    proj.write("snowgen.yml", PROJECT + "modules: [first, second]\n")
    proj.write("models/page_views.yml", "name: page_views\nmodule: first\nsql: select x from sessions\n")
    proj.write("models/sessions.yml", "name: sessions\nmodule: second\nsql: select x from events\n")
    assert proj.fail(*COMPILE) == (
        "models/page_views.yml:1:7: SG202 model 'page_views' (module 'first') reads 'sessions' "
        "from the later module 'second'\n"
        " 1 | name: page_views\n"
        "   |       ^\n"
    )


def test_duplicate_model_name_across_files(proj):
    proj.write("models/web/page_views_v2.yml", "description: a copy\nname: page_views\nsql: select 1 as a\n")
    assert proj.fail(*COMPILE) == (
        "models/web/page_views_v2.yml:2:7: SG203 model 'page_views' is already defined in models/page_views.yml:1\n"
        " 2 | name: page_views\n"
        "   |       ^\n"
    )


def test_model_names_that_differ_only_in_case(proj):
    proj.write("models/web/upper.yml", "name: Page_Views\nsql: select 1 as a\n")
    stderr = proj.fail(*COMPILE)
    assert stderr.startswith("models/web/upper.yml:1:7: SG203 ")
    assert stderr.endswith("\n 1 | name: Page_Views\n   |       ^\n")


@pytest.mark.parametrize(
    ("spec", "line", "col"),
    [
        ("materialization: incremental\nunique_key: id", "unique_key: id", 13),
        pytest.param("materialization: incremental\nunique_key: [event_id, id]", "unique_key: [event_id, id]", 24),
        ("layout:\n  cluster: [page_url, id]", "  cluster: [page_url, id]", 23),
        ("layout:\n  partition: {column: id}", "  partition: {column: id}", 23),
    ],
    ids=["unique_key", "unique_key-list", "cluster", "partition"],
)
def test_key_or_layout_column_that_is_not_an_output_column(proj, spec, line, col):
    proj.write("models/page_views.yml", f"name: page_views\n{spec}\nsql: select event_id, page_url from events\n")
    assert proj.fail(*COMPILE) == (
        f"models/page_views.yml:3:{col}: SG207 column 'id' is not an output column of model 'page_views'\n"
        f" 3 | {line}\n"
        f"   | {' ' * (col - 1)}^\n"
    )


def test_unknown_module(proj):
    proj.write("snowgen.yml", PROJECT + "modules: [main, web]\n")
    proj.write("models/page_views.yml", "name: page_views\nmodule: mian\nsql: select 1 as a\n")
    assert proj.fail(*COMPILE) == (
        "models/page_views.yml:2:9: SG210 unknown module 'mian' (did you mean 'main'?)\n"
        " 2 | module: mian\n"
        "   |         ^\n"
    )


def test_incremental_model_without_explicit_output_columns(proj):
    incremental = "materialization: incremental\nunique_key: event_id\n"
    proj.write("models/page_views.yml", "name: page_views\n" + incremental + "sql: select * from events\n")
    assert proj.fail(*COMPILE) == (
        "models/page_views.yml:4:6: SG211 an incremental model needs explicit output columns: name every column "
        "of the outer SELECT (no '*') or declare 'columns'\n"
        " 4 | sql: select * from events\n"
        "   |      ^\n"
    )


def test_for_each_of_a_source_without_instances(proj):
    proj.write("models/page_views.yml", "name: page_views\nfor_each: events\nsql: select 1 as a from events\n")
    assert proj.fail(*COMPILE) == (
        "models/page_views.yml:2:11: SG201 for_each: unknown source with instances 'events'\n"
        " 2 | for_each: events\n"
        "   |           ^\n"
    )


# -- var values that cannot become SQL literals: located errors, never a crash ----------------------


@pytest.mark.parametrize("value", [".nan", ".inf"])
def test_non_finite_var_in_the_project_file(proj, value):
    proj.write("snowgen.yml", PROJECT.replace("start_date: '2024-01-01'", f"start_date: {value}"))
    proj.write("models/page_views.yml", "name: page_views\nsql: select {{ var('start_date') }} as d from events\n")
    assert proj.fail(*COMPILE).startswith("snowgen.yml:3:15: SG102 vars.start_date: ")


def test_ident_of_a_number(proj):
    proj.write("snowgen.yml", PROJECT.replace("start_date: '2024-01-01'", "start_date: 5"))
    body = "sql: |\n  select {{ ident(var('start_date')) }} from events\n"
    proj.write("models/page_views.yml", "name: page_views\n" + body)
    stderr = proj.fail(*COMPILE)
    assert stderr.startswith("models/page_views.yml:3:3: SG205 ")
    assert stderr.endswith("\n 3 |   select {{ ident(var('start_date')) }} from events\n   |   ^\n")
