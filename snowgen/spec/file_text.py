"""Reading a spec or seed file as text: bounded in size, UTF-8, with positions for bad bytes.

The limits keep a compile fast and its memory small whatever lands in a project folder
(docs/spec.md, "Limits"). Measured on 2 cores, for one dialect: a 1 MiB model file (one
SQL body) compiles in about 3 s, and the time grows linearly with the body (10 MiB took
27 s and 1 GB); a seed of 20,000 rows of 10 columns compiles in about 3.5 s (11 s for all
six dialects), the time going into one typed literal per value.
"""

from __future__ import annotations

import re
from pathlib import Path

from snowgen.errors import Location, SnowgenError

#: a spec file (snowgen.yml or a model file); the largest shipped one is about 15 KB
MAX_SPEC_FILE_BYTES = 1024 * 1024
#: a seed's CSV file; the largest shipped one is about 29 KB
MAX_SEED_FILE_BYTES = 4 * 1024 * 1024
#: records of a seed, not counting the header; the largest shipped seed has 1,141
MAX_SEED_ROWS = 20_000
#: fields of a seed, header included: 20,000 rows of 10 columns (the shipped seeds have 2 to 6)
MAX_SEED_VALUES = 200_000

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def read_bounded(path: Path, limit: int, what: str) -> bytes:
    """The bytes of ``path``, refused (SG008) beyond ``limit``; OSError passes through.

    Reads at most ``limit + 1`` bytes, so a huge or endless file costs no more than that."""
    with path.open("rb") as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        message = f"{what} is larger than {_size(limit)}, the most snowgen reads (docs/spec.md, 'Limits')"
        first_line = data[:200].split(b"\n", 1)[0].decode("utf-8", "replace").rstrip("\r")
        raise SnowgenError.at("SG008", message, Location(path, 1, 1, first_line))
    return data


def decode_utf8(path: Path, data: bytes, what: str, code: str, breaks: re.Pattern[str]) -> str:
    """``data`` as text (a leading byte order mark dropped); ``code`` at the first byte that
    is not UTF-8, located by line and column in characters. ``breaks`` matches a line break
    of the file's format, so the line number is the one the parser would give."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode("utf-8-sig", "replace")
        location = location_in_text(path, before + data[exc.start :].decode("utf-8", "replace"), len(before), breaks)
        raise SnowgenError.at(code, _not_utf8_message(data, what), location) from None


def location_in_text(path: Path, text: str, index: int, breaks: re.Pattern[str]) -> Location:
    """The 1-based line and column of character ``index`` of ``text``, with that line."""
    line, line_start = 1, 0
    for found in breaks.finditer(text, 0, index):
        line, line_start = line + 1, found.end()
    following = breaks.search(text, index)
    line_text = text[line_start : following.start() if following else len(text)]
    return Location(path, line, index - line_start + 1, line_text)


def _not_utf8_message(data: bytes, what: str) -> str:
    if data.startswith(_UTF16_BOMS):
        return f"{what} is UTF-16 text (it starts with a UTF-16 byte order mark); save it as UTF-8"
    return f"{what} is not UTF-8 text"


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit % (1024 * 1024) == 0 else f"{limit:,} bytes"
