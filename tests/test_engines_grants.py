"""Grants and required privileges on the real PostgreSQL server: a role holding exactly what
``snowgen privileges --dialect postgres`` prints runs the whole shipped snowplow_web plan
(with its ``grants:`` on: var enable_grants), the reader role those grants name reads the
derived tables and is refused the manifest, and ``snowgen run --revoke-unlisted`` takes read
access from a role the spec does not list.

One database for the module: a superuser makes the sources and loads the hand-made dataset,
creates the roles and runs the printed statements; everything else runs as the roles."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from support import snowplow_dataset as ds
from support.cli_runs import cli
from support.data import insert_rows
from support.grants_project import write_project

from snowgen.api import compile_project
from snowgen.build.sources import source_ddl
from snowgen.cli import main
from snowgen.dialects import get_dialect
from snowgen.runner.execute import read_plan, run_steps
from snowgen.spec.loader import load_project

PROJECT = Path(__file__).resolve().parents[1] / "model_specs" / "snowplow_web"
READER = "snowplow_reader"  # the shipped project's postgres grantee
VARS = json.dumps({**ds.VARS, "enable_grants": True})
DERIVED = ["snowplow_web_page_views", "snowplow_web_sessions", "snowplow_web_users", "snowplow_web_user_mapping"]
MANIFEST = ["snowplow_web_incremental_manifest", "snowplow_web_base_sessions_lifecycle_manifest"]


def load_sources(admin) -> None:
    d = get_dialect("postgres")
    spec = load_project(PROJECT).spec
    for statement in source_ddl(spec, d):
        admin.execute(d.render(statement))
    rows = ds.atomic_rows(ds.EVENTS, list(spec.sources["events"].columns))
    statements = insert_rows("postgres", "atomic", "events", rows)
    statements += insert_rows(
        "postgres", "atomic", "com_snowplowanalytics_snowplow_web_page_1", ds.context_rows(ds.EVENTS)
    )
    for statement in statements:
        admin.execute(statement)


def connect(admin, user: str):
    info = psycopg.conninfo.conninfo_to_dict(admin.conninfo)
    return psycopg.connect(psycopg.conninfo.make_conninfo(admin.conninfo, user=user), autocommit=True), info


def url(admin, user: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(admin.conninfo)
    return f"postgresql://{user}@{info['host']}:{info['port']}/{info['dbname']}"


def create_role(admin, name: str) -> None:
    exists = admin.query(f"SELECT count(*) FROM pg_roles WHERE rolname = '{name}'")[0][0]
    if not exists:
        admin.execute(f'CREATE ROLE "{name}" LOGIN')


@pytest.fixture(scope="module")
def granted(postgres_engine):
    """The database after the runner role ran the whole plan once; (admin, runner, printed)."""
    admin = postgres_engine.fresh()
    runner, former = f"sg_runner_{admin.dbname}", f"sg_former_{admin.dbname}"
    try:
        load_sources(admin)
        for role in (runner, former, READER):
            create_role(admin, role)
        printed = cli(
            "privileges", "--project", str(PROJECT), "-d", "postgres", "--role", runner, "--database", admin.dbname
        )
        statements = [line for line in printed.splitlines() if line and not line.startswith("--")]
        for statement in statements:
            admin.execute(statement)
        cli("run", "--project", str(PROJECT), "--db", url(admin, runner), "--vars", VARS, "--quiet")
        yield admin, runner, former, statements
    finally:
        for role in (runner, former, READER):
            admin.execute(f'DROP OWNED BY "{role}" CASCADE')
        for role in (runner, former):
            admin.execute(f'DROP ROLE "{role}"')
        admin.close()


def test_privileges_prints_the_database_and_the_sources_the_plan_reads(granted):
    admin, runner, _, statements = granted
    assert statements == [
        f'GRANT CREATE ON DATABASE "{admin.dbname}" TO "{runner}";',
        f'GRANT USAGE ON SCHEMA "atomic" TO "{runner}";',
        f'GRANT SELECT ON TABLE "atomic"."com_snowplowanalytics_snowplow_web_page_1" TO "{runner}";',
        f'GRANT SELECT ON TABLE "atomic"."events" TO "{runner}";',
    ]


def test_the_runner_role_ran_the_whole_plan_and_owns_what_it_made(granted):
    admin, runner, _, _ = granted
    owners = admin.query(
        "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname IN ('derived', 'scratch', 'snowplow_manifest')"
    )
    assert owners == [(runner,)]
    assert admin.query('SELECT count(*) FROM "derived"."snowplow_web_page_views"')[0][0] > 0


@pytest.mark.parametrize("table", DERIVED)
def test_the_reader_reads_each_derived_table(granted, table):
    conn, _ = connect(granted[0], READER)
    with conn, conn.cursor() as cur:
        cur.execute(f'SELECT count(*) FROM "derived"."{table}"')
        assert cur.fetchone()[0] > 0


@pytest.mark.parametrize("table", MANIFEST)
def test_the_reader_is_refused_the_manifest(granted, table):
    conn, _ = connect(granted[0], READER)
    with conn, conn.cursor() as cur, pytest.raises(psycopg.errors.InsufficientPrivilege):
        cur.execute(f'SELECT count(*) FROM "snowplow_manifest"."{table}"')


def test_revoke_unlisted_takes_select_from_a_role_the_spec_does_not_list(granted):
    admin, runner, former, _ = granted
    table = '"derived"."snowplow_web_page_views"'
    runner_conn, _ = connect(admin, runner)
    with runner_conn, runner_conn.cursor() as cur:
        cur.execute(f'GRANT SELECT ON TABLE {table} TO "{former}"')  # what an earlier spec listed
    args = [
        "run",
        "--project",
        str(PROJECT),
        "--db",
        url(admin, runner),
        "--vars",
        VARS,
        "--quiet",
        "--revoke-unlisted",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert f'REVOKE SELECT ON TABLE {table} FROM "{former}"' in result.stderr
    can_read = f"SELECT has_table_privilege('{{}}', '{table}', 'SELECT')"
    assert admin.query(can_read.format(former)) == [(False,)]
    assert admin.query(can_read.format(READER)) == [(True,)]
    assert admin.query(can_read.format(runner)) == [(True,)]


def test_every_postgres_grant_form_runs(postgres_engine, tmp_path):
    """The small project of every grant form, run by a superuser: model grants, a view's
    inherited ones, schema usage and default privileges (a table made after the run)."""
    [compiled] = compile_project(write_project(tmp_path), ["postgres"])
    admin = postgres_engine.fresh()
    roles = ("reporting", "analyst", "finance")
    try:
        for role in roles:
            create_role(admin, role)
        admin.execute("CREATE SCHEMA raw")
        admin.execute("CREATE TABLE raw.orders (order_id INT, amount NUMERIC)")
        for _ in run_steps(read_plan(compiled.files, "postgres"), admin.execute):
            pass
        admin.execute("CREATE TABLE derived.made_later (a INT)")
        can = "SELECT has_table_privilege('{}', '{}', 'SELECT')"
        granted = {
            ("reporting", "derived.orders_daily"): True, ("reporting", "derived.revenue"): True,
            ("finance", "derived.revenue"): True, ("finance", "derived.orders_daily"): False,
            ("reporting", "derived.private"): False, ("reporting", "scratch.stage"): False,
            ("analyst", "derived.made_later"): True,
        }  # fmt: skip
        assert {key: admin.query(can.format(*key))[0][0] for key in granted} == granted
        assert admin.query("SELECT has_schema_privilege('analyst', 'derived', 'USAGE')") == [(True,)]
    finally:
        for role in roles:
            admin.execute(f'DROP OWNED BY "{role}" CASCADE')
            admin.execute(f'DROP ROLE "{role}"')
        admin.close()
