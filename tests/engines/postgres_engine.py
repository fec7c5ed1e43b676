"""PostgreSQL 15, a real server: a throwaway cluster per test session, or SNOWGEN_PG_DSN.

Isolation: every ``fresh()`` engine gets a database of its own. ``CREATE DATABASE`` costs
~20-250 ms here (it copies template0; the slow end under load), so a closed engine's database is
*recycled*: all its schemas are dropped, ``public`` is recreated as PG15 makes it, and a check
confirms nothing else is left (no extension, event trigger, FDW, publication, large object,
default ACL, database-level setting, or other open connection) before the database goes back to a
free list. Anything the reset can't vouch for is dropped instead. SNOWGEN_PG_FRESH_DATABASES=1
turns recycling off (every fresh() is a CREATE DATABASE).
"""

from __future__ import annotations

import itertools
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from .base import Engine, EngineStartError, ServerProcess, log_tail, make_workdir

DSN_ENV = "SNOWGEN_PG_DSN"
BIN_ENV = "SNOWGEN_PG_BIN"
FRESH_ENV = "SNOWGEN_PG_FRESH_DATABASES"
DEFAULT_BIN = "/usr/lib/postgresql/15/bin"

_counter = itertools.count(1)

# Drop every schema that is not the system's, then recreate public as PG15's initdb makes it.
_RESET = r"""
DO $reset$
DECLARE r record;
BEGIN
  FOR r IN SELECT nspname FROM pg_namespace
           WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\_%'
  LOOP
    EXECUTE format('DROP SCHEMA %I CASCADE', r.nspname);
  END LOOP;
  CREATE SCHEMA public AUTHORIZATION pg_database_owner;
  GRANT USAGE ON SCHEMA public TO PUBLIC;
  COMMENT ON SCHEMA public IS 'standard public schema';
END
$reset$
"""

# Count what a schema drop does not remove; 0 means the database is as CREATE DATABASE made it.
_LEFTOVERS = r"""
SELECT (SELECT count(*) FROM pg_namespace
        WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'public') AND nspname NOT LIKE 'pg\_%')
     + (SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace)
     + (SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace)
     + (SELECT count(*) FROM pg_type WHERE typnamespace = 'public'::regnamespace)
     + (SELECT count(*) FROM pg_extension WHERE extname <> 'plpgsql')
     + (SELECT count(*) FROM pg_event_trigger)
     + (SELECT count(*) FROM pg_foreign_data_wrapper)
     + (SELECT count(*) FROM pg_foreign_server)
     + (SELECT count(*) FROM pg_publication)
     + (SELECT count(*) FROM pg_largeobject_metadata)
     + (SELECT count(*) FROM pg_default_acl)
     + (SELECT count(*) FROM pg_db_role_setting
        WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()))
     + (SELECT count(*) FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid())
"""


class PostgresEngine(Engine):
    name = "postgres"
    sqlglot_dialect = "postgres"

    def __init__(self, conninfo: str, admin: PostgresEngine | None = None, owned_db: str | None = None):
        import psycopg

        self._errors = (psycopg.Error,)
        self.conninfo = conninfo
        # UTC so timestamptz renders the same on every machine; autocommit because generated
        # SQL carries its own BEGIN/COMMIT.
        self.conn = psycopg.connect(conninfo, autocommit=True, options="-c TimeZone=UTC")
        self.dbname = self.conn.info.dbname
        self._admin = admin if admin is not None else self
        self._owned_db = owned_db
        #: (on the admin engine) recycled databases, ready for fresh()
        self._free: list[str] = []

    def _run(self, sql: str, fetch: bool) -> list[tuple] | None:
        with self.conn.cursor() as cur:
            cur.execute(sql)
            if fetch and cur.description is not None:
                return cur.fetchall()
        return None

    def fresh(self) -> PostgresEngine:
        import psycopg.conninfo

        admin = self._admin
        if admin._free:
            dbname = admin._free.pop()
        else:
            dbname = f"snowgen_t{os.getpid()}_{next(_counter)}"
            admin.execute(f'CREATE DATABASE "{dbname}" TEMPLATE template0')
        conninfo = psycopg.conninfo.make_conninfo(admin.conninfo, dbname=dbname)
        try:
            return PostgresEngine(conninfo, admin=admin, owned_db=dbname)
        except Exception:
            admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            raise

    def _reset_for_reuse(self) -> bool:
        """Empty this engine's database; True if it is verifiably as new."""
        if os.environ.get(FRESH_ENV) == "1" or self.conn.closed:
            return False
        try:
            with self.conn.cursor() as cur:
                cur.execute("ROLLBACK")  # a test may have left its own BEGIN open
                cur.execute("SET lock_timeout = '5s'")
                cur.execute(_RESET)
                cur.execute(_LEFTOVERS)
                return cur.fetchone()[0] == 0
        except self._errors:
            return False

    def _close(self) -> None:
        admin = self._admin
        if admin is self:  # the admin connection: drop the recycled databases it kept
            for dbname in self._free:
                self.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            self._free.clear()
            self.conn.close()
            return
        reusable = self._owned_db is not None and self._reset_for_reuse()
        self.conn.close()
        if self._owned_db is None or admin.conn.closed:
            return
        if reusable:
            admin._free.append(self._owned_db)
        else:
            admin.execute(f'DROP DATABASE IF EXISTS "{self._owned_db}" WITH (FORCE)')


