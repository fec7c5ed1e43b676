"""Source samples and `snowgen sample-data`: the shipped snowplow_web's sample (what
scripts/make-sample writes), loaded and run on DuckDB and PostgreSQL 15, refused over rows,
printed per dialect, and the mistakes a sample can hold."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import re
import shutil
from pathlib import Path

import duckdb
import pytest
import sqlglot
from click.testing import CliRunner

from snowgen.cli import main
from snowgen.dialects import NAMES, get_dialect

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "model_specs" / "snowplow_web"
EVENTS = "atomic.events"
WEB_PAGE = "atomic.com_snowplowanalytics_snowplow_web_page_1"


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


def printed_counts(stdout: str) -> dict[str, int]:
    return {t: int(n.replace(",", "")) for t, n in re.findall(r"^(\S+) +([\d,]+) rows?$", stdout, re.MULTILINE)}


def make_sample_script():
    loader = importlib.machinery.SourceFileLoader("make_sample", str(ROOT / "scripts" / "make-sample"))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("make_sample", loader))
    loader.exec_module(module)
    return module


@pytest.fixture
def web(tmp_path, monkeypatch):
    """A copy of the shipped snowplow_web, the working directory."""
    root = tmp_path / "snowplow_web"
    shutil.copytree(SHIPPED, root, ignore=shutil.ignore_patterns("*.duckdb*", ".snowgen-cache"))
    monkeypatch.chdir(root)
    return root


def test_the_committed_sample_is_what_make_sample_writes():
    made = make_sample_script().sample_files()
    assert sorted(made) == sorted(p.name for p in (SHIPPED / "samples").iterdir())
    for name, data in made.items():
        assert (SHIPPED / "samples" / name).read_bytes() == data, f"run scripts/make-sample: {name} is stale"
    assert sum(len(data) for data in made.values()) < 400_000  # a few hundred KB at most


def test_sample_data_then_run_builds_page_views_sessions_and_users_on_duckdb(web):
    loaded = cli("sample-data")
    assert loaded.exit_code == 0, loaded.output
    assert printed_counts(loaded.stdout) == {EVENTS: 376, WEB_PAGE: 376}
    assert "loading the samples of snowplow_web into snowplow_web.duckdb" in loaded.stderr  # the dev target's file
    result = cli("run")
    assert result.exit_code == 0, result.output
    counts = printed_counts(result.stdout)
    assert counts == {
        "derived.snowplow_web_user_mapping": 6,
        "derived.snowplow_web_page_views": 74,
        "derived.snowplow_web_sessions": 36,
        "derived.snowplow_web_users": 15,
    }
    with duckdb.connect(str(web / "snowplow_web.duckdb")) as con:
        assert con.execute("select count(*) from derived.snowplow_web_page_views").fetchone() == (74,)


def test_sample_data_refuses_a_table_that_holds_rows_and_adds_none(web):
    assert cli("sample-data").exit_code == 0
    again = cli("sample-data")
    assert again.exit_code == 2 and "Traceback" not in again.output
    assert again.stderr.splitlines()[-1] == (
        "snowgen: SG409 atomic.events on snowplow_web.duckdb already holds 376 rows; sample-data loads only "
        "into empty tables (empty it, or use another database with --db)"
    )
    with duckdb.connect(str(web / "snowplow_web.duckdb")) as con:
        assert con.execute("select count(*) from atomic.events").fetchone() == (376,)
        assert con.execute(f"select count(*) from {WEB_PAGE}").fetchone() == (376,)


def test_a_refused_context_table_gets_no_row_either(web):
    """The check comes before any insert: events empty but the context table filled."""
    db = web / "snowplow_web.duckdb"
    assert cli("sources", "--db", str(db)).exit_code == 0
    with duckdb.connect(str(db)) as con:
        con.execute(f"insert into {WEB_PAGE} values ('x', timestamp '2020-01-01', 'y')")
    result = cli("sample-data")
    assert result.exit_code == 2 and f"SG409 {WEB_PAGE} on snowplow_web.duckdb already holds 1 rows" in result.stderr
    with duckdb.connect(str(db)) as con:
        assert con.execute("select count(*) from atomic.events").fetchone() == (0,)


def test_sample_data_and_run_on_postgres_give_the_duckdb_counts(web, postgres_db):
    info = postgres_db.conn.info
    url = f"postgresql://{info.user}@{info.host}:{info.port}/{info.dbname}"
    loaded = cli("sample-data", "--db", url)
    assert loaded.exit_code == 0, loaded.output
    assert printed_counts(loaded.stdout) == {EVENTS: 376, WEB_PAGE: 376}
    result = cli("run", "--db", url)
    assert result.exit_code == 0, result.output
    assert printed_counts(result.stdout)["derived.snowplow_web_page_views"] == 74
    assert postgres_db.query("select count(*), count(distinct domain_userid) from derived.snowplow_web_sessions") == [
        (36, 15)
    ]
    again = cli("sample-data", "--db", url)
    assert again.exit_code == 2 and "SG409 atomic.events on postgresql://" in again.stderr


@pytest.mark.parametrize("dialect", ["postgres", "redshift", "duckdb"])
def test_sample_data_prints_statements_that_parse_in_each_dialect_that_has_context_tables(web, dialect):
    result = cli("sample-data", "--dialect", dialect)
    assert result.exit_code == 0, result.output
    statements = [s for s in sqlglot.parse(result.stdout, read=get_dialect(dialect).sqlglot_dialect) if s]
    inserts = [s for s in statements if isinstance(s, sqlglot.exp.Insert)]
    assert sum(len(s.expression.expressions) for s in inserts) == 2 * 376
    assert isinstance(statements[0], sqlglot.exp.Create)  # the source tables come first


@pytest.mark.parametrize("dialect", ["snowflake", "bigquery", "databricks"])
def test_a_context_sample_is_nested_in_the_events_rows_where_contexts_are_columns(web, dialect):
    result = cli("sample-data", "--dialect", dialect)
    assert result.exit_code == 0, result.output
    d = get_dialect(dialect)
    statements = [s for s in sqlglot.parse(result.stdout, read=d.sqlglot_dialect) if s]
    inserts = [s for s in statements if isinstance(s, sqlglot.exp.Insert)]
    assert {s.this.this.name.lower() for s in inserts} == {"events"}  # no context table
    column = d.context_column("com.snowplowanalytics.snowplow", "web_page", "1-0-0")
    assert all(c.name.lower() == column.lower() for c in (s.this.expressions[-1] for s in inserts))


# -- a small project: every dialect, and the mistakes -------------------------------------------------

PROJECT = """\
project: demo
sources:
  events:
    schema: atomic
    table: events
    sample: samples/events.csv
    columns: {event_id: string(36), collector_tstamp: timestamp, app_id: string(8), n: int, ok: boolean}
