"""Split a compiled SQL file into statements (semicolons outside strings and comments)."""

from __future__ import annotations

from sqlglot.dialects.dialect import Dialect as SqlglotDialect
from sqlglot.tokens import TokenType


def split_statements(text: str, sqlglot_dialect: str) -> list[str]:
    tokenizer = SqlglotDialect.get_or_raise(sqlglot_dialect).tokenizer()
    statements: list[str] = []
    start = 0
    for token in tokenizer.tokenize(text):
        if token.token_type == TokenType.SEMICOLON:
            piece = _strip_comment_lines(text[start : token.start])
            if piece:
                statements.append(piece)
            start = token.end + 1
    tail = _strip_comment_lines(text[start:])
    if tail:
        statements.append(tail)
    return statements


def _strip_comment_lines(piece: str) -> str:
    """Drop leading whole-line ``--`` comments (the file header) and surrounding blanks. The
    rest is kept byte for byte: a string literal may hold CR LF line breaks (seed values)."""
    piece = piece.strip()
    while piece.startswith("--"):
        end = piece.find("\n")
        piece = piece[end + 1 :].lstrip() if end >= 0 else ""
    return piece
