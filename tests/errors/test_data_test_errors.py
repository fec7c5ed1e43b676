"""Mistakes in data tests (``tests:`` of a model and of its columns): each is a located
error, with the caret on the key or value to change (SG101, SG102, SG201, SG207, SG260, SG261);
``snowgen test`` of a project without tests is SG462."""

from __future__ import annotations

import pytest

COMPILE = ("compile", "--dialect", "duckdb")
BODY = "sql: |\n  select event_id, page_url, collector_tstamp\n  from events\n"


def model(tests: str) -> str:
    return f"name: page_views\ntests:\n{tests}{BODY}"


def test_a_model_with_tests_compiles(proj):
    proj.write(
        "models/page_views.yml",
        model("  - unique: {column: event_id}\n  - not_null: {columns: [event_id, page_url]}\n"),
    )
    assert proj.run(*COMPILE).exit_code == 0


ERRORS = {
    "unknown kind": (
        "  - uniq\n",
        "models/page_views.yml:3:5: SG101 unknown key 'uniq' (did you mean 'unique'?)\n 3 |   - uniq\n   |     ^\n",
    ),
    "column not produced": (
        "  - unique: {column: event_idd}\n",
        "models/page_views.yml:3:22: SG207 column 'event_idd' is not an output column of model 'page_views' "
        "(did you mean 'event_id'?)\n"
        " 3 |   - unique: {column: event_idd}\n"
        "   |                      ^\n",
    ),
    "one of several columns not produced": (
        "  - not_null: {columns: [event_id, page_ur]}\n",
        "models/page_views.yml:3:36: SG207 column 'page_ur' is not an output column of model 'page_views' "
        "(did you mean 'page_url'?)\n"
        " 3 |   - not_null: {columns: [event_id, page_ur]}\n"
        "   |                                    ^\n",
    ),
    "where does not parse": (
        "  - not_null: {column: event_id, where: \"page_url = = 'x'\"}\n",
        "models/page_views.yml:3:41: SG261 where: \"page_url = = 'x'\" is not a SQL expression: incomplete "
        "expression (EQ without its expression)\n"
        " 3 |   - not_null: {column: event_id, where: \"page_url = = 'x'\"}\n"
        "   |                                         ^\n",
    ),
    "relationships to an unknown model": (
        "  - relationships: {column: event_id, to: page_view, field: event_id}\n",
        "models/page_views.yml:3:43: SG201 relationships: unknown model or source 'page_view' "
        "(did you mean 'page_views'?)\n"
        " 3 |   - relationships: {column: event_id, to: page_view, field: event_id}\n"
        "   |                                           ^\n",
    ),
    "two tests of one name": (
        "  - unique: {column: event_id}\n  - unique: {columns: [event_id]}\n",
        "models/page_views.yml:4:5: SG260 model 'page_views' has two tests named 'unique(event_id)': give one a 'name'\n"
        " 4 |   - unique: {columns: [event_id]}\n"
        "   |     ^\n",
    ),
    "no column": (
        "  - not_null\n",
        "models/page_views.yml:3:5: SG102 tests.0: give either 'column' or 'columns'\n 3 |   - not_null\n   |     ^\n",
    ),
    "bad severity": (
        "  - unique: {column: event_id, severity: fatal}\n",
        "models/page_views.yml:3:42: SG102 tests.0.unique.severity: input should be 'error' or 'warn'\n"
        " 3 |   - unique: {column: event_id, severity: fatal}\n"
        "   |                                          ^\n",
    ),
    "custom SQL reads an unknown table": (
        '  - sql: "select * from page_view"\n',
        "models/page_views.yml:3:10: SG201 table 'page_view' is neither a model nor a source (did you mean 'page_views'?)\n"
        ' 3 |   - sql: "select * from page_view"\n'
        "   |          ^\n",
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_a_mistake_in_tests_is_located(proj, case):
    tests, expected = ERRORS[case]
    proj.write("models/page_views.yml", model(tests))
    assert proj.fail(*COMPILE) == expected


def test_a_column_test_of_an_unknown_model(proj):
    columns = "columns:\n  event_id: {type: string, tests: [{relationships: {to: users, field: id}}]}\n"
    columns += "  page_url: string\n  collector_tstamp: timestamp\n"
    proj.write("models/page_views.yml", f"name: page_views\n{columns}{BODY}")
    assert proj.fail(*COMPILE) == (
        "models/page_views.yml:3:57: SG201 relationships: unknown model or source 'users'; known: events, page_views\n"
        " 3 |   event_id: {type: string, tests: [{relationships: {to: users, field: id}}]}\n"
        "   |                                                         ^\n"
    )


def test_snowgen_test_without_tests(proj):
    assert proj.fail("test", "--db", "duckdb:///:memory:") == (
        "snowgen: SG462 no data tests to run: no model of the plan declares 'tests'\n"
    )


def test_snowgen_test_before_the_tables_exist(proj):
    proj.write("models/page_views.yml", model("  - unique: {column: event_id}\n"))
    assert proj.fail("test", "--db", "duckdb:///:memory:") == (
        "snowgen: SG461 the tests of model 'page_views' could not run (step page_views__audit): Catalog Error: "
        "Schema with name snowgen_manifest does not exist!\n"
    )
