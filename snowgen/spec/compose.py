"""A project built on another (``extends:``, docs/spec.md "Extending a project"): the two
project files composed key by key into one document, each value keeping the file and the
position it was written at, so every later error still points at the line to fix.

What the extending project writes wins or adds (the rules below); what it leaves out comes
from the project it extends. The extended project is loaded and checked on its own first
(snowgen.spec.loader), so both documents have the shape of a project file here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snowgen.errors import Diagnostic, Location
from snowgen.spec.yaml_source import YamlDocument, YamlPath

#: keys of the extending project only: what it is, where its models are, where it runs
OWN_KEYS = ("project", "description", "models_path", "extends", "targets", "target")
#: keys taken whole: the extending project's value where it writes one, else the extended one's
WHOLE_KEYS = ("sql_dialect", "schemas", "database", "bot_filter", "app_filter", "run_metadata")
#: mappings whose entries are added; a name written in both projects is SG243
ADDED_BY_NAME = ("sources", "seeds")
#: mappings whose entries are added or replaced one by one (the extending project's win)
REPLACED_BY_NAME = ("vars", "dialects")

#: (where a value sits in the composed document, the document it was read from, its path there)
Route = tuple[YamlPath, YamlDocument, YamlPath]


@dataclass
class ComposedDocument(YamlDocument):
    """The composed project file: ``data`` is the composition, and each value's position is
    looked up in the document it came from (``routes``; the extending project's file else)."""

    routes: tuple[Route, ...] = ()

    def location(self, path: YamlPath, *, key: bool = False) -> Location:
        route = self._route(tuple(path))
        if route is None:
            return super().location(path, key=key)
        prefix, doc, original = route
        return doc.location((*original, *tuple(path)[len(prefix) :]), key=key)

    def text_location(self, path: YamlPath, line_in_text: int, col_in_text: int) -> Location:
        route = self._route(tuple(path))
        if route is None:
            return super().text_location(path, line_in_text, col_in_text)
        prefix, doc, original = route
        return doc.text_location((*original, *tuple(path)[len(prefix) :]), line_in_text, col_in_text)

    def source_files(self) -> Iterator[tuple[Path, list[str]]]:
        yield self.path, self.lines
        for _, doc, _ in self.routes:
            yield from doc.source_files()

    def _route(self, path: YamlPath) -> Route | None:
        found = [route for route in self.routes if path[: len(route[0])] == route[0]]
        return max(found, key=lambda route: len(route[0]), default=None)


def compose(own: YamlDocument, base: YamlDocument) -> tuple[ComposedDocument, list[Diagnostic]]:
    """The project file of ``own`` built on ``base`` (both raw documents of project files),
    and the clashes found (SG243)."""
    mine, theirs = dict(own.data), dict(base.data)
    data: dict[str, Any] = {key: mine[key] for key in OWN_KEYS if key in mine}
    routes: list[Route] = []
    problems: list[Diagnostic] = []
    for key in WHOLE_KEYS:
        if key in mine:
            data[key] = mine[key]
        elif key in theirs:
            data[key] = theirs[key]
            routes.append(((key,), base, (key,)))
    for key in ADDED_BY_NAME + REPLACED_BY_NAME:
        merged, added_routes = _by_name(key, mine.get(key) or {}, theirs.get(key) or {}, base)
        if merged:
            data[key] = merged
        routes += added_routes
        if key in ADDED_BY_NAME:
            clashes = [name for name in mine.get(key) or {} if name in (theirs.get(key) or {})]
            problems += [_clash(own, (key, name), key[:-1], name, key=True) for name in clashes]
    data, routes, problems = _modules(data, routes, problems, own, base)
    data, routes, problems = _incremental(data, routes, problems, own, base)
    composed = ComposedDocument(
        path=own.path, data=data, key_positions=own.key_positions, value_positions=own.value_positions,
        texts=own.texts, lines=own.lines, routes=tuple(routes),
    )  # fmt: skip
    return composed, problems


def _by_name(key: str, mine: dict, theirs: dict, base: YamlDocument) -> tuple[dict, list[Route]]:
    """The extended project's entries, then the extending project's (which replace)."""
    merged = {**theirs, **mine}
    return merged, [((key, name), base, (key, name)) for name in theirs if name not in mine]


def _modules(data, routes, problems, own: YamlDocument, base: YamlDocument):
    """The extended project's module order, then the extending project's modules after it."""
    mine, theirs = list(own.data.get("modules") or []), list(base.data.get("modules") or [])
    if not mine and not theirs:
        return data, routes, problems
    problems = problems + [_clash(own, ("modules", i), "module", m) for i, m in enumerate(mine) if m in theirs]
    routes = routes + [(("modules", i), base, ("modules", i)) for i in range(len(theirs))]
    routes += [(("modules", len(theirs) + i), own, ("modules", i)) for i in range(len(mine))]
    return {**data, "modules": theirs + mine}, routes, problems


def _incremental(data, routes, problems, own: YamlDocument, base: YamlDocument):
    """The extended project's incremental block, its state shared: its table prefix is kept
    (written out where it was the default), keys the extending project writes replace
    its own, and contexts the extending project lists are added after its."""
    mine, theirs = own.data.get("incremental"), base.data.get("incremental")
    if theirs is None:
        if mine is not None:
            data = {**data, "incremental": mine}
        return data, routes, problems
    theirs = {"prefix": f"{base.data['project']}_", **theirs}
    if mine is None:
        return {**data, "incremental": theirs}, [*routes, (("incremental",), base, ("incremental",))], problems
    if mine.get("strategy") != theirs.get("strategy"):
        message = (
            f"incremental.strategy must be the extended project's ('{theirs.get('strategy')}'): "
            "the two projects share its incremental state"
        )
        return data, routes, [*problems, Diagnostic("SG242", message, own.location(("incremental", "strategy")))]
    merged = {**theirs, **{k: v for k, v in mine.items() if k != "contexts"}}
    routes = [*routes, *((("incremental", k), base, ("incremental", k)) for k in theirs if k not in mine)]
    their_contexts, my_contexts = list(theirs.get("contexts") or []), list(mine.get("contexts") or [])
    if "contexts" in mine or "contexts" in theirs:
        merged["contexts"] = their_contexts + my_contexts
        routes += [(("incremental", "contexts", i), base, ("incremental", "contexts", i)) for i in range(len(their_contexts))]  # fmt: skip
        routes += [
            (("incremental", "contexts", len(their_contexts) + i), own, ("incremental", "contexts", i))
            for i in range(len(my_contexts))
        ]
    names = {c.get("name") for c in their_contexts if isinstance(c, dict)}
    for i, context in enumerate(my_contexts):
        if isinstance(context, dict) and context.get("name") in names:
            where = ("incremental", "contexts", i, "name")
            problems = [*problems, _clash(own, where, "context", context["name"])]
    return {**data, "incremental": merged}, routes, problems


def _clash(own: YamlDocument, path: YamlPath, what: str, name: str, *, key: bool = False) -> Diagnostic:
    message = f"{what} '{name}' is already declared by the extended project; give it another name"
    return Diagnostic("SG243", message, own.location(path, key=key))
