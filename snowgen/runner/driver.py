"""What a connector gives the runner: a :class:`Driver` over an open database, with the
exceptions by which the database says no (:class:`OpenDatabase`). The connectors live in
snowgen.runner.connectors (DuckDB, libpq) and one module per warehouse client."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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

    def cancel(self) -> None:
        """Called from another thread (``snowgen run --threads``, interrupted): ask the
        database to stop the statement running now. A driver that cannot leaves it to
        finish, as here."""

    def same_run_as(self, other: Driver) -> None:
        """This connection runs steps of the run ``other`` opened (``--threads``): whatever
        names the run to the warehouse (a job label) is ``other``'s; most drivers name none."""


@dataclass(frozen=True)
class OpenDatabase:
    driver: Driver
    errors: tuple[type[Exception], ...]  # what the driver raises when the database says no
    #: the driver takes a step's whole file as one script (its variables live for the file)
    whole_scripts: bool = False


def first_line(error: BaseException) -> str:
    """A driver error's first non-blank line (the rest is a caret diagram or a hint)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
