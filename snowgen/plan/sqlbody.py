"""SQL bodies: Jinja rendering with values kept out of the SQL text, then parsing.

Jinja's ``{{ ... }}`` never splices text into SQL. Every printed value becomes a
placeholder token (``__sgv0__``) that parses as a column; after parsing, each token is
replaced on the AST by a literal node (strings, numbers, booleans, dates, NULL; a list
becomes several literals). ``{{ ident(name) }}`` prints an identifier the same way. So a
var holding ``O'Brien \\ %`` can never break or change the statement: sqlglot writes the
literal with each warehouse's own escaping.

``{{ sql(text) }}`` prints a SQL *expression* the project configures in a var (a conversion's
condition, a passthrough): the text is parsed on its own, must be exactly one expression
(never a statement, never two), and its tree takes the token's place, so it cannot reach
beyond its own parentheses.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import math
import re
import threading
import traceback
from dataclasses import dataclass, field
from typing import Any

import jinja2
import sqlglot
from jinja2.sandbox import SandboxedEnvironment
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect as SqlglotDialect
from sqlglot.errors import ParseError, TokenError

from snowgen.errors import SnowgenError
from snowgen.names import PLAIN_NAME, canonical
from snowgen.spec.yaml_source import YamlDocument, YamlPath

#: snowgen functions a body may call; each expands per dialect (see snowgen.build.filters)
MACROS = {"bot_filter": 1, "app_filter": 1, "now_utc": 0}  # name -> most arguments
_TEMPLATE_NAME = "<sql>"
_MISPLACED_VALUE = (
    "a Jinja value is printed inside a SQL string literal or where only a name can stand; "
    "print it as its own expression (e.g. 'a' || {{ var('x') }})"
)


@dataclass(frozen=True)
class Ident:
    """A value printed as an identifier instead of a literal."""

    name: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"ident() needs a non-empty string, got {self.name!r}")


@dataclass
@dataclass(frozen=True)
class SqlText:
    """A value printed as a SQL expression parsed from text (``{{ sql(var('x')) }}``)."""

    text: str

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.strip():
            raise TypeError(f"sql() needs a SQL expression as a non-empty string, got {self.text!r}")


@dataclass
class _Placeholders:
    """Tokens standing for printed values until the SQL is parsed.

    The token prefix is chosen so that it occurs nowhere in the template, so SQL text can
    never be mistaken for a token (values never enter the text at all)."""

    template: str
    values: list[tuple[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        stem, template = "__sg", self.template.lower()
        while stem in template:
            stem += "_"
        # Case-insensitive: parsers upper-case some words (a date part becomes a Var).
        self.pattern = re.compile(re.escape(stem) + r"([vis])(\d+)__", re.IGNORECASE)
        self.stem = stem

    def token(self, kind: str, value: Any) -> str:
        self.values.append((kind, value))
        return f"{self.stem}{kind}{len(self.values) - 1}__"

    def finalize(self, value: Any) -> str:
        if isinstance(value, jinja2.Undefined):
            str(value)  # StrictUndefined raises UndefinedError, reported with its line
        if isinstance(value, Ident):
            return self.token("i", value.name)
        if isinstance(value, SqlText):
            return self.token("s", value.text)
        if isinstance(value, (list, tuple)):
            return ", ".join(self.finalize(item) for item in value) if value else "NULL"
        if isinstance(value, dict):
            raise TypeError("a map has no SQL literal: print one of its values (e.g. {{ cv.name }})")
        literal(value)  # fail here, inside rendering, for values that have no SQL literal
        return self.token("v", value)


class _UnknownVar(Exception):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


@dataclass(frozen=True)
class BodyContext:
    """Where a body comes from and what it can see."""

    doc: YamlDocument
    path: YamlPath
    dialect: str
    vars: dict[str, Any]
    extra_globals: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ParsedBody:
    query: exp.Query
    text: str  # the rendered text the query was parsed from (for error positions)


def parse_body(text: str, ctx: BodyContext) -> ParsedBody:
    """Render ``text`` with Jinja, parse it in ``ctx.dialect`` and substitute the values."""
    placeholders = _Placeholders(text)
    rendered = _render_jinja(text, ctx, placeholders)
    query = _parse_single_query(rendered, ctx)
    canonicalize_identifiers(query, ctx.dialect)
    _substitute(query, placeholders, rendered, ctx)
    _check_macros(query, rendered, ctx)
    return ParsedBody(query, rendered)


# -- Jinja -------------------------------------------------------------------------------------


def _render_jinja(text: str, ctx: BodyContext, placeholders: _Placeholders) -> str:
    if "{" not in text:
        return text

    def var(name: str, default: Any = _UnknownVar) -> Any:
        name = canonical(name) if isinstance(name, str) else name
        if name in ctx.vars:
            return ctx.vars[name]
        if default is not _UnknownVar:
            return default
        raise _UnknownVar(name)

    simple = _render_plain_vars(text, var, placeholders, ctx)
    if simple is not None:
        return simple
    env = _environment()
    rendering = _rendering()
    rendering.append(placeholders)
    try:
        template = env.template_class.from_code(
            env,
            _compiled(env, text, placeholders),
            env.make_globals(dict(var=var, ident=Ident, sql=SqlText, **ctx.extra_globals)),
        )
        template.name = _TEMPLATE_NAME
        template.filename = _TEMPLATE_NAME
        return template.render()
    except jinja2.TemplateSyntaxError as exc:
        raise body_error(ctx, "SG205", f"Jinja syntax error: {exc.message}", exc.lineno or 1, 1) from None
    except _UnknownVar as exc:
        hint = difflib.get_close_matches(exc.name, list(ctx.vars), n=1)
        message = f"unknown var '{exc.name}'" + (f" (did you mean '{hint[0]}'?)" if hint else "")
        raise body_error(ctx, "SG206", message, _template_line(exc), 1) from None
    except jinja2.UndefinedError as exc:
        raise body_error(ctx, "SG205", f"Jinja error: {exc.message}", _template_line(exc), 1) from None
    except (jinja2.TemplateError, TypeError, ValueError, ArithmeticError) as exc:
        raise body_error(ctx, "SG205", f"Jinja error: {exc}", _template_line(exc), 1) from None
    finally:
        rendering.pop()


#: ``{{ var('name') }}`` written the plainest way (what _render_plain_vars renders itself)
_PLAIN_VAR = re.compile(r"\{\{ *var\( *'([^'\\{}\r\n]*)' *\) *\}\}")


def _render_plain_vars(text: str, var: Any, placeholders: _Placeholders, ctx: BodyContext) -> str | None:
    """What Jinja renders for a body whose only Jinja is ``{{ var('name') }}`` (the most
    common body), without compiling a template; None for any other body, and for anything
    that fails (Jinja then renders it, and reports the error as it does)."""
    if "{%" in text or "{#" in text or "\r" in text or "var" in ctx.extra_globals:
        return None
    parts = _PLAIN_VAR.split(text)  # data, name, data, name, ..., data
    data = parts[0::2]
    if len(parts) == 1 or any("{{" in d for d in data) or any(d.endswith("{") for d in data[:-1]):
        return None  # "{{{ var('x') }}" is "{{" + "{ var(...)": not this shape
    printed = len(placeholders.values)
    try:
        out = [data[0]]
        for name, after in zip(parts[1::2], data[1:], strict=True):
            out.append(str(placeholders.finalize(var(name))))
            out.append(after)
    except Exception:
        del placeholders.values[printed:]
        return None
    return "".join(out)


#: per thread, the placeholders of the body being rendered (the shared environment's
#: ``finalize`` prints each value as one of their tokens)
_LOCAL = threading.local()


def _rendering() -> list[_Placeholders]:
    if not hasattr(_LOCAL, "rendering"):
        _LOCAL.rendering = []
    return _LOCAL.rendering


#: body text -> its compiled template code (see _compiled)
_COMPILED: dict[str, Any] = {}


def _finalize(value: Any) -> str:
    return _LOCAL.rendering[-1].finalize(value)


@functools.cache
def _environment() -> SandboxedEnvironment:
    """One Jinja environment for every body: what differs per body (its vars, its
    placeholders) is passed at render time, so its compiled templates can be reused."""
    return SandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        autoescape=False,
        keep_trailing_newline=True,
    )


def _compiled(env: SandboxedEnvironment, text: str, placeholders: _Placeholders) -> Any:
    """The template code of ``text``, compiled once per text (a ``for_each`` model renders
    one body per instance). Jinja prints constant outputs (``{{ 'web' }}``) at compile time,
    through ``finalize``, into the code: such a code holds this body's tokens, so it is
    never reused."""
    code = _COMPILED.get(text)
    if code is None:
        printed = len(placeholders.values)
        code = env.compile(text)
        if len(placeholders.values) == printed:
            if len(_COMPILED) >= 4096:  # a long-lived process compiling many projects
                _COMPILED.clear()
            _COMPILED[text] = code
    return code


def _template_line(exc: BaseException) -> int:
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == _TEMPLATE_NAME]
    return lines[-1] if lines and lines[-1] else 1


# -- parsing -------------------------------------------------------------------------------------


def _parse_single_query(text: str, ctx: BodyContext) -> exp.Query:
    try:
        statements = [s for s in sqlglot.parse(text, read=ctx.dialect) if s is not None]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        line, col = first.get("line") or 1, first.get("col") or 1
        description = _readable(first.get("description") or str(exc))
        highlight = first.get("highlight")
        start = max(col - len(highlight) + 1, 1) if highlight else col
        raise body_error(ctx, "SG204", f"SQL does not parse ({ctx.dialect}): {description}", line, start) from None
    except TokenError as exc:
        raise body_error(ctx, "SG204", f"SQL does not parse ({ctx.dialect}): {exc}", 1, 1) from None
    except RecursionError:
        raise body_error(ctx, "SG204", f"SQL does not parse ({ctx.dialect}): it nests too deeply", 1, 1) from None
    except (TypeError, ValueError, AttributeError, IndexError) as exc:
        # sqlglot's parser fails this way on some malformed input (e.g. `max(x?)`): still a body
        # that does not parse, never a traceback
        raise body_error(ctx, "SG204", f"SQL does not parse ({ctx.dialect}): {type(exc).__name__}", 1, 1) from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        kind = (
            "no statement"
            if not statements
            else f"{len(statements)} statements"
            if len(statements) > 1
            else type(statements[0]).__name__.upper()
        )
        raise body_error(ctx, "SG208", f"a SQL body must be exactly one SELECT query, got {kind}", 1, 1)
    return statements[0]


def _substitute(query: exp.Query, placeholders: _Placeholders, text: str, ctx: BodyContext) -> None:
    """Put each printed value in place of its token: a literal where an expression stands,
    an identifier for ``ident()``. A token anywhere else (inside a string literal, as a
    function name or a date part) is an error, never output."""
    if not placeholders.values:
        return
    stray, placed = _placed_tokens(query, placeholders.pattern)
    if stray is not None:
        line, col = _position_of(text, stray)
        raise body_error(ctx, "SG209", _MISPLACED_VALUE, line, col)
    for ident, kind, index in placed:
        value = placeholders.values[index][1]
        if kind == "v":
            ident.parent.replace(literal(value))  # the column the token stands for
        elif kind == "s":
            ident.parent.replace(_at_token(_sql_expression(value, ident, text, ctx), ident))
        else:
            ident.replace(_at_token(exp.to_identifier(canonical(value)), ident))


def _at_token(tree: exp.Expr, token: exp.Identifier) -> exp.Expr:
    """``tree`` with the token's position on each of its names: an error about one of them
    (an unknown column, snowgen.plan.column_check) points at the ``{{ ... }}`` that printed it."""
    start = token.meta.get("start") if token.meta else None
    if start is not None:
        for ident in tree.find_all(exp.Identifier):
            ident.meta["start"] = start
    return tree


#: expressions that print the same with or without parentheses around them
_ATOMS = (exp.Column, exp.Literal, exp.Func, exp.Paren, exp.Case, exp.Null, exp.Boolean, exp.Subquery, exp.Star)


def _sql_expression(text: str, token: exp.Identifier, rendered: str, ctx: BodyContext) -> exp.Expr:
    """The tree of ``sql(text)``: one expression in the body's dialect, parenthesised unless
    it is one term, so the operators around the token keep their meaning."""
    line, col = node_position(token, rendered)
    try:
        tree = parse_expression(text, ctx.dialect)
    except ValueError as exc:
        raise body_error(ctx, "SG241", f"sql(): {exc}", line, col) from None
    return tree if isinstance(tree, _ATOMS) else exp.Paren(this=tree)


def parse_expression(text: str, dialect: str) -> exp.Expr:
    """``text`` as exactly one SQL expression of ``dialect``, names canonical; a ValueError
    says what else it is."""
    try:
        parsed = sqlglot.parse(text, read=dialect)
    except (ParseError, TokenError) as exc:
        raise ValueError(f"{text!r} is not a SQL expression: {_readable(str(exc).splitlines()[0])}") from None
    expressions = [e for e in parsed if e is not None]
    if len(expressions) != 1 or not _is_expression(expressions[0]):
        raise ValueError(f"{text!r} is not exactly one SQL expression")
    tree = expressions[0]
    canonicalize_identifiers(tree, dialect)
    return tree


def _is_expression(tree: exp.Expr) -> bool:
    """A value expression, not a statement (a bare SELECT, DDL, DML or command)."""
    statements = (exp.Query, exp.DDL, exp.DML, exp.Command, exp.Transaction, exp.Set, exp.Use, exp.Alias)
    return not isinstance(tree, statements) or isinstance(tree, exp.Subquery)


def _placed_tokens(query: exp.Query, pattern: re.Pattern) -> tuple[str | None, list[tuple[exp.Identifier, str, int]]]:
    """The first token that does not stand where its value can go (None when none does),
    and each token that does, with its kind and value index: one walk, before any is
    replaced. A value token stands for an unqualified column; an ``ident()`` token is any
    unquoted name."""
    placed: list[tuple[exp.Identifier, str, int]] = []
    for node in query.walk():
        if isinstance(node, exp.Identifier) and not node.quoted:
            match = pattern.fullmatch(node.name)
            if match:
                kind, parent = match.group(1), node.parent
                value_position = (
                    kind in "vs" and isinstance(parent, exp.Column) and not parent.table and parent.this is node
                )
                if value_position or kind == "i":
                    placed.append((node, kind, int(match.group(2))))
                    continue
        for value in node.args.values():
            found = pattern.search(value) if isinstance(value, str) else None
            if found:
                return found.group(0), placed
    return None, placed


def _readable(description: str) -> str:
    """sqlglot's parse errors without its class names: "Required keyword: 'expression'
    missing for <class 'sqlglot...Add'>" -> "incomplete expression (Add without its expression)"."""
    missing = re.match(r"Required keyword: '(\w+)' missing for <class '[\w.]*?(\w+)'>", description)
    if missing:
        return f"incomplete expression ({missing.group(2)} without its {missing.group(1)})"
    return re.sub(r"<class '[\w.]*?(\w+)'>", r"\1", description)


