"""Command-line mistakes (SG401-SG403), --check on stale output, and the real entry point."""

from __future__ import annotations

import pytest

from .conftest import MODEL, tree

COMPILE = ("compile", "--dialect", "duckdb")


@pytest.mark.parametrize(
    ("vars_text", "expected"),
    [
        ("[1, 2]", "snowgen: SG401 --vars must be a mapping such as '{\"start_date\": \"2024-01-01\"}'\n"),
        ("start_dte: 2024-02-01", "snowgen: SG401 --vars: unknown var 'start_dte' (did you mean 'start_date'?)\n"),
        (
            "{nothing_like_it: 1}",
            "snowgen: SG401 --vars: unknown var 'nothing_like_it'; known: start_date, upsert_lookback_days\n",
        ),
        (
            '{"start_date": {"a": 1}}',
            "snowgen: SG401 --vars: var 'start_date': values must be text, numbers, booleans, dates or null, not dict\n",
        ),
    ],
    ids=["not-a-mapping", "did-you-mean", "unknown", "mapping-value"],
)
def test_invalid_vars(proj, vars_text, expected):
    assert proj.fail(*COMPILE, "--vars", vars_text) == expected


def test_vars_that_do_not_parse(proj):
    stderr = proj.fail(*COMPILE, "--vars", "{start_date: [x")
    assert stderr.startswith("snowgen: SG401 --vars is not valid JSON or YAML: while parsing a flow sequence\n")


def test_non_finite_var_on_the_command_line(proj):
    proj.write("models/page_views.yml", "name: page_views\nsql: select {{ var('start_date') }} as d from events\n")
    assert proj.fail(*COMPILE, "--vars", "{start_date: .nan}").startswith("snowgen: SG401 --vars: var 'start_date': ")


@pytest.mark.parametrize(
    ("select", "expected"),
    [
        ("page_view", "snowgen: SG402 --select unknown model 'page_view' (did you mean 'page_views'?)\n"),
        ("sessions", "snowgen: SG402 --select unknown model 'sessions'; known: page_views\n"),
        ("module:web", "snowgen: SG402 --select unknown model 'module:web'; known: page_views\n"),
    ],
)
def test_select_matches_no_model(proj, select, expected):
    assert proj.fail(*COMPILE, "--select", select) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("compile",), "snowgen: SG403 choose a dialect: --dialect NAME, --all or --target NAME\n"),
        (("compile", "--dialect", "duckdb", "--all"), "snowgen: SG403 --dialect and --all exclude each other\n"),
    ],
    ids=["no-dialect", "dialect-and-all"],
)
def test_conflicting_or_missing_options(proj, args, expected):
    assert proj.fail(*args) == expected


# -- --check ------------------------------------------------------------------------------------------


def test_check_on_stale_output_prints_the_diff_and_exits_1(proj):
    assert proj.run("compile", "--dialect", "duckdb").exit_code == 0
    proj.write("models/page_views.yml", MODEL.replace("page_url", "page_title"))
    before = tree(proj.root / "generated")
    result = proj.run("compile", "--dialect", "duckdb", "--check")
    assert result.exit_code == 1
    assert result.stderr == "snowgen: generated is stale; run 'snowgen compile' without --check\n"
    assert result.stdout.startswith(
        "--- generated/demo/duckdb/02_main/01_page_views.sql\n+++ generated/demo/duckdb/02_main/01_page_views.sql\n"
    )
    assert '\n-  "page_url",\n+  "page_title",\n' in result.stdout
    assert tree(proj.root / "generated") == before


def test_check_on_fresh_output_exits_0(proj):
    assert proj.run("compile", "--dialect", "duckdb").exit_code == 0
    result = proj.run("compile", "--dialect", "duckdb", "--check")
    up_to_date = "generated is up to date (1 project/dialect outputs)\n"
    assert (result.exit_code, result.stdout, result.stderr) == (0, up_to_date, "")


# -- the real entry point -----------------------------------------------------------------------------


def test_entry_point_exits_2_without_traceback(proj):
    proj.write("models/page_views.yml", "name: page_views\nsql: |\n  select event_id\n  from evnts\n")
    before = tree(proj.root / "generated")
    done = proj.subprocess(*COMPILE)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "models/page_views.yml:4:8: SG201 table 'evnts' is neither a model nor a source (did you mean 'events'?)\n"
        " 4 |   from evnts\n"
        "   |        ^\n"
    )
    assert tree(proj.root / "generated") == before


def test_entry_point_undefined_jinja_name_is_a_located_error(proj):
    proj.write("models/page_views.yml", "name: page_views\nsql: |\n  select {{ start_date }} as d\n  from events\n")
    done = proj.subprocess(*COMPILE)
    assert "Traceback" not in done.stderr
    assert done.returncode == 2
    assert done.stderr.startswith("models/page_views.yml:3:3: SG205 ")
