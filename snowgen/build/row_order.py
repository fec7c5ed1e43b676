"""A total order for "keep the first row of each key": the order asked for, then every
other column of the row.

Which of two rows with one key survives must not depend on the order the warehouse happens
to read them in: a re-run and a full refresh on the same warehouse have to keep the same row.
The order a spec or Snowplow gives (a timestamp, then another) leaves ties, and its last key is
often NULL (``event_fingerprint``), so the rest of the row breaks them: two rows still tied
are equal in every column, and it does not matter which one is kept. ORDER BY puts NULLs
last on every warehouse (sqlglot spells it out where that is not the default). Text compares
by each warehouse's collation, so two warehouses may break a tie between texts differently.

Only columns of a known type take part: an undeclared column may be of a type the warehouse
cannot order (BigQuery's ARRAY, STRUCT and JSON; Redshift's SUPER); declare a model's columns
to make its order total.
"""

from __future__ import annotations

from sqlglot import exp

from snowgen.dialects.base import Dialect


def whole_row_order(
    d: Dialect, order: list[exp.Ordered], columns: dict[str, str | None], table: str, keys: tuple[str, ...] = ()
) -> list[exp.Ordered]:
    """``order``, then each column of ``columns`` (name -> logical type, None when unknown)
    of a known type that is neither ordered on yet nor a key, as its sort key."""
    used = {o.this.name for o in order if isinstance(o.this, exp.Column)} | set(keys)
    ties = [
        exp.Ordered(this=d.sort_key(exp.column(name, table=table), logical), nulls_first=False)
        for name, logical in columns.items()
        if name not in used and logical is not None
    ]
    return [*order, *ties]
