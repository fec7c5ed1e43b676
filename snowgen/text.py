"""Text that snowgen prints from user input: one line, every character visible.

A file name, a folder name or a name may hold any character but ``/`` and NUL. Printed
as it is in a ``--`` comment of a compiled file, a line break ends the comment and the rest
runs as SQL (Postgres ends a ``--`` comment at LF or CR, and other tools split lines at
VT, FF, NEL, U+2028 and U+2029 too). :func:`one_line` is the one way user text reaches a
comment or a message: every character Unicode calls "other" or "separator" (controls, line
and paragraph separators, format characters such as bidi overrides, non-ASCII spaces) is
written as a Python-style escape, so the text stays on its line and shows what it holds.
"""

from __future__ import annotations


def one_line(text: str) -> str:
    """``text`` with every non-printable character escaped (``\\n``, ``\\x1b``, ``\\u2028``)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def has_unprintable(text: str) -> bool:
    return not text.isprintable()


def _escape(char: str) -> str:
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if char in named:
        return named[char]
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"
