"""``snowgen run`` through the warehouses' own clients against the harness's emulators: the
runner's BigQuery connector against bqemulator, its Spark Connect connector against Sail.

BigQuery needs one, named *bqemulator-time-zone-setting*: bqemulator does not parse
``SET @@time_zone = 'UTC'``, which every compiled BigQuery script runs after its DECLAREs
(BigQuery does); :func:`bridged_bigquery_connector` wraps the runner's connector and leaves
that statement out of each script (support.runs, ``without_time_zone_setting``: the emulator
reads every timestamp in UTC anyway). Sail needs three, each applied by wrapping the runner's own connector (the
runner's code stays what a warehouse gets; :func:`bridged_spark_connector`):

- the two of support.runs (no SQL session variables: each SET's query runs and its value
  takes the variable's place; no liquid clustering: the clause is dropped), one statement at
  a time through the runner's driver;
- Sail keeps its catalog (the tables) for one Spark Connect session, where a Databricks
  workspace keeps it in its metastore: every run joins the harness engine's server session
  (Spark Connect's ``;session_id=`` URL parameter, which the runner passes through) and does
  not release it at the end, so the tables outlive the run as on a workspace. The session
  also carries Sail's other need, an absolute ``spark.sql.warehouse.dir``, which the
  harness engine set.
- *sail-commit-conflict*: of two Delta commits that meet, Sail (delta-rs) fails the loser
  with ``Failed to commit transaction: <version>``, where Databricks names the conflict
  (``[DELTA_CONCURRENT_APPEND] ConcurrentAppendException: Transaction conflict detected``,
  and the other DELTA_CONCURRENT_* classes). The bridge reports Sail's failure in
  Databricks' words, keeping Sail's text, so the runner meets the error it meets on a
  workspace (the run lock's acquire: another run took the lock at the same moment).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from snowgen.runner import connectors
from snowgen.runner.connectors import Driver, OpenDatabase, Settings
from support.bridged_driver import BridgedDriver
from support.runs import SailStatements, without_time_zone_setting


def bigquery_url(engine: Any) -> str:
    """The runner's URL for a harness BigQuery engine's project on bqemulator."""
    return f"bigquery://{engine.project}?api_endpoint={engine.endpoint}&anonymous=true"


def spark_url(engine: Any) -> str:
    """The runner's URL for the harness Databricks engine's session on Sail."""
    return f"{engine.url}/;session_id={engine.spark.session_id}"


class BqEmulatorBridge(BridgedDriver):
    """The runner's BigQuery driver, each script without its time-zone setting first."""

    def execute(self, statement: str) -> int | None:
        return self.driver.execute(without_time_zone_setting(statement))

    def query(self, statement: str) -> list[tuple]:
        return self.driver.query(without_time_zone_setting(statement))


def bridged_bigquery_connector(url: str, base: Path, settings: Settings) -> OpenDatabase:
    """The runner's BigQuery connector, its driver bridged for bqemulator."""
    opened = connectors.open_bigquery(url, base, settings)
    return OpenDatabase(BqEmulatorBridge(opened.driver), opened.errors, opened.whole_scripts)


#: the runner's connector the bqemulator bridge wraps (a key of snowgen.runner.connectors.CONNECTORS)
BIGQUERY_CONNECTOR = "bigquery_jobs"


def bridge_bigquery(monkeypatch: Any) -> None:
    """Runs in this test reach bqemulator through :func:`bridged_bigquery_connector`."""
    monkeypatch.setitem(connectors.CONNECTORS, BIGQUERY_CONNECTOR, bridged_bigquery_connector)


#: how Sail words a Delta commit that lost to a concurrent one
SAIL_COMMIT_CONFLICT = "Failed to commit transaction"


class SailCommitConflict(Exception):
    """*sail-commit-conflict*: Sail's failed Delta commit, in Databricks' words."""

    def __init__(self, sail_message: str):
        super().__init__(f"[DELTA_CONCURRENT_TRANSACTION] Transaction conflict detected (Sail: {sail_message})")


class SailBridge(BridgedDriver):
    """The runner's Spark driver, each statement passed through the Sail bridges first."""

    def __init__(self, driver: Driver):
        super().__init__(driver)
        session = driver.connection
        self.statements = SailStatements(lambda zone: session.conf.set("spark.sql.session.timeZone", zone))

    def execute(self, statement: str) -> int | None:
        rewritten = self.statements.rewrite(statement, self.driver.query)
        if rewritten is None:
            return None
        try:
            return self.driver.execute(rewritten)
        except Exception as exc:
            if str(exc).startswith(SAIL_COMMIT_CONFLICT):
                raise SailCommitConflict(str(exc).splitlines()[0]) from exc
            raise


def bridged_spark_connector(url: str, base: Path, settings: Settings) -> OpenDatabase:
    """The runner's Spark Connect connector, its driver bridged for Sail, its session kept."""
    opened = connectors.open_spark_connect(url, base, settings)
    opened.driver.session.release_session_on_close = False  # the harness's session: kept
    return OpenDatabase(SailBridge(opened.driver), (*opened.errors, SailCommitConflict), opened.whole_scripts)


#: the runner's connector the Sail bridges wrap (a key of snowgen.runner.connectors.CONNECTORS)
SPARK_CONNECTOR = "spark_connect"


def bridge_sail(monkeypatch: Any) -> None:
    """Runs in this test reach Sail through :func:`bridged_spark_connector`."""
    monkeypatch.setitem(connectors.CONNECTORS, SPARK_CONNECTOR, bridged_spark_connector)
