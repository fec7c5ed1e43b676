"""``snowgen run`` on Databricks and Spark, through Spark Connect (``pip install 'snowgen[databricks]'``).

One Spark Connect session per run (and one per worker with ``--threads``): Databricks' SQL
variables (DECLARE VARIABLE / SET VARIABLE), which each step's file declares and sets, live
for the session
(https://docs.databricks.com/en/sql/language-manual/sql-ref-syntax-ddl-declare-variable.html).
Statements go one by one through ``spark.sql``; a MERGE, DELETE or UPDATE reports the rows
it wrote (``num_affected_rows``), other statements nothing. The session's time zone is UTC,
which the compiled SQL relies on.

Two forms of URL:
- ``sc://host:port[/;token=...;use_ssl=true;...]``, Spark Connect's own
  (https://spark.apache.org/docs/latest/spark-connect-overview.html), through the
  pyspark-client library; a Spark Connect server, or a Databricks cluster through the
  ``x-databricks-cluster-id`` parameter;
- ``databricks://[token:TOKEN@]HOST[?cluster_id=...|serverless=true&profile=...]``, a
  Databricks workspace through databricks-connect, which speaks the same protocol
  (https://docs.databricks.com/en/dev-tools/databricks-connect/python/index.html); what the
  URL and settings leave out, databricks-connect reads from its own configuration (the
  ``DATABRICKS_*`` environment variables, ``~/.databrickscfg``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from snowgen.errors import SnowgenError
from snowgen.runner.connector_settings import ConnectorSettings
from snowgen.runner.driver import Driver, OpenDatabase, Settings, first_line
from snowgen.runner.url_display import display_url, without_password

#: the keys of a target's settings, and of a databricks:// URL's query
SETTINGS = {
    "token": "a personal access token, or Spark Connect's token (a secret: from an environment variable)",
    "catalog": "the current catalog (Unity Catalog) of the session",
    "connect_timeout": "seconds to keep trying to reach the server when opening (default: the client's, 10 minutes and more)",
    # databricks:// only
    "host": "the workspace's host name (databricks://; else DATABRICKS_HOST or the profile's)",
    "cluster_id": "the cluster to run on (databricks://)",
    "serverless": "run on serverless compute (databricks://)",
    "profile": "a profile of ~/.databrickscfg (databricks://)",
}
SPARK_CONNECT_SETTINGS = ("token", "catalog", "connect_timeout")
#: Spark Connect's own URL scheme; the other (databricks://) is a workspace through databricks-connect
SPARK_CONNECT_SCHEME = "sc"
SECRETS = ("token",)
#: what the compiled SQL reads timestamps in (as the other connectors do)
SESSION_TIME_ZONE = ("spark.sql.session.timeZone", "UTC")
INSTALL_HINT = "Spark Connect needs pyspark-client to run: pip install 'snowgen[databricks]'"
DATABRICKS_CONNECT_HINT = (
    "a databricks:// URL needs databricks-connect: pip install 'databricks-connect==<the runtime version>.*' "
    "(in place of pyspark-client), or use sc://HOST:443/;token=...;x-databricks-cluster-id=..."
)


class SparkDriver(Driver):
    """A Spark Connect session: statements through ``spark.sql``, nothing to roll back
    (each statement commits on its own)."""

    def __init__(self, session: Any):
        super().__init__(session)
        self.session = session

    def execute(self, statement: str) -> int | None:
        return rows_written(self.session.sql(statement).collect())

    def query(self, statement: str) -> list[tuple]:
        return [tuple(row) for row in self.session.sql(statement).collect()]

    def rollback(self) -> None:
        """Nothing to end: Spark has no transaction the runner opens."""

    def close(self) -> None:
        self.session.stop()


def rows_written(result: list[Any]) -> int | None:
    """``num_affected_rows`` of a Delta MERGE/DELETE/UPDATE/INSERT result, else None
    (https://docs.databricks.com/en/sql/language-manual/delta-merge-into.html)."""
    if len(result) != 1:
        return None
    count = result[0].asDict().get("num_affected_rows")
    return int(count) if isinstance(count, int) else None


@dataclass(frozen=True)
class SparkOptions:
    """The connection's settings, every one checked before anything connects."""

    token: str | None
    catalog: str | None
    connect_timeout: float | None
    host: str | None = None
    cluster_id: str | None = None
    serverless: bool = False
    profile: str | None = None

    @classmethod
    def read(cls, config: ConnectorSettings, workspace: bool) -> SparkOptions:
        common = (config.text("token"), config.text("catalog"), config.number("connect_timeout"))
        if not workspace:
            return cls(*common)
        return cls(
            *common,
            host=config.text("host"),
            cluster_id=config.text("cluster_id"),
            serverless=config.flag("serverless"),
            profile=config.text("profile"),
        )


def open_spark_session(url: str, base: Path, settings: Settings) -> OpenDatabase:
    parts = urlsplit(url)
    workspace = parts.scheme != SPARK_CONNECT_SCHEME
    if workspace:
        from_url = {**dict(parse_qsl(parts.query, keep_blank_values=True)), **_workspace_of(parts)}
        config = ConnectorSettings.merged("databricks workspace", SETTINGS, settings, from_url, SECRETS)
    else:
        config = ConnectorSettings.merged("spark connect", SPARK_CONNECT_SETTINGS, settings, {}, SECRETS)
    options = SparkOptions.read(config, workspace)
    try:
        from pyspark.errors import PySparkException
    except ImportError:
        raise SnowgenError.at("SG405", INSTALL_HINT) from None
    if workspace:
        session = _opened(url, options, lambda: databricks_session(options))
    else:
        session = _opened(url, options, lambda: spark_connect_session(url, options))
    prepare(session, url, options)
    return OpenDatabase(SparkDriver(session), (PySparkException,))


def _workspace_of(parts: Any) -> dict[str, str]:
    found = {}
    if parts.hostname:
        found["host"] = parts.hostname
    if parts.password:
        found["token"] = unquote(parts.password)
    return found


def spark_connect_session(url: str, options: SparkOptions) -> Any:
    from pyspark.sql import SparkSession

    if options.token is not None:  # Spark Connect reads it as a URL parameter
        url = f"{url.rstrip('/')}{'' if ';' in url else '/'};token={quote(options.token, safe='')}"
    return SparkSession.builder.remote(url).create()


def databricks_session(options: SparkOptions) -> Any:
    """A new session through databricks-connect's documented builder: profile, host, token,
    then a cluster or serverless compute. ``create()``, not ``getOrCreate()``: each connection
    of a run (``--threads``) needs a session of its own, its SQL variables its own
    (https://docs.databricks.com/en/dev-tools/databricks-connect/python/notebooks.html#databrickssession-behavior)."""
    try:
        from databricks.connect import DatabricksSession
    except ImportError:
        raise SnowgenError.at("SG405", DATABRICKS_CONNECT_HINT) from None
    builder = DatabricksSession.builder
    if options.profile is not None:
        builder = builder.profile(options.profile)
    if options.host is not None:
        builder = builder.host(options.host if "://" in options.host else f"https://{options.host}")
    if options.token is not None:
        builder = builder.token(options.token)
    if options.cluster_id is not None:
        builder = builder.clusterId(options.cluster_id)
    if options.serverless:
        builder = builder.serverless(True)
    return builder.create()


def _opened(url: str, options: SparkOptions, make: Any) -> Any:
    try:
        return make()
    except SnowgenError:
        raise
    except Exception as exc:  # the clients raise their own kinds (pyspark, the Databricks SDK, gRPC)
        raise _cannot_connect(url, options, exc) from None


def prepare(session: Any, url: str, options: SparkOptions) -> None:
    """The session's time zone, and its catalog if asked: the first calls, so a server that
    cannot be reached (within ``connect_timeout``) is SG405 before any step runs."""
    client = session.client
    policies = client.get_retry_policies()
    if options.connect_timeout is not None:
        client.set_retry_policies([reaching_policy(options.connect_timeout)])
    try:
        session.conf.set(*SESSION_TIME_ZONE)
        if options.catalog is not None:
            session.catalog.setCurrentCatalog(options.catalog)
    except Exception as exc:
        _stop_quietly(session)
        raise _cannot_connect(url, options, exc) from None
    finally:
        client.set_retry_policies(policies)


def reaching_policy(seconds: float) -> Any:
    """Spark Connect's own retry rules (which errors to retry), once a second for ``seconds``."""
    from pyspark.sql.connect.client.retries import DefaultPolicy

    return DefaultPolicy(max_retries=max(int(seconds), 1), initial_backoff=1000, max_backoff=1000, jitter=0)


def _reason(error: BaseException) -> str:
    """What the server or the network said: pyspark's "retries exceeded" wraps the gRPC error
    whose details say why (connection refused, unauthenticated, ...)."""
    cause: BaseException | None = error
    while cause is not None:
        details = getattr(cause, "details", None)
        if callable(details) and isinstance(details(), str) and details().strip():
            return f"{first_line(error)} ({first_line(Exception(details()))})"
        cause = cause.__cause__ or cause.__context__
    return first_line(error)


def _stop_quietly(session: Any) -> None:
    try:
        session.stop()
    except Exception:  # the session never opened: nothing to release
        pass


def _cannot_connect(url: str, options: SparkOptions, error: BaseException) -> SnowgenError:
    message = without_password(_reason(error), url)
    if options.token:
        message = message.replace(options.token, "***")
    return SnowgenError.at("SG405", f"cannot connect to {display_url(url)}: {message}")