"""
MODEL = "name: page_views\nsql: select event_id, app_id from events\n"
SAMPLE = "event_id,collector_tstamp,app_id,ok\ne1,2024-01-02 10:00:00,web,true\ne2,2024-01-02 10:01:00,,false\n"


class Project:
    def __init__(self, root: Path):
        self.root = root

    def write(self, name: str, text: str) -> None:
        (self.root / name).parent.mkdir(parents=True, exist_ok=True)
        (self.root / name).write_text(text, encoding="utf-8")


@pytest.fixture
def demo(tmp_path, monkeypatch) -> Project:
    project = Project(tmp_path)
    project.write("snowgen.yml", PROJECT)
    project.write("models/page_views.yml", MODEL)
    project.write("samples/events.csv", SAMPLE)
    monkeypatch.chdir(tmp_path)
    return project


@pytest.mark.parametrize("dialect", NAMES)
def test_every_dialect_prints_the_sample_as_typed_values(demo, dialect):
    result = cli("sample-data", "--dialect", dialect)
    assert result.exit_code == 0, result.output
    read = get_dialect(dialect).sqlglot_dialect
    [insert] = [s for s in sqlglot.parse(result.stdout, read=read) if isinstance(s, sqlglot.exp.Insert)]
    assert len(insert.expression.expressions) == 2
    assert "NULL" in insert.sql(read) and "TRUE" in insert.sql(read).upper()


def test_columns_a_sample_leaves_out_are_null(demo):
    assert cli("sample-data").exit_code == 0  # no target: <project>/snowgen.duckdb
    with duckdb.connect(str(demo.root / "snowgen.duckdb")) as con:
        rows = con.execute("select event_id, collector_tstamp::varchar, app_id, n, ok from atomic.events order by 1")
        assert rows.fetchall() == [("e1", "2024-01-02 10:00:00", "web", None, True), ("e2", "2024-01-02 10:01:00", None, None, False)]  # fmt: skip


def sample_error(demo: Project, sample: str) -> str:
    demo.write("samples/events.csv", sample)
    result = cli("sample-data")
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert not (demo.root / "snowgen.duckdb").exists()  # nothing written
    return result.stderr


def test_a_header_column_the_source_does_not_declare(demo):
    assert sample_error(demo, "event_id,tstamp\ne1,x\n") == (
        "samples/events.csv:1:1: SG216 the header of the sample of 'events' does not fit its columns "
        "(not declared: tstamp)\n 1 | event_id,tstamp\n   | ^\n"
    )


def test_a_value_that_does_not_fit_its_column(demo):
    assert sample_error(demo, "event_id,n\ne1,1.5\ne2,x\n").splitlines()[::3] == [
        "samples/events.csv:2:4: SG216 the sample of 'events', column 'n': the value '1.5' is not a whole number (int)",
        "samples/events.csv:3:4: SG216 the sample of 'events', column 'n': the value 'x' is not a whole number (int)",
    ]


def test_a_row_with_another_number_of_fields(demo):
    assert "SG216 this row of the sample of 'events' has 3 fields; the header has 2" in sample_error(
        demo, "event_id,n\ne1,1,2\n"
    )


def test_a_missing_sample_file(demo):
    (demo.root / "samples/events.csv").unlink()
    result = cli("sample-data")
    assert result.exit_code == 2
    assert "snowgen.yml:6:13: SG005 sample of 'events': file not found: samples/events.csv" in result.stderr


def test_a_project_without_samples(demo):
    demo.write("snowgen.yml", PROJECT.replace("    sample: samples/events.csv\n", ""))
    result = cli("sample-data")
    assert result.exit_code == 2
    assert "SG216 project 'demo' names no sample; give a source one: sources.<name>.sample" in result.stderr


def test_a_sample_path_must_stay_inside_the_project(demo):
    demo.write("snowgen.yml", PROJECT.replace("samples/events.csv", "../events.csv"))
    result = cli("compile", "--dialect", "duckdb")
    assert result.exit_code == 2
    assert "SG102 sources.events.sample: must be a path inside the project, relative to snowgen.yml" in result.stderr


# -- the warehouses without a connector: the printed statements, run on their emulators ---------------


CONTEXT_PROJECT = """\
project: nested
sources:
  events:
    schema: atomic
    table: events
    sample: samples/events.csv
    columns: {event_id: string(36), collector_tstamp: timestamp, page_url: string}
