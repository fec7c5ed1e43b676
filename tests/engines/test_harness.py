"""Tests of the engine harness itself.

Each engine runs the constructs snowgen emits (schema + table, INSERT, MERGE from a deduplicated
source, DELETE with a correlated EXISTS, a regex filter) in its own dialect, on an isolated
namespace. What each engine REJECTS, and what an emulator wrongly ACCEPTS, is asserted as fact:
when one of those tests fails, an engine changed and snowgen's expectations need a look.
"""

from __future__ import annotations

import json
import re
import time

import pytest

from . import ENGINE_NAMES, EngineError, split_statements
from .base import REQUIRE_ENV, EngineStartError, EngineUnavailable, ServerProcess, venv_bin
from .fixtures import STARTED, _unavailable

ALL = pytest.mark.parametrize("engine", ENGINE_NAMES, indirect=True)


def on(*names: str):
    return pytest.mark.parametrize("engine", names, indirect=True)


# -- per-dialect vocabulary --------------------------------------------------------------------------
#: (integer type, string type, CREATE TABLE suffix)
TYPES = {
    "postgres": ("integer", "text", ""),
    "duckdb": ("INTEGER", "VARCHAR", ""),
    "snowflake": ("INTEGER", "VARCHAR", ""),
    "bigquery": ("INT64", "STRING", ""),
    "databricks": ("INT", "STRING", " USING DELTA"),
}


def _literal(value) -> str:
    return f"'{value}'" if isinstance(value, str) else str(value)


def make_table(engine, table: str, columns: str, rows: list[tuple] = ()) -> None:
    """``columns`` like ``"id {int}, name {str}"``; creates schema ``s`` and ``s.<table>``."""
    int_t, str_t, suffix = TYPES[engine.name]
    engine.execute("CREATE SCHEMA IF NOT EXISTS s")
    engine.execute(f"CREATE TABLE s.{table} ({columns.format(int=int_t, str=str_t)}){suffix}")
    if rows:
        values = ", ".join("(" + ", ".join(_literal(v) for v in row) + ")" for row in rows)
        engine.execute(f"INSERT INTO s.{table} VALUES {values}")


# -- what every engine runs ------------------------------------------------------------------------
@ALL
def test_create_insert_select(engine):
    make_table(engine, "t", "id {int}, name {str}", [(2, "b"), (1, "a"), (3, "c")])
    assert engine.query("SELECT id, name FROM s.t ORDER BY id") == [(1, "a"), (2, "b"), (3, "c")]


_DEDUP_SUBQUERY = (
    "SELECT id, name, amount FROM (SELECT id, name, amount, "
    "row_number() OVER (PARTITION BY id ORDER BY loaded DESC) AS rn FROM s.src) AS ranked WHERE rn = 1"
)
_DEDUP_QUALIFY = (
    "SELECT id, name, amount FROM s.src {where}QUALIFY row_number() OVER (PARTITION BY id ORDER BY loaded DESC) = 1"
)
#: latest row per id: QUALIFY where the engine has it (Postgres has not, Sail rejects it)
DEDUP_SOURCE = {
    "postgres": _DEDUP_SUBQUERY,
    "duckdb": _DEDUP_QUALIFY.format(where=""),
    "snowflake": _DEDUP_QUALIFY.format(where=""),
    "bigquery": _DEDUP_QUALIFY.format(where="WHERE TRUE "),
    "databricks": _DEDUP_SUBQUERY,
}
MERGE = """MERGE INTO s.tgt AS tgt
USING ({source}) AS upd
ON tgt.id = upd.id
WHEN MATCHED THEN UPDATE SET name = upd.name, amount = upd.amount
WHEN NOT MATCHED THEN INSERT (id, name, amount) VALUES (upd.id, upd.name, upd.amount)"""


@ALL
def test_merge_from_deduplicated_source(engine):
    make_table(engine, "tgt", "id {int}, name {str}, amount {int}", [(1, "a", 10), (2, "b", 20)])
    make_table(
        engine, "src", "id {int}, name {str}, amount {int}, loaded {int}",
        [(2, "b-old", 21, 1), (2, "b-new", 22, 2), (3, "c", 30, 1), (3, "c-old", 29, 0)],
    )  # fmt: skip
    engine.execute(MERGE.format(source=DEDUP_SOURCE[engine.name]))
    assert engine.query("SELECT id, name, amount FROM s.tgt ORDER BY id") == [
        (1, "a", 10),
        (2, "b-new", 22),
        (3, "c", 30),
    ]


