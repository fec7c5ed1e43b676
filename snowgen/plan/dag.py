"""Ordering models: a topological sort with a stable tie-break, cycle reports, and the
reachability walks the planner and the strategies ask for (one implementation of each)."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping

from snowgen.errors import Location, SnowgenError


def order_nodes(
    nodes: dict[str, tuple[str, tuple[str, ...]]],
    modules: list[str],
    locate: Callable[[str], Location],
) -> list[str]:
    """Names in dependency order; among ready nodes, earlier module first, then by name."""
    rank = {m: i for i, m in enumerate(modules)}
    waiting = {name: set(deps) for name, (_, deps) in nodes.items()}
    readers: dict[str, list[str]] = {name: [] for name in nodes}
    for name, deps in waiting.items():
        for dep in deps:
            readers[dep].append(name)
    ready = [(rank[nodes[n][0]], n) for n, deps in waiting.items() if not deps]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, name = heapq.heappop(ready)
        order.append(name)
        for reader in readers[name]:
            waiting[reader].discard(name)
            if not waiting[reader]:
                heapq.heappush(ready, (rank[nodes[reader][0]], reader))
    if len(order) != len(nodes):
        cycle = find_cycle({n: deps for n, deps in waiting.items() if deps})
        raise SnowgenError.at("SG202", "dependency cycle: " + " -> ".join(cycle), locate(cycle[0]))
    return order


def find_cycle(edges: dict[str, set[str]]) -> list[str]:
    """One cycle among ``edges`` (node -> nodes it depends on), as a closed path."""
    start = min(edges)
    path: list[str] = [start]
    seen = {start: 0}
    current = start
    while True:
        current = min(d for d in edges[current] if d in edges)
        if current in seen:
            return [*path[seen[current] :], current]
        seen[current] = len(path)
        path.append(current)


Edges = Mapping[str, Iterable[str]]  # node -> the nodes it depends on


def reachable(edges: Edges, starts: Iterable[str]) -> set[str]:
    """``starts`` and every node they depend on, directly or not (a node missing from
    ``edges`` depends on nothing)."""
    found = set(starts)
    todo = list(found)
    while todo:
        for dep in edges.get(todo.pop(), ()):
            if dep not in found:
                found.add(dep)
                todo.append(dep)
    return found


def downstream(edges: Edges, roots: Iterable[str]) -> set[str]:
    """The nodes that depend on any of ``roots`` through at least one edge."""
    roots = set(roots)
    readers: dict[str, set[str]] = {}
    for name, deps in edges.items():
        for dep in deps:
            readers.setdefault(dep, set()).add(name)
    direct = {reader for root in roots for reader in readers.get(root, ())}
    return reachable(readers, direct)
