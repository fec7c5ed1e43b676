"""CSV reading that remembers where every field came from (for seeds).

Python's csv module gives no positions, and a value that does not fit its column must be
reported at its own ``file:line:col``. The format is RFC 4180 (https://www.rfc-editor.org/rfc/rfc4180):
fields separated by commas, records by LF or CRLF; a field in double quotes may hold
commas, quotes (doubled) and line breaks, which are kept exactly as written (a CRLF inside
quotes stays CRLF). The file is UTF-8, with or without a byte order mark. Blank lines
between records are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from snowgen.errors import Location, SnowgenError


@dataclass(frozen=True)
class CsvField:
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


def load_csv(path: Path) -> CsvDocument:
    """Read and parse ``path``; raise SG005 when it cannot be read or is not valid CSV."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SnowgenError.at("SG005", f"seed file not found: {path}") from None
    except OSError as exc:
        raise SnowgenError.at("SG005", f"cannot read seed file {path}: {exc.strerror or exc}") from None
    text = _decode(path, data)
    lines = tuple(line.removesuffix("\r") for line in text.split("\n"))
    try:
        records = _Tokenizer(text).records()
    except _CsvSyntaxError as exc:
        location = Location(path, exc.line, exc.col, lines[exc.line - 1] if exc.line <= len(lines) else None)
        raise SnowgenError.at("SG005", f"invalid CSV: {exc.message}", location) from None
    if not records:
        raise SnowgenError.at("SG005", "the seed file is empty; expected a header row", Location(path, 1, 1))
    return CsvDocument(path, lines, records[0], tuple(records[1:]))


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1  # in bytes: the text is not text
        shown = data.split(b"\n")[line - 1].decode("utf-8", "replace").removesuffix("\r")
        raise SnowgenError.at("SG005", "the seed file is not UTF-8 text", Location(path, line, col, shown)) from None


class _CsvSyntaxError(Exception):
    def __init__(self, message: str, line: int, col: int):
        super().__init__(message)
        self.message, self.line, self.col = message, line, col


class _Tokenizer:
    """One pass over the text, field by field, counting lines and columns."""

    def __init__(self, text: str):
        self.text = text
        self.i = 0
        self.line = 1
        self.col = 1
        self._was_quoted = False

    def records(self) -> list[tuple[CsvField, ...]]:
        records: list[tuple[CsvField, ...]] = []
        record: list[CsvField] = []
        while self.i < len(self.text) or record:
            record.append(self._field())
            end = self._separator()
            if end:
                if not (len(record) == 1 and record[0].text == "" and not self._was_quoted):
                    records.append(tuple(record))  # a blank line is no record
                record = []
        return records

    def _field(self) -> CsvField:
        line, col = self.line, self.col
        self._was_quoted = self._peek() == '"'
        text = self._quoted() if self._was_quoted else self._plain()
        return CsvField(text, line, col)

    def _plain(self) -> str:
        start = self.i
        while self.i < len(self.text) and self.text[self.i] not in ",\r\n":
            if self.text[self.i] == '"':
                raise _CsvSyntaxError(
                    "a quote inside an unquoted field; quote the whole field and double the quote (\"a \"\"b\"\"\")",
                    self.line, self.col,
                )  # fmt: skip
            self._advance()
        return self.text[start : self.i]

    def _quoted(self) -> str:
        line, col = self.line, self.col
        self._advance()  # the opening quote
        parts: list[str] = []
        while True:
            if self.i >= len(self.text):
                raise _CsvSyntaxError("a quoted field is not closed", line, col)
            ch = self.text[self.i]
            self._advance()
            if ch != '"':
                parts.append(ch)
            elif self._peek() == '"':
                parts.append('"')
                self._advance()
            else:
                return "".join(parts)

    def _separator(self) -> bool:
        """Consume what follows a field; True at the end of a record."""
        ch = self._peek()
        if ch == ",":
            self._advance()
            return False
        if ch == "":
            return True
        if ch == "\n" or (ch == "\r" and self.text[self.i + 1 : self.i + 2] == "\n"):
            self._advance(2 if ch == "\r" else 1)
            return True
        what = "a carriage return without a line feed" if ch == "\r" else f"{ch!r} after a closing quote"
        raise _CsvSyntaxError(f"{what}; expected a comma or the end of the line", self.line, self.col)

    def _peek(self) -> str:
        return self.text[self.i] if self.i < len(self.text) else ""

    def _advance(self, count: int = 1) -> None:
        for _ in range(count):
            if self.text[self.i] == "\n":
                self.line, self.col = self.line + 1, 1
            else:
                self.col += 1
            self.i += 1
