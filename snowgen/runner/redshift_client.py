"""Amazon Redshift through its official client, redshift_connector (``snowgen[redshift]``).

URL: ``redshift://user:password@host:5439/database?...``, or ``redshift://`` and the target's
connection settings, which are ``redshift_connector.connect``'s own keyword arguments
(https://docs.aws.amazon.com/redshift/latest/mgmt/python-configuration-options.html):
``host``, ``port``, ``database``, ``user``, ``password``; IAM authentication with ``iam: true``
and ``cluster_identifier``, ``db_user``, ``profile`` or ``access_key_id`` /
``secret_access_key`` / ``session_token``, ``region``, ``auto_create``, and Redshift
Serverless' ``serverless_work_group``; ``ssl``, ``sslmode``, ``timeout``. Query parameters pass
through as well; the URL's parts win over the target's. A setting the client does not know
is SG405 (the client refuses it).

Autocommit: the compiled SQL carries its own BEGIN/COMMIT, as on Postgres
(https://docs.aws.amazon.com/redshift/latest/mgmt/python-connect-examples.html#python-connect-enable-autocommit).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from snowgen.errors import SnowgenError
from snowgen.masking import mask
from snowgen.runner.connectors import Driver, OpenDatabase, Settings, display_url, first_line
from snowgen.runner.url_settings import described, host_text, path_names, query_settings, user_and_password

DEFAULT_PORT = 5439


class CursorDriver(Driver):
    """A DB-API connection that runs statements through a cursor only."""

    def execute(self, statement: str) -> int | None:
        cursor = self.connection.cursor()
        try:
            cursor.execute(statement)
            count = cursor.rowcount
        finally:
            cursor.close()
        return count if isinstance(count, int) and count >= 0 else None

    def query(self, statement: str) -> list[tuple]:
        cursor = self.connection.cursor()
        try:
            cursor.execute(statement)
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def rollback(self) -> None:
        self.execute("ROLLBACK")


def connect_arguments(url: str, settings: Settings) -> dict[str, Any]:
    """``redshift_connector.connect``'s keyword arguments: the target's settings, then what
    the URL gives."""
    from_url: dict[str, Any] = dict(user_and_password(url))
    host = host_text(url)
    if host:
        from_url["host"] = host
        from_url["port"] = _port(url)
    names = path_names(url)
    if names:
        from_url["database"] = names[0]
    return {**settings, **from_url, **query_settings(url)}


def _port(url: str) -> int:
    try:
        return urlsplit(url).port or DEFAULT_PORT
    except ValueError:
        raise SnowgenError.at("SG405", f"cannot connect to {display_url(url)}: its port is not a number") from None


def open_redshift(url: str, base: Path, settings: Settings) -> OpenDatabase:
    try:
        import redshift_connector
    except ImportError:
        message = "redshift needs redshift_connector to run: pip install 'snowgen[redshift]'"
        raise SnowgenError.at("SG405", message) from None
    arguments = connect_arguments(url, settings)
    try:
        connection = redshift_connector.connect(**arguments)
        connection.autocommit = True
    except (redshift_connector.Error, TypeError, ValueError, OSError) as exc:
        # TypeError: a setting the client does not take; OSError: the host cannot be reached
        where = described(url, arguments, "host")
        raise SnowgenError.at("SG405", f"cannot connect to {where}: {mask(first_line(exc))}") from None
    return OpenDatabase(CursorDriver(connection), (redshift_connector.Error,))
