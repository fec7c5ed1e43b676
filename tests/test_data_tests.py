"""Data tests (``tests:`` of a model and of its columns) executed on Postgres and DuckDB: each
kind fails on seeded bad rows and passes on good ones, a where filter narrows what a test
reads, an incremental model's audit reads this run's rows (and the whole table for the keys
they touch), ``snowgen run`` stops before the watermark advances over bad rows and warns of
warn-severity failures, ``snowgen test`` reports and exits 1 / 0; every dialect compiles the
audits, which parse back with sqlglot and sqlfluff."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlglot
from click.testing import CliRunner
from engines.duckdb_engine import DuckDBEngine
from test_sqlfluff_grammar import SQLFLUFF_DIALECTS, linter, sqlfluff_text

from snowgen import api
from snowgen.api import RunOptions
from snowgen.build.audit import FAILING
from snowgen.cli import main
from snowgen.dialects import DIALECTS, get_dialect
from snowgen.runner.statements import split_statements
from snowgen.spec.data_tests import ColumnTestItem, ModelTestItem

ENGINES = ("postgres", "duckdb")
NOW = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)

# -- the small projects ---------------------------------------------------------------------------

SHOP = """\
project: shop
schemas: {derived: shop, scratch: shop_scratch, manifest: shop_manifest}
sources:
  orders: {schema: shop_src, table: orders, columns: {order_id: bigint, customer: string, status: string, amount: double, ordered_at: timestamp}}
  customers: {schema: shop_src, table: customers, columns: {customer: string}}
"""
# every kind, severity warn: a run never stops, the results say what failed
ORDERS = """\
name: clean_orders
materialization: table
columns:
  order_id: {type: bigint, tests: [{unique: {severity: warn}}, {not_null: {severity: warn}}]}
  customer: {type: string, tests: [{relationships: {to: customers, field: customer, severity: warn}}]}
  status:
    type: string
    tests:
      - accepted_values: {values: [open, paid], severity: warn}
      - accepted_values: {values: [open, paid], where: "order_id < 100", name: small_order_status, severity: warn}
  amount: double
  ordered_at: timestamp
tests:
  - unique_combination: {columns: [customer, ordered_at], severity: warn}
  - row_count: {min: 1, max: 5, severity: warn}
  - freshness: {column: ordered_at, max_age_hours: 24, severity: warn}
  - sql: {sql: "select order_id from clean_orders where amount < 0", name: no_negative_amounts, severity: warn}
sql: select order_id, customer, status, amount, ordered_at from orders
"""
STREAM = """\
project: stream
schemas: {derived: stream, scratch: stream_scratch, manifest: stream_manifest}
sources:
  events: {schema: stream_src, table: events, timestamp: seen_at, columns: {event_id: bigint, kind: string, seen_at: timestamp}}
incremental: {strategy: watermark, late_data: off}
"""
# this run's new events (from the watermark on), upserted into facts
NEW_EVENTS = """\
name: new_events
materialization: table
watermark: events
sql: select event_id, kind, seen_at from events
"""
# no upsert lookback: a key sent again later is not matched to its old row (a duplicate)
FACTS = """\
name: facts
materialization: incremental
unique_key: event_id
upsert_date_key: seen_at
upsert_lookback_days: 0
tests:
  - unique: {column: event_id}
  - not_null: {column: kind}
  - accepted_values: {column: kind, values: [view, click], severity: warn}
