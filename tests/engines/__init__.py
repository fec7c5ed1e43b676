"""Engine harness: execute generated SQL for real on each dialect's engine.

Importable as ``engines`` from test modules (pytest puts ``tests/`` on ``sys.path``; see
``tests/conftest.py``). The fixtures live in ``engines.fixtures``; the interface is ``Engine``:

    engine.name                      # snowgen dialect: postgres, duckdb, snowflake, bigquery, databricks
    engine.execute(sql)              # one statement
    engine.query(sql) -> [tuple]     # one statement, its rows
    engine.execute_script(text)      # a whole generated file (BigQuery: one script job)
    engine.query_script(text)        # same, returning the last statement's rows
    engine.fresh() -> Engine         # an isolated empty namespace on the same server
    engine.close()

A rejected statement raises ``EngineError`` (``str()`` is ``"<engine>: <driver message>"``).
"""

from .base import Engine, EngineError, EngineStartError, EngineUnavailable, split_statements
from .fixtures import ENGINE_NAMES

__all__ = ["ENGINE_NAMES", "Engine", "EngineError", "EngineStartError", "EngineUnavailable", "split_statements"]
