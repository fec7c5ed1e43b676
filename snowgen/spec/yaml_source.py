"""YAML loading that remembers where every key and value came from.

PyYAML's composer gives nodes with marks; we construct plain Python values from them and
keep, for every path (a tuple of keys and list indexes), the position of its key and of its
value. Duplicate keys, which PyYAML silently overwrites, are reported as errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
import yaml.constructor

from snowgen.errors import Location, SnowgenError

YamlPath = tuple[str | int, ...]


class _Constructor(yaml.constructor.SafeConstructor):
    """Safe constructor; scalars only (collections are built by ``_build``)."""


# libyaml's composer, when PyYAML was built with it (about ten times faster); same marks.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class BlockText:
    """Where the text of a scalar starts, so a line inside it maps back to the file."""

    first_line: int  # 1-based file line of the text's first line
    first_col: int  # 1-based file column of the text's first character
    indent: int  # columns of indentation stripped from every following line (block scalars)


@dataclass
class YamlDocument:
    path: Path
    data: Any
    key_positions: dict[YamlPath, tuple[int, int]] = field(default_factory=dict)
    value_positions: dict[YamlPath, tuple[int, int]] = field(default_factory=dict)
    texts: dict[YamlPath, BlockText] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def at(self, line: int, col: int) -> Location:
        text = self.lines[line - 1] if 1 <= line <= len(self.lines) else None
        return Location(self.path, line, col, text)

    def location(self, path: YamlPath, *, key: bool = False) -> Location:
        """The position of ``path`` or of its nearest existing ancestor."""
        table = self.key_positions if key else self.value_positions
        probe = tuple(path)
        while probe:
            if probe in table:
                line, col = table[probe]
                return self.at(line, col)
            if not key and probe in self.key_positions:
                line, col = self.key_positions[probe]
                return self.at(line, col)
            probe = probe[:-1]
        line, col = self.value_positions.get((), (1, 1))
        return self.at(line, col)

    def text_location(self, path: YamlPath, line_in_text: int, col_in_text: int) -> Location:
        """Map a 1-based (line, col) inside the scalar at ``path`` to a file location."""
        block = self.texts.get(path)
        if block is None:
            return self.location(path)
        if line_in_text <= 1:
            return self.at(block.first_line, block.first_col + max(col_in_text, 1) - 1)
        line = block.first_line + line_in_text - 1
        return self.at(line, block.indent + max(col_in_text, 1))


def load_yaml(path: Path) -> YamlDocument:
    """Read and parse ``path``; raise SG001/SG002/SG003/SG004 on failure."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SnowgenError.at("SG003", f"file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SnowgenError.at("SG003", f"cannot read {path}: {exc}") from None
    doc = YamlDocument(path=path, data=None, lines=text.splitlines())
    try:
        node = _compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and mark is not None and mark.line >= len(doc.lines):
            mark = exc.context_mark  # the stream ended: point at what was left open
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        raise SnowgenError.at("SG001", f"YAML syntax error: {problem}", doc.at(line, col)) from None
    if node is None:
        raise SnowgenError.at("SG004", "the file is empty; expected a mapping", doc.at(1, 1))
    if not isinstance(node, yaml.MappingNode):
        raise SnowgenError.at("SG004", "expected a mapping at the top of the file", _mark(doc, node))
    doc.data = _build(node, (), doc, _Constructor())
    return doc


def _compose(text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError:
        # libyaml's messages are terser ("did not find expected ','"); the pure-Python
        # parser says what it found instead. Errors are rare: parse again to report.
        return yaml.compose(text, Loader=yaml.SafeLoader)


def _build(node: yaml.Node, path: YamlPath, doc: YamlDocument, constructor: _Constructor) -> Any:
    doc.value_positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        return _build_mapping(node, path, doc, constructor)
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), doc, constructor) for i, item in enumerate(node.value)]
    _remember_text(node, path, doc)
    return constructor.construct_object(node, deep=True)


def _build_mapping(node: yaml.MappingNode, path: YamlPath, doc: YamlDocument, constructor: _Constructor) -> dict:
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            raise SnowgenError.at(
                "SG102", "YAML merge keys ('<<') are not supported in specs", _mark(doc, key_node)
            )
        key = constructor.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            # `on:`/`yes:` become booleans under YAML 1.1 and numbers stay numbers; keys are names.
            key = key_node.value
        if key in result:
            first = doc.key_positions[(*path, key)]
            raise SnowgenError.at(
                "SG002",
                f"duplicate key '{key}' (first defined on line {first[0]})",
                _mark(doc, key_node),
            )
        doc.key_positions[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        result[key] = _build(value_node, (*path, key), doc, constructor)
    return result


def _remember_text(node: yaml.ScalarNode, path: YamlPath, doc: YamlDocument) -> None:
    if node.style in ("|", ">"):
        # The text starts on the line after the indicator; its indentation is that of
        # the first non-empty content line.
        lines = doc.lines
        first = node.start_mark.line + 1  # 0-based index of the first content line
        indent = 0
        for raw in lines[first : node.end_mark.line + 1]:
            if raw.strip():
                indent = len(raw) - len(raw.lstrip(" "))
                break
        doc.texts[path] = BlockText(first_line=first + 1, first_col=indent + 1, indent=indent)
    else:
        quote = 1 if node.style in ("'", '"') else 0
        doc.texts[path] = BlockText(
            first_line=node.start_mark.line + 1,
            first_col=node.start_mark.column + 1 + quote,
            indent=node.start_mark.column + quote,
        )


def _mark(doc: YamlDocument, node: yaml.Node) -> Location:
    return doc.at(node.start_mark.line + 1, node.start_mark.column + 1)
