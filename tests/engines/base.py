"""Shared pieces of the engine harness: the Engine interface, errors, server processes."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]

#: env var: when "1", an engine that is not installed fails its fixture instead of skipping.
REQUIRE_ENV = "SNOWGEN_REQUIRE_ENGINES"

SETUP_HINT = "run scripts/setup-engines"


class EngineError(Exception):
    """A statement was rejected by an engine (wraps the driver's own exception).

    ``str(err)`` is ``"<engine>: <driver message>"``; ``err.original`` is the driver exception,
    ``err.sql`` the statement that failed.
    """

    def __init__(self, engine: str, sql: str, original: BaseException, detail: str = ""):
        self.engine = engine
        self.sql = sql
        self.original = original
        message = str(original).strip() or type(original).__name__
        if detail:
            message += f" [{detail}]"
        super().__init__(f"{engine}: {type(original).__name__}: {message}")


class EngineUnavailable(Exception):
    """The engine is not installed here (the fixtures skip, or fail under SNOWGEN_REQUIRE_ENGINES=1)."""


class EngineStartError(Exception):
    """The engine is installed but its server did not start (always a test failure)."""


class Engine:
    """One isolated namespace on one engine, reached through one connection.

    ``name`` is snowgen's dialect name. Subclasses implement ``_run`` (one statement,
    returning rows or None), ``fresh`` and ``_close``.
    """

    name: str = ""
    #: sqlglot dialect used to split scripts into statements
    sqlglot_dialect: str = ""

    # -- the interface ---------------------------------------------------------------------
    def execute(self, sql: str) -> None:
        """Run one statement; results, if any, are discarded."""
        self._checked(sql, fetch=False)

    def query(self, sql: str) -> list[tuple]:
        """Run one statement and return its rows as tuples.

        A statement that is not a query gives ``[]``, or what the driver reports for it
        (DuckDB: ``[(row_count,)]``, Sail: ``[(True,)]`` / ``[(row_count,)]``).
        """
        return self._checked(sql, fetch=True)

    def execute_script(self, sql_text: str) -> None:
        """Run a whole generated file. By default: split into statements, run them in order
        (BigQuery overrides this: the file goes as one script job)."""
        self.query_script(sql_text)

    def query_script(self, sql_text: str) -> list[tuple]:
        """Like ``execute_script``, returning the rows of the last statement."""
        rows: list[tuple] = []
        for statement in split_statements(sql_text, self.sqlglot_dialect):
            rows = self.query(statement)
        return rows

    def fresh(self) -> Engine:
        """A new engine on an isolated, empty namespace (database/project/session) of the same server."""
        raise NotImplementedError

    def close(self) -> None:
        """Close the connection and drop what ``fresh`` created. Idempotent."""
        if not getattr(self, "_closed", False):
            self._closed = True
            self._close()

    # -- helpers -----------------------------------------------------------------------------
    def _run(self, sql: str, fetch: bool) -> list[tuple] | None:
        raise NotImplementedError

    def _close(self) -> None:
        pass

    #: driver exception classes turned into EngineError
    _errors: tuple[type[BaseException], ...] = (Exception,)

    def _checked(self, sql: str, fetch: bool) -> list[tuple]:
        try:
            rows = self._run(sql, fetch)
        except self._errors as exc:
            raise EngineError(self.name, sql, exc) from exc
        return list(rows or []) if fetch else []

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


def split_statements(text: str, sqlglot_dialect: str) -> list[str]:
    """Split SQL text on top-level semicolons (not inside strings/comments), dropping empty pieces."""
    from sqlglot.dialects.dialect import Dialect
    from sqlglot.tokens import TokenType

    tokens = Dialect.get_or_raise(sqlglot_dialect).tokenizer().tokenize(text)
    pieces, start = [], 0
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            pieces.append(text[start : token.start])
            start = token.end + 1
    pieces.append(text[start:])
    return [p.strip() for p in pieces if _has_code(p)]


def _has_code(piece: str) -> bool:
    stripped = re.sub(r"--[^\n]*|/\*.*?\*/", "", piece, flags=re.DOTALL)
    return bool(stripped.strip())


# -- fixture policy ------------------------------------------------------------------------------
def engines_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "") == "1"


def venv_bin(venv: str, program: str) -> Path:
    """``<repo>/<venv>/bin/<program>``; raises EngineUnavailable when it is missing."""
    path = REPO_ROOT / venv / "bin" / program
    if not path.exists():
        raise EngineUnavailable(f"{path} not found ({SETUP_HINT})")
    return path


def venv_package_version(venv: str, package: str) -> str | None:
    """Version of ``package`` installed in ``<repo>/<venv>``, read from its dist-info directory."""
    norm = re.sub(r"[-_.]+", "_", package).lower()
    for info in (REPO_ROOT / venv).glob("lib/python*/site-packages/*.dist-info"):
        name, _, version = info.name[: -len(".dist-info")].partition("-")
        if re.sub(r"[-_.]+", "_", name).lower() == norm:
            return version
    return None


def import_client(module: str, pip_name: str) -> Any:
    """Import a client library of the main venv, or raise EngineUnavailable."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise EngineUnavailable(f"cannot import {module} ({exc}); pip install {pip_name} ({SETUP_HINT})") from exc


