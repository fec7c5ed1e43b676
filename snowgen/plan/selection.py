"""``--select`` and ``--exclude``: dbt's node selection grammar, resolved on the plan's DAG.

A value holds selectors separated by spaces (their union); selectors joined by commas
must all match (their intersection, ``tag:nightly,module:users``). A selector is

    [@][N+]METHOD:VALUE[+N]      or      [@][N+]NAME[+N]

- ``NAME``: a model (a ``for_each`` model's name selects every instance) or a step the
  incremental strategy generates; ``*``, ``?`` and ``[...]`` match as shell patterns;
- ``module:NAME``, ``tag:NAME`` (a model's ``tags:``), ``path:PATH`` (model files at or
  under PATH, relative to the project folder; patterns too);
- ``+x``: x and everything it reads, transitively (``2+x``: two levels up); ``x+``: x and
  everything that reads it (``x+1``: one level down); ``@x``: x, everything that reads it,
  and everything those read.

What is matched here is the user's choice; :mod:`snowgen.plan.subset` adds what a run of
that choice needs to be correct. (dbt's syntax: docs.getdbt.com/reference/node-selection/syntax,
graph operators: docs.getdbt.com/reference/node-selection/graph-operators.)
"""

from __future__ import annotations

import difflib
import fnmatch
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from snowgen.errors import SnowgenError
from snowgen.names import canonical
from snowgen.plan.data import ModelPlan
from snowgen.plan.references import unknown_name
from snowgen.spec.loader import project_relative

METHODS = ("module", "path", "tag")
_SELECTOR = re.compile(
    r"^(?P<at>@)?(?:(?P<up>\d*)\+)?(?:(?P<method>[A-Za-z_][\w.]*):)?(?P<value>.*?)(?:\+(?P<down>\d*))?$"
)
_PATTERN_CHARACTERS = frozenset("*?[")
ALL = None  # a depth without limit


@dataclass(frozen=True)
class Selector:
    """One selector: what it matches (``method``, ``value``) and the graph around it."""

    text: str
    method: str  # "name", or one of METHODS
    value: str
    parents: int | None = 0  # levels of what it reads (ALL: every level)
    children: int | None = 0  # levels of what reads it
    at: bool = False  # dbt's @: children and every parent of those


#: a value's selectors: a union of intersections
Selection = tuple[tuple[Selector, ...], ...]


def parse_selection(values: Iterable[str], option: str) -> Selection:
    """The selectors of every value of ``option`` (``--select`` or ``--exclude``); a value
    without any selector is refused (it would otherwise select everything)."""
    words: list[tuple[Selector, ...]] = []
    for value in values:
        if not value.replace(",", " ").split():
            raise SnowgenError.at("SG402", f"{option} '{value}' names no model; give a model name or module:NAME")
        words += [tuple(_parse(part, word, option) for part in word.split(",")) for word in value.split()]
    return tuple(words)


def _parse(text: str, word: str, option: str) -> Selector:
    if not text:
        raise SnowgenError.at("SG450", f"{option} '{word}': an empty selector beside a comma")
    found = _SELECTOR.match(text)
    if found is None or not found["value"]:
        raise SnowgenError.at("SG450", f"{option} '{text}': no model, module, tag or path named")
    if found["at"] and found["up"] is not None:
        raise SnowgenError.at("SG450", f"{option} '{text}': '@' already selects every parent; drop the '+' before")
    method = (found["method"] or "name").lower()
    if method not in (*METHODS, "name"):
        message = f"{option} '{text}': unknown selector method '{found['method']}'; use one of {', '.join(METHODS)}"
        raise SnowgenError.at("SG450", message + " or a model name")
    return Selector(text, method, found["value"], _depth(found["up"]), _depth(found["down"]), bool(found["at"]))


def _depth(digits: str | None) -> int | None:
    """No ``+``: 0 levels; ``+``: every level; ``N+`` or ``+N``: N levels."""
    if digits is None:
        return 0
    return ALL if digits == "" else int(digits)


# -- the graph ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Graph:
    """What a selector can match: every node of the plan's DAG, its module and what it reads
    (models and the strategy's steps), and the models with their files and tags."""

    nodes: Mapping[str, tuple[str, tuple[str, ...]]]  # name -> (module, what it runs after)
    models: Mapping[str, ModelPlan]
    root: Path

    def readers(self) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {name: set() for name in self.nodes}
        for name, (_, depends) in self.nodes.items():
            for dep in depends:
                found.setdefault(dep, set()).add(name)
        return found

    def user_models(self) -> dict[str, ModelPlan]:
        """Models written by the user (the strategy's have no file or tags of their own)."""
        return {name: m for name, m in self.models.items() if m.generated is None}

    def file_of(self, model: ModelPlan) -> str:
        return project_relative(self.root, model.doc.path)


def resolve(selection: Selection, graph: Graph, option: str) -> set[str]:
    """The nodes ``selection`` names: the union of its words, each the intersection of its
    selectors. A selector that matches nothing is SG402, naming what it could match."""
    chosen: set[str] = set()
    readers = graph.readers()
    for word in selection:
        found: set[str] | None = None
        for selector in word:
            matched = _with_graph(selector, _matches(selector, graph, option), graph, readers)
            found = matched if found is None else found & matched
        chosen |= found or set()
    return chosen


def _with_graph(selector: Selector, matched: set[str], graph: Graph, readers: dict[str, set[str]]) -> set[str]:
    edges = {name: set(depends) for name, (_, depends) in graph.nodes.items()}
    if selector.at:
        down = matched | _walk(readers, matched, ALL)
        return down | _walk(edges, down, ALL)
    return matched | _walk(edges, matched, selector.parents) | _walk(readers, matched, selector.children)


