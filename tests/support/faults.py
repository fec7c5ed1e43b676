"""One real database error in the middle of the snowplow_web sessions step, for the scheduler
tests: the stitch's UPDATE, after the step's upsert committed, reads the user mapping, which
is taken away just before it (as a revoked permission would be). The Airflow tests cause it
from the task's callbacks (tests/support/airflow_dag_run.py); snowgen's own runner (``snowgen
run``, the Dagster assets) meets it through :class:`TakenAwayOnce`, which wraps the runner's
connector as the emulator bridges do (the runner's code stays as it is)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from snowgen.runner import connectors
from snowgen.runner.driver import Driver, OpenDatabase, Settings
from support.bridged_driver import BridgedDriver

FAULTY_STEP = "snowplow_web_sessions"
TAKE_AWAY = 'ALTER TABLE "derived"."snowplow_web_user_mapping" RENAME TO "snowplow_web_user_mapping_away"'
PUT_BACK = 'ALTER TABLE "derived"."snowplow_web_user_mapping_away" RENAME TO "snowplow_web_user_mapping"'
#: how the statement that meets the fault starts (the sessions step's stitch)
FAULTY_STATEMENT = 'UPDATE "derived"."snowplow_web_sessions" SET "stitched_user_id"'


class TakenAwayOnce:
    """The fault, once, for runs through snowgen's connectors; ``put_back_on_reconnect``: the
    next connection opened puts the table back first (a retry after the fault was mended)."""

    def __init__(self, put_back_on_reconnect: bool = False):
        self.put_back_on_reconnect = put_back_on_reconnect
        self.fired = False
        self.away = False

    def install(self, connector: str) -> Callable[[], None]:
        """Wrap the runner's ``connector`` (a key of CONNECTORS); returns the undo."""
        original = connectors.CONNECTORS[connector]

        def bridged(url: str, base: Path, settings: Settings) -> OpenDatabase:
            opened = original(url, base, settings)
            if self.away and self.put_back_on_reconnect:
                opened.driver.execute(PUT_BACK)
                self.away = False
            return OpenDatabase(_Faulty(opened.driver, self), opened.errors, opened.whole_scripts)

        connectors.CONNECTORS[connector] = bridged
        return lambda: connectors.CONNECTORS.__setitem__(connector, original)


class _Faulty(BridgedDriver):
    def __init__(self, driver: Driver, fault: TakenAwayOnce):
        super().__init__(driver)
        self.fault = fault

    def execute(self, statement: str) -> int | None:
        if not self.fault.fired and statement.startswith(FAULTY_STATEMENT):
            self.fault.fired = self.fault.away = True
            self.driver.execute(TAKE_AWAY)
        return self.driver.execute(statement)