incremental:
  strategy: sessions
  contexts:
    - name: web_page
      schema: iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0
      fields: {id: page_view_id}
      sample: samples/web_page.csv
"""
CONTEXT_EVENTS = "event_id,collector_tstamp,page_url\ne1,2020-01-01 10:00:00,/a\ne2,2020-01-01 10:00:01,/b\ne3,2020-01-01 10:00:02,\n"
CONTEXT_ROWS = (
    "root_id,root_tstamp,id\ne2,2020-01-01 10:00:01,pv-2\ne1,2020-01-01 10:00:00,pv-1\ne1,2020-01-01 10:00:00,pv-x\n"
)


def sail_full_rows(statement: sqlglot.exp.Expr, columns: dict[str, list[str]]) -> sqlglot.exp.Expr:
    """Sail's INSERT takes full rows only (real Databricks takes a column list): the same
    rows with every column of the table, NULL in those the statement leaves out."""
    if not isinstance(statement, sqlglot.exp.Insert):
        return statement
    table = statement.this.this
    named = [c.name for c in statement.this.expressions]
    every = columns[table.name]
    rows = [
        sqlglot.exp.Tuple(
            expressions=[row.expressions[named.index(c)] if c in named else sqlglot.exp.Null() for c in every]
        )
        for row in statement.expression.expressions
    ]
    return sqlglot.exp.Insert(this=table, expression=sqlglot.exp.Values(expressions=rows))


def load_printed_sample(engine, project: Path) -> None:
    from snowgen.api import load_project, sample_data

    d = get_dialect(engine.name)
    load = sample_data(load_project(project), d)
    for statement in load.setup:
        engine.execute(statement)
    trees = [sqlglot.parse_one(s, read=d.sqlglot_dialect) for s in load.inserts]
    inserts = [t for t in trees if not isinstance(t, (sqlglot.exp.Transaction, sqlglot.exp.Commit))]
    if engine.name == "databricks":
        creates = [sqlglot.parse_one(s, read="databricks") for s in load.setup]
        columns = {c.this.this.name: [col.name for col in c.this.expressions] for c in creates if c.kind == "TABLE"}
        inserts = [sail_full_rows(t, columns) for t in inserts]
    # fakesnow and bqemulator: the statements between BEGIN and COMMIT run one by one
    # (support/runs.py: fakesnow's transactions; bqemulator takes a transaction in one script only)
    for tree in inserts:
        engine.execute(tree.sql(d.sqlglot_dialect))


@pytest.mark.parametrize("engine", ["snowflake", "bigquery", "databricks"], indirect=True)
def test_the_printed_sample_loads_on_the_emulators_with_each_context_in_its_event(engine, tmp_path):
    """What the plan reads of the nested column (Dialect.first_context_field) is the first
    entity of the event's context rows, in the sample's order; an event without one reads NULL
    (the whole plan on nested contexts: test_engines_sessions_emulators)."""
    project = Project(tmp_path)
    project.write("snowgen.yml", CONTEXT_PROJECT)
    project.write("samples/events.csv", CONTEXT_EVENTS)
    project.write("samples/web_page.csv", CONTEXT_ROWS)
    load_printed_sample(engine, tmp_path)
    d = get_dialect(engine.name)
    column = sqlglot.exp.column(d.context_column("com.snowplowanalytics.snowplow", "web_page", "1-0-0"))
    page_view_id = d.first_context_field(column, "id", "string")
    query = sqlglot.exp.select("event_id", "page_url", page_view_id).from_("atomic.events").order_by("event_id")
    assert engine.query(d.render(d.lower(query))) == [("e1", "/a", "pv-1"), ("e2", "/b", "pv-2"), ("e3", None, None)]
