"""Every warehouse snowgen compiles for. The one place dialects are named.

The names are plain data here, so that the plan stage can check a spec's dialect names
without importing any dialect; the classes (:data:`DIALECTS`, in
:mod:`snowgen.dialects.registry`) are imported on first use.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from snowgen.dialects.base import Dialect

#: the dialects snowgen compiles for, in the order of the registry (a test keeps both equal)
NAMES: tuple[str, ...] = ("redshift", "bigquery", "snowflake", "databricks", "postgres", "duckdb")

#: sqlglot dialect names accepted for SQL bodies (``sql_dialect``): each dialect's own
#: (``Dialect.sqlglot_dialect``, checked by a test), then other readers sqlglot has.
BODY_DIALECTS: tuple[str, ...] = (*NAMES, "spark", "trino")


def get_dialect(name: str) -> Dialect:
    from snowgen.dialects.registry import DIALECTS

    try:
        return DIALECTS[name]()
    except KeyError:
        raise KeyError(unknown_dialect_message(name)) from None


def unknown_dialect_message(name: str) -> str:
    hint = difflib.get_close_matches(name, list(NAMES), n=1)
    message = f"unknown dialect '{name}'"
    if hint:
        return f"{message} (did you mean '{hint[0]}'?)"
    return f"{message}; choose one of {', '.join(NAMES)}"


def __getattr__(name: str) -> Any:
    """``DIALECTS`` (name -> class) and ``Dialect``, imported on first use."""
    if name == "DIALECTS":
        from snowgen.dialects.registry import DIALECTS

        return DIALECTS
    if name == "Dialect":
        from snowgen.dialects.base import Dialect

        return Dialect
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["BODY_DIALECTS", "DIALECTS", "NAMES", "Dialect", "get_dialect", "unknown_dialect_message"]
