"""Spec files no editor should produce, found by fuzzing: alias bombs and self-referencing
aliases (SG006), deep nesting (SG007), control characters (SG001), values their tag cannot
hold (SG102), bytes that are not UTF-8 (SG003). Each ends in a located error, fast, with no
traceback."""

from __future__ import annotations

import time

import pytest

COMPILE = ("compile", "--dialect", "duckdb")
MODEL = "models/page_views.yml"


def write_bytes(proj, relative: str, data: bytes) -> None:
    (proj.root / relative).write_bytes(data)


def alias_bomb(depth: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, depth)]
    return "name: page_views\nsql: select 1 as a\n" + "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_at_its_first_anchor_without_expanding(proj):
    """About 1 KB that expanded to 9**9 items: the real CLI ran past 90 s and 1.37 GB."""
    proj.write(MODEL, alias_bomb(9))
    started = time.monotonic()
    result = proj.subprocess(*COMPILE)
    assert time.monotonic() - started < 30
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "models/page_views.yml:3:5: SG006 YAML anchors ('&a0') are not allowed in spec files; "
        "write the value out where used\n"
        " 3 | a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
        "   |     ^\n"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("loop: &loop [*loop]\n", "3:7: SG006 YAML anchors ('&loop')"),
        ("loop: {self: &me {again: *me}}\n", "3:14: SG006 YAML anchors ('&me')"),
    ],
    ids=["list", "mapping"],
)
def test_a_self_referencing_alias_is_refused(proj, text, expected):
    proj.write(MODEL, "name: page_views\nsql: select 1 as a\n" + text)
    assert proj.fail(*COMPILE).startswith(f"models/page_views.yml:{expected}")


def test_an_alias_is_refused_at_the_alias_when_its_anchor_is_missing(proj):
    proj.write(MODEL, "name: page_views\nmaterialization: *kind\nsql: select 1 as a\n")
    assert proj.fail(*COMPILE) == (
        "models/page_views.yml:2:18: SG006 YAML aliases ('*kind') are not allowed in spec files; write the value out\n"
        " 2 | materialization: *kind\n"
        "   |                  ^\n"
    )


@pytest.mark.parametrize("depth", [65, 100_000])
def test_nesting_deeper_than_64_levels_is_refused_where_it_crosses_the_limit(proj, depth):
    proj.write(MODEL, "name: page_views\nsql: select 1 as a\ncolumns: " + "[" * depth + "]" * depth + "\n")
    # the file's mapping is level 1, so the 64th bracket (column 10 + 63) is level 65
    assert proj.fail(*COMPILE).startswith(
        "models/page_views.yml:3:73: SG007 lists and mappings are nested more than 64 levels deep\n"
    )


def test_deep_block_nesting_in_the_project_file_is_refused(proj):
    nested = "".join("\n" + "  " * (level + 1) + f"k{level}:" for level in range(70))
    proj.write("snowgen.yml", "project: demo\nvars:" + nested + " x\n")
    # project file level 1, vars level 2: the mapping under k62 (line 66) is level 65
    assert proj.fail(*COMPILE).startswith(
        "snowgen.yml:66:129: SG007 lists and mappings are nested more than 64 levels deep\n"
    )