def canonicalize_identifiers(query: exp.Expr, dialect: str) -> None:
    """Store the body's names as snowgen stores spec names (see snowgen.names): unquoted
    names, and quoted names already in the dialect's folded case, become plain lower-case
    names; any other quoted name stays exact."""
    folding = _folding(dialect)
    by_name_alone = _folds_by_name_alone(folding)
    for ident in query.find_all(exp.Identifier):
        name = ident.name
        if not ident.quoted:
            stored = _stored_unquoted(dialect, name) if by_name_alone else _stored_where_it_stands(folding, ident)
            if stored is None:  # e.g. a BigQuery table name: case-sensitive even unquoted
                ident.set("quoted", True)
            elif stored != name:
                ident.set("this", stored)
        elif _quoted_name_is_plain(dialect, name):
            ident.set("this", name.lower())
            ident.set("quoted", False)


@functools.cache
def _folding(dialect: str) -> SqlglotDialect:
    """sqlglot's Dialect for a body dialect name (it holds only the settings the name spells)."""
    return SqlglotDialect.get_or_raise(dialect)


def _folds_by_name_alone(folding: SqlglotDialect) -> bool:
    """sqlglot's own normalize_identifier reads nothing of an unquoted identifier but its
    text (and the dialect's settings); a dialect that overrides it (BigQuery) also looks at
    where the name stands, so its answers cannot be remembered by name."""
    return type(folding).normalize_identifier is SqlglotDialect.normalize_identifier


