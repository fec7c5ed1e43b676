"""Snowflake through its official client, snowflake-connector-python (``snowgen[snowflake]``).

URL: ``snowflake://user:password@account/database/schema?warehouse=W&role=R`` (the form of
snowflake-sqlalchemy), or ``snowflake://`` and the target's connection settings, which are
``snowflake.connector.connect``'s own keyword arguments
(https://docs.snowflake.com/en/developer-guide/python-connector/python-connector-api#connect):
``account``, ``user``, ``password``, ``warehouse``, ``role``, ``database``, ``schema``; key-pair
authentication with ``private_key_file`` and ``private_key_file_pwd``; OAuth with
``authenticator: oauth`` and ``token``; ``authenticator: externalbrowser`` for single sign-on;
``session_parameters`` (a mapping); every query parameter passes through as well
(``host``, ``port``, ``protocol``, ``login_timeout``, ...). The URL's parts win over the target's.

One connection for the run (and one per worker with ``--threads``, as Snowflake advises for
threads: https://docs.snowflake.com/en/developer-guide/driver-connections): session variables
(``SET v = ...``, the run limits and upsert windows of snowgen.build.run_limits) live as long
as it does (https://docs.snowflake.com/en/sql-reference/session-variables), and each step's
file sets those it reads. The rows a statement wrote
are the counts its result reports (``number of rows inserted`` ..., summed by the client as
the cursor's rowcount).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from snowgen.errors import SnowgenError
from snowgen.masking import mask
from snowgen.runner.driver import Driver, OpenDatabase, Settings, first_line
from snowgen.runner.url_settings import described, host_text, path_names, query_settings, user_and_password

#: what a DML statement's result columns are called (INSERT, UPDATE, DELETE, MERGE):
#: https://docs.snowflake.com/en/sql-reference/sql/merge#output
DML_RESULT_PREFIX = "number of "


class SnowflakeDriver(Driver):
    """A ``SnowflakeConnection``: statements go through a cursor."""

    def execute(self, statement: str) -> int | None:
        with self.connection.cursor() as cursor:
            cursor.execute(statement)
            return rows_written(cursor)

    def query(self, statement: str) -> list[tuple]:
        with self.connection.cursor() as cursor:
            cursor.execute(statement)
            return [tuple(row) for row in cursor.fetchall()]

    def rollback(self) -> None:
        self.connection.rollback()


def rows_written(cursor: Any) -> int | None:
    """The rows a DML statement wrote; None for other statements (whose rowcount is the
    rows of their status result)."""
    names = [column.name.lower() for column in cursor.description or []]
    if names and all(name.startswith(DML_RESULT_PREFIX) for name in names) and (cursor.rowcount or 0) >= 0:
        return cursor.rowcount
    return None


def connect_arguments(url: str, settings: Settings) -> dict[str, Any]:
    """``snowflake.connector.connect``'s keyword arguments: the target's settings, then what
    the URL gives."""
    from_url: dict[str, Any] = dict(user_and_password(url))
    account = host_text(url)
    if account:
        from_url["account"] = account
    for key, name in zip(("database", "schema"), path_names(url), strict=False):
        from_url[key] = name
    return {**settings, **from_url, **query_settings(url)}


def open_snowflake(url: str, base: Path, settings: Settings) -> OpenDatabase:
    try:
        import snowflake.connector
    except ImportError:
        message = "snowflake needs snowflake-connector-python to run: pip install 'snowgen[snowflake]'"
        raise SnowgenError.at("SG405", message) from None
    arguments = connect_arguments(url, settings)
    try:
        connection = snowflake.connector.connect(**arguments)
    except (snowflake.connector.Error, TypeError, ValueError, OSError) as exc:
        # TypeError, ValueError: a setting of the wrong type; OSError: a key file not read
        where = described(url, arguments, "account")
        raise SnowgenError.at("SG405", f"cannot connect to {where}: {mask(first_line(exc))}") from None
    return OpenDatabase(SnowflakeDriver(connection), (snowflake.connector.Error,))
