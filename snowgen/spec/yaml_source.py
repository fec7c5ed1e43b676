"""YAML loading that remembers where every key and value came from.

PyYAML's composer gives nodes with marks; we construct plain Python values from them and
keep, for every path (a tuple of keys and list indexes), the position of its key and of its
value. Duplicate keys, which PyYAML silently overwrites, are reported as errors. Anchors and
aliases are refused (an alias bomb of a few hundred bytes expands to gigabytes), and so is
nesting deeper than MAX_NESTING_DEPTH, before any node is built (docs/spec.md, "Limits").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
import yaml.constructor

from snowgen.errors import Location, SnowgenError
from snowgen.spec.file_text import MAX_SPEC_FILE_BYTES, decode_utf8, location_in_text, read_bounded

YamlPath = tuple[str | int, ...]

#: lists and mappings inside each other; the shipped specs need 5
MAX_NESTING_DEPTH = 64
#: what YAML counts as a line break (https://yaml.org/spec/1.1/#id868851), so positions agree
YAML_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
# The characters YAML allows (PyYAML's Reader.NON_PRINTABLE), less U+FEFF after the start,
# which libyaml refuses as well.
_UNPRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
#: files up to this size get the pure-Python parser's clearer syntax error messages
_REPARSE_MAX_CHARS = 128 * 1024
_STANDARD_TAG_PREFIX = "tag:yaml.org,2002:"
_WRITE_IT_OUT = "write the value out"
_MAP_TAG, _SEQ_TAG = _STANDARD_TAG_PREFIX + "map", _STANDARD_TAG_PREFIX + "seq"


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

    def source_files(self) -> Iterator[tuple[Path, list[str]]]:
        """The files this document was read from, with their lines (one; several where a
        project file is composed with the one it extends: snowgen.spec.compose)."""
        yield self.path, self.lines

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
    """Read and parse ``path``; raise SG001-SG004 or SG006-SG008 on failure."""
    return parse_spec_text(path, read_spec_file(path)[1])


def read_spec_file(path: Path) -> tuple[bytes, str]:
    """The bytes of the spec file at ``path`` and its text (SG003, SG008 on failure)."""
    try:
        data = read_bounded(path, MAX_SPEC_FILE_BYTES, "the spec file")
    except FileNotFoundError:
        raise SnowgenError.at("SG003", f"file not found: {path}") from None
    except OSError as exc:
        raise SnowgenError.at("SG003", f"cannot read {path}: {exc.strerror or exc}") from None
    return data, decode_utf8(path, data, "the spec file", "SG003", YAML_LINE_BREAK)


def parse_spec_text(path: Path, text: str) -> YamlDocument:
    """The document of a spec file's text (SG001, SG002, SG004, SG006, SG007 on failure)."""
    _refuse_unprintable(path, text)
    doc = YamlDocument(path=path, data=None, lines=text.splitlines())
    node = _parse(text, doc)
    if node is None:
        raise SnowgenError.at("SG004", "the file is empty; expected a mapping", doc.at(1, 1))
    if not isinstance(node, yaml.MappingNode):
        raise SnowgenError.at("SG004", "expected a mapping at the top of the file", _mark(doc, node))
    doc.data = _build(node, (), doc, _Constructor())
    return doc


def _refuse_unprintable(path: Path, text: str) -> None:
    """The YAML reader refuses these characters too, but reports a bare offset (libyaml: in
    bytes); finding them first gives the line and column."""
    found = _UNPRINTABLE.search(text)
    if found is not None:
        location = location_in_text(path, text, found.start(), YAML_LINE_BREAK)
        # shown with U+FFFD in their place: an escape character would reach the terminal
        location = replace(location, text=_UNPRINTABLE.sub("\ufffd", location.text or ""))
        message = f"YAML syntax error: the character U+{ord(found.group()):04X} is not allowed in a YAML file"
        raise SnowgenError.at("SG001", message, location)


def _parse(text: str, doc: YamlDocument) -> yaml.Node | None:
    """The document's root node, after the streaming checks of ``_check_events``."""
    try:
        _check_events(text, doc, _LOADER)
        return yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        if len(text) > _REPARSE_MAX_CHARS:
            _check_before_nesting_limit(text, doc, exc)
            raise _syntax_error(exc, doc) from None
    except yaml.YAMLError:
        pass
    # libyaml's messages are terser ("did not find expected ','"); the pure-Python
    # parser says what it found instead. Errors are rare: parse again to report (not a
    # big file: that parser takes about 7 s for 1 MiB).
    try:
        _check_events(text, doc, yaml.SafeLoader)
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, doc) from None
    except yaml.YAMLError as exc:  # not expected once _refuse_unprintable has run; still no traceback
        raise SnowgenError.at("SG001", f"YAML syntax error: {exc}", doc.at(1, 1)) from None


