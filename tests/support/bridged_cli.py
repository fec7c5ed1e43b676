"""``snowgen`` in a process of its own, with the test harness's named emulator bridges in
place: ``python tests/support/bridged_cli.py ENGINE ARGS...`` installs ENGINE's bridges
(the ones the in-process connector tests install with monkeypatch) and then runs the
command line ``snowgen ARGS...``. The bridges stay in the test harness: this script is
how a test starts a bridged ``snowgen run`` as a separate process (two at once, or one
killed with SIGKILL), which a monkeypatch in the test's own process cannot reach.

ENGINE is one of:

- ``snowflake``: fakesnow's server through the real Snowflake connector, with the bridges
  of support.fakesnow_bridge (*fakesnow-merge-in-transaction*,
  *fakesnow-variable-read-again*, *fakesnow-null-timestamp*);
- ``databricks``: Sail through Spark Connect, with the bridges of support.warehouse_runs
  (Sail's session variables and liquid clustering, and its catalog kept in the harness's
  server session);
- ``bigquery``: bqemulator through google-cloud-bigquery, with the bridge of
  support.warehouse_runs (*bqemulator-time-zone-setting*).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))


def bridges() -> dict[str, dict[str, Callable]]:
    """ENGINE -> {connector key of snowgen.runner.connectors.CONNECTORS: its bridged opener}."""
    from support import fakesnow_bridge, warehouse_runs

    return {
        "snowflake": {fakesnow_bridge.CONNECTOR: fakesnow_bridge.open_bridged},
        "databricks": {warehouse_runs.SPARK_CONNECTOR: warehouse_runs.bridged_spark_connector},
        "bigquery": {warehouse_runs.BIGQUERY_CONNECTOR: warehouse_runs.bridged_bigquery_connector},
    }


def main(argv: list[str]) -> None:
    from snowgen.cli import entry
    from snowgen.runner import connectors

    # the bridges parse statements with sqlglot, which logs the ones it reads as commands
    logging.getLogger("sqlglot").setLevel(logging.ERROR)

    engine, *args = argv
    connectors.CONNECTORS.update(bridges()[engine])
    sys.argv = ["snowgen", *args]
    entry()


if __name__ == "__main__":
    main(sys.argv[1:])
