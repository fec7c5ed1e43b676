"""A cache of step files, keyed by everything a step is built from.

A step's file is a pure function of the plan, the step and the dialect (and of the code that
builds and prints it). Its key is a hash of those inputs, so a hit returns exactly the text a
build would print; a compile that changes one model rebuilds only the steps that can see it.

Two keys per step:

* **narrow**: the code, the dialect, the step, the plan-wide data (project file, vars,
  schemas, steps, strategy, seeds, staged tables, checks, and every model's *interface*: its
  table, module, dependencies, output columns and types, filters...) and the text of the
  step's own model file. Everything else in the plan -- every other model's SQL body, spec
  and file -- is *blinded* while the step builds: reading it raises :class:`BlindRead`
  (an isinstance test, a truth test, an attribute...). A step that builds blinded read
  nothing outside its narrow key, so the text is stored under it.
* **wide**: the narrow key plus the text of every model file. A step whose build reads
  another model's body or spec (the create-schemas step, a strategy step reading every
  model) is built with the whole plan and stored under this key.

Errors are never stored: a step that fails blinded is built again with the whole plan,
which raises the true error (or succeeds, and is stored under the wide key).

The store is one SQLite file per project (``.snowgen-cache/steps.sqlite`` beside
``snowgen.yml``; the folder holds a ``.gitignore`` of ``*``). Entries unused for
:data:`KEEP_COMPILES` compiles are dropped. A store that cannot be opened, read or written is
ignored: the compile builds everything, as with ``--no-cache``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import hashlib
import json
import sqlite3
import sys
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pydantic
import sqlglot
from sqlglot import exp

from snowgen.build.run_metadata import is_recorded
from snowgen.dialects.base import Dialect
from snowgen.emit.render import step_text
from snowgen.plan.data import ModelPlan, Plan, Step
from snowgen.spec.csv_source import CsvDocument
from snowgen.spec.yaml_source import YamlDocument

CACHE_FOLDER = ".snowgen-cache"
STORE_FILE = "steps.sqlite"
#: entries not used by one of this many compiles of the project are dropped
KEEP_COMPILES = 8


def cache_path(project_root: Path) -> Path:
    return project_root / CACHE_FOLDER / STORE_FILE


# -- keys -------------------------------------------------------------------------------------------------


@cache
def code_fingerprint() -> str:
    """What builds and prints the text: snowgen's own source (every module, so a change in
    development counts, not only a new version), sqlglot's version and build, Python's."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    compiled = getattr(sqlglot.generator, "__file__", "") or ""
    digest.update(f"sqlglot {sqlglot.__version__} {compiled.endswith('.so')}; python {sys.version}".encode())
    return digest.hexdigest()


def fingerprint(value: Any) -> str:
    """A text that is equal for equal plan data: every value the plan holds, of a type listed
    here. Any other type raises TypeError, so a new kind of plan field cannot slip past the
    key unnoticed (the cache tests compile every shipped project)."""
    return _fp(value)


def _fp(value: Any) -> str:
    if value is None or isinstance(value, bool | int | float | str | bytes | Path | dt.date | decimal.Decimal):
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
        fields = ",".join(f"{f.name}={_fp(getattr(value, f.name))}" for f in dataclasses.fields(value))
        return f"{type(value).__qualname__}({fields})"
    raise TypeError(f"the build cache has no fingerprint for {type(value).__qualname__}")


#: fields of a model that are covered by the text of its file (and blinded for other steps)
_FILE_FIELDS = ("query", "spec", "doc")


def _model_interface(model: ModelPlan) -> str:
    """What every step may read of any model: all but its body, spec and file."""
    fields = [f.name for f in dataclasses.fields(model) if f.name not in _FILE_FIELDS]
    return "ModelPlan(" + ",".join(f"{name}={_fp(getattr(model, name))}" for name in fields) + ")"


def document_digest(doc: YamlDocument | CsvDocument) -> str:
    """The file a spec or seed was read from: its path and text."""
    digest = hashlib.sha256(str(doc.path).encode())
    for line in doc.lines:
        digest.update(b"\n")
        digest.update(line.encode())
    return digest.hexdigest()


