"""What `snowgen run` prints (docs/run-output.md): the text lines, the JSON events and
summary, --quiet, colours only on a terminal, the failure report, and the rows each step
wrote, on DuckDB and on the PostgreSQL 15 server of the test session."""

from __future__ import annotations

import datetime as dt
import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
from decimal import Decimal
from io import StringIO
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from support.data import insert_rows

from snowgen.cli import main
from snowgen.runner.execute import PlannedStep, StepResult, rows_written
from snowgen.runner.output import UNKNOWN, RunHeader, TextOutput, Writer
from snowgen.runner.statements import read_statements

SPECS = Path(__file__).resolve().parents[1] / "model_specs"
ANSI = re.compile(r"\x1b\[")
COLOUR = re.compile(r"\x1b\[\d+m")

#: the plan of multi_source_deals, in order, with the rows each step writes for two new deals
#: of server p1 on the first run (None: a step that writes no rows, printed as an en dash)
FIRST_RUN_ROWS = {
    "acquire_lock": None,
    "create_schemas": None,
    "start_run": None,
    "multi_source_deals_watermarks": None,
    "multi_source_deals_watermark_health": None,
    "multi_source_deals_watermarks_intervals": None,
    "stg_deals__p1": 2,
    "stg_deals__p2": 0,
    "stg_deals__p3": 0,
    "inter_deals": 2,
    "inter_deals__audit": None,
    "multi_source_deals_watermarks_intervals_update": 1,
    "multi_source_deals_watermarks_update": 1,
    "release_lock": None,
}
STEPS = list(FIRST_RUN_ROWS)


@pytest.fixture
def deals(tmp_path, monkeypatch):
    root = tmp_path / "multi_source_deals"
    shutil.copytree(SPECS / "multi_source_deals", root)
    monkeypatch.chdir(root)
    monkeypatch.delenv("NO_COLOR", raising=False)
    return root


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


def deal(number: int, when: dt.datetime | None = None) -> dict:
    return {
        "deal": number, "login": 1, "timemsc": when or dt.datetime(2024, 3, 1, 10, number), "symbol": "EURUSD",
        "action": 0, "entry": 0, "volume": Decimal("1"), "price": Decimal("1"), "profit": Decimal("1"),
        "commission": Decimal("0"), "swap": Decimal("0"), "comment": "ok",
    }  # fmt: skip


def with_deals(db: Path, server: str, *rows: dict) -> None:
    with duckdb.connect(str(db)) as con:
        for statement in insert_rows("duckdb", f"mt5_{server}", "deals", list(rows)):
            con.execute(statement)


@pytest.fixture
def two_deals(deals):
    """The source tables in the default DuckDB file, with two deals of server p1."""
    assert cli("sources", "--db", "snowgen.duckdb").exit_code == 0
    with_deals(deals / "snowgen.duckdb", "p1", deal(1), deal(2))
    return deals / "snowgen.duckdb"


def run_ids(db: Path) -> list[str]:
    with duckdb.connect(str(db)) as con:
        query = "select distinct run_id from deals_manifest.multi_source_deals_run_metadata order by 1"
        return [value.isoformat(sep=" ") for (value,) in con.execute(query).fetchall()]


# -- text --------------------------------------------------------------------------------------------------

STEP_LINE = re.compile(
    r"^(\d\d:\d\d:\d\d)  \[ ?(\d+)/(\d+)\] (\S+) +(ok|FAILED) +(\d+\.\d\d) s(?: +(?:(\d[\d,]*) rows?|(\u2013)))?$"
)


def step_lines(stderr: str) -> list[tuple]:
    return [m.groups() for m in map(STEP_LINE.match, stderr.splitlines()) if m]


def printed_rows(stderr: str) -> dict[str, int | None]:
    return {g[3]: int(g[6].replace(",", "")) if g[6] else None for g in step_lines(stderr)}


def test_text_output_has_a_line_per_step_with_its_time_and_rows(two_deals):
    result = cli("run")
    assert result.exit_code == 0, result.output
    lines = step_lines(result.stderr)
    assert [(g[1], g[2], g[3]) for g in lines] == [(str(i), str(len(STEPS)), s) for i, s in enumerate(STEPS, 1)]
    assert printed_rows(result.stderr) == FIRST_RUN_ROWS
    assert all(g[7] == UNKNOWN for g in lines if FIRST_RUN_ROWS[g[3]] is None)
    header = result.stderr.splitlines()[0]
    assert re.fullmatch(r"\d\d:\d\d:\d\d  running multi_source_deals on snowgen.duckdb \(duckdb\): 14 steps, "
                        r"\d{4}-\d\d-\d\d UTC", header)  # fmt: skip


