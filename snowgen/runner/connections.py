"""Connections for ``snowgen run``, ``snowgen sources --db`` and ``snowgen manifest --db``:
find the dialect whose URL scheme a database URL uses, open it with the dialect's connector
(snowgen.runner.connectors), and run statements. What the database refuses, or a server that
goes away, becomes a coded error (SG405 when opening, SG408 for a statement)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from snowgen.dialects import DIALECTS, Dialect, get_dialect
from snowgen.errors import SnowgenError
from snowgen.masking import is_secret_key, register, register_settings
from snowgen.runner.connectors import CONNECTORS, Driver, Settings, display_url, first_line, without_password

EXAMPLE_URLS = "a file such as snowgen.duckdb, duckdb:///path/file.duckdb or postgresql://user@host:port/database"


@dataclass
class Connection:
    dialect: Dialect
    url: str
    driver: Driver
    errors: tuple[type[Exception], ...] = ()  # what the driver raises when the database says no
    #: a step's file goes to the database whole (BigQuery scripts), not statement by statement
    whole_scripts: bool = False

    def execute(self, statement: str) -> int | None:
        """Run a statement; the rows it wrote where the engine reports them."""
        return self.driver.execute(statement)

    def query(self, statement: str) -> list[tuple]:
        return self.driver.query(statement)

    def recover(self) -> None:
        """After a failed statement: end the transaction the script opened, so the
        connection, and a later run, start clean."""
        with suppress(Exception):
            self.driver.rollback()

    def close(self) -> None:
        try:
            self.driver.close()
        except self.errors as exc:  # DuckDB writes its last changes to the file on close
            raise statement_failed(self.url, "closing the connection", exc) from None


def dialect_for_url(url: str) -> Dialect:
    if not url.strip():
        raise SnowgenError.at("SG405", f"the database URL is empty; use {EXAMPLE_URLS}")
    scheme = "duckdb" if "://" not in url and url.endswith((".duckdb", ".db")) else _scheme(url)
    for name, cls in DIALECTS.items():
        if scheme in cls.url_schemes:
            return get_dialect(name)
    schemes = sorted(s for cls in DIALECTS.values() for s in cls.url_schemes)
    raise SnowgenError.at(
        "SG405", f"cannot run on '{display_url(url)}': use one of the URL schemes {', '.join(schemes)}"
    )


def register_url_secrets(url: str) -> None:
    """The URL's password and secret query parameters are masked in everything printed."""
    try:
        parts = urlsplit(url)
        register(parts.password or "")
        for key, value in parse_qsl(parts.query):
            if is_secret_key(key):
                register(value)
    except ValueError:  # not a URL urllib can split: nothing to find in it
        pass


def _scheme(url: str) -> str:
    try:
        return urlsplit(url).scheme
    except ValueError:  # e.g. an unclosed IPv6 bracket: no scheme matches, the error says which work
        return ""


def connect(url: str, base: Path, settings: Settings | None = None) -> Connection:
    """Open ``url`` with the target's connection ``settings``; a relative DuckDB path is
    relative to ``base`` (the project)."""
    register_url_secrets(url)
    register_settings(dict(settings or {}))
    dialect = dialect_for_url(url)
    connector = CONNECTORS.get(dialect.connector) if dialect.connector else None
    if connector is None:
        raise SnowgenError.at(
            "SG405", f"{dialect.name} has no connector for snowgen run yet; run the compiled files with your scheduler"
        )
    opened = connector(url, base, settings or {})
    return Connection(dialect, url, opened.driver, opened.errors, opened.whole_scripts)


@contextmanager
def connected(url: str, base: Path, settings: Settings | None = None) -> Iterator[Connection]:
    """An open connection, closed at the end. After another error, a failing close stays
    quiet: the first error is the one to report."""
    connection = connect(url, base, settings)
    try:
        yield connection
    except BaseException:
        with suppress(SnowgenError):
            connection.close()
        raise
    connection.close()


def execute_statements(url: str, base: Path, statements: list[str]) -> None:
    """Run ``statements`` in order on ``url`` (``snowgen sources``, ``snowgen manifest``);
    the first one the database refuses stops them as SG408."""
    with connected(url, base) as connection:
        for statement in statements:
            try:
                connection.execute(statement)
            except connection.errors as exc:
                connection.recover()
                raise statement_failed(url, f"the statement {_shorten(statement)}", exc) from None


def query_rows(url: str, base: Path, statement: str) -> list[tuple]:
    """The rows of one query on ``url`` (``snowgen manifest rewind --db`` reads the manifest);
    a query the database refuses is SG408."""
    with connected(url, base) as connection:
        try:
            return connection.query(statement)
        except connection.errors as exc:
            connection.recover()
            raise statement_failed(url, f"the query {_shorten(statement)}", exc) from None


def statement_failed(url: str, what: str, error: Exception) -> SnowgenError:
    message = without_password(first_line(error), url)
    return SnowgenError.at("SG408", f"{what} failed on {display_url(url)}: {message}")


def _shorten(statement: str, width: int = 120) -> str:
    flat = " ".join(statement.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."