@dataclasses.dataclass(frozen=True)
class PlanKeys:
    """The keys of one plan's steps, less the dialect."""

    plan_wide: str
    narrow_parts: Mapping[str, str]  # step id -> the step and its own model file
    wide_parts: Mapping[str, str]  # step id -> the step and every model file

    def narrow(self, dialect: str, step: Step) -> str:
        return _hash("narrow", self.plan_wide, dialect, self.narrow_parts[step.id])

    def wide(self, dialect: str, step: Step) -> str:
        return _hash("wide", self.plan_wide, dialect, self.wide_parts[step.id])


def plan_keys(plan: Plan) -> PlanKeys:
    fields = {f.name: getattr(plan, f.name) for f in dataclasses.fields(plan)}
    plan_wide = _hash(code_fingerprint(), fingerprint(fields))
    files = {name: document_digest(model.doc) for name, model in plan.models.items()}
    all_files = _hash(*(f"{n}={d}" for n, d in sorted(files.items())))
    steps = {step.id: fingerprint(step) for step in plan.steps}
    own = {step.id: files.get(step.model, "") if step.model else "" for step in plan.steps}
    return PlanKeys(
        plan_wide,
        {step_id: _hash(text, own[step_id]) for step_id, text in steps.items()},
        {step_id: _hash(text, all_files) for step_id, text in steps.items()},
    )


def _hash(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


# -- blinded builds ----------------------------------------------------------------------------------------


class BlindRead(BaseException):  # not an Exception: an `except Exception` must not hide it
    """A blinded step read what its narrow key does not cover."""


class _Blind:
    """Stands for a field a step may not read: any use raises BlindRead."""

    __slots__ = ()

    def __getattribute__(self, name: str) -> Any:  # also isinstance(), which reads __class__
        raise BlindRead(name)

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise BlindRead("use")

    __bool__ = __eq__ = __ne__ = __hash__ = __iter__ = __len__ = __contains__ = __getitem__ = _refuse
    __repr__ = __str__ = __call__ = __lt__ = __gt__ = _refuse


_BLIND = _Blind()


def _blinded(model: ModelPlan) -> ModelPlan:
    query = None if model.query is None else _BLIND  # "is None" stays answerable: it is interface
    return dataclasses.replace(model, query=query, spec=_BLIND, doc=_BLIND)


class _OneModelOpen(Mapping[str, ModelPlan]):
    """The plan's models with every one but ``name`` blinded."""

    def __init__(self, blinded: Mapping[str, ModelPlan], real: Mapping[str, ModelPlan], name: str | None):
        self._blinded, self._real, self._name = blinded, real, name

    def __getitem__(self, key: str) -> ModelPlan:
        return self._real[key] if key == self._name else self._blinded[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._blinded)

    def __len__(self) -> int:
        return len(self._blinded)


# -- the store ---------------------------------------------------------------------------------------------


#: the keys travel as one JSON array: one statement, whatever their number
_SELECT_KEYS = "SELECT key, text FROM steps WHERE key IN (SELECT value FROM json_each(?))"
_MARK_USED = "UPDATE steps SET used = ? WHERE key IN (SELECT value FROM json_each(?))"


class StepStore:
    """Step texts by key in a SQLite file; every failure of the file reads as a miss."""

    def __init__(self, path: Path | None):
        self.path = path
        self._db: sqlite3.Connection | None = None
        self.used: set[str] = set()
        self.added: dict[str, str] = {}

    def get_many(self, keys: Iterable[str]) -> dict[str, str]:
        keys = list(keys)
        db = self._open()
        if db is None or not keys:
            return {}
        try:
            found = dict(db.execute(_SELECT_KEYS, (json.dumps(keys),)).fetchall())
        except sqlite3.Error:
            return {}
        self.used |= set(found)
        return found

    def add(self, key: str, text: str) -> None:
        self.added[key] = text
        self.used.add(key)

    def save(self) -> None:
        """Store what this compile built, mark what it used, drop what no recent compile used."""
        db = self._open(create=True)
        if db is None:
            return
        try:
            db.execute("BEGIN IMMEDIATE")
            (number,) = db.execute("UPDATE compiles SET number = number + 1 RETURNING number").fetchone()
            db.executemany(
                "INSERT OR REPLACE INTO steps (key, text, used) VALUES (?, ?, ?)",
                [(key, text, number) for key, text in sorted(self.added.items())],
            )
            db.execute(_MARK_USED, (number, json.dumps(sorted(self.used))))
            db.execute("DELETE FROM steps WHERE used <= ?", (number - KEEP_COMPILES,))
            db.execute("COMMIT")
        except sqlite3.Error:
            return
        finally:
            self.close()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _open(self, create: bool = False) -> sqlite3.Connection | None:
        if self._db is not None or self.path is None:
            return self._db
        if not create and not self.path.exists():
            return None
        try:
            if create:
                _make_folder(self.path.parent)
            self._db = _connect(self.path)
        except sqlite3.DatabaseError:  # not a database (a torn write, another file): start again
            try:
                self.path.unlink()
                self._db = _connect(self.path)
            except (sqlite3.Error, OSError):
                return None
        except (sqlite3.Error, OSError):
            return None
        return self._db


def _make_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# snowgen's build cache: safe to delete\n*\n", encoding="utf-8")


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=10, isolation_level=None)
    try:
        # a cache: losing the last write to a crash costs a rebuild, never wrong output (a
        # torn file fails to open and is started again)
        db.execute("PRAGMA synchronous = OFF")
        db.execute("CREATE TABLE IF NOT EXISTS steps (key TEXT PRIMARY KEY, text TEXT NOT NULL, used INTEGER)")
        db.execute("CREATE TABLE IF NOT EXISTS compiles (number INTEGER NOT NULL)")
        if db.execute("SELECT count(*) FROM compiles").fetchone()[0] == 0:
            db.execute("INSERT INTO compiles VALUES (0)")
    except BaseException:
        db.close()
        raise
    return db


