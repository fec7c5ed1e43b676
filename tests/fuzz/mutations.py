"""Seeded mutations of a project folder: what a user's editor, a bad merge, a wrong encoding or
a hostile file could leave there. Each mutation takes a ``random.Random`` and the project's
root, changes files in place and returns a one-line description for the failure report.

Everything is deterministic for a given seed: files are listed in sorted order and every
choice is drawn from the ``Random`` passed in.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

Mutation = Callable[[random.Random, Path], str]

# Values a key could be given: YAML edge cases, tags, anchors, wrong types, hostile text.
HOSTILE_VALUES = [
    "", "~", "null", "[]", "{}", "[a, b]", "{a: 1}", "yes", "no", "on", "0", "-1", "1e999", ".nan", "0x1F",
    "2024-13-45", "2024-02-30 25:61:00", "'unclosed", '"unclosed', "[unclosed", "{a: 1", "|", ">-",
    "!!float abc", "!!int 12x", "!!bool maybe", "!!binary zz", "!!timestamp soon", "!!null x", "!!str",
    "!!python/object:os.system {}", "!!python/name:os.system", "!custom value", "!!set {a, b}", "!!omap [a]",
    "&anchor value", "*missing_alias", "&a [*a]", "<<: {x: 1}", "? [complex]", "'a''b'", '"\\x00"', '"\\ud800"',
    "é中🙂", "a\tb", "x" * 300, "select * from events", "{{ var('x') }}", "{% if %}", "$1", "%s",
]  # fmt: skip
# Bytes that break decoders and readers: NUL and C0/C1 controls, invalid or partial UTF-8,
# a stray byte order mark, a surrogate encoded as UTF-8, unusual line breaks.
HOSTILE_BYTES = [
    b"\x00", b"\x01", b"\x07", b"\x08", b"\x0b", b"\x0c", b"\x1b", b"\x7f", b"\xc2\x85", b"\xc2\x9b",
    b"\xff", b"\xfe", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\xe2\x80\xa8", b"\r", b"\t",
    b'"', b"'", b",", b":", b"- ", b"#", b"&", b"*", b"!", b"%", b"@", b"`", b"{", b"}", b"[", b"]", b"\\",
]  # fmt: skip
SQL_TOKENS = ["(", ")", "'", '"', ";", "--", "/*", "{{", "}}", "{%", "%}", "select", "from", "*", ",", "union all",
              "join", "over (", "case when", "::", "\\", "$$", "?", "0x", "1e999"]  # fmt: skip
KEYS = ["name", "sql", "materialization", "unique_key", "columns", "layout", "module", "seeds", "sources", "vars",
        "schemas", "incremental", "targets", "file", "type", "strategy", "for_each", "watermark", "stitch",
        "models_path", "staged", "upsert_date_key", "dialects", "unknown_key", "Name", "sql ", "<<"]  # fmt: skip


# -- choosing ----------------------------------------------------------------------------------


def project_files(root: Path, suffixes: tuple[str, ...] = (".yml", ".yaml", ".csv")) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink() and p.suffix in suffixes)


def pick(rng: random.Random, root: Path, suffixes: tuple[str, ...] = (".yml", ".yaml", ".csv")) -> Path | None:
    files = project_files(root, suffixes)
    return rng.choice(files) if files else None


def _lines(path: Path) -> list[str]:
    return path.read_bytes().decode("utf-8", "surrogateescape").split("\n")


def _write_lines(path: Path, lines: list[str]) -> None:
    path.write_bytes("\n".join(lines).encode("utf-8", "surrogateescape"))


def _name(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


# -- YAML structure ----------------------------------------------------------------------------


def edit_lines(rng: random.Random, root: Path) -> str:
    """Delete, duplicate, swap, indent or dedent a line: what a bad merge leaves."""
    path = pick(rng, root, (".yml",))
    if path is None:
        return "no YAML file to edit"
    lines = _lines(path)
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    action = rng.choice(["delete", "duplicate", "swap", "indent", "dedent"])
    if action == "delete":
        del lines[i]
    elif action == "duplicate":
        lines.insert(j, lines[i])
    elif action == "swap":
        lines[i], lines[j] = lines[j], lines[i]
    elif action == "indent":
        lines[i] = " " * rng.choice([1, 2, 4]) + lines[i]
    else:
        lines[i] = lines[i][rng.choice([1, 2]) :]
    _write_lines(path, lines)
    return f"{action} line {i + 1} of {_name(root, path)}"


def replace_value(rng: random.Random, root: Path) -> str:
    """Give a ``key: value`` line a hostile value."""
    path = pick(rng, root, (".yml",))
    lines = _lines(path) if path else []
    candidates = [i for i, line in enumerate(lines) if ": " in line and not line.lstrip().startswith("#")]
    if not candidates:
        return "no key to change"
    i = rng.choice(candidates)
    value = rng.choice(HOSTILE_VALUES)
    lines[i] = lines[i].split(": ", 1)[0] + ": " + value
    _write_lines(path, lines)
    return f"{_name(root, path)} line {i + 1}: value -> {value[:40]!r}"


def insert_key(rng: random.Random, root: Path) -> str:
    """A key (known or not) with a hostile value, at the indentation of a neighbouring line."""
    path = pick(rng, root, (".yml",))
    if path is None:
        return "no YAML file"
    lines = _lines(path)
    i = rng.randrange(len(lines))
    indent = len(lines[i]) - len(lines[i].lstrip(" "))
    key, value = rng.choice(KEYS), rng.choice(HOSTILE_VALUES)
    lines.insert(i, " " * indent + f"{key}: {value}")
    _write_lines(path, lines)
    return f"{_name(root, path)} line {i + 1}: insert {key}: {value[:40]!r}"


def mutate_sql(rng: random.Random, root: Path) -> str:
    """Drop a SQL token into a model's body (the lines after ``sql: |``)."""
    path = pick(rng, root, (".yml",))
    lines = _lines(path) if path else []
    start = next((i for i, line in enumerate(lines) if line.startswith("sql:")), None)
    if start is None or start + 1 >= len(lines):
        return "no SQL body"
    i = rng.randrange(start + 1, len(lines))
    at = rng.randint(0, len(lines[i]))
    token = rng.choice(SQL_TOKENS)
    lines[i] = lines[i][:at] + token + lines[i][at:]
    _write_lines(path, lines)
    return f"{_name(root, path)} line {i + 1}: SQL token {token!r} at column {at + 1}"