DELETE_EXISTS = "DELETE FROM s.t AS tgt WHERE EXISTS (SELECT 1 FROM s.gone AS g WHERE g.id = tgt.id)"


@on("postgres", "duckdb", "snowflake", "bigquery")  # databricks: rejected, see REJECTS
def test_delete_with_correlated_exists(engine):
    make_table(engine, "t", "id {int}", [(1,), (2,), (3,), (4,)])
    make_table(engine, "gone", "id {int}", [(2,), (4,)])
    engine.execute(DELETE_EXISTS)
    assert engine.query("SELECT id FROM s.t ORDER BY id") == [(1,), (3,)]


@on("databricks")
def test_databricks_delete_via_merge(engine):
    """Sail's way to delete the rows another table names: MERGE ... WHEN MATCHED THEN DELETE."""
    make_table(engine, "t", "id {int}", [(1,), (2,), (3,), (4,)])
    make_table(engine, "gone", "id {int}", [(2,), (4,)])
    engine.execute("MERGE INTO s.t AS tgt USING s.gone AS g ON tgt.id = g.id WHEN MATCHED THEN DELETE")
    assert engine.query("SELECT id FROM s.t ORDER BY id") == [(1,), (3,)]


#: names ending in digits
REGEX_FILTER = {
    "postgres": "name ~ '[0-9]+$'",
    "duckdb": "regexp_matches(name, '[0-9]+$')",
    "snowflake": "RLIKE(name, '.*[0-9]+')",  # Snowflake matches the WHOLE string
    "bigquery": "REGEXP_CONTAINS(name, r'[0-9]+$')",
    "databricks": "name RLIKE '[0-9]+$'",
}


@ALL
def test_regex_filter(engine):
    make_table(engine, "t", "id {int}, name {str}", [(1, "alpha"), (2, "beta1"), (3, "gamma22"), (4, "de1ta")])
    assert engine.query(f"SELECT id FROM s.t WHERE {REGEX_FILTER[engine.name]} ORDER BY id") == [(2,), (3,)]


@on("snowflake")
def test_snowflake_rlike_matches_whole_string(engine):
    """fakesnow keeps Snowflake's semantics: RLIKE is anchored at both ends (unlike Postgres ~)."""
    make_table(engine, "t", "id {int}, name {str}", [(1, "beta1")])
    assert engine.query("SELECT id FROM s.t WHERE RLIKE(name, '[0-9]+')") == []


ROLLBACK_SCRIPT = {
    "postgres": "BEGIN; INSERT INTO s.t VALUES (9); ROLLBACK;",
    "duckdb": "BEGIN TRANSACTION; INSERT INTO s.t VALUES (9); ROLLBACK;",
    "snowflake": "BEGIN TRANSACTION; INSERT INTO s.t VALUES (9); ROLLBACK;",
    "bigquery": "BEGIN TRANSACTION; INSERT INTO s.t VALUES (9); ROLLBACK TRANSACTION;",
}


@on(*ROLLBACK_SCRIPT)  # databricks: no transactions, see REJECTS
def test_transaction_rollback_script(engine):
    make_table(engine, "t", "id {int}", [(1,)])
    engine.execute_script(ROLLBACK_SCRIPT[engine.name])
    assert engine.query("SELECT id FROM s.t") == [(1,)]


@on("bigquery")
def test_bigquery_script_is_one_job(engine):
    """DECLARE/SET only work inside one script job: execute_script sends the file whole."""
    make_table(engine, "t", "id {int}", [(1,)])
    engine.execute_script(
        """-- generated file header
        DECLARE next_id INT64 DEFAULT 0;
        SET next_id = (SELECT MAX(id) + 1 FROM s.t);
        BEGIN TRANSACTION;
        INSERT INTO s.t VALUES (next_id);
        COMMIT TRANSACTION;
        """
    )
    assert engine.query("SELECT id FROM s.t ORDER BY id") == [(1,), (2,)]


@on("bigquery")
def test_bigquery_query_script_returns_last_statement_rows(engine):
    assert engine.query_script("DECLARE x INT64 DEFAULT 41; SELECT x + 1 AS answer;") == [(42,)]