def _remove_stale_workdirs(min_age_s: float = 600) -> None:
    """Remove the directories of clusters that died with a killed test run: a running cluster
    always has data/postmaster.pid (Postgres removes it when it stops); a starting one is young."""
    for workdir in Path(tempfile.gettempdir()).glob("snowgen-pg-*"):
        try:
            stale = not (workdir / "data" / "postmaster.pid").exists() and (
                time.time() - workdir.stat().st_mtime > min_age_s
            )
        except OSError:
            continue
        if stale:
            shutil.rmtree(workdir, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresCluster:
    """A throwaway cluster from the Debian binaries: initdb, then ``postgres`` in the foreground
    (fsync off), as a child of the test process so that it dies with it.

    As root, the binaries run as user ``postgres`` through ``su`` (initdb refuses root).
    """

    def __init__(self, bindir: str | None = None):
        self.bindir = Path(bindir or os.environ.get(BIN_ENV, DEFAULT_BIN))
        self.workdir: Path | None = None
        self.port: int | None = None
        self.start_seconds: float | None = None
        self.server: ServerProcess | None = None
        self._as_postgres = os.geteuid() == 0

    @property
    def data_dir(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "data"

    @property
    def log_path(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "postgres.log"

    def conninfo(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres connect_timeout=10"

    def _argv(self, *argv: object) -> list[str]:
        command = [str(a) for a in argv]
        if self._as_postgres:
            return ["su", "postgres", "-s", "/bin/sh", "-c", "exec " + shlex.join(command)]
        return command

    def _run(self, *argv: object) -> subprocess.CompletedProcess:
        return subprocess.run(self._argv(*argv), capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)

    def _fail(self, what: str, result: subprocess.CompletedProcess | None = None) -> EngineStartError:
        out = ""
        if result is not None:
            out = f"\n--- output (exit {result.returncode}) ---\n{result.stdout}{result.stderr}"
        return EngineStartError(f"postgres: {what}{out}")

    def start(self) -> None:
        t0 = time.monotonic()
        initdb = self.bindir / "initdb"
        if not initdb.exists():
            raise EngineStartError(
                f"postgres: {initdb} not found: install PostgreSQL 15 (apt-get install postgresql), "
                f"set {BIN_ENV}, or point {DSN_ENV} at a server"
            )
        _remove_stale_workdirs()
        self.workdir = make_workdir("pg")
        if self._as_postgres:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise self._fail("running as root but there is no user 'postgres' to run initdb as") from exc
            os.chown(self.workdir, pw.pw_uid, pw.pw_gid)
        result = self._run(
            initdb, "-D", self.data_dir, "-U", "postgres", "-A", "trust",
            "--no-sync", "-E", "UTF8", "--locale=C.UTF-8",
        )  # fmt: skip
        if result.returncode != 0:
            raise self._fail("initdb failed", result)
        for attempt in range(3):
            self.port = _free_port()
            self.server = ServerProcess(
                "postgres",
                self._argv(
                    self.bindir / "postgres", "-D", self.data_dir, "-p", self.port, "-k", self.workdir,
                    "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
                    "-c", "full_page_writes=off", "-c", "max_connections=200", "-c", "timezone=UTC",
                ),
                self.workdir,
            )  # fmt: skip
            try:
                self.server.start(r"database system is ready to accept connections", timeout=60)
            except EngineStartError:
                if attempt < 2 and "already in use" in log_tail(self.log_path):
                    continue  # lost the race for the port
                raise
            self.start_seconds = time.monotonic() - t0
            return

    def stop(self) -> None:
        if self.workdir is None:
            return
        if (self.data_dir / "postmaster.pid").exists():
            self._run(self.bindir / "pg_ctl", "-D", self.data_dir, "-m", "immediate", "-w", "stop")
        if self.server is not None:
            self.server.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir = None


def start_session() -> tuple[PostgresEngine, PostgresCluster | None]:
    """Connect to SNOWGEN_PG_DSN, or start a cluster. Returns (engine on a session database, cluster)."""
    import psycopg

    cluster = None
    dsn = os.environ.get(DSN_ENV)
    if not dsn:
        cluster = PostgresCluster()
        try:
            cluster.start()
        except BaseException:
            cluster.stop()
            raise
        dsn = cluster.conninfo()
    try:
        admin = PostgresEngine(dsn)
    except psycopg.Error as exc:
        if cluster is not None:
            cluster.stop()
        where = f"{DSN_ENV}={dsn!r}" if os.environ.get(DSN_ENV) else "the cluster it started"
        raise EngineStartError(f"postgres: cannot connect to {where}: {exc}") from exc
    return admin, cluster
