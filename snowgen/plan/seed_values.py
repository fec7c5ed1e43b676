"""A seed's CSV cells as typed values, or the reason a cell does not fit its column.

Every logical type a seed column may have (spec.models.SEED_TYPE_PATTERN) has one text form,
the same on every warehouse, so a seed compiles to the same rows everywhere:

- string, string(n): the text exactly as written (quotes, backslashes, line breaks and all);
  at most n characters; no NUL character (Postgres text cannot hold one);
- int, bigint: an optional sign and digits, within 32 / 64 bits;
- decimal(p,s): a plain decimal number with at most p - s digits before the point and s after;
- double: a decimal number, optionally with an exponent (no NaN or infinity);
- boolean: true or false (any case);
- date: YYYY-MM-DD; timestamp: YYYY-MM-DD HH:MM:SS[.ffffff] (or a T between), UTC.

Surrounding spaces are ignored except in strings. An empty cell is NULL for every type.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal
from typing import Any

_SIZED_STRING = re.compile(r"^string\((\d+)\)$")
_DECIMAL_TYPE = re.compile(r"^decimal\((\d+),\s*(\d+)\)$")
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_DECIMAL = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")
_DOUBLE = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_TIMESTAMP = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?$")
_INTEGER_BITS = {"int": 32, "bigint": 64}


def convert(text: str, logical: str) -> Any:
    """The value of one cell (None for an empty cell); ValueError says why it does not fit."""
    if text == "":
        return None
    if logical == "string" or _SIZED_STRING.match(logical):
        return _string(text, logical)
    value = text.strip()
    if logical in _INTEGER_BITS:
        return _integer(value, logical)
    if _DECIMAL_TYPE.match(logical):
        return _decimal(value, logical)
    if logical == "double":
        return _double(value)
    if logical == "boolean":
        return _boolean(value)
    if logical == "date":
        return _date(value)
    if logical == "timestamp":
        return _timestamp(value)
    raise ValueError(f"a seed column cannot have type {logical}")


def string_limit(logical: str) -> int | None:
    """n of string(n); None for an unbounded string (or another type)."""
    sized = _SIZED_STRING.match(logical)
    return int(sized.group(1)) if sized else None


def _string(text: str, logical: str) -> str:
    if "\x00" in text:
        raise ValueError("holds a NUL character, which Postgres text cannot store")
    limit = string_limit(logical)
    if limit is not None and len(text) > limit:
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise ValueError(f"{shown!r} is {len(text)} characters long; the column is {logical}")
    return text


def _integer(value: str, logical: str) -> int:
    if not _INTEGER.match(value):
        raise ValueError(f"{value!r} is not a whole number ({logical})")
    number = int(value)
    bits = _INTEGER_BITS[logical]
    if not -(2 ** (bits - 1)) <= number < 2 ** (bits - 1):
        raise ValueError(f"{value} is out of range for {logical} ({bits}-bit)")
    return number


def _decimal(value: str, logical: str) -> Decimal:
    precision, scale = (int(g) for g in _DECIMAL_TYPE.match(logical).groups())
    if not _DECIMAL.match(value):
        raise ValueError(f"{value!r} is not a decimal number ({logical})")
    number = Decimal(value)
    digits, exponent = number.as_tuple().digits, number.as_tuple().exponent
    decimals = max(0, -exponent)
    whole = max(0, len(digits) + exponent)
    if decimals > scale:
        raise ValueError(f"{value} has {decimals} digits after the point; {logical} keeps {scale}")
    if whole > precision - scale:
        raise ValueError(f"{value} has {whole} digits before the point; {logical} allows {precision - scale}")
    return number


def _double(value: str) -> float:
    if not _DOUBLE.match(value):
        raise ValueError(f"{value!r} is not a number (double)")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{value} is out of range for double")
    return number


def _boolean(value: str) -> bool:
    lowered = value.lower()
    if lowered not in ("true", "false"):
        raise ValueError(f"{value!r} is not true or false (boolean)")
    return lowered == "true"


def _date(value: str) -> dt.date:
    try:
        if _DATE.match(value):
            return dt.date.fromisoformat(value)
    except ValueError:
        pass
    raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)")


def _timestamp(value: str) -> dt.datetime:
    try:
        if _TIMESTAMP.match(value):
            return dt.datetime.fromisoformat(value.replace("T", " "))
    except ValueError:
        pass
    raise ValueError(f"{value!r} is not a timestamp (YYYY-MM-DD HH:MM:SS[.ffffff])")