def _check_before_nesting_limit(text: str, doc: YamlDocument, exc: yaml.MarkedYAMLError) -> None:
    """libyaml's scanner reads ahead of the events it has given (up to 1,024 characters) and
    stops at 1,000 levels of nesting there, before ``_check_events`` sees level 65: check the
    text up to that point with the pure-Python parser, to report SG007 where level 65 starts."""
    if exc.problem_mark is None or "maximum nesting depth" not in (exc.problem or ""):
        return
    try:
        _check_events(text[: exc.problem_mark.index], doc, yaml.SafeLoader)
    except yaml.YAMLError:
        pass  # the prefix ends mid-document; the nesting, if any, was reported before that


def _check_events(text: str, doc: YamlDocument, loader: type) -> None:
    """Refuse anchors, aliases and deep nesting from the parser's event stream, before any
    node exists: an alias bomb never expands, and the recursive composer and ``_build``
    never go deeper than MAX_NESTING_DEPTH."""
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.AliasEvent):
            message = f"YAML aliases ('*{event.anchor}') are not allowed in spec files; {_WRITE_IT_OUT}"
            raise SnowgenError.at("SG006", message, _mark(doc, event))
        if getattr(event, "anchor", None) is not None:
            message = f"YAML anchors ('&{event.anchor}') are not allowed in spec files; {_WRITE_IT_OUT} where used"
            raise SnowgenError.at("SG006", message, _mark(doc, event))
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_NESTING_DEPTH:
                message = f"lists and mappings are nested more than {MAX_NESTING_DEPTH} levels deep"
                raise SnowgenError.at("SG007", message, _mark(doc, event))
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _syntax_error(exc: yaml.MarkedYAMLError, doc: YamlDocument) -> SnowgenError:
    mark = exc.problem_mark or exc.context_mark
    if exc.context_mark is not None and mark is not None and mark.line >= len(doc.lines):
        mark = exc.context_mark  # the stream ended: point at what was left open
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = exc.problem or exc.context or "invalid YAML"
    if exc.context and problem.startswith("but "):  # "expected a single document ..., but found another"
        problem = f"{exc.context}, {problem}"
    return SnowgenError.at("SG001", f"YAML syntax error: {problem}", doc.at(line, col))


def _build(node: yaml.Node, path: YamlPath, doc: YamlDocument, constructor: _Constructor) -> Any:
    doc.value_positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.ScalarNode):
        _remember_text(node, path, doc)
        return _construct_scalar(node, doc, constructor)
    if node.tag not in (_MAP_TAG, _SEQ_TAG):
        # A tag names a type to construct; specs hold plain lists and mappings only.
        raise SnowgenError.at("SG102", f"the YAML tag '{_short_tag(node.tag)}' is not allowed here", _mark(doc, node))
    if isinstance(node, yaml.MappingNode):
        return _build_mapping(node, path, doc, constructor)
    return [_build(item, (*path, i), doc, constructor) for i, item in enumerate(node.value)]


def _build_mapping(node: yaml.MappingNode, path: YamlPath, doc: YamlDocument, constructor: _Constructor) -> dict:
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            raise SnowgenError.at("SG102", "YAML merge keys ('<<') are not supported in specs", _mark(doc, key_node))
        if not isinstance(key_node, yaml.ScalarNode):
            raise SnowgenError.at("SG102", "a key must be a name, not a list or a mapping", _mark(doc, key_node))
        # Keys are names: `on:`/`yes:` (booleans under YAML 1.1) and `1:` stay as written.
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


def _construct_scalar(node: yaml.ScalarNode, doc: YamlDocument, constructor: _Constructor) -> Any:
    """The scalar's value; a value its tag cannot hold (`!!float abc`, `2024-13-45` read as
    a date, `!!python/object`) is a located SG102, not the constructor's exception."""
    try:
        return constructor.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        raise SnowgenError.at("SG102", _scalar_problem(node, exc), _mark(doc, node)) from None


def _scalar_problem(node: yaml.ScalarNode, exc: Exception) -> str:
    tag = _short_tag(node.tag)
    if isinstance(exc, yaml.MarkedYAMLError) and "could not determine a constructor" in (exc.problem or ""):
        return f"unknown YAML tag '{tag}'; spec files hold plain text, numbers, booleans, dates, lists and mappings"
    shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
    detail = ""  # a KeyError's or AttributeError's own text says nothing to a user
    if isinstance(exc, yaml.MarkedYAMLError):
        detail = f" ({exc.problem})"
    elif isinstance(exc, ValueError):
        detail = f" ({exc})"
    return f"'{shown}' is not a valid {tag} value{detail}; quote it to keep it as text"


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_STANDARD_TAG_PREFIX) if tag.startswith(_STANDARD_TAG_PREFIX) else tag


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


def _mark(doc: YamlDocument, node: yaml.Node | yaml.Event) -> Location:
    return doc.at(node.start_mark.line + 1, node.start_mark.column + 1)