sql: select event_id, kind, seen_at from new_events
"""
STREAM_MODELS = {"new_events": NEW_EVENTS, "facts": FACTS}


def at(hours_ago: float) -> dt.datetime:
    return NOW - dt.timedelta(hours=hours_ago)


def literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, dt.datetime):
        return f"CAST('{value.isoformat(sep=' ')}' AS TIMESTAMP)"
    return f"'{value}'" if isinstance(value, str) else str(value)


def insert(table: str, rows: list[tuple]) -> str:
    return f"INSERT INTO {table} VALUES " + ", ".join("(" + ", ".join(map(literal, row)) + ")" for row in rows)


# -- a database the CLI and the test reach -------------------------------------------------------------


@dataclass
class Database:
    """A Postgres database of the test server or a DuckDB file: its URL, and SQL run on it
    between the commands (a DuckDB file is open only meanwhile)."""

    url: str
    run_sql: Callable[[list[str], bool], list[tuple]]
    outputs: dict[str, object] = field(default_factory=dict)

    def execute(self, *statements: str) -> None:
        self.run_sql(list(statements), False)

    def query(self, statement: str) -> list[tuple]:
        return self.run_sql([statement], True)


@pytest.fixture(scope="module", params=ENGINES)
def database(request, tmp_path_factory) -> Iterator[Database]:
    if request.param == "duckdb":
        path = tmp_path_factory.mktemp("duckdb") / "tests.duckdb"

        def on_file(statements: list[str], fetch: bool) -> list[tuple]:
            with DuckDBEngine(str(path)) as engine:
                for statement in statements[:-1]:
                    engine.execute(statement)
                return engine.query(statements[-1]) if fetch else engine.execute(statements[-1]) or []

        yield Database(f"duckdb:///{path}", on_file)
        return
    engine = request.getfixturevalue("postgres_engine").fresh()
    info = engine.conn.info

    def on_server(statements: list[str], fetch: bool) -> list[tuple]:
        for statement in statements[:-1]:
            engine.execute(statement)
        return engine.query(statements[-1]) if fetch else engine.execute(statements[-1]) or []

    try:
        yield Database(f"postgresql://{info.user}@{info.host}:{info.port}/{info.dbname}", on_server)
    finally:
        engine.close()


def project(root: Path, spec: str, models: dict[str, str]) -> Path:
    (root / "models").mkdir(parents=True)
    (root / "snowgen.yml").write_text(spec)
    for name, text in models.items():
        (root / "models" / f"{name}.yml").write_text(text)
    return root


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


# -- each kind, on the rows of a table model ---------------------------------------------------------

GOOD = [(1, "a", "open", 10.0, at(1)), (2, "b", "paid", 20.0, at(2)), (3, "a", "paid", 5.0, at(3))]
#: case -> (the table's rows, the failing rows each test finds; every other test finds none)
CASES = {
    "good rows": (GOOD, {}),
    "unique": ([*GOOD, (1, "b", "open", 1.0, at(4))], {"unique(order_id)": 1}),
    "not_null": ([*GOOD, (None, "b", "open", 1.0, at(4))], {"not_null(order_id)": 1}),
    "accepted_values": ([*GOOD, (4, "a", "lost", 1.0, at(4))], {"accepted_values(status)": 1, "small_order_status": 1}),
    "accepted_values, where": ([*GOOD, (400, "a", "lost", 1.0, at(4))], {"accepted_values(status)": 1}),
    "relationships": ([*GOOD, (4, "zz", "open", 1.0, at(4))], {"relationships(customer -> customers.customer)": 1}),
    "unique_combination": ([*GOOD, (4, "a", "open", 1.0, at(1))], {"unique_combination(customer, ordered_at)": 1}),
    "row_count": (GOOD + [(i, "b", "open", 1.0, at(i)) for i in (4, 5, 6)], {"row_count": 1}),
    "freshness": ([(1, "a", "open", 10.0, at(30))], {"freshness(ordered_at)": 1}),
    "sql": ([*GOOD, (4, "b", "open", -1.0, at(4))], {"no_negative_amounts": 1}),
}


@pytest.fixture(scope="module")
def shop(database, tmp_path_factory) -> Database:
    """The shop project run once on good rows; then each case's rows put in its table and
    tested by ``snowgen test`` (its results, by test name, in ``outputs``)."""
    root = project(tmp_path_factory.mktemp("shop"), SHOP, {"orders": ORDERS})
    columns = "order_id BIGINT, customer VARCHAR(20), status VARCHAR(20), amount DOUBLE PRECISION, ordered_at TIMESTAMP"
    database.execute(
        "CREATE SCHEMA shop_src", f"CREATE TABLE shop_src.orders ({columns})",
        "CREATE TABLE shop_src.customers (customer VARCHAR(20))", insert("shop_src.customers", [("a",), ("b",)]),
        insert("shop_src.orders", GOOD),
    )  # fmt: skip
    database.outputs["run"] = cli("run", "--project", str(root), "--db", database.url)
    loaded = api.load_project(root)
    for case, (rows, _) in CASES.items():
        database.execute("DELETE FROM shop.clean_orders", insert("shop.clean_orders", rows))
        report = api.data_tests(loaded, RunOptions(db=database.url))
        database.outputs[case] = {r.test: r.failing_rows for r in report.results}
    return database


def test_a_run_on_good_rows_passes_its_tests(shop):
    result = shop.outputs["run"]
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr


@pytest.mark.parametrize("case", list(CASES))
def test_each_kind_fails_on_its_bad_rows_only(shop, case):
    found = shop.outputs[case]
    expected = {name: CASES[case][1].get(name, 0) for name in found}
    assert len(found) == 9 and found == expected


# -- an incremental model: this run's rows, the run stopped, snowgen test -----------------------------------


def _watermark(database: Database) -> list[tuple]:
    return database.query('SELECT "model", CAST("watermark" AS VARCHAR) FROM stream_manifest.stream_watermarks')


@pytest.fixture(scope="module")
def stream(database, tmp_path_factory) -> Database:
    """Four runs of the stream project: good rows; new good rows beside a bad old row put
    in the table by hand; a key sent again (a duplicate of an old row) and a kind outside
    the accepted ones; then ``snowgen test`` before and after the duplicate is removed."""
    root = project(tmp_path_factory.mktemp("stream"), STREAM, STREAM_MODELS)
    run = ("run", "--project", str(root), "--db", database.url)
    source = "stream_src.events"
    database.execute(
        "CREATE SCHEMA stream_src", f"CREATE TABLE {source} (event_id BIGINT, kind VARCHAR(20), seen_at TIMESTAMP)"
    )
    database.execute(insert(source, [(1, "view", at(50)), (2, "click", at(49))]))
    database.outputs["first"] = (cli(*run), _watermark(database))
    database.execute(insert("stream.facts", [(90, None, at(60))]), insert(source, [(3, "view", at(48))]))
    database.outputs["bad old row"] = (cli(*run), _watermark(database))
    database.execute(insert(source, [(1, "view", at(47)), (4, "swipe", at(47))]))
    database.outputs["duplicate"] = (cli(*run), _watermark(database))
    database.outputs["results"] = database.query(
        "SELECT test_name, severity, failing_rows, run_id IS NULL FROM stream_manifest.stream_test_results ORDER BY tested_at, test_name"
    )
    database.outputs["json"] = cli(*run, "--log-format", "json")  # the same failure again
    test = ("test", "--project", str(root), "--db", database.url)
    database.outputs["test failing"] = cli(*test, "--this-run")
    database.outputs["whole tables"] = cli(*test)
    database.execute(f"DELETE FROM stream.facts WHERE event_id = 1 AND seen_at < {literal(at(48))}")
    database.outputs["test passing"] = cli(*test, "--this-run")
    database.outputs["whole tables, old row left"] = cli(*test)
    database.execute("DELETE FROM stream.facts WHERE event_id = 90")
    database.outputs["whole tables, mended"] = cli(*test)
    return database


def test_an_incremental_audit_passes_on_good_rows(stream):
    result, watermark = stream.outputs["first"]
    assert result.exit_code == 0, result.output
    assert watermark == [("new_events", str(at(49)))]


def test_a_bad_old_row_outside_this_runs_rows_does_not_fail(stream):
    result, watermark = stream.outputs["bad old row"]
    assert result.exit_code == 0, result.output
    assert watermark == [("new_events", str(at(48)))]


def test_a_duplicate_of_an_old_key_stops_the_run_before_the_watermark_advances(stream):
    result, watermark = stream.outputs["duplicate"]
    assert result.exit_code == 1
    assert watermark == [("new_events", str(at(48)))]  # not at(47): the update step never ran


def test_the_stopped_run_says_which_test_failed(stream):
    result, _ = stream.outputs["duplicate"]
    assert "snowgen: SG460 test 'unique(event_id)' of model 'facts' failed: 1 failing row\n" in result.stderr
    assert "The run stopped at step facts__audit (" in result.stderr
    assert result.stdout.startswith("failed: step 8/10 facts__audit after ")


def test_a_warn_severity_failure_is_a_warning(stream):
    result, _ = stream.outputs["duplicate"]
    line = "snowgen: warning: test 'accepted_values(kind)' of model 'facts' failed: 1 failing row (severity warn)"
    assert line in result.stderr.splitlines()


def test_the_json_log_names_the_failed_test_with_sg460(stream):
    result = stream.outputs["json"]
    events = [json.loads(line) for line in result.stderr.splitlines()]
    [failed] = [e for e in events if e["event"] == "step_failed"]
    assert (failed["step"], failed["code"]) == ("facts__audit", "SG460")
    assert failed["error"] == "test 'unique(event_id)' of model 'facts' failed: 1 failing row"
    assert json.loads(result.stdout)["failed_step"]["step"] == "facts__audit"


def test_each_audit_records_its_results_with_the_run_id(stream):
    results = stream.outputs["results"]
    assert len(results) == 9  # three tests, three runs
    assert results[-3:] == [("accepted_values(kind)", "warn", 1, False), ("not_null(kind)", "error", 0, False),
                            ("unique(event_id)", "error", 1, False)]  # fmt: skip


def test_snowgen_test_exits_1_with_a_table_of_results(stream):
    result = stream.outputs["test failing"]
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["model", "test", "severity", "failing", "rows", "result"]
    assert lines[1:4] == [
        "facts  accepted_values(kind)  warn                 1  warned",
        "facts  not_null(kind)         error                0  passed",
        "facts  unique(event_id)       error                1  failed",
    ]
    assert lines[4].startswith("3 tests on ") and lines[4].endswith(": 1 passed, 1 failed, 1 warned")


def test_snowgen_test_exits_0_once_no_error_severity_test_fails(stream):
    result = stream.outputs["test passing"]
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].endswith(": 2 passed, 0 failed, 1 warned")


def test_snowgen_test_reads_whole_tables_unless_told_this_run(stream):
    """Without --this-run the bad old row the run's audits never read (a NULL kind) fails too."""
    result = stream.outputs["whole tables"]
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1:4] == [
        "facts  accepted_values(kind)  warn                 1  warned",
        "facts  not_null(kind)         error                1  failed",
        "facts  unique(event_id)       error                1  failed",
    ]
    assert stream.outputs["whole tables, old row left"].exit_code == 1
    mended = stream.outputs["whole tables, mended"]
    assert mended.exit_code == 0, mended.output
    assert mended.stdout.splitlines()[-1].endswith(": 2 passed, 0 failed, 1 warned")


