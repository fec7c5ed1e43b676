"""Remembered body facts: what planning learns from a SQL body, kept between compiles.

Parsing and resolving the bodies is most of planning. What the rest of planning needs from a
body is small: the models it reads, the tables it reads, its output columns. Those facts are
remembered (a :class:`BodyMemo`, e.g. the build cache's store) under a key of the body's text
and everything its parse sees (dialect, vars, the model and instance); with them, the names
the body looked up and what each resolved to, and the columns each star expanded with. A
body whose key and lookups are unchanged has the same facts, so it is not parsed: its
``query`` stays :data:`~snowgen.plan.data.UNPARSED` until a step that is built needs it
(:func:`snowgen.plan.bodies.with_bodies`).

Facts are remembered only for bodies that parsed and planned without an error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from sqlglot import exp

from snowgen.plan.data import BodyFacts
from snowgen.plan.fingerprint import digest, fingerprint
from snowgen.plan.sqlbody import BodyContext


class BodyMemo(Protocol):
    def facts(self, key: str) -> BodyFacts | None: ...

    def remember(self, key: str, facts: BodyFacts) -> None: ...


def body_key(text: str, ctx: BodyContext, vars_digest: str, model: str, instance: str | None, for_each) -> str:
    """Everything a body's parse sees but its lookups (``vars_digest``: of ``ctx.vars``)."""
    seen = fingerprint([ctx.dialect, ctx.extra_globals, model, instance, for_each])
    return digest("body", text, vars_digest, seen)


class Recorded(Mapping[Any, Any]):
    """A mapping that remembers which keys were looked up (and so what the lookups found)."""

    def __init__(self, inner: Mapping[Any, Any]):
        self.inner = inner
        self.looked_up: dict[Any, Any] = {}

    def __getitem__(self, key: Any) -> Any:
        value = self.inner.get(key, _MISSING)
        self.looked_up[key] = value
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __iter__(self) -> Iterator[Any]:
        return iter(self.inner)  # only error messages list the names (and errors are not remembered)

    def __len__(self) -> int:
        return len(self.inner)

    def digests(self, digests: DigestMemo) -> dict[Any, str]:
        return {key: digests.of(value) for key, value in self.looked_up.items()}

    def found(self) -> dict[Any, Any]:
        """What each lookup found (None: nothing)."""
        return {key: None if value is _MISSING else value for key, value in self.looked_up.items()}


_MISSING = object()


class DigestMemo:
    """Digests of lookup results, each computed once per plan (the same relation or column
    list is looked up by many bodies)."""

    def __init__(self) -> None:
        self._digests: dict[int, tuple[Any, str]] = {}

    def of(self, value: Any) -> str:
        if value is _MISSING:
            return "missing"
        found = self._digests.get(id(value))
        if found is None or found[0] is not value:
            found = (value, digest(fingerprint(value)))
            self._digests[id(value)] = found
        return found[1]


def lookups_hold(looked_up: Mapping[Any, str], current: Mapping[Any, Any], digests: DigestMemo) -> bool:
    """Does every name the body looked up resolve as it did?"""
    return all(digests.of(current.get(key, _MISSING)) == value for key, value in looked_up.items())


def known_holds(
    facts: BodyFacts, known: Mapping[tuple[str, str], tuple[str, ...]], types: Mapping[tuple[str, str], Any]
) -> bool:
    """Are the columns (and their types) of every table the body's stars expanded over, and
    its columns were checked against, as they were?"""
    return all(known.get(key) == columns for key, columns in facts.known.items()) and all(
        types.get(key) == typed for key, typed in facts.known_types.items()
    )


def tables_read(query: exp.Query) -> frozenset[tuple[str, str]]:
    return frozenset((t.db.lower(), t.name.lower()) for t in query.find_all(exp.Table))


# -- stored as JSON -------------------------------------------------------------------------------------


def facts_to_json(facts: BodyFacts) -> str:
    return json.dumps(
        {
            "depends_on": list(facts.depends_on),
            "tables": sorted(facts.tables),
            "output": None if facts.output is None else list(facts.output),
            "relations": facts.relations,
            "known": sorted([list(key), None if value is None else list(value)] for key, value in facts.known.items()),
            "output_types": None if facts.output_types is None else list(facts.output_types),
            "known_types": sorted([list(key), value] for key, value in facts.known_types.items()),
        },
        sort_keys=True,
    )


def facts_from_json(text: str) -> BodyFacts:
    data = json.loads(text)
    return BodyFacts(
        depends_on=tuple(data["depends_on"]),
        tables=frozenset((db, name) for db, name in data["tables"]),
        output=None if data["output"] is None else tuple(data["output"]),
        relations=dict(data["relations"]),
        known={(db, name): None if value is None else tuple(value) for (db, name), value in data["known"]},
        output_types=None if data["output_types"] is None else tuple(data["output_types"]),
        known_types={(db, name): value for (db, name), value in data["known_types"]},
    )