@pytest.mark.parametrize(
    ("data", "position", "char"),
    [
        (b"name: page_views\nsql: select \x00 1 as a\n", "2:13", "U+0000"),
        (b"name: page_views\r\nsql: select 1 as a\x07\r\n", "2:19", "U+0007"),
        (b"name: page_views\nsql: |\n  select 1 as a \x1b[31m\n", "3:17", "U+001B"),
        (b"name: page_views\nsql: select 1 \xc2\x9b as a\n", "2:15", "U+009B"),
        (b"name: page_views\nsql: select 1 \xef\xbb\xbf as a\n", "2:15", "U+FEFF"),
    ],
    ids=["nul", "bell-crlf", "escape-in-block", "c1-control", "bom-inside"],
)
def test_a_control_character_is_located_by_line_and_column(proj, data, position, char):
    write_bytes(proj, MODEL, data)
    assert proj.fail(*COMPILE).startswith(
        f"models/page_views.yml:{position}: SG001 YAML syntax error: "
        f"the character {char} is not allowed in a YAML file\n"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("!!float abc", "'abc' is not a valid !!float value (could not convert string to float: 'abc')"),
        ("!!int 12x", "'12x' is not a valid !!int value (invalid literal for int() with base 10: '12x')"),
        ("!!bool maybe", "'maybe' is not a valid !!bool value"),
        ("!!binary zz", "'zz' is not a valid !!binary value (failed to decode base64 data: Incorrect padding)"),
        ("2024-13-45", "'2024-13-45' is not a valid !!timestamp value (month must be in 1..12)"),
        (
            "!!python/name:os.system x",
            "unknown YAML tag '!!python/name:os.system'; spec files hold plain text, numbers, booleans, "
            "dates, lists and mappings",
        ),
    ],
    ids=["float", "int", "bool", "binary", "impossible-date", "python-tag"],
)
def test_a_value_its_tag_cannot_hold_is_located_at_the_value(proj, value, message):
    proj.write("snowgen.yml", f"project: demo\nvars:\n  start_date: {value}\n")
    suffix = "" if message.startswith("unknown") else "; quote it to keep it as text"
    assert proj.fail(*COMPILE).startswith(f"snowgen.yml:3:15: SG102 {message}{suffix}\n")


def test_a_tag_on_a_mapping_is_refused(proj):
    proj.write(MODEL, "name: page_views\nlayout: !!python/object:os.system {cluster: [a]}\nsql: select 1 as a\n")
    assert proj.fail(*COMPILE).startswith(
        "models/page_views.yml:2:9: SG102 the YAML tag '!!python/object:os.system' is not allowed here\n"
    )


def test_a_key_that_is_a_list_is_refused(proj):
    proj.write(MODEL, "name: page_views\n? [a, b]\n: 1\nsql: select 1 as a\n")
    assert proj.fail(*COMPILE).startswith(
        "models/page_views.yml:2:3: SG102 a key must be a name, not a list or a mapping\n"
    )


def test_a_second_document_is_a_syntax_error_that_says_so(proj):
    proj.write(MODEL, "name: page_views\nsql: select 1 as a\n---\nname: other\n")
    assert proj.fail(*COMPILE).startswith(
        "models/page_views.yml:3:1: SG001 YAML syntax error: expected a single document in the stream, "
        "but found another document\n"
    )


def test_bytes_that_are_not_utf8_are_located_by_line_and_character(proj):
    write_bytes(proj, MODEL, "name: page_views\nsql: select 'Ωmega', 'caf".encode() + b"\xe9' as a\n")
    assert proj.fail(*COMPILE) == (
        "models/page_views.yml:2:26: SG003 the spec file is not UTF-8 text\n"
        " 2 | sql: select 'Ωmega', 'caf\ufffd' as a\n"
        "   |                          ^\n"
    )


def test_a_utf16_spec_file_is_named_as_such(proj):
    write_bytes(proj, MODEL, "name: page_views\nsql: select 1 as a\n".encode("utf-16"))
    assert proj.fail(*COMPILE).startswith(
        "models/page_views.yml:1:1: SG003 the spec file is UTF-16 text (it starts with a UTF-16 byte order mark); "
        "save it as UTF-8\n"
    )


def test_a_utf8_byte_order_mark_at_the_start_is_fine_and_positions_ignore_it(proj):
    write_bytes(proj, MODEL, b"\xef\xbb\xbfname: page_views\nmaterialization: tabel\nsql: select 1 as a\n")
    assert proj.fail(*COMPILE).startswith("models/page_views.yml:2:18: SG102 ")