@on("bigquery")
def test_bigquery_variables_live_only_within_one_script(engine):
    """As in BigQuery: each job is its own script, so a file must not be sent statement by statement."""
    engine.execute("DECLARE x INT64")
    with pytest.raises(EngineError, match="Unknown variable: x"):
        engine.execute("SET x = 1")


@on("snowflake")
def test_snowflake_single_variable_set(engine):
    engine.execute("SET lo = (SELECT 41 + 1)")
    assert engine.query("SELECT $lo") == [(42,)]


@on("snowflake")
def test_snowflake_variable_of_the_clock_is_read_again_at_each_use(engine):
    """Fidelity gap: fakesnow keeps a variable's query and runs it wherever the variable is
    read; Snowflake stores the value SET computed. A variable of CURRENT_TIMESTAMP changes
    between two reads (tests/support/runs.py sets such a variable's value instead)."""
    engine.execute("SET at = (SELECT CURRENT_TIMESTAMP())")
    [(first,)] = engine.query("SELECT $at")
    time.sleep(0.01)
    [(second,)] = engine.query("SELECT $at")
    assert second > first


@on("snowflake")
def test_snowflake_multi_variable_set_is_silently_ignored(engine):
    """Fidelity gap: fakesnow answers SET (a, b) = (...) with success but sets nothing; Snowflake
    sets both. SQL that needs it can't be checked on fakesnow."""
    engine.execute("SET (lo, hi) = (SELECT 1, 2)")
    with pytest.raises(EngineError, match=r"Session variable '\$LO' does not exist"):
        engine.query("SELECT $lo")


@on("snowflake")
def test_snowflake_array_agg_keeps_nulls(engine):
    """Fidelity gap (*fakesnow-array-agg-keeps-nulls*): Snowflake's ARRAY_AGG leaves NULL
    values out (https://docs.snowflake.com/en/sql-reference/functions/array_agg); fakesnow
    keeps them (tests/test_engines_sessions_emulators.py compares lists without them)."""
    [(listed,)] = engine.query(
        "SELECT ARRAY_AGG(v) WITHIN GROUP (ORDER BY n) FROM (SELECT 1 AS n, 'a' AS v UNION ALL SELECT 2, NULL)"
    )
    assert json.loads(listed) == ["a", None]


@on("snowflake")
def test_snowflake_null_timestamp_comes_back_as_1970(engine):
    """Fidelity gap (*fakesnow-null-timestamp*): a NULL TIMESTAMP_NTZ comes back from fakesnow's
    server as 1970-01-01 00:00:00; Snowflake returns NULL."""
    [(value,)] = engine.query("SELECT CAST(NULL AS TIMESTAMP_NTZ)")
    assert str(value).startswith("1970-01-01 00:00:00")


@on("databricks")
def test_databricks_two_aggregates_of_one_text_are_refused(engine):
    """Fidelity gap (*sail-duplicate-aggregate-names*): Sail names an aggregate by its text and
    refuses two alike in one query, which Spark accepts (tests/support/runs.py names the
    ordered lists' value fields apart)."""
    query = "SELECT TRANSFORM(ARRAY_SORT(COLLECT_LIST(STRUCT(n AS v))), e -> e.v) AS a, TRANSFORM(ARRAY_SORT(COLLECT_LIST(STRUCT(m AS v))), e -> e.v) AS b FROM (SELECT 1 AS n, 2 AS m)"
    with pytest.raises(EngineError, match="duplicate unqualified field name"):
        engine.query(query)
    assert engine.query(query.replace("AS v))), e -> e.v) AS b", "AS w))), e -> e.w) AS b")) == [([1], [2])]


@on("snowflake")
def test_snowflake_join_of_a_variant_array_fails(engine):
    """Fidelity gap: fakesnow cannot ARRAY_TO_STRING a VARIANT array read from an object (it
    binds no list function to a JSON value); Snowflake joins its elements. tests/support/runs.py
    reads such a join from the array's JSON text instead (array_joined_as_json_text)."""
    engine.execute("CREATE SCHEMA IF NOT EXISTS s")
    engine.execute("CREATE TABLE s.records (o VARIANT)")
    engine.execute("""INSERT INTO s.records SELECT PARSE_JSON('{"scopes": ["a", "b"]}')""")
    with pytest.raises(EngineError, match=r"Binder Error"):
        engine.query("SELECT ARRAY_TO_STRING(GET_PATH(o, 'scopes'), ', ') FROM s.records")
    bridged = "SELECT REPLACE(TRANSLATE(TO_JSON(GET_PATH(o, 'scopes')), '[]\"', ''), ',', ', ') FROM s.records"
    assert engine.query(bridged) == [("a, b",)]