# -- every dialect ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> dict[str, dict[str, str]]:
    root = project(tmp_path_factory.mktemp("compiled"), SHOP, {"orders": ORDERS})
    stream = project(tmp_path_factory.mktemp("compiled_stream"), STREAM, STREAM_MODELS)
    files: dict[str, dict[str, str]] = {name: {} for name in DIALECTS}
    for folder in (root, stream):
        for result in api.compile_loaded(api.load_project(folder), DIALECTS):
            plan = json.loads(result.files["plan.json"])
            audits = [s["file"] for s in plan["steps"] if s["kind"] == "audit"]
            files[result.dialect].update({f"{folder.name}/{f}": result.files[f] for f in audits})
    return files


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_dialect_compiles_audits_that_parse_back(compiled, dialect):
    assert len(compiled[dialect]) == 2
    sqlglot_dialect = get_dialect(dialect).sqlglot_dialect
    checks = 0
    for name, text in compiled[dialect].items():
        statements = split_statements(text, sqlglot_dialect)
        for statement in statements:
            sqlglot.parse_one(statement, read=sqlglot_dialect)  # raises where it does not parse
        checks += sum("snowgen_test_failed" in s for s in statements)
        if dialect in SQLFLUFF_DIALECTS:
            violations = linter(dialect).parse_string(sqlfluff_text(dialect, text)).violations
            assert [str(v) for v in violations] == [], name
    assert checks == 1  # the stream's error-severity tests; the shop's are all warn


def test_every_test_kind_of_the_spec_has_a_query_of_failing_rows():
    assert set(FAILING) == set(ModelTestItem.model_fields)
    assert set(ColumnTestItem.model_fields) < set(FAILING)
