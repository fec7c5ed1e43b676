"""Where the sessions strategy reads each event's session and user identifier.

Snowplow's web package reads them from ``session_identifiers`` / ``user_identifiers``, a list
coalesced in order of columns of the events table (``schema: atomic``) and fields of an
entity attached to the event, or from ``session_sql`` / ``user_sql``, a SQL expression over
the events that wins over the list. snowgen's ``session_id`` / ``user_id`` give the same list
as plain columns, and name the columns of the events of the run that carry the identifiers
(the raw values stay in ``original_<column>``), as the web package overwrites
``domain_sessionid`` / ``domain_userid`` whatever the identifiers are.

This module checks the settings against the events table and keeps them as data;
:mod:`snowgen.build.identifiers` builds the expressions and the joins of entity tables.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Literal

from sqlglot import exp

from snowgen.errors import SnowgenError
from snowgen.names import canonical
from snowgen.plan.sqlbody import parse_expression
from snowgen.spec.models import IdentifierSpec, SessionsStrategySpec

Which = Literal["session", "user"]

#: the alias of the events table in the expressions an identifier's SQL reads
EVENTS_ALIAS = "e"
_IGLU = re.compile(r"^iglu:([A-Za-z0-9_.\-]+)/([A-Za-z0-9_\-]+)/jsonschema/(\d+-\d+-\d+)$")
_LOADER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Entity:
    """An entity (context) attached to each event: its Iglu schema (vendor, name, version),
    or the loader's name of its table or nested column (``com_acme_thing_1``,
    ``contexts_com_acme_thing_1``), from which every dialect finds its own."""

    iglu: tuple[str, str, str] | None = None
    loader_name: str | None = None


@dataclass(frozen=True)
class EntityField:
    entity: Entity
    field: str


@dataclass(frozen=True)
class IdentifierSource:
    """Where one identifier is read from: ``parts`` (column names of the events table and
    entity fields) coalesced in order, unless ``sql`` (an expression over the events, its
    columns qualified by :data:`EVENTS_ALIAS`) replaces them."""

    parts: tuple[str | EntityField, ...]
    sql: exp.Expr | None = None

    @property
    def plain(self) -> bool:
        """Columns of the events table only: the expression snowgen always built."""
        return self.sql is None and all(isinstance(part, str) for part in self.parts)

    def entities(self) -> list[Entity]:
        return [part.entity for part in self.parts if isinstance(part, EntityField)] if self.sql is None else []


def identifier_sources(loaded, config: SessionsStrategySpec) -> dict[Which, IdentifierSource]:
    """The session's and the user's identifier source of the strategy block (its vars read)."""
    columns = set(loaded.spec.sources[config.source].columns)
    return {
        which: _source(loaded, config, which, columns)  # type: ignore[misc]
        for which in ("session", "user")
    }


def _source(loaded, config: SessionsStrategySpec, which: Which, columns: set[str]) -> IdentifierSource:
    place = ("incremental", f"{which}_sql")
    text = getattr(config, f"{which}_sql")
    if text is not None and text.strip():
        return IdentifierSource(parts=(), sql=_checked_sql(loaded, text, which, columns, place))
    listed: list[IdentifierSpec] | None = getattr(config, f"{which}_identifiers")
    if not listed:
        plain = getattr(config, f"{which}_id")
        return IdentifierSource(parts=tuple([plain] if isinstance(plain, str) else plain))
    key = ("incremental", f"{which}_identifiers")
    return IdentifierSource(parts=tuple(_part(loaded, item, columns, (*key, i)) for i, item in enumerate(listed)))


def _part(loaded, item: IdentifierSpec, columns: set[str], place: tuple) -> str | EntityField:
    schema = item.schema_.strip()
    if schema.lower() == "atomic":
        column = canonical(item.field)
        if column not in columns:
            raise SnowgenError.at(
                "SG201",
                f"identifier: {_unknown_column(column, columns)}",
                loaded.doc.location(place),
            )
        return column
    return EntityField(_entity(loaded, schema, place), item.field)


def _entity(loaded, schema: str, place: tuple) -> Entity:
    iglu = _IGLU.match(schema)
    if iglu:
        return Entity(iglu=(iglu.group(1), iglu.group(2), iglu.group(3)))
    if _LOADER_NAME.match(schema) and not schema.lower().startswith("unstruct_event_"):
        return Entity(loader_name=schema.lower())
    raise SnowgenError.at(
        "SG102",
        f"identifier schema '{schema}': expected atomic, an entity's Iglu URI "
        "(iglu:vendor/name/jsonschema/1-0-0) or its table or column name (com_acme_thing_1)",
        loaded.doc.location(place),
    )


# -- an identifier written in SQL ---------------------------------------------------------------


def _checked_sql(loaded, text: str, which: Which, columns: set[str], place: tuple) -> exp.Expr:
    """The expression of ``session_sql`` / ``user_sql``: one expression over the events'
    columns (written ``e.column`` as in Snowplow's examples, or ``column``)."""
    where = loaded.doc.location(place)
    try:
        tree = parse_expression(text, loaded.spec.sql_dialect)
    except ValueError as exc:
        raise SnowgenError.at("SG241", f"{which}_sql: {exc}", where) from None
    problem = _sql_problem(tree, which, columns)
    if problem:
        raise SnowgenError.at("SG246", f"{which}_sql {text!r}: {problem}", where)
    for column in tree.find_all(exp.Column):
        column.set("table", exp.to_identifier(EVENTS_ALIAS))
    return tree


def _sql_problem(tree: exp.Expr, which: Which, columns: set[str]) -> str | None:
    if tree.find(exp.Query, exp.Subquery):
        return "a subquery reads other tables; an identifier reads the event's own columns"
    if tree.find(exp.Window):
        return "a window function has no place in an identifier"
    if which == "session" and tree.find(exp.AggFunc):
        return "the session identifier groups the events, so it cannot aggregate them"
    for column in tree.find_all(exp.Column):
        if column.table and canonical(column.table) != EVENTS_ALIAS:
            return f"'{column.sql()}' is not a column of the events (write e.column or column)"
        if column.name not in columns:
            return _unknown_column(column.name, columns)
    return None


def _unknown_column(name: str, columns: set[str]) -> str:
    hint = difflib.get_close_matches(name, sorted(columns), n=1)
    return f"'{name}' is not a column of the events table" + (f" (did you mean '{hint[0]}'?)" if hint else "")


def aggregates(tree: exp.Expr) -> bool:
    """A user expression that aggregates itself (web 1.0.1 asked user_sql to), used as it is;
    any other is taken as the max() over the session's events, as later versions do."""
    return tree.find(exp.AggFunc) is not None
