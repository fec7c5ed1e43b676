"""Errors inside a SQL body, located inside the YAML block scalar: unknown tables (SG201),
unparsable SQL (SG204), Jinja (SG205, SG206, SG209), not one SELECT (SG208), macros (SG212)."""

from __future__ import annotations

import pytest

COMPILE = ("compile", "--dialect", "duckdb")


def body(*lines: str) -> str:
    return "name: page_views\nsql: |\n" + "".join(f"  {line}\n" for line in lines)


def test_unknown_table_points_inside_the_block_scalar(proj):
    proj.write("models/page_views.yml", body("select event_id", "from events e", "join sesions s on s.id = e.id"))
    assert proj.fail(*COMPILE) == (
        "models/page_views.yml:5:8: SG201 table 'sesions' is neither a model nor a source\n"
        " 5 |   join sesions s on s.id = e.id\n"
        "   |        ^\n"
    )


def test_unknown_table_with_did_you_mean(proj):
    proj.write("models/page_views.yml", body("select event_id", "from evnts"))
    assert proj.fail(*COMPILE) == (
        "models/page_views.yml:4:8: SG201 table 'evnts' is neither a model nor a source (did you mean 'events'?)\n"
        " 4 |   from evnts\n"
        "   |        ^\n"
    )


def test_unknown_table_in_a_single_line_body(proj):
    proj.write("models/page_views.yml", "name: page_views\nsql: select event_id from evnts\n")
    assert proj.fail(*COMPILE) == (
        "models/page_views.yml:2:27: SG201 table 'evnts' is neither a model nor a source (did you mean 'events'?)\n"
        " 2 | sql: select event_id from evnts\n"
        "   |                           ^\n"
    )


def test_sql_that_does_not_parse(proj):
    proj.write("models/page_views.yml", body("select event_id", "from events", "where page_url = (event_id"))
    assert proj.fail(*COMPILE) == (
        "models/page_views.yml:5:21: SG204 SQL does not parse (postgres): Expecting )\n"
        " 5 |   where page_url = (event_id\n"
        "   |                     ^\n"
    )


@pytest.mark.parametrize(
    ("lines", "got"),
    [
        (("select event_id from events;", "select page_url from events"), "2 statements"),
        (("insert into t select event_id from events",), "INSERT"),
        (("delete from events",), "DELETE"),
    ],
    ids=["two-statements", "insert", "delete"],
)
def test_body_must_be_a_single_select(proj, lines, got):
    proj.write("models/page_views.yml", body(*lines))
    assert proj.fail(*COMPILE) == (
        f"models/page_views.yml:3:3: SG208 a SQL body must be exactly one SELECT query, got {got}\n"
        f" 3 |   {lines[0]}\n"
        "   |   ^\n"
    )


@pytest.mark.parametrize(
    ("name", "hint"),
    [("nope", ""), ("start_dat", " (did you mean 'start_date'?)")],
)
def test_unknown_var(proj, name, hint):
    proj.write("models/page_views.yml", body("select event_id", "from events", f"where d > {{{{ var('{name}') }}}}"))
    assert proj.fail(*COMPILE) == (
        f"models/page_views.yml:5:3: SG206 unknown var '{name}'{hint}\n"
        f" 5 |   where d > {{{{ var('{name}') }}}}\n"
        "   |   ^\n"
    )


def test_jinja_syntax_error(proj):
    proj.write("models/page_views.yml", body("select event_id", "from events", "where d > {{ var('start_date') }"))
    assert proj.fail(*COMPILE) == (
        "models/page_views.yml:5:3: SG205 Jinja syntax error: unexpected '}'\n"
        " 5 |   where d > {{ var('start_date') }\n"
        "   |   ^\n"
    )


def test_jinja_runtime_error(proj):
    proj.write("models/page_views.yml", body("select event_id", "from events", "where {{ 1 / 0 }}"))
    assert proj.fail(*COMPILE) == (
        "models/page_views.yml:5:3: SG205 Jinja error: division by zero\n 5 |   where {{ 1 / 0 }}\n   |   ^\n"
    )


def test_undefined_jinja_name(proj):
    proj.write("models/page_views.yml", body("select event_id", "from events", "where d > {{ start_date }}"))
    assert proj.fail(*COMPILE) == (
        "models/page_views.yml:5:3: SG205 Jinja error: 'start_date' is undefined\n"
        " 5 |   where d > {{ start_date }}\n"
        "   |   ^\n"
    )


SG209 = (
    "SG209 a Jinja value is printed inside a SQL string literal or where only a name can stand; "
    "print it as its own expression (e.g. 'a' || {{ var('x') }})"
)


@pytest.mark.parametrize(
    ("line", "col"),
    [
        ("where d > '{{ var(\"start_date\") }}'", 14),  # inside a string literal
        ("where d > {{ var('start_date') }}.day", 13),  # as a table qualifier
    ],
    ids=["in-string-literal", "as-qualifier"],
)
def test_jinja_value_where_it_cannot_stand(proj, line, col):
    proj.write("models/page_views.yml", body("select event_id", "from events", line))
    assert proj.fail(*COMPILE) == (f"models/page_views.yml:5:{col}: {SG209}\n 5 |   {line}\n   | {' ' * (col - 1)}^\n")


def test_macro_with_wrong_arguments(proj):
    proj.write("models/page_views.yml", body("select event_id", "from events", "where bot_filter(1, 2)"))
    assert proj.fail(*COMPILE) == (
        "models/page_views.yml:5:9: SG212 bot_filter() takes no argument or one table alias, e.g. bot_filter(ev)\n"
        " 5 |   where bot_filter(1, 2)\n"
        "   |         ^\n"
    )