def test_the_printed_run_id_is_the_one_the_run_metadata_records(two_deals):
    first, second = cli("run"), cli("run")
    printed = [re.search(r"^\d\d:\d\d:\d\d  run id (.+)$", r.stderr, re.MULTILINE).group(1) for r in (first, second)]
    assert run_ids(two_deals) == printed and printed[0] != printed[1]
    assert f"run id {printed[1]}," in second.stdout


def test_the_summary_on_stdout_counts_steps_warnings_and_rows_per_table(two_deals):
    with_deals(two_deals, "p2", deal(3, dt.datetime(2099, 1, 1)))  # stamped in the future: a warning
    result = cli("run")
    assert result.exit_code == 0, result.output
    first, *tables = result.stdout.splitlines()
    assert re.fullmatch(r"ok: 14 steps in \d+\.\d\d s, run id \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+, 1 warning", first)
    assert tables == ["deals.inter_deals             2 rows"]
    assert "snowgen: warning: multi_source_deals_future_rows:" in result.stderr


def test_a_second_run_without_new_rows_writes_none(two_deals):
    cli("run")
    rows = printed_rows(cli("run").stderr)
    assert rows["stg_deals__p1"] == 2  # the watermark's lookback window reads them again
    assert rows["inter_deals"] == 2 and rows["stg_deals__p2"] == 0


def test_quiet_prints_no_progress_but_warnings_and_the_summary(two_deals):
    result = cli("run", "--quiet")
    assert result.exit_code == 0 and result.stderr == ""
    assert result.stdout.startswith("ok: 14 steps in ")
    with_deals(two_deals, "p2", deal(3, dt.datetime(2099, 1, 1)))
    result = cli("run", "-q")
    assert result.stderr.startswith("snowgen: warning: multi_source_deals_future_rows:")
    assert len(result.stderr.splitlines()) == 1


def test_no_ansi_codes_when_the_streams_are_not_terminals(two_deals):
    with_deals(two_deals, "p2", deal(3, dt.datetime(2099, 1, 1)))
    result = cli("run")
    assert "warning" in result.stderr and not ANSI.search(result.stderr) and not ANSI.search(result.stdout)
    failed = cli("run", "--db", "other.duckdb")  # no source tables there: a step fails
    assert failed.exit_code == 1 and "FAILED" in failed.stderr and not ANSI.search(failed.stderr)


def test_a_failing_step_in_text(deals):
    result = cli("run")  # no source tables: the health view fails
    assert result.exit_code == 1
    failed = [g for g in step_lines(result.stderr) if g[4] == "FAILED"]
    assert [(g[1], g[3]) for g in failed] == [
        (str(STEPS.index("multi_source_deals_watermark_health") + 1), "multi_source_deals_watermark_health")
    ]
    report = result.stderr.split("FAILED", 1)[1]
    assert "snowgen: SG408 step multi_source_deals_watermark_health failed (02_watermarks/" in report
    assert 'Table with name "mt5_p1.deals" does not exist' in report and "in the statement:\n    CREATE" in report
    assert re.fullmatch(r"failed: step 5/14 multi_source_deals_watermark_health after \d+\.\d\d s, run id .+\n",
                        result.stdout)  # fmt: skip


# -- JSON Lines --------------------------------------------------------------------------------------------

#: every event's fields (docs/run-output.md); each event has exactly these
COMMON = {"event", "time", "run_id"}
STEP = COMMON | {"step", "index", "total", "file"}
EVENT_FIELDS = {
    "run_started": COMMON | {"project", "dialect", "database", "target", "steps"},
    "run_identified": COMMON,
    "step_started": STEP,
    "step_finished": STEP | {"seconds", "rows"},
    "warning": COMMON | {"message"},
    "step_failed": STEP | {"seconds", "code", "error", "statement"},
    "run_finished": COMMON | {"status", "steps", "steps_run", "seconds"},
    "error": COMMON | {"code", "message", "file", "line", "col"},
}
SUMMARY_FIELDS = {
    "run_id", "project", "dialect", "database", "target", "status", "steps", "steps_run", "seconds", "tables",
    "warnings", "failed_step",
}  # fmt: skip
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def events(stderr: str) -> list[dict]:
    """Every stderr line as a JSON event, each checked against its documented fields."""
    parsed = [json.loads(line) for line in stderr.splitlines()]
    for event in parsed:
        expected = EVENT_FIELDS[event["event"]]
        if event["event"] == "error":  # the place only for an error in a file
            expected = expected - ({"file", "line", "col"} - set(event))
        assert set(event) == expected, event
        assert TIME.fullmatch(event["time"])
    return parsed