@ALL
def test_execute_script_runs_statements_in_order(engine):
    make_table(engine, "t", "id {int}, name {str}")
    engine.execute_script(
        "-- header comment; not a statement\n"
        "INSERT INTO s.t VALUES (1, 'semi;colon');\n"
        "/* block; comment */ INSERT INTO s.t VALUES (2, '--not a comment');\n"
        "-- trailing comment\n"
    )
    assert engine.query("SELECT id, name FROM s.t ORDER BY id") == [(1, "semi;colon"), (2, "--not a comment")]


# -- the harness: isolation, errors, versions ----------------------------------------------------------
@ALL
def test_fresh_namespaces_are_isolated(engine):
    make_table(engine, "mine", "id {int}", [(1,)])
    with engine.fresh() as other:
        with pytest.raises(EngineError):
            other.query("SELECT id FROM s.mine")
        make_table(other, "mine", "id {int}", [(2,)])  # same name, no clash
        assert other.query("SELECT id FROM s.mine") == [(2,)]
    assert engine.query("SELECT id FROM s.mine") == [(1,)]


@ALL
def test_rejected_statement_raises_engine_error(engine):
    with pytest.raises(EngineError) as info:
        engine.query("SELEC 1")
    assert info.value.engine == engine.name
    assert info.value.sql == "SELEC 1"
    assert str(info.value).startswith(f"{engine.name}: ")


@ALL
def test_engine_still_usable_after_error(engine):
    with pytest.raises(EngineError):
        engine.execute("SELECT * FROM s.no_such_table")
    assert engine.query("SELECT 1") == [(1,)]


def test_postgres_recycled_database_is_empty(postgres_engine, monkeypatch):
    monkeypatch.delenv("SNOWGEN_PG_FRESH_DATABASES", raising=False)
    first = postgres_engine.fresh()
    make_table(first, "t", "id {int}", [(1,)])
    first.execute("CREATE TABLE public.p (id integer)")
    first.execute("BEGIN")  # left open on purpose
    name = first.dbname
    first.close()
    with postgres_engine.fresh() as second:
        assert second.dbname == name  # recycled, not created
        schemas = "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' ORDER BY 1"
        assert second.query(schemas) == [("information_schema",), ("public",)]
        assert second.query("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace") == [(0,)]


def test_postgres_database_still_in_use_is_dropped_not_recycled(postgres_engine):
    import psycopg

    first = postgres_engine.fresh()
    stray = psycopg.connect(first.conninfo, autocommit=True)  # e.g. a test's own connection
    name = first.dbname
    first.close()
    try:
        assert postgres_engine.query(f"SELECT count(*) FROM pg_database WHERE datname = '{name}'") == [(0,)]
        with postgres_engine.fresh() as second:
            assert second.dbname != name
    finally:
        stray.close()


EXPECTED_VERSION = {
    "postgres": r"15\.",
    "duckdb": r"2\.",
    "snowflake": r"0\.12\.1$",  # fakesnow
    "bigquery": r"1\.4\.0$",  # bqemulator
    "databricks": r"0\.7\.2$",  # pysail
}


@ALL
def test_engine_version(engine):
    assert re.match(EXPECTED_VERSION[engine.name], STARTED[engine.name]["version"])


