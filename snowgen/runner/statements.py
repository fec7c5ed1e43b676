"""Split a compiled SQL file into statements (semicolons outside strings and comments), and
name the table each statement writes rows into (for the rows a step reports)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot.dialects.dialect import Dialect as SqlglotDialect
from sqlglot.tokens import Token, TokenType

#: statements that write rows into the table named after their leading keywords; a DELETE
#: is not among them: an upsert that replaces a row deletes and inserts it, and counting
#: both would report the row twice
ROW_WRITERS = frozenset({TokenType.INSERT, TokenType.UPDATE, TokenType.MERGE})

#: keywords between a writer and its table (INSERT INTO, INSERT OVERWRITE TABLE, MERGE INTO)
_BEFORE_TABLE = frozenset({TokenType.INTO, TokenType.OVERWRITE, TokenType.TABLE})


@dataclass(frozen=True)
class Statement:
    text: str
    #: ``schema.table`` (case-folded) that the statement writes rows into: an INSERT, UPDATE,
    #: MERGE or CREATE TABLE ... AS; None for everything else (DDL, DELETE, SET, BEGIN ...)
    writes: str | None = None


def split_statements(text: str, sqlglot_dialect: str) -> list[str]:
    return [statement.text for statement in read_statements(text, sqlglot_dialect)]


def read_statements(text: str, sqlglot_dialect: str) -> list[Statement]:
    """The statements of ``text``, each with the table it writes rows into."""
    tokenizer = SqlglotDialect.get_or_raise(sqlglot_dialect).tokenizer()
    statements: list[Statement] = []
    start = 0
    tokens: list[Token] = []
    for token in [*tokenizer.tokenize(text), None]:
        if token is not None and token.token_type != TokenType.SEMICOLON:
            tokens.append(token)
            continue
        piece = _strip_comment_lines(text[start : token.start] if token is not None else text[start:])
        if piece:
            statements.append(Statement(piece, written_table(tokens)))
        if token is not None:
            start, tokens = token.end + 1, []
    return statements


def written_table(tokens: list[Token]) -> str | None:
    """The table a statement's tokens write rows into (see :attr:`Statement.writes`)."""
    if not tokens:
        return None
    first = tokens[0].token_type
    if first in ROW_WRITERS:
        at = 1
        while at < len(tokens) and tokens[at].token_type in _BEFORE_TABLE:
            at += 1
        return _table_name(tokens, at)[0]
    if first == TokenType.CREATE:
        return _created_with_rows(tokens)
    return None


def _created_with_rows(tokens: list[Token]) -> str | None:
    """``CREATE [OR REPLACE] [TEMP ...] TABLE [IF NOT EXISTS] name ... AS query``: the name."""
    at = next((i for i, t in enumerate(tokens) if t.token_type in (TokenType.TABLE, TokenType.L_PAREN)), None)
    if at is None or tokens[at].token_type != TokenType.TABLE:
        return None  # a view, schema or index
    at += 1
    if [t.text.upper() for t in tokens[at : at + 3]] == ["IF", "NOT", "EXISTS"]:
        at += 3
    name, at = _table_name(tokens, at)
    depth = 0
    for token in tokens[at:]:
        depth += (token.token_type == TokenType.L_PAREN) - (token.token_type == TokenType.R_PAREN)
        if depth == 0 and token.token_type == TokenType.ALIAS:
            return name
    return None  # columns only: an empty table


def _table_name(tokens: list[Token], at: int) -> tuple[str | None, int]:
    """The dotted name starting at ``at`` as ``schema.table`` (its last two parts,
    case-folded), and where it ends."""
    parts: list[str] = []
    while at < len(tokens):
        parts.extend(tokens[at].text.split("."))  # BigQuery may quote `dataset.table` as one name
        at += 1
        if at >= len(tokens) or tokens[at].token_type != TokenType.DOT:
            break
        at += 1
    return (".".join(parts[-2:]).casefold() if parts else None), at


def _strip_comment_lines(piece: str) -> str:
    """Drop leading whole-line ``--`` comments (the file header) and surrounding blanks. The
    rest is kept byte for byte: a string literal may hold CR LF line breaks (seed values)."""
    piece = piece.strip()
    while piece.startswith("--"):
        end = piece.find("\n")
        piece = piece[end + 1 :].lstrip() if end >= 0 else ""
    return piece