def test_json_events_carry_the_documented_fields(two_deals):
    result = cli("run", "--log-format", "json", "--target", "dev", "--db", "snowgen.duckdb")
    assert result.exit_code == 0, result.output
    log = events(result.stderr)
    names = [e["event"] for e in log]
    recorded = STEPS.index("start_run") + 1  # the run id is read once the step that records it ran
    assert names == ["run_started", *["step_started", "step_finished"] * recorded, "run_identified",
                     *["step_started", "step_finished"] * (len(STEPS) - recorded), "run_finished"]  # fmt: skip
    started = log[0]
    assert started | {"time": None} == {
        "event": "run_started", "time": None, "run_id": None, "project": "multi_source_deals", "dialect": "duckdb",
        "database": "snowgen.duckdb", "target": "dev", "steps": len(STEPS),
    }  # fmt: skip
    finished = [e for e in log if e["event"] == "step_finished"]
    assert [(e["index"], e["total"], e["step"], e["rows"]) for e in finished] == [
        (i, len(STEPS), step, rows) for i, (step, rows) in enumerate(FIRST_RUN_ROWS.items(), 1)
    ]
    assert all(isinstance(e["seconds"], float) and e["file"].endswith(".sql") for e in finished)
    [run_id] = run_ids(two_deals)
    known = names.index("run_identified")
    assert [e["run_id"] for e in log[known:]] == [run_id] * (len(log) - known) and log[known - 1]["run_id"] is None


def test_json_summary_on_stdout(two_deals):
    with_deals(two_deals, "p2", deal(3, dt.datetime(2099, 1, 1)))
    result = cli("run", "--log-format", "json")
    summary = json.loads(result.stdout)
    assert set(summary) == SUMMARY_FIELDS and result.stdout.count("\n") == 1
    assert summary["run_id"] == run_ids(two_deals)[0] and summary["status"] == "ok"
    assert (summary["steps"], summary["steps_run"], summary["failed_step"]) == (len(STEPS), len(STEPS), None)
    assert summary["tables"] == [{"table": "deals.inter_deals", "rows": 2}]
    [warning] = summary["warnings"]
    assert warning.startswith("multi_source_deals_future_rows:")
    [event] = [e for e in events(result.stderr) if e["event"] == "warning"]
    assert event["message"] == warning
    [finished] = [e for e in events(result.stderr) if e["event"] == "run_finished"]
    assert {k: finished[k] for k in ("status", "steps", "steps_run", "seconds")} == {
        k: summary[k] for k in ("status", "steps", "steps_run", "seconds")
    }


def test_a_failing_step_in_json(deals):
    result = cli("run", "--log-format", "json")
    assert result.exit_code == 1
    log = events(result.stderr)
    [failed] = [e for e in log if e["event"] == "step_failed"]
    assert (failed["step"], failed["index"], failed["code"]) == (
        "multi_source_deals_watermark_health",
        STEPS.index("multi_source_deals_watermark_health") + 1,
        "SG408",
    )
    assert failed["file"] == "02_watermarks/02_multi_source_deals_watermark_health.sql"
    assert 'Table with name "mt5_p1.deals" does not exist' in failed["error"]
    assert failed["statement"].startswith('CREATE OR REPLACE VIEW "deals_manifest"."multi_source_deals_watermark_')
    assert log[-1]["event"] == "run_finished" and (log[-1]["status"], log[-1]["steps_run"]) == ("failed", 4)
    summary = json.loads(result.stdout)
    assert summary["status"] == "failed" and summary["tables"] == []
    assert summary["failed_step"] == {"step": failed["step"], "file": failed["file"]}


