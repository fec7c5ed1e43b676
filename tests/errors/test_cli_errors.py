"""Command-line mistakes (SG401-SG403), --check on stale output, and the real entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import MODEL, PROJECT, tree


@pytest.fixture(autouse=True)
def declared_columns(proj):
    """The project's source with its columns declared: a compile that succeeds then warns of
    nothing (SG253), so stderr holds only what each test expects."""
    columns = "    columns: {event_id: string, page_url: string, page_title: string, collector_tstamp: timestamp}\n"
    proj.write("snowgen.yml", PROJECT.replace("    table: events\n", "    table: events\n" + columns))


COMPILE = ("compile", "--dialect", "duckdb")


@pytest.mark.parametrize(
    ("vars_text", "expected"),
    [
        ("[1, 2]", 'snowgen: SG401 --vars must be a mapping such as \'{"start_date": "2024-01-01"}\'\n'),
        ("start_dte: 2024-02-01", "snowgen: SG401 --vars: unknown var 'start_dte' (did you mean 'start_date'?)\n"),
        (
            "{nothing_like_it: 1}",
            "snowgen: SG401 --vars: unknown var 'nothing_like_it'; known: lock_timeout_minutes, start_date, upsert_lookback_days\n",
        ),
        (
            '{"start_date": {"a": {"b": 1}}}',
            "snowgen: SG401 --vars: var 'start_date': values of 'a' must be text, numbers, booleans, dates or null, not dict\n",
        ),
    ],
    ids=["not-a-mapping", "did-you-mean", "unknown", "nested-mapping-value"],
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
        ("module:web", "snowgen: SG402 --select 'module:web': unknown module 'web'; modules: main\n"),
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


# -- empty option values --------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [COMPILE, ("run",)], ids=["compile", "run"])
@pytest.mark.parametrize("select", ["", " , "])
def test_a_select_without_a_name_is_refused_not_read_as_everything(proj, command, select):
    expected = f"snowgen: SG402 --select '{select}' names no model; give a model name or module:NAME\n"
    assert proj.fail(*command, "--select", select) == expected
    assert not (proj.root / "snowgen.duckdb").exists()


EMPTY_DB = (
    "snowgen: SG405 the database URL is empty; use a file such as snowgen.duckdb, duckdb:///path/file.duckdb "
    "or postgresql://user@host:port/database\n"
)


@pytest.mark.parametrize(
    "command",
    [("run",), ("sources",), ("manifest", "remove", "page_views", "--dialect", "duckdb")],
    ids=["run", "sources", "manifest"],
)
def test_an_empty_db_is_refused_not_read_as_the_default(proj, command):
    assert proj.fail(*command, "--db", "") == EMPTY_DB
    assert not (proj.root / "snowgen.duckdb").exists()


def test_an_empty_out_is_refused_not_read_as_the_working_directory(proj):
    expected = "snowgen: SG407 --out is empty; give the folder to write to (default: generated)\n"
    assert proj.fail(*COMPILE, "--out", "") == expected
    assert not (proj.root / "demo").exists()


# -- an --out that cannot hold the output ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("out", "expected"),
    [
        ("notes.txt", "cannot write the output under notes.txt: notes.txt: not a directory"),
        ("notes.txt/out", "cannot write the output under notes.txt/out: notes.txt: not a directory"),
        ("/dev/null", "cannot write the output under /dev/null: /dev/null: not a directory"),
        ("/proc/snowgen-out", "cannot write the output under /proc/snowgen-out: /proc/snowgen-out: cannot create this folder (No such file or directory)"),
    ],
    ids=["a-file", "under-a-file", "dev-null", "proc"],
)  # fmt: skip
def test_an_out_that_cannot_hold_folders_is_refused(proj, out, expected):
    notes = proj.write("notes.txt", "mine\n")
    assert proj.fail(*COMPILE, "--out", out) == f"snowgen: SG407 {expected}\n"
    assert notes.read_text() == "mine\n"
    assert not Path("/proc/snowgen-out").exists()


def test_an_out_whose_new_folders_cannot_all_be_made_leaves_none_behind(proj):
    long_name = "x" * 300
    stderr = proj.fail(*COMPILE, "--out", f"new/{long_name}")
    assert stderr == (
        f"snowgen: SG407 cannot write the output under new/{long_name}: "
        f"new/{long_name}: cannot create this folder (File name too long)\n"
    )
    assert not (proj.root / "new").exists()


def test_a_file_where_a_dialect_folder_goes_is_left_alone_and_nothing_else_is_written(proj):
    """The duckdb folder compiles first and would be replaced if folders were swapped in one by one."""
    proj.write("generated/demo/postgres", "a file of mine\n")
    stderr = proj.fail("compile", "-d", "duckdb", "-d", "postgres")  # fail() checks generated/ is unchanged
    assert stderr == (
        "snowgen: SG407 cannot write the output under generated: "
        "generated/demo/postgres: a file, not a folder snowgen wrote\n"
    )
    assert [p.name for p in (proj.root / "generated/demo").iterdir() if p.name.startswith(".")] == []


# -- a --db that cannot be opened --------------------------------------------------------------------------


def _cannot_open(stderr: str, path: str) -> str:
    """The reason of an SG405 for the DuckDB file ``path`` (run prints one progress line first)."""
    headline = stderr.splitlines()[-1]
    prefix = f"snowgen: SG405 cannot open the DuckDB file {path}: "
    assert headline.startswith(prefix), stderr
    return headline[len(prefix) :]


@pytest.mark.parametrize("command", [("run",), ("sources",)])
def test_a_db_that_is_a_directory(proj, command):
    (proj.root / "folder.duckdb").mkdir()
    reason = _cannot_open(proj.fail(*command, "--db", "folder.duckdb"), str(proj.root / "folder.duckdb"))
    assert reason == "it is a directory"


def test_a_db_url_naming_a_directory(proj):
    (proj.root / "data").mkdir()
    assert _cannot_open(proj.fail("run", "--db", "duckdb:///data"), str(proj.root / "data")) == "it is a directory"


def test_a_db_that_is_not_a_duckdb_file_is_left_as_it_was(proj):
    junk = proj.write("junk.duckdb", "not a database\n")
    reason = _cannot_open(proj.fail("sources", "--db", "junk.duckdb"), str(junk))
    assert reason == f'IO Error: The file "{junk}" exists, but it is not a valid DuckDB database file!'
    assert junk.read_text() == "not a database\n"


@pytest.mark.parametrize(
    ("db", "expected"),
    [
        ("/proc/snowgen.duckdb", 'IO Error: Cannot open file "/proc/snowgen.duckdb": No such file or directory'),
        ("/proc/snowgen/x.duckdb", "/proc/snowgen: cannot create this folder (No such file or directory)"),
        ("notes.txt/x.duckdb", "{root}/notes.txt: not a directory"),
    ],
    ids=["in-proc", "under-proc", "under-a-file"],
)
def test_a_db_where_no_file_can_be_created(proj, db, expected):
    proj.write("notes.txt", "mine\n")
    path = db if db.startswith("/") else str(proj.root / db)
    assert _cannot_open(proj.fail("run", "--db", db), path) == expected.format(root=proj.root)


def test_a_db_whose_new_folders_cannot_all_be_made_leaves_none_behind(proj):
    """``new`` can be created, the folder inside it cannot (its name is too long): the
    connector takes ``new`` back."""
    long_name = "x" * 300
    reason = _cannot_open(
        proj.fail("run", "--db", f"new/{long_name}/x.duckdb"), str(proj.root / f"new/{long_name}/x.duckdb")
    )
    assert reason == f"{proj.root}/new/{long_name}: cannot create this folder (File name too long)"
    assert not (proj.root / "new").exists()


HOLD_THE_FILE = """
import sys, duckdb
connection = duckdb.connect(sys.argv[1])
print("holding", flush=True)
sys.stdin.read()
"""


def test_a_duckdb_file_another_process_holds_stops_the_run_as_a_held_lock(proj):
    path = proj.root / "held.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_FILE, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline() == "holding\n"
        result = proj.run("run", "--db", "held.duckdb")
    finally:
        holder.communicate("", timeout=30)
    assert result.exit_code == 3 and isinstance(result.exception, SystemExit) and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"snowgen: SG410 the DuckDB file {path} is in use by process {holder.pid} (another run?); DuckDB lets one "
        "process write a file at a time; run again later, or wait for it with --wait SECONDS"
    )


def test_a_password_in_the_url_is_never_printed(proj):
    stderr = proj.fail("run", "--db", "postgresql://me:s3cr%21t@127.0.0.1:1/analytics?password=other")
    assert "s3cr" not in stderr and "other" not in stderr
    assert stderr.splitlines()[-1].startswith(
        "snowgen: SG405 cannot connect to postgresql://me:***@127.0.0.1:1/analytics?password=***: connection failed"
    )
