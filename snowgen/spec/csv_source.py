"""CSV reading that remembers where every field came from (for seeds and source samples).

Python's csv module gives no positions, and a value that does not fit its column must be
reported at its own ``file:line:col``. The format is RFC 4180 (https://www.rfc-editor.org/rfc/rfc4180):
fields separated by commas, records by LF or CRLF; a field in double quotes may hold
commas, quotes (doubled) and line breaks, which are kept exactly as written (a CRLF inside
quotes stays CRLF). The file is UTF-8, with or without a byte order mark. Blank lines
between records are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from snowgen.errors import Location, SnowgenError
from snowgen.spec.file_text import MAX_SEED_FILE_BYTES, MAX_SEED_ROWS, MAX_SEED_VALUES, decode_utf8, read_bounded

# A field and what ends it: a comma, a line break (CRLF or LF) or the end of the text.
_PLAIN_FIELD = re.compile(r'([^,\r\n"]*)(,|\r?\n|\Z)')
_QUOTED_FIELD = re.compile(r'"([^"]*(?:""[^"]*)*)"(,|\r?\n|\Z)')
_PLAIN_TEXT = re.compile(r'[^,\r\n"]*')
_LINE_FEED = re.compile("\n")  # the tokenizer's line break (CRLF ends in one too)
_SHOWN_CHARS = 120


class CsvField(NamedTuple):  # a tuple: a seed has up to MAX_SEED_VALUES and tuples are cheap to make
    text: str
    line: int  # 1-based, where the field starts
    col: int


@dataclass(frozen=True)
class CsvDocument:
    path: Path
    lines: tuple[str, ...]  # the physical lines, for error messages
    header: tuple[CsvField, ...]
    records: tuple[tuple[CsvField, ...], ...]

    def at(self, line: int, col: int) -> Location:
        text = self.lines[line - 1] if 1 <= line <= len(self.lines) else None
        return Location(self.path, line, col, text)


def load_csv(path: Path, what: str = "seed") -> CsvDocument:
    """Read and parse ``path`` (a ``what`` file: seed or sample, as messages name it); raise
    SG005 when it cannot be read or is not valid CSV, SG008 when it has more bytes, rows or
    values than the limits (file_text)."""
    try:
        data = read_bounded(path, MAX_SEED_FILE_BYTES, f"the {what} file")
    except FileNotFoundError:
        raise SnowgenError.at("SG005", f"{what} file not found: {path}") from None
    except OSError as exc:
        raise SnowgenError.at("SG005", f"cannot read {what} file {path}: {exc.strerror or exc}") from None
    text = decode_utf8(path, data, f"the {what} file", "SG005", _LINE_FEED)
    lines = tuple(line.removesuffix("\r") for line in text.split("\n"))
    try:
        records = _Tokenizer(text, what).records()
    except _CsvSyntaxError as exc:
        shown = lines[exc.line - 1] if exc.line <= len(lines) else None
        if isinstance(exc, _CsvTooLarge) and shown is not None:
            shown = shown[:_SHOWN_CHARS]  # the line may be megabytes long; its start says which
        raise SnowgenError.at(exc.code, exc.message, Location(path, exc.line, exc.col, shown)) from None
    if not records:
        raise SnowgenError.at("SG005", f"the {what} file is empty; expected a header row", Location(path, 1, 1, ""))
    return CsvDocument(path, lines, records[0], tuple(records[1:]))


class _CsvSyntaxError(Exception):
    code = "SG005"

    def __init__(self, message: str, line: int, col: int):
        super().__init__(message)
        self.message, self.line, self.col = f"invalid CSV: {message}", line, col


class _CsvTooLarge(_CsvSyntaxError):
    """Every value is compiled into the SQL of every dialect: a big table belongs in a source.
    Raised while reading, so a file of a million empty fields costs no more than the limit."""

    code = "SG008"

    def __init__(self, message: str, line: int):
        super().__init__(message, line, 1)
        self.message = f"{message} (docs/spec.md, 'Limits'); load a bigger table as a source"


class _Tokenizer:
    """One pass over the text, field by field, counting lines and columns.

    A field and the separator after it are one regular-expression match (not a Python loop
    per character); only a mistake is looked at more closely, to say what is wrong where."""

    def __init__(self, text: str, what: str):
        self.text, self.what = text, what
        self.i = 0
        self.line = 1
        self.line_start = 0  # index of the current line's first character

    def records(self) -> list[tuple[CsvField, ...]]:
        records: list[tuple[CsvField, ...]] = []
        record: list[CsvField] = []
        values = 0
        while self.i < len(self.text) or record:
            field, quoted, ends_record = self._next_field()
            record.append(field)
            values += 1
            if values > MAX_SEED_VALUES:
                raise _CsvTooLarge(f"the {self.what} has more than {MAX_SEED_VALUES:,} values", field.line)
            if ends_record:
                if not (len(record) == 1 and record[0].text == "" and not quoted):
                    records.append(tuple(record))  # a blank line is no record
                    if len(records) > MAX_SEED_ROWS + 1:  # and the header
                        raise _CsvTooLarge(f"the {self.what} has more than {MAX_SEED_ROWS:,} rows", record[0].line)
                record = []
        return records

    def _next_field(self) -> tuple[CsvField, bool, bool]:
        """The field at the cursor, whether it was quoted and whether it ends its record."""
        line, col = self.line, self.i - self.line_start + 1
        quoted = self.text.startswith('"', self.i)
        found = (_QUOTED_FIELD if quoted else _PLAIN_FIELD).match(self.text, self.i)
        if found is None:
            raise self._mistake(quoted, line, col)
        value = found.group(1).replace('""', '"') if quoted else found.group(1)
        separator = found.group(2)
        if quoted or separator != ",":  # only then can line feeds have been passed
            self._count_lines(self.i, found.end())
        self.i = found.end()
        return CsvField(value, line, col), quoted, separator != ","

    def _count_lines(self, start: int, end: int) -> None:
        breaks = self.text.count("\n", start, end)
        if breaks:
            self.line += breaks
            self.line_start = self.text.rfind("\n", start, end) + 1

    def _mistake(self, quoted: bool, line: int, col: int) -> _CsvSyntaxError:
        """What is wrong with the field at the cursor, which matched no pattern."""
        if quoted:
            close = _closing_quote(self.text, self.i + 1)
            if close < 0:
                return _CsvSyntaxError("a quoted field is not closed", line, col)
            after = close + 1
            self._count_lines(self.i, after)
        else:
            after = _PLAIN_TEXT.match(self.text, self.i).end()
            if self.text[after] == '"':
                return _CsvSyntaxError(
                    "a quote inside an unquoted field; quote the whole field and double the quote (\"a \"\"b\"\"\")",
                    line, after - self.line_start + 1,
                )  # fmt: skip
        ch = self.text[after]
        what = "a carriage return without a line feed" if ch == "\r" else f"{ch!r} after a closing quote"
        message = f"{what}; expected a comma or the end of the line"
        return _CsvSyntaxError(message, self.line, after - self.line_start + 1)


def _closing_quote(text: str, start: int) -> int:
    """Index of the quote that closes a field whose text starts at ``start``; -1 if none."""
    while True:
        close = text.find('"', start)
        if close < 0 or not text.startswith('"', close + 1):
            return close
        start = close + 2  # a doubled quote stands for one quote
