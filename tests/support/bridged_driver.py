"""The base of the emulator bridges that wrap the runner's own driver (the runner's code stays
what a warehouse gets): every call goes to the wrapped driver; a bridge overrides only the
calls it changes."""

from __future__ import annotations

from snowgen.runner.driver import Driver


class BridgedDriver(Driver):
    def __init__(self, driver: Driver):
        super().__init__(driver.connection)
        self.driver = driver

    def execute(self, statement: str) -> int | None:
        return self.driver.execute(statement)

    def query(self, statement: str) -> list[tuple]:
        return self.driver.query(statement)

    def rollback(self) -> None:
        self.driver.rollback()

    def close(self) -> None:
        self.driver.close()

    def starting_step(self, project: str, step: str) -> None:
        self.driver.starting_step(project, step)

    def cancel(self) -> None:
        self.driver.cancel()

    def same_run_as(self, other: Driver) -> None:
        self.driver.same_run_as(other.driver if isinstance(other, BridgedDriver) else other)