# -- compiling through the cache ---------------------------------------------------------------------------


@dataclasses.dataclass
class DialectWork:
    """One dialect's step texts: those found in the store, and the steps still to build."""

    dialect: str
    texts: dict[str, str]  # step id -> text
    missing: list[Step]


def look_up(plan: Plan, keys: PlanKeys, dialect: str, store: StepStore) -> DialectWork:
    narrow = {step.id: keys.narrow(dialect, step) for step in plan.steps}
    wide = {step.id: keys.wide(dialect, step) for step in plan.steps}
    found = store.get_many([*narrow.values(), *wide.values()])
    texts, missing = {}, []
    for step in plan.steps:
        text = found.get(narrow[step.id]) or found.get(wide[step.id])
        if text is None:
            missing.append(step)
        else:
            texts[step.id] = text
    return DialectWork(dialect, texts, missing)


@dataclasses.dataclass(frozen=True)
class BuiltText:
    step_id: str
    key: str  # the narrow or the wide key, whichever the build earned
    text: str


def build_missing(plan: Plan, keys: PlanKeys, dialect: Dialect, steps: list[Step]) -> list[BuiltText]:
    """Build ``steps`` blinded where they allow it (see the module's docstring)."""
    recorded = is_recorded(plan)
    blinded = {name: _blinded(model) for name, model in plan.models.items()}
    built = []
    for step in steps:
        narrow_plan = dataclasses.replace(plan, models=_OneModelOpen(blinded, plan.models, step.model))
        try:
            text = step_text(narrow_plan, dialect, step, recorded)
            key = keys.narrow(dialect.name, step)
        except (BlindRead, Exception):  # read past its key, or failed: build with the whole plan
            text = step_text(plan, dialect, step, recorded)
            key = keys.wide(dialect.name, step)
        built.append(BuiltText(step.id, key, text))
    return built


def ordered_texts(plan: Plan, found: Mapping[str, str], built: Iterable[BuiltText]) -> dict[str, str]:
    """Every step's text in plan order."""
    texts = {**found, **{item.step_id: item.text for item in built}}
    return {step.id: texts[step.id] for step in plan.steps}