@functools.lru_cache(maxsize=1 << 16)
def _stored_unquoted(dialect: str, name: str) -> str | None:
    """How snowgen stores an unquoted name of a dialect that folds by the name alone: its
    canonical form, or None where the dialect keeps the name's case. The key (dialect name,
    identifier text) is everything the answer depends on; a compile meets the same few
    hundred names tens of thousands of times."""
    return _stored_where_it_stands(_folding(dialect), exp.Identifier(this=name, quoted=False))


def _stored_where_it_stands(folding: SqlglotDialect, ident: exp.Identifier) -> str | None:
    """:func:`_stored_unquoted` for a dialect that also looks at the name's position."""
    return canonical(ident.name) if _folds_case(folding, ident) else None


@functools.lru_cache(maxsize=1 << 16)
def _quoted_name_is_plain(dialect: str, name: str) -> bool:
    """Is a quoted name plain and already in the dialect's folded case? Asked of a detached
    identifier, so the answer depends on the dialect name and the text alone (the key)."""
    return bool(
        PLAIN_NAME.fullmatch(name)
        and _folding(dialect).normalize_identifier(exp.Identifier(this=name, quoted=False)).name == name
    )


def _folds_case(folding: SqlglotDialect, ident: exp.Identifier) -> bool:
    """Does the body's dialect fold the case of this unquoted name, where it stands?"""
    name = ident.name
    probe = name.swapcase()
    if probe == name:
        return True
    ident.set("this", probe)
    folding.normalize_identifier(ident)
    folded = ident.name != probe
    ident.set("this", name)
    return folded