def nest_sql(rng: random.Random, root: Path) -> str:
    """A column of a body's SELECT nested in many parentheses (recursive-descent parsers recurse)."""
    path = pick(rng, root, (".yml",))
    lines = _lines(path) if path else []
    selects = [i for i, line in enumerate(lines) if line.strip().lower().startswith("select")]
    if not selects:
        return "no SELECT line"
    i = rng.choice(selects)
    depth = rng.choice([50, 500, 3_000])
    at = lines[i].lower().index("select") + len("select")
    lines[i] = lines[i][:at] + " " + "(" * depth + "1" + ")" * depth + " as deep_nesting," + lines[i][at:]
    _write_lines(path, lines)
    return f"{_name(root, path)} line {i + 1}: a column nested {depth} parentheses deep"


# -- bytes and encodings -----------------------------------------------------------------------


def flip_bytes(rng: random.Random, root: Path) -> str:
    path = pick(rng, root)
    data = bytearray(path.read_bytes()) if path else bytearray()
    if not data:
        return "nothing to flip"
    offsets = sorted(rng.randrange(len(data)) for _ in range(rng.randint(1, 4)))
    for offset in offsets:
        data[offset] ^= 1 << rng.randrange(8)
    path.write_bytes(bytes(data))
    return f"flip bits at {offsets} of {_name(root, path)}"


def insert_bytes(rng: random.Random, root: Path) -> str:
    path = pick(rng, root)
    if path is None:
        return "no file"
    data = path.read_bytes()
    offset = rng.randint(0, len(data))
    chunk = rng.choice(HOSTILE_BYTES) if rng.random() < 0.8 else bytes(rng.randrange(256) for _ in range(8))
    path.write_bytes(data[:offset] + chunk + data[offset:])
    return f"insert {chunk!r} at byte {offset} of {_name(root, path)}"


def reencode(rng: random.Random, root: Path) -> str:
    """Save a file as UTF-16 or UTF-32 (with or without a BOM), or put a UTF-8 BOM in front."""
    path = pick(rng, root)
    if path is None:
        return "no file"
    text = path.read_bytes().decode("utf-8", "replace")
    encoding = rng.choice(["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "cp1252"])
    path.write_bytes(text.encode(encoding, "replace"))
    return f"re-encode {_name(root, path)} as {encoding}"


def truncate(rng: random.Random, root: Path) -> str:
    path = pick(rng, root)
    if path is None:
        return "no file"
    data = path.read_bytes()
    size = rng.randint(0, len(data))
    path.write_bytes(data[:size])
    return f"truncate {_name(root, path)} to {size} bytes"