# -- facts: what each engine rejects ------------------------------------------------------------------
#: (engine, construct, setup statements, statement, regex the error must match). Comments say whether
#: the real warehouse rejects it too ("faithful") or runs it ("gap": the emulator can't check it).
REJECTS = [
    # Postgres 15 and DuckDB are the real engines: every rejection is faithful.
    ("postgres", "qualify", [], "SELECT x FROM (VALUES (1)) AS v (x) QUALIFY row_number() OVER () = 1",
     r'syntax error at or near "QUALIFY"'),
    ("postgres", "merge_not_matched_by_source", ["CREATE TABLE t (id int)"],
     "MERGE INTO t USING (SELECT 1 AS id) AS u ON t.id = u.id WHEN NOT MATCHED BY SOURCE THEN DELETE",
     r'syntax error at or near "BY"'),  # Postgres 17
    ("postgres", "merge_returning", ["CREATE TABLE t (id int)"],
     "MERGE INTO t USING (SELECT 1 AS id) AS u ON t.id = u.id WHEN NOT MATCHED THEN INSERT VALUES (u.id) RETURNING *",
     r'syntax error at or near "RETURNING"'),  # Postgres 17
    ("duckdb", "create_table_partition_by", [], "CREATE TABLE t (id int) PARTITION BY (id)",
     r'syntax error at or near "PARTITION"'),
    ("duckdb", "create_table_cluster_by", [], "CREATE TABLE t (id int) CLUSTER BY (id)",
     r'syntax error at or near "CLUSTER"'),
    # fakesnow. Gaps: all but two_statements_in_one_execute (the real connector rejects that too,
    # with "Actual statement count 2 did not match the desired statement count 1").
    ("snowflake", "schema_qualified_temp_table", ["CREATE SCHEMA s"], "CREATE TEMPORARY TABLE s.tmp (id INT)",
     r"Catalog Error: Schema with name S does not exist"),
    ("snowflake", "two_statements_in_one_execute", [], "SELECT 1; SELECT 2",
     r"HTTP 500.*ValueError: not enough values to unpack \(expected 6, got 1\)"),
    ("snowflake", "alter_session", [], "ALTER SESSION SET TIMEZONE = 'UTC'",
     r"ALTER SESSION SET TIMEZONE = 'UTC' not implemented"),
    ("snowflake", "alter_table_swap_with", ["CREATE TABLE a (id INT)", "CREATE TABLE b (id INT)"],
     "ALTER TABLE a SWAP WITH b", r'syntax error at or near "SWAP"'),
    ("snowflake", "time_travel_at", ["CREATE TABLE a (id INT)"], "SELECT * FROM a AT(OFFSET => -60)",
     r'syntax error at or near "OFFSET"'),
    # bqemulator: faithful, except multi_variable_set_from_struct and set_time_zone (valid BigQuery: gaps).
    ("bigquery", "dateadd", [], "SELECT DATEADD(day, 1, CURRENT_DATE())", r"Function not found: dateadd"),
    ("bigquery", "double_colon_cast", [], "SELECT 1::INT64", r"Unexpected character ':'"),
    ("bigquery", "unqualified_table", [], "SELECT * FROM t", r"Not found: Table t was not found"),
    ("bigquery", "multi_variable_set_from_struct", [],
     "DECLARE a INT64; DECLARE b INT64; SET (a, b) = (SELECT AS STRUCT 1, 2);",
     r"SET \(targets\) column count 2 != row columns 1"),
    ("bigquery", "set_time_zone", [], "SET @@time_zone = 'UTC'", r"Expected identifier, got AT_AT"),
    # Sail. Gaps, except begin_transaction/commit, which JVM Spark rejects too (engines.md).
    ("databricks", "delete_in_subquery", ["CREATE TABLE t (id INT) USING DELTA"],
     "DELETE FROM t WHERE id IN (SELECT 1)",
     r"Physical plan does not support logical expression InSubquery"),
    ("databricks", "delete_correlated_exists",
     ["CREATE SCHEMA s", "CREATE TABLE s.t (id INT) USING DELTA", "CREATE TABLE s.gone (id INT) USING DELTA"],
     DELETE_EXISTS, r"Physical plan does not support logical expression Exists"),
    ("databricks", "qualify", [], "SELECT 1 AS x QUALIFY row_number() OVER (ORDER BY 1) = 1",
     r"invalid argument: found QUALIFY"),
    ("databricks", "create_table_cluster_by", [], "CREATE TABLE t (id INT) USING DELTA CLUSTER BY (id)",
     r"UnsupportedOperationException: CLUSTER BY in CREATE TABLE statement"),
    ("databricks", "set_time_zone", [], "SET TIME ZONE 'UTC'", r"invalid argument: found ZONE"),
    ("databricks", "begin_transaction", [], "BEGIN TRANSACTION", r"invalid argument: found BEGIN"),
    ("databricks", "commit", [], "COMMIT", r"invalid argument: found COMMIT"),
    ("databricks", "optimize", ["CREATE TABLE t (id INT) USING DELTA"], "OPTIMIZE t",
     r"invalid argument: found OPTIMIZE"),
    ("databricks", "describe_detail", ["CREATE TABLE t (id INT) USING DELTA"], "DESCRIBE DETAIL t",
     r"invalid argument: found DETAIL"),
    ("databricks", "information_schema", [], "SELECT * FROM information_schema.tables",
     r"Table or view not found: tables"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("engine", "setup", "sql", "error"),
    [pytest.param(e, setup, sql, err, id=f"{e}-{construct}") for e, construct, setup, sql, err in REJECTS],
    indirect=["engine"],
)
def test_rejects(engine, setup, sql, error):
    for statement in setup:
        engine.execute(statement)
    with pytest.raises(EngineError) as info:
        engine.execute(sql)
    assert re.search(error, str(info.value), re.DOTALL), str(info.value)


#: (engine, construct, setup statements, statement): SQL the real warehouse rejects but the emulator runs
WRONGLY_ACCEPTS = [
    ("bigquery", "delete_without_where", ["CREATE SCHEMA s", "CREATE TABLE s.t (id INT64)"], "DELETE FROM s.t"),
    ("bigquery", "update_without_where", ["CREATE SCHEMA s", "CREATE TABLE s.t (id INT64)"], "UPDATE s.t SET id = 1"),
    ("bigquery", "rlike", ["CREATE SCHEMA s", "CREATE TABLE s.t (name STRING)"],
     "SELECT name FROM s.t WHERE name RLIKE 'a'"),
    ("snowflake", "partition_by_in_create_table", [], "CREATE TABLE t (ts TIMESTAMP) PARTITION BY DATE(ts)"),
    ("snowflake", "distkey_sortkey", [], "CREATE TABLE t (a INT) DISTKEY(a) SORTKEY(a)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("engine", "setup", "sql"),
    [pytest.param(e, setup, sql, id=f"{e}-{construct}") for e, construct, setup, sql in WRONGLY_ACCEPTS],
    indirect=["engine"],
)
def test_wrongly_accepts(engine, setup, sql):
    """Fidelity gaps: snowgen must not rely on the emulator to catch these."""
    for statement in [*setup, sql]:
        engine.execute(statement)


# -- harness internals (no engine needed) ---------------------------------------------------------------
def test_split_statements_ignores_semicolons_in_strings_and_comments():
    text = "-- head; er\nSELECT 'a;b';\n/* x; y */\nSELECT 2 -- c;\n;\n-- only a comment;\n"
    assert split_statements(text, "postgres") == ["-- head; er\nSELECT 'a;b'", "/* x; y */\nSELECT 2 -- c;"]


def test_unavailable_engine_skips_by_default(monkeypatch):
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="snowflake engine unavailable: not here"):
        _unavailable("snowflake", "not here")


def test_unavailable_engine_fails_when_required(monkeypatch):
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match=REQUIRE_ENV):
        _unavailable("bigquery", "not here")