def literal(value: Any) -> exp.Expr:
    """A dialect-neutral literal for a var value."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int):
        return exp.Literal.number(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot print {value!r} as a SQL literal")
        return exp.Literal.number(repr(value))
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:  # snowgen's timestamps are UTC without a zone
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return exp.Cast(this=exp.Literal.string(value.isoformat(sep=" ")), to=exp.DataType.build("TIMESTAMP"))
    if isinstance(value, dt.date):
        return exp.Cast(this=exp.Literal.string(value.isoformat()), to=exp.DataType.build("DATE"))
    return exp.Literal.string(str(value))


def _check_macros(query: exp.Query, text: str, ctx: BodyContext) -> None:
    for call in query.find_all(exp.Anonymous):
        name = str(call.this).lower()
        if name not in MACROS:
            continue
        args = call.expressions
        alias_only = all(isinstance(a, exp.Column) and not a.table for a in args)
        if len(args) > MACROS[name] or not alias_only:
            line, col = _position_of(text, str(call.this))
            usage = (
                f"{name}() takes no argument"
                if MACROS[name] == 0
                else f"{name}() takes no argument or one table alias, e.g. {name}(ev)"
            )
            raise body_error(ctx, "SG212", usage, line, col)


# -- locations -----------------------------------------------------------------------------------


def node_position(node: exp.Expr, text: str) -> tuple[int, int]:
    """1-based (line, col) of an identifier-bearing node in the rendered text."""
    ident = node if isinstance(node, exp.Identifier) else node.find(exp.Identifier)
    meta = getattr(ident, "meta", None) or {}
    if "start" in meta:
        offset = meta["start"]
        line = text.count("\n", 0, offset) + 1
        col = offset - (text.rfind("\n", 0, offset) + 1) + 1
        return line, col
    return 1, 1


def written_line(written: str, rendered: str, line: int) -> int:
    """The line of the body as written that a line of the rendered body comes from, where
    that can be told: Jinja drops the lines of ``{% set %}`` and ``{# #}`` and repeats those of
    a loop, so the same number can name another line. The written line with the same text
    nearest to ``line`` is taken; ``line`` itself when no written line has that text (a line
    with printed values)."""
    rendered_lines, written_lines = rendered.split("\n"), written.split("\n")
    if not 1 <= line <= len(rendered_lines):
        return line
    wanted = rendered_lines[line - 1].rstrip()
    if line <= len(written_lines) and written_lines[line - 1].rstrip() == wanted:
        return line
    same = [number for number, text in enumerate(written_lines, 1) if text.rstrip() == wanted]
    return min(same, key=lambda number: (abs(number - line), number)) if same else line


def _position_of(text: str, needle: str) -> tuple[int, int]:
    offset = text.find(needle)
    if offset < 0:
        return 1, 1
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def body_error(ctx: BodyContext, code: str, message: str, line: int, col: int) -> SnowgenError:
    """An error located inside the SQL body (line/col of the rendered text)."""
    return SnowgenError.at(code, message, ctx.doc.text_location(ctx.path, line, col))
