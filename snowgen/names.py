"""How snowgen treats names: like SQL identifiers written without quotes, where possible.

A *plain* name (letters, digits, underscores, not starting with a digit) is case-insensitive,
as an unquoted identifier is in SQL: snowgen keeps it in lower case and each warehouse folds
it its own way when it is printed (Snowflake to upper case, the others to lower case). Any
other name (spaces, quotes, dots, unicode, mixed case written in quotes in a SQL body) is
*exact*: printed quoted, case and all, on every warehouse.

To keep the case of a name that looks plain (a column created as "MixedCase"), write it in
the spec the way SQL would: in double quotes, e.g. `unique_key: '"MixedCase"'`.

Every identifier is printed quoted either way; this only decides its case.
"""

from __future__ import annotations

import re

PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CANONICAL_PLAIN = re.compile(r"[a-z_][a-z0-9_]*")


def canonical(name: str) -> str:
    """The name as snowgen stores it: plain names in lower case, ``"quoted"`` names without
    their quotes (exact), any other name unchanged (exact)."""
    if len(name) > 2 and name.startswith('"') and name.endswith('"') and '"' not in name[1:-1]:
        return name[1:-1]
    return name.lower() if PLAIN_NAME.fullmatch(name) else name


def is_exact(name: str) -> bool:
    """True for a stored name that must keep its case (it is not a lower-case plain name)."""
    return not _CANONICAL_PLAIN.fullmatch(name)
