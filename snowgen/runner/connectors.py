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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from snowgen.errors import RunLocked, SnowgenError
from snowgen.folders import make_missing_dirs, remove_dirs

#: The compiled SQL computes run limits and manifest times in UTC; a session in another
#: time zone would shift every timestamptz it compares.
UTC_SESSION_OPTION = "-c TimeZone=UTC"


#: A target's connection settings (host, account, warehouse, ...), values resolved.
Settings = Mapping[str, Any]


class Driver:
    """What the runner asks of an open database. This base serves DB-API connections whose
    ``execute`` returns a cursor (DuckDB, psycopg); a client of another shape subclasses it."""

    def __init__(self, connection: Any):
        self.connection = connection

    def execute(self, statement: str) -> int | None:
        """Run one statement (or, for a driver of whole scripts, one step's file); the rows
        it wrote where the engine says, else None."""
        cursor = self.connection.execute(statement)
        count = getattr(cursor, "rowcount", -1)
        return count if isinstance(count, int) and count >= 0 else None

    def query(self, statement: str) -> list[tuple]:
        return [tuple(row) for row in self.connection.execute(statement).fetchall()]

    def rollback(self) -> None:
        """End the transaction a failed script had opened (errors ignored by the caller)."""
        self.connection.execute("ROLLBACK")

    def close(self) -> None:
        self.connection.close()

    def starting_step(self, project: str, step: str) -> None:
        """Hears which project and step the next calls run for (a warehouse may label its
        jobs with them); most drivers need not know."""


@dataclass(frozen=True)
class OpenDatabase:
    driver: Driver
    errors: tuple[type[Exception], ...]  # what the driver raises when the database says no
    #: the driver takes a step's whole file as one script (its variables live for the file)
    whole_scripts: bool = False


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
    return OpenDatabase(Driver(driver), (psycopg.Error,))


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


# -- what the user sees -----------------------------------------------------------------------------


#: URL parameters that hold a secret: a query's ``?password=``, Spark Connect's ``;token=``
SECRET_PARAMETERS = ("password", "token")


def display_url(url: str) -> str:
    """``url`` as it may be printed: the password (in the user part, a ``password`` or
    ``token`` parameter, or Spark Connect's ``;token=``) replaced by ``***``."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # not a URL that urllib can split (a bad IPv6 host): show no detail
        return url.split("://", 1)[0] + "://..." if "://" in url else "the database"
    query = parse_qsl(parts.query, keep_blank_values=True)
    path = _masked_path_parameters(parts.path)
    if password is None and path == parts.path and all(key not in SECRET_PARAMETERS for key, _ in query):
        return url  # as typed (urlunsplit would drop the empty host of duckdb:///file)
    if password is not None:
        user_info, host = parts.netloc.rsplit("@", 1)
        parts = parts._replace(netloc=f"{user_info.split(':', 1)[0]}:***@{host}")
    hidden = [(k, "***" if k in SECRET_PARAMETERS else v) for k, v in query]
    parts = parts._replace(path=path, query=urlencode(hidden, safe="*", quote_via=quote))
    return urlunsplit(parts)


def _masked_path_parameters(path: str) -> str:
    """Spark Connect keeps its parameters in the path: ``sc://host:port/;token=...;user_id=...``."""
    head, *parameters = path.split(";")
    return ";".join([head, *(_masked_parameter(p) for p in parameters)])


def _masked_parameter(parameter: str) -> str:
    key, equals, _ = parameter.partition("=")
    return f"{key}=***" if equals and key in SECRET_PARAMETERS else parameter


def _secrets_of(url: str) -> list[str]:
    parts = urlsplit(url)
    in_query = [v for k, v in parse_qsl(parts.query) if k in SECRET_PARAMETERS]
    in_path = [p.partition("=")[2] for p in parts.path.split(";")[1:] if p.partition("=")[0] in SECRET_PARAMETERS]
    return [parts.password or "", *in_query, *in_path]


def without_password(message: str, url: str) -> str:
    """``message`` with every spelling of the URL's secrets blanked out (drivers may quote
    the connection string back)."""
    try:
        secrets = _secrets_of(url)
    except ValueError:
        return message
    for secret in secrets:
        for spelling in {secret, unquote(secret)} - {""}:
            message = message.replace(spelling, "***")
    return message


def first_line(error: BaseException) -> str:
    """A driver error's first non-blank line (the rest is a caret diagram or a hint)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