# -- server processes -------------------------------------------------------------------------------
#: a Python traceback's closing line, e.g. "bqemulator.domain.errors.InternalError: ..."
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception): ")


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _die_with_parent(argv: list[str]) -> list[str]:
    """Prefix ``argv`` so that Linux SIGTERMs the server when the test process dies (a killed or
    timed-out run then leaves no server behind). util-linux's setpriv sets PR_SET_PDEATHSIG and
    execs; a ``preexec_fn`` would do the same but makes Python fork() with gRPC's fork handlers
    live (pyspark, google-cloud-bigquery), which aborted the child now and then."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--", *argv] if setpriv else argv


class ServerProcess:
    """A server subprocess whose stdout+stderr go to a log file; stopped with ``stop()``.

    ``start`` waits until ``ready`` (a regex; its one group, if any, is the port) matches the log,
    and returns that port. If the process dies or the timeout passes first, it raises
    EngineStartError with the tail of the log.
    """

    def __init__(self, name: str, argv: list[str], workdir: Path, env: dict[str, str] | None = None):
        self.name = name
        self.argv = _die_with_parent([str(a) for a in argv])
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.start_seconds: float | None = None
        #: appended to start failures (e.g. what usually causes them)
        self.hint = ""

    def start(self, ready: str, timeout: float = 60.0) -> int | None:
        started = time.monotonic()
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "wb")  # noqa: SIM115 - the server writes to it until stop() closes it
        try:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=self.workdir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in pytest doesn't hit it; we stop it ourselves
            )
        finally:
            log.close()
        pattern = re.compile(ready)
        while True:
            match = pattern.search(self.log_path.read_text(errors="replace"))
            if match:
                self.port = int(match.group(1)) if pattern.groups else None
                self.start_seconds = time.monotonic() - started
                return self.port
            if self.proc.poll() is not None:
                raise self.failure(f"exited with code {self.proc.returncode} before it was ready")
            if time.monotonic() - started > timeout:
                self.stop()
                raise self.failure(f"not ready after {timeout:.0f} s")
            time.sleep(0.05)

    def failure(self, what: str) -> EngineStartError:
        tail = log_tail(self.log_path, 400)
        errors = [line for line in tail.splitlines() if EXCEPTION_LINE.match(line)]
        last_error = f"  last error in log: {errors[-1]}\n" if errors else ""
        hint = f"  {self.hint}\n" if self.hint else ""
        return EngineStartError(
            f"{self.name} server {what}.\n{last_error}  command: {' '.join(self.argv)}\n"
            f"  log: {self.log_path}\n{hint}--- log tail ---\n" + "\n".join(tail.splitlines()[-40:])
        )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        try:
            proc.send_signal(sig)
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def wait_until(check: Callable[[], Any], timeout: float, what: str, server: ServerProcess | None = None) -> Any:
    """Call ``check`` until it returns without raising; re-raise (with the server log) after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except Exception as exc:
            if server is not None and not server.alive():
                raise server.failure(f"died while waiting for {what}") from exc
            if time.monotonic() > deadline:
                if server is not None:
                    raise server.failure(f"did not answer {what} within {timeout:.0f} s: {exc!r}") from exc
                raise
            time.sleep(0.1)


def make_workdir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"snowgen-{prefix}-"))
