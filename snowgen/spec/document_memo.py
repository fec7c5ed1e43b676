"""Remembered spec files: a YAML document as JSON, so an unchanged file is not parsed again.

Parsing a spec file (YAML events, the composer, the positions of every key and value) costs
more than reading JSON. A :class:`DocumentMemo` (the build cache's store) keeps each parsed
file's document under a key of its path and bytes; a file with the same path and bytes
is the same document. Only files that parsed without an error are remembered.

The JSON keeps the YAML values' types: mappings as lists of pairs (their keys need not be
strings), dates, times and bytes tagged; a document holding anything else (a set, say) is
not remembered.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any, Protocol

from snowgen.spec.yaml_source import BlockText, YamlDocument, parse_spec_text, read_spec_file


class DocumentMemo(Protocol):
    def document(self, key: str) -> str | None: ...

    def remember_document(self, key: str, text: str) -> None: ...


def load_remembered(path: Path, memo: DocumentMemo) -> YamlDocument:
    """The spec file at ``path``, from ``memo`` when its bytes are unchanged (else parsed,
    and remembered)."""
    data, text = read_spec_file(path)
    key = document_key(path, data)
    stored = memo.document(key)
    if stored is not None:
        return document_from_json(path, text, stored)
    doc = parse_spec_text(path, text)
    remembered = document_to_json(doc)
    if remembered is not None:
        memo.remember_document(key, remembered)
    return doc


def document_key(path: Path, data: bytes) -> str:
    hashed = hashlib.sha256(str(path).encode())
    hashed.update(b"\0")
    hashed.update(data)
    return hashed.hexdigest()


class _NotRemembered(Exception):
    """A value JSON cannot carry with its type."""


def document_to_json(doc: YamlDocument) -> str | None:
    """The parsed parts of ``doc`` (its lines come from the file's text), or None."""
    try:
        data = _encode(doc.data)
    except _NotRemembered:
        return None
    return json.dumps(
        {
            "data": data,
            "keys": [[list(path), *where] for path, where in doc.key_positions.items()],
            "values": [[list(path), *where] for path, where in doc.value_positions.items()],
            "texts": [[list(path), t.first_line, t.first_col, t.indent] for path, t in doc.texts.items()],
        },
        ensure_ascii=False,
    )


def document_from_json(path: Path, text: str, stored: str) -> YamlDocument:
    """The document :func:`document_to_json` stored, for the file at ``path`` holding ``text``."""
    parts = json.loads(stored)
    return _RememberedDocument(path, _decode(parts["data"]), text.splitlines(), parts)


class _RememberedDocument(YamlDocument):
    """A remembered document whose positions are built when first read: only an error
    message reads them, and a compile reads thousands of documents."""

    def __init__(self, path: Path, data: Any, lines: list[str], parts: dict[str, Any]):
        self.path, self.data, self.lines = path, data, lines
        self._parts = parts

    def __getattr__(self, name: str) -> Any:
        if name not in ("key_positions", "value_positions", "texts") or "_parts" not in self.__dict__:
            raise AttributeError(name)
        parts = self.__dict__.pop("_parts")
        self.key_positions = {tuple(p): (line, col) for p, line, col in parts["keys"]}
        self.value_positions = {tuple(p): (line, col) for p, line, col in parts["values"]}
        self.texts = {tuple(p): BlockText(line, col, indent) for p, line, col, indent in parts["texts"]}
        return getattr(self, name)


# Every JSON object stands for a tagged value: {"map": [[key, value], ...]}, {"date": ...},
# {"datetime": ...}, {"bytes": base64}. Lists, strings, numbers, booleans and null are themselves.


def _encode(value: Any) -> Any:
    kind = type(value)
    if value is None or kind in (str, int, float, bool):
        return value
    if kind is list:
        return [_encode(v) for v in value]
    if kind is dict:
        return {"map": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if kind is dt.datetime:
        return {"datetime": value.isoformat()}
    if kind is dt.date:
        return {"date": value.isoformat()}
    if kind is bytes:
        return {"bytes": base64.b64encode(value).decode("ascii")}
    raise _NotRemembered(kind.__name__)


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    [(tag, inner)] = value.items()
    if tag == "map":
        return {_decode(k): _decode(v) for k, v in inner}
    if tag == "datetime":
        return dt.datetime.fromisoformat(inner)
    if tag == "date":
        return dt.date.fromisoformat(inner)
    return base64.b64decode(inner)