@pytest.mark.parametrize("name", ["postgres", "duckdb"])
def test_postgres_and_duckdb_never_skip(monkeypatch, name):
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.fail.Exception, match="always required"):
        _unavailable(name, "not here")


def test_missing_venv_is_unavailable():
    with pytest.raises(EngineUnavailable, match="setup-engines"):
        venv_bin(".venv-does-not-exist", "server")


def test_server_that_dies_reports_its_log_tail(tmp_path):
    server = ServerProcess("boom", ["sh", "-c", "echo starting; echo 'kaboom: no such thing' >&2; exit 3"], tmp_path)
    with pytest.raises(EngineStartError, match=r"(?s)exited with code 3.*kaboom: no such thing"):
        server.start(r"listening on port (\d+)")


def test_server_that_hangs_times_out_and_is_stopped(tmp_path):
    server = ServerProcess("slow", ["sleep", "30"], tmp_path)
    with pytest.raises(EngineStartError, match="not ready after"):
        server.start(r"port (\d+)", timeout=0.3)
    assert not server.alive()


def test_server_port_is_read_from_its_log(tmp_path):
    server = ServerProcess("quick", ["sh", "-c", "echo 'listening on 127.0.0.1:4321'; sleep 30"], tmp_path)
    try:
        assert server.start(r"127\.0\.0\.1:(\d+)") == 4321
        assert server.alive()
    finally:
        server.stop()
    assert not server.alive()