def _walk(edges: Mapping[str, Iterable[str]], starts: set[str], depth: int | None) -> set[str]:
    """The nodes ``depth`` levels (ALL: any number) along ``edges`` from ``starts``."""
    found: set[str] = set()
    frontier, level = set(starts), 0
    while frontier and (depth is ALL or level < depth):
        frontier = {n for node in frontier for n in edges.get(node, ())} - found - starts
        found |= frontier
        level += 1
    return found


# -- methods -------------------------------------------------------------------------------------------


def _matches(selector: Selector, graph: Graph, option: str) -> set[str]:
    method = selector.method
    if method == "name":
        return _by_name(selector, graph, option)
    if method == "module":
        return _by_module(selector, graph, option)
    if method == "tag":
        return _by_tag(selector, graph, option)
    return _by_path(selector, graph, option)


def _is_pattern(value: str) -> bool:
    return not _PATTERN_CHARACTERS.isdisjoint(value)


def _like(value: str, candidate: str) -> bool:
    return fnmatch.fnmatchcase(candidate, value) if _is_pattern(value) else candidate == value


def _by_name(selector: Selector, graph: Graph, option: str) -> set[str]:
    value = canonical(selector.value) if not _is_pattern(selector.value) else selector.value.lower()
    found = {n for n in graph.nodes if _like(value, n)}
    found |= {n for n, model in graph.models.items() if n in graph.nodes and _like(value, model.spec.name)}
    if not found:
        _fail(selector, option, "model", value, graph.nodes)
    return found


def _by_module(selector: Selector, graph: Graph, option: str) -> set[str]:
    value = canonical(selector.value) if not _is_pattern(selector.value) else selector.value.lower()
    modules = {module for module, _ in graph.nodes.values()}
    chosen = {m for m in modules if _like(value, m)}
    if not chosen:
        _fail(selector, option, "module", value, modules)
    return {n for n, (module, _) in graph.nodes.items() if module in chosen}


def _by_tag(selector: Selector, graph: Graph, option: str) -> set[str]:
    tagged = {n: set(m.spec.tags) for n, m in graph.user_models().items() if n in graph.nodes}
    tags = set().union(*tagged.values())
    if not tags:
        raise SnowgenError.at(
            "SG402", f"{option} '{selector.text}': no model has tags; give a model 'tags: [{selector.value}]'"
        )
    found = {n for n, own in tagged.items() if any(_like(selector.value, tag) for tag in own)}
    if not found:
        _fail(selector, option, "tag", selector.value, tags)
    return found


def _by_path(selector: Selector, graph: Graph, option: str) -> set[str]:
    value = PurePosixPath(selector.value.replace("\\", "/")).as_posix()
    files = {n: graph.file_of(m) for n, m in graph.user_models().items() if n in graph.nodes}
    found = {n for n, file in files.items() if _under(value, file)}
    if not found:
        folders = sorted({PurePosixPath(file).parent.as_posix() for file in files.values()})
        raise SnowgenError.at(
            "SG402",
            f"{option} '{selector.text}': no model file at or under '{value}' (relative to the project folder); "
            f"model folders: {', '.join(folders) or 'none'}",
        )
    return found


def _under(path: str, file: str) -> bool:
    if _is_pattern(path):
        return fnmatch.fnmatchcase(file, path) or fnmatch.fnmatchcase(file, path.rstrip("/") + "/*")
    return path in (".", file) or file.startswith(path.rstrip("/") + "/")


def _fail(selector: Selector, option: str, kind: str, value: str, known: Iterable[str]) -> None:
    """SG402 naming what matched nothing: a model with the closest name (there may be
    many); a module or tag with every one of the project's."""
    listed = f"{kind}s: {', '.join(sorted(known)) or 'none'}"
    if _is_pattern(value):
        message = f"no {kind} matches '{value}'" + ("" if kind == "model" else f"; {listed}")
    elif kind == "model":
        message = unknown_name(kind, value, known)
    else:
        hint = difflib.get_close_matches(value, list(known), n=1)
        message = f"unknown {kind} '{value}'" + (f" (did you mean '{hint[0]}'?)" if hint else "") + f"; {listed}"
    shown = f" '{selector.text}':" if selector.text != value else ""
    raise SnowgenError.at("SG402", f"{option}{shown} {message}")


# -- the output folder of a selection --------------------------------------------------------------------

_READABLE = re.compile(r"[A-Za-z0-9_+@,:/. ]*")
_MAX_FOLDER_PART = 80


def selection_variant(select: Iterable[str], exclude: Iterable[str]) -> str | None:
    """The output folder's suffix of a selected plan (None: no selection): the selectors as
    typed, sorted, ``:`` as ``-``, ``/`` as ``.``, words apart by ``--``
    (``select-module-page_views``, ``select-+users--tag-nightly-exclude-path-models.users``),
    with a digest of the exact selection where that text would be ambiguous or too long."""
    parts = []
    for name, values in (("select", select), ("exclude", exclude)):
        words = sorted({",".join(sorted(word.split(","))) for value in values for word in value.split()})
        if words:
            parts.append(f"{name}-{_folder_text(' '.join(words))}")
    return "-".join(parts) or None


def _folder_text(text: str) -> str:
    readable = text.replace(" ", "--").replace(":", "-").replace("/", ".")
    if _READABLE.fullmatch(text) and len(readable) <= _MAX_FOLDER_PART:
        return readable
    digest = hashlib.sha1(text.encode()).hexdigest()[:8]
    shortened = re.sub(r"[^A-Za-z0-9_+@,.-]", "_", readable)[: _MAX_FOLDER_PART - 9]
    return f"{shortened}-{digest}"