def test_an_error_before_the_run_is_a_json_event_and_exit_2(deals):
    result = cli("run", "--full-refresh", "--log-format", "json")
    assert result.exit_code == 2 and result.stdout == ""
    [error] = events(result.stderr)
    assert error["code"] == "SG404" and "would drop the incremental manifests" in error["message"]
    bad = deals / "models" / "inter_deals.yml"
    bad.write_text(bad.read_text() + "\nunknown_key: 1\n")
    [error] = events(cli("run", "--log-format", "json").stderr)
    assert (error["code"], error["file"]) == ("SG101", "models/inter_deals.yml") and error["line"] > 1


def test_json_quiet_keeps_only_what_needs_attention(two_deals):
    result = cli("run", "--log-format", "json", "--quiet")
    assert result.stderr == "" and json.loads(result.stdout)["status"] == "ok"
    with_deals(two_deals, "p2", deal(3, dt.datetime(2099, 1, 1)))
    assert [e["event"] for e in events(cli("run", "--log-format", "json", "-q").stderr)] == ["warning"]


# -- Postgres ----------------------------------------------------------------------------------------------


def test_rows_per_step_and_the_run_id_on_postgres(deals, postgres_db):
    info = postgres_db.conn.info
    url = f"postgresql://{info.user}@{info.host}:{info.port}/{info.dbname}"
    assert cli("sources", "--db", url).exit_code == 0
    for statement in insert_rows("postgres", "mt5_p1", "deals", [deal(1), deal(2)]):
        postgres_db.execute(statement)
    result = cli("run", "--db", url, "--log-format", "json")
    assert result.exit_code == 0, result.output
    log = events(result.stderr)
    rows = {e["step"]: e["rows"] for e in log if e["event"] == "step_finished"}
    assert rows == FIRST_RUN_ROWS  # CREATE TABLE AS reports its rows on Postgres too
    [(run_id,)] = postgres_db.query("select distinct run_id from deals_manifest.multi_source_deals_run_metadata")
    assert json.loads(result.stdout)["run_id"] == run_id.isoformat(sep=" ") == log[-1]["run_id"]
    text = cli("run", "--db", url)
    assert printed_rows(text.stderr)["inter_deals"] == 2 and not ANSI.search(text.stderr)


# -- a terminal --------------------------------------------------------------------------------------------


def run_on_a_terminal(root: Path, *args: str, no_color: str | None = None) -> tuple[str, str]:
    """``snowgen run`` in a process whose stderr is a pseudo-terminal: (stderr, stdout)."""
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    if no_color is not None:
        env["NO_COLOR"] = no_color
    leader, follower = pty.openpty()
    command = [sys.executable, "-c", "from snowgen.cli import entry; entry()", "run", *args]
    process = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=follower)
    os.close(follower)
    chunks = []
    while True:
        select.select([leader], [], [], 60)
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the process closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    stdout = process.communicate(timeout=60)[0]
    return b"".join(chunks).decode(), stdout.decode()


def test_colours_and_a_live_line_on_a_terminal(two_deals):
    stderr, stdout = run_on_a_terminal(two_deals.parent)
    assert "\x1b[32mok\x1b[0m" in stderr and "(statement 1/" in stderr and "\r" in stderr
    assert not ANSI.search(stdout) and stdout.startswith("ok: 14 steps")  # stdout is a pipe


@pytest.mark.parametrize("no_color", ["1", "true"])
def test_no_colours_on_a_terminal_with_no_color(two_deals, no_color):
    stderr, _ = run_on_a_terminal(two_deals.parent, no_color=no_color)
    assert "ok" in stderr and not COLOUR.search(stderr)


def test_an_empty_no_color_keeps_the_colours(two_deals):
    stderr, _ = run_on_a_terminal(two_deals.parent, no_color="")
    assert COLOUR.search(stderr)


def test_json_on_a_terminal_has_no_ansi_codes(two_deals):
    stderr, _ = run_on_a_terminal(two_deals.parent, "--log-format", "json")
    assert not ANSI.search(stderr)
    assert [json.loads(line)["event"] for line in stderr.splitlines()][-1] == "run_finished"


def test_the_live_line_names_the_running_statement():
    steps = [PlannedStep("setup", "01.sql", ["a", "b"]), PlannedStep("load", "02.sql", ["c"])]
    stream = StringIO()
    output = TextOutput(Writer(StringIO(), stream), quiet=False, live=True, colour=False)
    output.total, output.name_width = 2, 5
    output.statement_started(steps[0], 1, 1)
    assert stream.getvalue() == "\r[1/2] |--------------------| setup (statement 2/2)\x1b[K"
    output.step_finished(StepResult(steps[0], 1.5, 3), 1)
    assert re.search(r"\r\d\d:\d\d:\d\d  \[1/2\] setup  ok +1.50 s +3 rows\x1b\[K\n$", stream.getvalue())


