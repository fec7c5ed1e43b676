"""A project built on another (``extends:``, docs/spec.md "Extending a project"): the two
project files composed key by key into one document, each value keeping the file and the
position it was written at, so every later error still points at the line to fix.

What the extending project writes wins or adds (the rules below); what it leaves out comes
from the project it extends. The extended project is loaded and checked on its own first
(snowgen.spec.loader), so both documents have the shape of a project file here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
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
    and the clashes found (SG243; SG242 for another incremental strategy)."""
    composition = _Composition(own, base)
    composition.data = {key: own.data[key] for key in OWN_KEYS if key in own.data}
    for key in WHOLE_KEYS:
        composition.take_whole(key)
    for key in ADDED_BY_NAME + REPLACED_BY_NAME:
        composition.merge_by_name(key, clashes=key in ADDED_BY_NAME)
    composition.merge_modules()
    composition.merge_incremental()
    composed = ComposedDocument(
        path=own.path, data=composition.data, key_positions=own.key_positions, value_positions=own.value_positions,
        texts=own.texts, lines=own.lines, routes=tuple(composition.routes),
    )  # fmt: skip
    return composed, composition.problems


@dataclass
class _Composition:
    """The composed data being made, where each value came from, and the clashes found."""

    own: YamlDocument
    base: YamlDocument
    data: dict[str, Any] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)

    def from_base(self, path: YamlPath, original: YamlPath | None = None) -> None:
        self.routes.append((path, self.base, path if original is None else original))

    def take_whole(self, key: str) -> None:
        """The extending project's value where it writes one, else the extended one's."""
        if key in self.own.data:
            self.data[key] = self.own.data[key]
        elif key in self.base.data:
            self.data[key] = self.base.data[key]
            self.from_base((key,))

    def merge_by_name(self, key: str, *, clashes: bool) -> None:
        """The extended project's entries, then the extending project's (which replace, or clash)."""
        mine, theirs = self.own.data.get(key) or {}, self.base.data.get(key) or {}
        if mine or theirs:
            self.data[key] = {**theirs, **mine}
        for name in theirs:
            if name not in mine:
                self.from_base((key, name))
            elif clashes:
                self.clash((key, name), key[:-1], name, key=True)

    def merge_modules(self) -> None:
        """The extended project's module order, then the extending project's modules after it."""
        mine, theirs = list(self.own.data.get("modules") or []), list(self.base.data.get("modules") or [])
        if not mine and not theirs:
            return
        self.data["modules"] = theirs + mine
        for i in range(len(theirs)):
            self.from_base(("modules", i))
        for i, module in enumerate(mine):
            self.routes.append((("modules", len(theirs) + i), self.own, ("modules", i)))
            if module in theirs:
                self.clash(("modules", i), "module", module)

    def merge_incremental(self) -> None:
        """The extended project's incremental block, its state shared: its table prefix is kept
        (written out where it was the default), keys the extending project writes replace
        its own, and contexts the extending project lists are added after its."""
        mine, theirs = self.own.data.get("incremental"), self.base.data.get("incremental")
        if theirs is None:
            if mine is not None:
                self.data["incremental"] = mine
            return
        theirs = {"prefix": f"{self.base.data['project']}_", **theirs}
        if mine is None:
            self.data["incremental"] = theirs
            self.from_base(("incremental",))
            return
        if mine.get("strategy") != theirs.get("strategy"):
            message = (
                f"incremental.strategy must be the extended project's ('{theirs.get('strategy')}'): "
                "the two projects share its incremental state"
            )
            self.problems.append(Diagnostic("SG242", message, self.own.location(("incremental", "strategy"))))
            return
        merged = {**theirs, **{k: v for k, v in mine.items() if k != "contexts"}}
        for key in theirs:
            if key not in mine:
                self.from_base(("incremental", key))
        if "contexts" in mine or "contexts" in theirs:
            merged["contexts"] = self.merged_contexts(
                list(theirs.get("contexts") or []), list(mine.get("contexts") or [])
            )
        self.data["incremental"] = merged

    def merged_contexts(self, theirs: list, mine: list) -> list:
        """The extended project's contexts, then the extending project's (a name in both clashes)."""
        names = {c.get("name") for c in theirs if isinstance(c, dict)}
        for i in range(len(theirs)):
            self.from_base(("incremental", "contexts", i))
        for i, context in enumerate(mine):
            self.routes.append((("incremental", "contexts", len(theirs) + i), self.own, ("incremental", "contexts", i)))
            if isinstance(context, dict) and context.get("name") in names:
                self.clash(("incremental", "contexts", i, "name"), "context", context["name"])
        return theirs + mine

    def clash(self, path: YamlPath, what: str, name: str, *, key: bool = False) -> None:
        message = f"{what} '{name}' is already declared by the extended project; give it another name"
        self.problems.append(Diagnostic("SG243", message, self.own.location(path, key=key)))
