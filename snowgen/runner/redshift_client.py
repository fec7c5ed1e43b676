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
from snowgen.runner.driver import Driver, OpenDatabase, Settings, first_line
from snowgen.runner.url_display import display_url
from snowgen.runner.url_settings import described, host_text, path_names, query_settings, user_and_password

DEFAULT_PORT = 5439


class CursorDriver(Driver):
    """A redshift_connector connection: statements go through a cursor; the server's error
    reaches the user as its message and SQLSTATE (the client's is a dict of every field)."""

    def execute(self, statement: str) -> int | None:
        count = self._run(statement, lambda cursor: cursor.rowcount)
        return count if isinstance(count, int) and count >= 0 else None

    def query(self, statement: str) -> list[tuple]:
        return self._run(statement, lambda cursor: [tuple(row) for row in cursor.fetchall()])

    def _run(self, statement: str, result: Any) -> Any:
        cursor = self.connection.cursor()
        try:
            cursor.execute(statement)
            return result(cursor)
        except Exception as exc:
            raise readable(exc) from None
        finally:
            cursor.close()

    def rollback(self) -> None:
        self.execute("ROLLBACK")


def readable(error: Exception) -> Exception:
    """The client's error with the server's fields (``{'S': 'ERROR', 'C': '42601', 'M':
    'syntax error ...', ...}``) as ``message (SQLSTATE code)``, of the same type."""
    fields = error.args[0] if error.args else None
    if not isinstance(fields, dict) or "M" not in fields:
        return error
    return type(error)(f"{fields['M']} (SQLSTATE {fields.get('C', '?')})")


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
        raise SnowgenError.at("SG405", f"cannot connect to {where}: {mask(first_line(readable(exc)))}") from None
    return OpenDatabase(CursorDriver(connection), (redshift_connector.Error,))
