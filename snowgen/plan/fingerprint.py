"""Fingerprints of plan data: a text that is equal for equal values, for the keys of the
build cache (snowgen.emit.cache) and the memo of SQL bodies (snowgen.plan.facts)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import functools
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pydantic
from sqlglot import exp

from snowgen.plan.data import ModelPlan
from snowgen.spec.csv_source import CsvDocument
from snowgen.spec.yaml_source import YamlDocument


def fingerprint(value: Any) -> str:
    """A text that is equal for equal plan data: every value the plan holds, of a type listed
    here. Any other type raises TypeError, so a new kind of plan field cannot slip past the
    key unnoticed (the cache tests compile every shipped project)."""
    return _fp(value)


#: types whose repr is their fingerprint (exact types: a subclass may repr otherwise)
_PLAIN = frozenset({str, int, bool, float, type(None)})


def _fp(value: Any) -> str:
    kind = type(value)
    if kind in _PLAIN:
        return repr(value)
    if (kind is tuple or kind is list) and all(type(v) is str for v in value):  # column lists
        return "[" + ",".join(map(repr, value)) + "]"
    if isinstance(value, bool | int | float | str | bytes | Path | dt.date | decimal.Decimal):
        return repr(value)
    if isinstance(value, enum.Enum):
        return f"{type(value).__qualname__}.{value.name}"
    if isinstance(value, tuple | list):
        return "[" + ",".join(_fp(v) for v in value) + "]"
    if isinstance(value, set | frozenset):
        return "{" + ",".join(sorted(_fp(v) for v in value)) + "}"
    if isinstance(value, Mapping):
        return "{" + ",".join(sorted(f"{_fp(k)}:{_fp(v)}" for k, v in value.items())) + "}"
    if isinstance(value, exp.Expr):
        return repr(value)
    if isinstance(value, pydantic.BaseModel):
        return f"{type(value).__qualname__}{value.model_dump_json()}"
    if isinstance(value, YamlDocument | CsvDocument):
        return document_digest(value)
    if isinstance(value, ModelPlan):
        return _model_interface(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = ",".join(f"{name}={_fp(getattr(value, name))}" for name in _field_names(kind))
        return f"{kind.__qualname__}({fields})"
    raise TypeError(f"no fingerprint for {type(value).__qualname__}")


#: fields of a model that its file and the plan-wide data determine (the build cache blinds
#: them for every other model's steps; only a model's own grant step reads its grantees)
FILE_FIELDS = ("query", "spec", "doc", "body", "facts", "grantees")


def _model_interface(model: ModelPlan) -> str:
    """What every step may read of any model: all but its body, spec and file."""
    fields = [name for name in _field_names(ModelPlan) if name not in FILE_FIELDS]
    return "ModelPlan(" + ",".join(f"{name}={_fp(getattr(model, name))}" for name in fields) + ")"


@functools.cache
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(kind))


def document_digest(doc: YamlDocument | CsvDocument) -> str:
    """The file a spec or seed was read from: its path and text (every file of a project file
    composed with the one it extends)."""
    files = doc.source_files() if isinstance(doc, YamlDocument) else [(doc.path, doc.lines)]
    digest = hashlib.sha256()
    for path, lines in files:
        digest.update(str(path).encode())
        for line in lines:
            digest.update(b"\n")
            digest.update(line.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def digest(*parts: str) -> str:
    """One SHA-256 of several texts (each ended by a NUL, so their borders count)."""
    hashed = hashlib.sha256()
    for part in parts:
        hashed.update(part.encode())
        hashed.update(b"\0")
    return hashed.hexdigest()
