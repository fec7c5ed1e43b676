"""The project's DAG as an SVG picture, laid out by snowgen itself (no JavaScript, no
library): every node in the column of its depth (the longest path from a source or seed
to it), the nodes of a column ordered by module and then by where their inputs sit, so
edges mostly run straight. The same plan always gives the same bytes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

#: fill colours of the modules, in the plan's module order (then again from the start)
MODULE_COLOURS = ("#dbe9f6", "#e4dcf3", "#f6e0e9", "#dff1e6", "#f3ecd6", "#d9eef0", "#ece6dc", "#e2e6ee")
KIND_COLOURS = {"source": "#b7e0b0", "seed": "#f6d59a"}
_CHAR_WIDTH = 7.3  # of the 12px monospace labels (about 0.6 em)
_NODE_HEIGHT = 24
_ROW_GAP = 10
_COLUMN_GAP = 60
_MARGIN = 12
_LEGEND_HEIGHT = 30


@dataclass(frozen=True)
class Node:
    id: str
    kind: str  # model | source | seed
    label: str
    module: str | None  # a model's module
    href: str


def dag_svg(nodes: Sequence[Node], edges: Sequence[tuple[str, str]], modules: Sequence[str]) -> str:
    """``edges``: (from node id, to node id), both among ``nodes``."""
    inputs: dict[str, list[str]] = {node.id: [] for node in nodes}
    for source, target in sorted(set(edges)):
        inputs[target].append(source)
    columns = _columns(nodes, inputs, modules)
    places = _places(columns)
    width = max((x + w for x, _, w in places.values()), default=0) + _MARGIN
    height = max((y for _, y, _ in places.values()), default=0) + _NODE_HEIGHT + _MARGIN
    colours = {module: MODULE_COLOURS[i % len(MODULE_COLOURS)] for i, module in enumerate(modules)}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="dag" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="monospace" font-size="12">',
        _legend(modules, colours),
    ]
    parts += [_edge(places[s], places[t]) for t, sources in sorted(inputs.items()) for s in sources]
    for column in columns:
        parts += [_node(node, places[node.id], colours) for node in column]
    parts.append("</svg>")
    return "\n".join(parts)


def _columns(nodes: Sequence[Node], inputs: Mapping[str, list[str]], modules: Sequence[str]) -> list[list[Node]]:
    depth: dict[str, int] = {}

    def depth_of(node_id: str, path: frozenset = frozenset()) -> int:
        if node_id not in depth:
            earlier = [depth_of(i, path | {node_id}) for i in inputs[node_id] if i not in path]
            depth[node_id] = 1 + max(earlier) if earlier else 0
        return depth[node_id]

    module_order = {module: i for i, module in enumerate(modules)}
    columns: list[list[Node]] = [[] for _ in range(1 + max((depth_of(n.id) for n in nodes), default=0))]
    for node in sorted(nodes, key=lambda n: (module_order.get(n.module, -1), n.kind, n.label)):
        columns[depth_of(node.id)].append(node)
    row: dict[str, int] = {}
    for column in columns:  # each column ordered by the mean row of its inputs (one sweep)
        column.sort(key=lambda n: (_mean_row(inputs[n.id], row), module_order.get(n.module, -1), n.kind, n.label))
        row.update({node.id: i for i, node in enumerate(column)})
    return columns


def _mean_row(sources: list[str], row: Mapping[str, int]) -> float:
    placed = [row[s] for s in sources if s in row]
    return sum(placed) / len(placed) if placed else -1.0


def _places(columns: list[list[Node]]) -> dict[str, tuple[int, int, int]]:
    """node id -> (x, y, width)."""
    places = {}
    x = _MARGIN
    for column in columns:
        width = round(max(len(n.label) for n in column) * _CHAR_WIDTH) + 16 if column else 0
        for i, node in enumerate(column):
            places[node.id] = (x, _MARGIN + _LEGEND_HEIGHT + i * (_NODE_HEIGHT + _ROW_GAP), width)
        x += width + _COLUMN_GAP
    return places


def _legend(modules: Sequence[str], colours: Mapping[str, str]) -> str:
    items = [("source", KIND_COLOURS["source"]), ("seed", KIND_COLOURS["seed"])]
    items += [(f"module {m}", colours[m]) for m in modules]
    parts, x = ['<g class="legend">'], _MARGIN
    for label, colour in items:
        parts.append(f'<rect x="{x}" y="{_MARGIN}" width="12" height="12" fill="{colour}" stroke="#555"/>')
        parts.append(f'<text x="{x + 16}" y="{_MARGIN + 10}">{escape(label)}</text>')
        x += 16 + round(len(label) * _CHAR_WIDTH) + 14
    parts.append("</g>")
    return "".join(parts)


def _edge(source: tuple[int, int, int], target: tuple[int, int, int]) -> str:
    x1, y1 = source[0] + source[2], source[1] + _NODE_HEIGHT // 2
    x2, y2 = target[0], target[1] + _NODE_HEIGHT // 2
    bend = (x2 - x1) // 2
    return (
        f'<path class="edge" d="M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}" '
        'fill="none" stroke="#8a8a8a" stroke-width="1"/>'
    )


def _node(node: Node, place: tuple[int, int, int], colours: Mapping[str, str]) -> str:
    x, y, width = place
    colour = KIND_COLOURS.get(node.kind) or colours.get(node.module or "", MODULE_COLOURS[0])
    return (
        f'<a href="{escape(node.href)}"><g class="node {node.kind}" data-name="{escape(node.label)}">'
        f"<title>{escape(node.kind)} {escape(node.label)}</title>"
        f'<rect x="{x}" y="{y}" width="{width}" height="{_NODE_HEIGHT}" rx="4" fill="{colour}" stroke="#555"/>'
        f'<text x="{x + 8}" y="{y + 16}">{escape(node.label)}</text></g></a>'
    )