def test_the_header_names_the_target():
    stream = StringIO()
    output = TextOutput(Writer(StringIO(), stream), quiet=False, live=False, colour=False)
    output.started(RunHeader("p", "postgres", "postgresql://me:***@db/x", "prod", []))
    assert stream.getvalue().endswith("running p on postgresql://me:***@db/x (postgres, target prod): 0 steps, "
                                      f"{dt.datetime.now(dt.UTC):%Y-%m-%d} UTC\n")  # fmt: skip


# -- which statements' rows count --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dialect", "sql", "writes"),
    [
        ("postgres", 'INSERT INTO "s"."t" (a) SELECT 1', "s.t"),
        ("postgres", 'CREATE TABLE "S"."T" AS SELECT 1 AS a', "s.t"),
        ("duckdb", "CREATE OR REPLACE TABLE s.t AS WITH x AS (SELECT 1) SELECT * FROM x", "s.t"),
        ("postgres", "CREATE TEMPORARY TABLE IF NOT EXISTS s.t AS SELECT 1", "s.t"),
        ("postgres", "CREATE TABLE IF NOT EXISTS s.t (a INT, b INT GENERATED ALWAYS AS (a) STORED)", None),
        ("snowflake", 'MERGE INTO "D"."S"."T" AS t USING x ON t.a = x.a WHEN MATCHED THEN DELETE', "s.t"),
        ("bigquery", "CREATE OR REPLACE TABLE `p.d.t` PARTITION BY x OPTIONS (a = 1) AS SELECT 1 AS x", "d.t"),
        ("databricks", "INSERT OVERWRITE TABLE s.t SELECT 1", "s.t"),
        ("postgres", "UPDATE s.t SET a = 1", "s.t"),
        ("postgres", "DELETE FROM s.t WHERE a = 1", None),
        ("postgres", "CREATE OR REPLACE VIEW s.v AS SELECT 1", None),
        ("postgres", "CREATE INDEX IF NOT EXISTS i ON s.t (a)", None),
        ("snowflake", "SET (a, b) = (SELECT 1, 2)", None),
        ("postgres", "SELECT 1", None),
        ("postgres", "BEGIN", None),
    ],
)
def test_the_table_a_statement_writes_rows_into(dialect, sql, writes):
    [statement] = read_statements(f"-- header\n{sql};\n", dialect)
    assert (statement.text, statement.writes) == (sql, writes)


def test_a_step_whose_engine_does_not_report_a_count_writes_unknown_rows():
    assert rows_written([3, None]) is None and rows_written([]) is None and rows_written([3, 0]) == 3


def test_a_whole_script_counts_nothing():
    step = PlannedStep("s", "s.sql", ["INSERT INTO s.t SELECT 1"], "INSERT INTO s.t SELECT 1;", ("s.t",))
    assert step.counted(whole_scripts=True, uncounted=frozenset()) == [False]
    assert step.counted(whole_scripts=False, uncounted=frozenset()) == [True]
    assert step.counted(whole_scripts=False, uncounted=frozenset({"s.t"})) == [False]


@pytest.mark.parametrize("project", ["snowplow_web", "multi_source_deals"])
def test_every_dialect_counts_the_rows_of_the_same_tables_in_each_step(project):
    """Each step's counted (step, table) pairs read from the committed plans: the same in all
    six dialects, whatever statements a dialect writes them with (MERGE or DELETE + INSERT)."""
    from snowgen import api
    from snowgen.dialects import NAMES
    from snowgen.runner.execute import read_plan

    generated = SPECS.parent / "generated" / project
    prepared = api.prepare_run(api.load_project(SPECS / project), api.RunOptions(db="unused.duckdb"))
    counted = {}
    for dialect in NAMES:
        steps = read_plan(generated / dialect, dialect)
        counted[dialect] = {
            (s.id, table) for s in steps for table in s.writes if table not in {None, *prepared.uncounted}
        }
    assert counted["duckdb"] and all(tables == counted["duckdb"] for tables in counted.values())
    assert not any(table.endswith(("__snowgen_stage", "_run_metadata")) for _, table in counted["duckdb"])
