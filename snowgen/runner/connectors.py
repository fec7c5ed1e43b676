"""Opening a database for ``snowgen run``, ``snowgen sources --db`` and ``snowgen manifest --db``.

A dialect names its connector (``Dialect.connector``, data); the driver code is here. A
connector is called with the URL, the folder a relative path is relative to, and the
target's connection settings (already resolved: environment variables read), and returns an
:class:`OpenDatabase`: a :class:`Driver` and the exceptions by which its database says no.
Every failure to open becomes SG405 naming the database: a DuckDB file by its path, a server
by its URL without the password.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Callable
from pathlib import Path

from snowgen.errors import RunLocked, SnowgenError
from snowgen.folders import make_missing_dirs, remove_dirs
from snowgen.runner.driver import Driver, OpenDatabase, Settings, first_line
from snowgen.runner.url_display import display_url, without_password

__all__ = [  # the driver interface and the URL display, for the callers of the connectors
    "CONNECTORS", "Driver", "OpenDatabase", "Settings", "display_url", "first_line", "without_password",
]  # fmt: skip

#: The compiled SQL computes run limits and manifest times in UTC; a session in another
#: time zone would shift every timestamptz it compares.
UTC_SESSION_OPTION = "-c TimeZone=UTC"


def open_duckdb_file(url: str, base: Path, settings: Settings) -> OpenDatabase:
    """``duckdb:///relative.duckdb`` (relative to ``base``, the project), ``duckdb:////abs.duckdb``
    or a bare ``*.duckdb`` path. A missing file is created, with its missing folders."""
    import duckdb

    path = duckdb_path(url, base)
    created: list[Path] = []
    try:
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "it is a directory")
        make_missing_dirs(path.parent, created)
        return OpenDatabase(Driver(duckdb.connect(str(path))), (duckdb.Error,))
    except (OSError, duckdb.Error) as exc:
        remove_dirs(created)  # a failed open leaves nothing behind
        if _DUCKDB_FILE_LOCKED.search(str(exc)):
            raise RunLocked(duckdb_file_in_use(path, str(exc))) from None
        raise SnowgenError.at("SG405", f"cannot open the DuckDB file {path}: {_reason(exc, path)}") from None


#: DuckDB's error when another process has the file open: one process writes a database
#: file at a time (https://duckdb.org/docs/stable/connect/concurrency)
_DUCKDB_FILE_LOCKED = re.compile(r"Could not set lock on file")
_HOLDING_PROCESS = re.compile(r"\(PID (\d+)\)")


def duckdb_file_in_use(path: Path, error: str) -> str:
    found = _HOLDING_PROCESS.search(error)
    process = f"process {found.group(1)}" if found else "another process"
    return (
        f"the DuckDB file {path} is in use by {process} (another run?); DuckDB lets one process write a file at a time"
    )


def _reason(error: Exception, path: Path) -> str:
    if not isinstance(error, OSError) or not error.strerror:
        return first_line(error)
    if error.filename and error.filename != str(path):  # a folder on the way
        return f"{error.filename}: {error.strerror}"
    return error.strerror


def duckdb_path(url: str, base: Path) -> Path:
    path = url.split("://", 1)[1][1:] if "://" in url else url  # drop the empty host's slash
    return Path(path) if Path(path).is_absolute() else base / path


def open_libpq(url: str, base: Path, settings: Settings) -> OpenDatabase:
    """A ``postgresql://`` URL, in autocommit mode: the compiled SQL carries its own
    BEGIN/COMMIT. The target's connection settings are libpq's parameters (``host``,
    ``user``, ``password``, ``sslmode``, ...: https://www.postgresql.org/docs/15/libpq-connect.html#LIBPQ-PARAMKEYWORDS);
    those the URL gives win."""
    try:
        import psycopg
        from psycopg.conninfo import conninfo_to_dict
    except ImportError:
        raise SnowgenError.at("SG405", "postgres needs psycopg to run: pip install 'snowgen[postgres]'") from None
    try:
        in_url = conninfo_to_dict(url)
        extra = {key: value for key, value in settings.items() if key not in in_url and key != "options"}
        driver = psycopg.connect(url, autocommit=True, **extra, options=libpq_options(url, settings))
    except psycopg.Error as exc:
        message = without_password(first_line(exc), url)
        raise SnowgenError.at("SG405", f"cannot connect to {display_url(url)}: {message}") from None
    return OpenDatabase(LibpqDriver(driver), (psycopg.Error,))


class LibpqDriver(Driver):
    """A psycopg connection; it can stop the statement another thread runs on it."""

    def cancel(self) -> None:
        # libpq's cancel request, safe from another thread
        # (https://www.psycopg.org/psycopg3/docs/api/connections.html#psycopg.Connection.cancel)
        self.connection.cancel()


def libpq_options(url: str, settings: Settings | None = None) -> str:
    """The server options the user gave, chosen as libpq chooses them (the URL's ``options``
    if it has one, else the target's, else the PGOPTIONS environment variable), then the UTC
    setting. Passing ``options`` to the driver replaces them all, so they are merged here; UTC
    comes last because the server applies the options in order and the compiled SQL relies on it."""
    from psycopg.conninfo import conninfo_to_dict

    user_options = conninfo_to_dict(url).get("options")
    if user_options is None:
        user_options = (settings or {}).get("options")
    if user_options is None:
        user_options = os.environ.get("PGOPTIONS")
    user_options = (user_options or "").strip()
    return f"{user_options} {UTC_SESSION_OPTION}" if user_options else UTC_SESSION_OPTION


def open_snowflake(url: str, base: Path, settings: Settings) -> OpenDatabase:
    """snowgen.runner.snowflake_client (imported when used: it imports this module)."""
    from snowgen.runner.snowflake_client import open_snowflake

    return open_snowflake(url, base, settings)


def open_redshift(url: str, base: Path, settings: Settings) -> OpenDatabase:
    """snowgen.runner.redshift_client (imported when used: it imports this module)."""
    from snowgen.runner.redshift_client import open_redshift

    return open_redshift(url, base, settings)


def open_bigquery(url: str, base: Path, settings: Settings) -> OpenDatabase:
    # the warehouses' connectors live in modules of their own, imported when used
    from snowgen.runner.bigquery_client import open_bigquery_project

    return open_bigquery_project(url, base, settings)


def open_spark_connect(url: str, base: Path, settings: Settings) -> OpenDatabase:
    from snowgen.runner.spark_client import open_spark_session

    return open_spark_session(url, base, settings)


#: Dialect.connector -> how to open its URLs
CONNECTORS: dict[str, Callable[[str, Path, Settings], OpenDatabase]] = {
    "duckdb_file": open_duckdb_file,
    "libpq": open_libpq,
    "snowflake_connector": open_snowflake,
    "redshift_connector": open_redshift,
    "bigquery_jobs": open_bigquery,
    "spark_connect": open_spark_connect,
}
