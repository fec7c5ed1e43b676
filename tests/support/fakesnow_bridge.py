"""`snowgen run` through the real Snowflake client against fakesnow's server, with fakesnow's
gaps bridged here in the tests, never in the runner. Four bridges, named:

- **fakesnow-merge-in-transaction**: fakesnow cannot run a MERGE inside an explicit
  transaction (DuckDB allows one database per transaction and fakesnow records MERGEs in a
  second one; tests/engines/test_harness.py asserts the gap). The bridge opens the database
  with snowgen's own Snowflake connector and leaves out the statements BEGIN TRANSACTION
  and COMMIT it is given, so the statements between them run one after the other, as
  tests/support/runs.py does for the compiled files.
- **fakesnow-variable-read-again**: fakesnow keeps a session variable's query and runs it
  again wherever the variable is read, where Snowflake keeps the value SET computed once; for
  a query of the clock (the run lock's run id) the two differ. The bridge runs such a SET's
  query once and sets the value it gave (tests/support/runs.py, ``clock_set_once``).
- **fakesnow-null-timestamp**: fakesnow's server sends a NULL ``TIMESTAMP_NTZ`` as
  1970-01-01 00:00:00; the bridge reads that value back as the NULL it was (the run lock's
  row has NULL timestamps where no run was taken over).

- **fakesnow-merge-table-lock**: Snowflake's MERGE, UPDATE and DELETE lock the table until
  their transaction commits, so a second writer waits
  (https://docs.snowflake.com/en/sql-reference/transactions#resource-locking); fakesnow's
  DuckDB lets two MERGEs run at once and both insert (two runs at the same instant both
  wrote a run-lock row: both stopped, or both ran). The bridge holds an exclusive file lock
  per fakesnow database from each BEGIN TRANSACTION to its COMMIT or rollback (the statements
  between run one after the other, above), shared by every process of the test, as
  Snowflake's lock would be; a killed process lets it go, as Snowflake aborts a dead session's
  transaction. A MERGE, UPDATE or DELETE outside a transaction takes it for itself (the run
  lock's release deleted the row between another run's acquire and its check).

fakesnow's server shares one in-memory database between the connections that do not ask
for an isolated one: a test uses a database name of its own (fakesnow creates it at login).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import itertools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO
from urllib.parse import parse_qs, quote, urlsplit

import sqlglot
from sqlglot import exp

from snowgen.runner import connectors
from snowgen.runner.connectors import Driver, OpenDatabase, Settings
from support.bridged_driver import BridgedDriver
from support.runs import clock_set_once

#: network_timeout bounds the client's retries of an HTTP 500 (fakesnow's answer to a
#: statement it crashes on), socket_timeout the wait for one answer
CLIENT_QUERY = "protocol=http&login_timeout=30&network_timeout=1&socket_timeout=600"

_numbers = itertools.count(1)


def database_name(prefix: str = "SNOWGEN_RUN") -> str:
    """A database of the shared fakesnow server that no other test uses."""
    return f"{prefix}_{os.getpid()}_{next(_numbers)}"


def snowflake_url(port: int, database: str, user: str = "etl", password: str | None = None, host="127.0.0.1") -> str:
    secret = f":{quote(password, safe='')}" if password is not None else ""
    return f"snowflake://{user}{secret}@fakesnow/{database}/PUBLIC?host={host}&port={port}&{CLIENT_QUERY}"


#: fakesnow-merge-table-lock: the statements that lock their table on Snowflake
LOCKING = (exp.Merge, exp.Update, exp.Delete)

#: fakesnow-null-timestamp: what fakesnow's server sends for a NULL TIMESTAMP_NTZ
EPOCH = dt.datetime(1970, 1, 1)


class TransactionLock:
    """fakesnow-merge-table-lock: an exclusive lock on a file named after the fakesnow
    database, held from BEGIN TRANSACTION to COMMIT or rollback."""

    def __init__(self, path: Path):
        self.path = path
        self.file: IO[str] | None = None

    @classmethod
    def of(cls, url: str) -> TransactionLock:
        parts = urlsplit(url)
        database = parts.path.strip("/").split("/")[0]
        port = parse_qs(parts.query).get("port", [""])[0]
        return cls(Path(tempfile.gettempdir()) / f"snowgen-fakesnow-{port}-{database}.lock")

    def take(self) -> None:
        if self.file is None:
            self.file = self.path.open("a")
            fcntl.flock(self.file, fcntl.LOCK_EX)  # waits for another process's transaction

    @property
    def taken(self) -> bool:
        return self.file is not None

    @contextlib.contextmanager
    def for_one_statement(self) -> Iterator[None]:
        self.take()
        try:
            yield
        finally:
            self.give_back()

    def give_back(self) -> None:
        if self.file is not None:
            self.file.close()  # closing the file releases the lock
            self.file = None


class WithoutTransactions(BridgedDriver):
    """The four bridges above: BEGIN TRANSACTION and COMMIT left out (the transaction lock
    taken and given back instead), a SET of the clock evaluated once, the epoch read back as
    NULL."""

    def __init__(self, driver: Driver, lock: TransactionLock):
        super().__init__(driver)
        self.lock = lock

    def execute(self, statement: str) -> int | None:
        tree = sqlglot.parse_one(statement, read="snowflake")
        if isinstance(tree, exp.Transaction):
            self.lock.take()
            return None
        if isinstance(tree, exp.Commit):
            self.lock.give_back()
            return None
        if isinstance(tree, LOCKING) and not self.lock.taken:
            with self.lock.for_one_statement():
                return self.driver.execute(statement)
        return self.driver.execute(clock_set_once(tree, self.driver.query) or statement)

    def query(self, statement: str) -> list[tuple]:
        return [tuple(None if value == EPOCH else value for value in row) for row in self.driver.query(statement)]

    def rollback(self) -> None:
        try:
            self.driver.rollback()
        finally:
            self.lock.give_back()

    def close(self) -> None:
        self.lock.give_back()
        self.driver.close()


def open_bridged(url: str, base: Path, settings: Settings) -> OpenDatabase:
    opened = connectors.open_snowflake(url, base, settings)
    return OpenDatabase(
        WithoutTransactions(opened.driver, TransactionLock.of(url)), opened.errors, opened.whole_scripts
    )


#: the runner's connector the bridge replaces (a key of snowgen.runner.connectors.CONNECTORS)
CONNECTOR = "snowflake_connector"


def bridge(monkeypatch) -> None:
    """Open every snowflake:// database of the test through the bridge."""
    monkeypatch.setitem(connectors.CONNECTORS, CONNECTOR, open_bridged)
