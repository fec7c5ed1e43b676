"""Reading files: YAML syntax (SG001), duplicate keys (SG002), missing project (SG003),
a file that is not a mapping (SG004)."""

from __future__ import annotations

import pytest

COMPILE = ("compile", "--dialect", "duckdb")


def test_yaml_syntax_error_points_at_the_offending_character(proj):
    proj.write("models/page_views.yml", "name: page_views\n  sql: select 1 as a\n")
    assert proj.fail(*COMPILE) == (
        "models/page_views.yml:2:6: SG001 YAML syntax error: mapping values are not allowed here\n"
        " 2 |   sql: select 1 as a\n"
        "   |      ^\n"
    )


def test_unclosed_bracket_points_at_the_bracket(proj):
    proj.write("models/page_views.yml", "name: page_views\nsql: [select 1 as a\n")
    assert proj.fail(*COMPILE) == (
        "models/page_views.yml:2:6: SG001 YAML syntax error: expected ',' or ']', but got '<stream end>'\n"
        " 2 | sql: [select 1 as a\n"
        "   |      ^\n"
    )


def test_yaml_syntax_error_in_the_project_file(proj):
    proj.write("snowgen.yml", "project: demo\nvars: {a: 1\n  b: 2}\n")
    assert proj.fail(*COMPILE) == (
        "snowgen.yml:3:4: SG001 YAML syntax error: expected ',' or '}', but got ':'\n 3 |   b: 2}\n   |    ^\n"
    )


@pytest.mark.parametrize(
    ("relative", "text", "expected"),
    [
        (
            "models/page_views.yml",
            "name: page_views\nmaterialization: table\nname: other\nsql: select 1 as a\n",
            "models/page_views.yml:3:1: SG002 duplicate key 'name' (first defined on line 1)\n"
            " 3 | name: other\n"
            "   | ^\n",
        ),
        (
            "snowgen.yml",
            "project: demo\nsources:\n  events: {schema: atomic, table: events}\n  events: {schema: raw, table: e}\n",
            "snowgen.yml:4:3: SG002 duplicate key 'events' (first defined on line 3)\n"
            " 4 |   events: {schema: raw, table: e}\n"
            "   |   ^\n",
        ),
    ],
    ids=["model", "nested-in-project"],
)
def test_duplicate_yaml_key(proj, relative, text, expected):
    proj.write(relative, text)
    assert proj.fail(*COMPILE) == expected


def test_missing_project_file(proj):
    proj.remove("snowgen.yml")
    assert proj.fail(*COMPILE, "--project", "elsewhere") == "snowgen: SG003 no snowgen.yml in elsewhere\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "models/page_views.yml:1:1: SG004 the file is empty; expected a mapping\n"),
        (
            "- name: page_views\n",
            "models/page_views.yml:1:1: SG004 expected a mapping at the top of the file\n"
            " 1 | - name: page_views\n"
            "   | ^\n",
        ),
    ],
    ids=["empty", "list"],
)
def test_model_file_is_not_a_mapping(proj, text, expected):
    proj.write("models/page_views.yml", text)
    assert proj.fail(*COMPILE) == expected


def test_yaml_merge_keys_are_refused(proj):
    text = "name: page_views\n<<: {materialization: view}\nsql: select 1 as a\n"
    proj.write("models/page_views.yml", text)
    assert proj.fail(*COMPILE) == (
        "models/page_views.yml:2:1: SG102 YAML merge keys ('<<') are not supported in specs\n"
        " 2 | <<: {materialization: view}\n"
        "   | ^\n"
    )
