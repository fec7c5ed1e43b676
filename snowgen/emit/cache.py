"""A cache of step files, keyed by everything a step is built from.

A step's file is a pure function of the plan, the step and the dialect (and of the code that
builds and prints it). Its key is a hash of those inputs, so a hit returns exactly the text a
build would print; a compile that changes one model rebuilds only the steps that can see it.

Each step has a key in three tiers, from the narrowest:

* **local**: the code, the dialect, the step, the plan-wide settings (project file, vars,
  schemas, strategy, seeds, staged tables, checks; not the list of models, steps or
  modules), the step's own model (its file and its *interface*: table, module, dependencies,
  output columns and types, filters...) and the interfaces of the models it reads;
* **narrow**: the same with the interfaces of every model, and the steps and modules;
* **wide**: the narrow key and the text of every model file.

A step is built against a *blinded* plan first: in the local tier every model but its own
and those it reads is hidden, as are the lists of models, steps and modules; in the narrow
tier every other model's SQL body, spec and file. Any use of what is hidden raises
:class:`BlindRead` (an attribute, an isinstance test, a truth test, iterating...). A step
that builds blinded read nothing outside that tier's key, so its text is stored under it;
one that reads further is built in the next tier (the wide tier sees the whole plan).

Errors are never stored: a step that fails blinded is built with the whole plan, which
raises the true error (or succeeds, and is stored under the wide key).

The texts live in a :class:`~snowgen.emit.store.StepStore` beside the project file, with the
facts of parsed bodies (snowgen.plan.facts), so an unchanged body is not even parsed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path

import sqlglot

from snowgen.build.run_metadata import is_recorded
from snowgen.dialects.base import Dialect
from snowgen.emit.render import StepFile, check_files, step_output
from snowgen.emit.store import StepStore
from snowgen.plan.data import ModelPlan, Plan, Step, refusing
from snowgen.plan.dependencies import Access
from snowgen.plan.fingerprint import FILE_FIELDS, digest, document_digest, fingerprint

# -- keys -------------------------------------------------------------------------------------------------


@cache
def code_fingerprint() -> str:
    """What builds and prints the text: snowgen's own source (every module, so a change in
    development counts, not only a new version), sqlglot's version and build, Python's."""
    hashed = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent
    for path in sorted(package.rglob("*.py")):
        hashed.update(path.relative_to(package).as_posix().encode())
        hashed.update(path.read_bytes())
    compiled = getattr(sqlglot.generator, "__file__", "") or ""
    hashed.update(f"sqlglot {sqlglot.__version__} {compiled.endswith('.so')}; python {sys.version}".encode())
    return hashed.hexdigest()


#: the tiers of keys, narrowest first: a step is stored under the first whose blinded build it passes
TIERS = ("local", "narrow", "wide")


@dataclasses.dataclass(frozen=True)
class PlanKeys:
    """Each step's key in each tier (see the module's docstring), less the dialect."""

    parts: Mapping[str, Mapping[str, str]]  # tier -> step id -> digest of what the tier covers
    plan_wide: str  # the narrow tier's plan-wide part

    def key(self, tier: str, dialect: str, step: Step) -> str:
        return digest(tier, dialect, self.parts[tier][step.id])

    def check_files_key(self, dialect: str) -> str:
        """The checks' files: the narrow tier, without a step."""
        return digest("check files", dialect, self.plan_wide)


#: plan fields a local build may not read (nor its key cover): a new model changes them all
_WHOLE_PLAN_FIELDS = ("models", "steps", "modules")


def plan_keys(plan: Plan) -> PlanKeys:
    fields = {f.name: getattr(plan, f.name) for f in dataclasses.fields(plan) if f.name not in _WHOLE_PLAN_FIELDS}
    plan_local = digest(code_fingerprint(), fingerprint(fields), f"recorded={is_recorded(plan)}")
    interfaces = {name: digest(fingerprint(model)) for name, model in plan.models.items()}
    files = {name: document_digest(model.doc) for name, model in plan.models.items()}
    plan_wide = digest(
        plan_local, fingerprint([plan.steps, plan.modules]), *(f"{n}={i}" for n, i in sorted(interfaces.items()))
    )
    all_files = digest(*(f"{n}={d}" for n, d in sorted(files.items())))
    parts: dict[str, dict[str, str]] = {tier: {} for tier in TIERS}
    for step in plan.steps:
        own = files.get(step.model, "") if step.model else ""
        of_step = fingerprint(step)
        parts["local"][step.id] = digest(plan_local, of_step, own, *_open_interfaces(plan, step, interfaces))
        parts["narrow"][step.id] = digest(plan_wide, of_step, own)
        parts["wide"][step.id] = digest(plan_wide, of_step, all_files)
    return PlanKeys(parts, plan_wide)


def _open_interfaces(plan: Plan, step: Step, interfaces: Mapping[str, str]) -> list[str]:
    """The interfaces a local build may read: the step's model's and those of the models it reads."""
    return [f"{name}={interfaces[name]}" for name in _open_models(plan, step)]


def _open_models(plan: Plan, step: Step) -> tuple[str, ...]:
    if step.model is None:
        return ()
    return (step.model, *(d for d in plan.models[step.model].depends_on if d in plan.models))


# -- blinded builds ----------------------------------------------------------------------------------------


class BlindRead(BaseException):  # not an Exception: an `except Exception` must not hide it
    """A blinded step read what its narrow key does not cover."""


_BLIND = refusing(BlindRead, "a blinded build read past its key")


def _blinded(model: ModelPlan) -> ModelPlan:
    blind = {name: _BLIND for name in FILE_FIELDS if getattr(model, name) is not None}
    return dataclasses.replace(model, **blind)  # "is None" stays answerable: generated or not


class _Blinded(Mapping[str, ModelPlan]):
    """Every model with its file fields blinded, each made when first asked for."""

    def __init__(self, models: Mapping[str, ModelPlan]):
        self._models = models
        self._made: dict[str, ModelPlan] = {}

    def __getitem__(self, key: str) -> ModelPlan:
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = _blinded(self._models[key])
        return made

    def __iter__(self) -> Iterator[str]:
        return iter(self._models)

    def __len__(self) -> int:
        return len(self._models)


class _LocalModels(Mapping[str, ModelPlan]):
    """Tier "local": the step's model, and the interfaces of the models it reads; any other
    model, or the list of them, is not to be read."""

    def __init__(self, real: Mapping[str, ModelPlan], blinded: Mapping[str, ModelPlan], open_models: tuple[str, ...]):
        self._models = {name: real[name] if i == 0 else blinded[name] for i, name in enumerate(open_models)}

    def __getitem__(self, key: str) -> ModelPlan:
        if key not in self._models:
            raise BlindRead(key)
        return self._models[key]

    def __iter__(self) -> Iterator[str]:
        raise BlindRead("the models")

    def __len__(self) -> int:
        raise BlindRead("the models")


class _NarrowModels(Mapping[str, ModelPlan]):
    """Tier "narrow": every model's interface, and all of the step's own model."""

    def __init__(self, real: Mapping[str, ModelPlan], blinded: Mapping[str, ModelPlan], name: str | None):
        self._real, self._blinded, self._name = real, blinded, name

    def __getitem__(self, key: str) -> ModelPlan:
        return self._real[key] if key == self._name else self._blinded[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._blinded)

    def __len__(self) -> int:
        return len(self._blinded)


# -- compiling through the cache ---------------------------------------------------------------------------


@dataclasses.dataclass
class DialectWork:
    """One dialect's step files: those found in the store, and the steps still to build."""

    dialect: str
    outputs: dict[str, StepFile]  # step id -> file
    missing: list[Step]


def access_key(key: str) -> str:
    """Where the store keeps what the statements of the step stored under ``key`` read and write."""
    return digest("access", key)


def look_up(plan: Plan, keys: PlanKeys, dialect: str, store: StepStore) -> DialectWork:
    """The files the store holds for ``plan``'s steps: by their local keys first (most steps
    are stored under them), then the others by their narrow and wide keys."""
    outputs: dict[str, StepFile] = {}
    missing = list(plan.steps)
    for tiers in (TIERS[:1], TIERS[1:]):
        wanted = {(tier, step.id): keys.key(tier, dialect, step) for step in missing for tier in tiers}
        found = store.get_many([*wanted.values(), *map(access_key, wanted.values())]) if wanted else {}
        still = []
        for step in missing:
            output = next((_stored(found, key) for tier in tiers if (key := wanted[tier, step.id]) in found), None)
            if output is None:
                still.append(step)
            else:
                outputs[step.id] = output
        missing = still
    return DialectWork(dialect, outputs, missing)


def _stored(found: Mapping[str, str], key: str) -> StepFile | None:
    stored_access = found.get(access_key(key))
    if stored_access is None:
        return None
    return StepFile(found[key], Access.from_json(json.loads(stored_access)))


@dataclasses.dataclass(frozen=True)
class BuiltText:
    step_id: str
    key: str  # its key in the narrowest tier its build stayed within
    output: StepFile

    def store_in(self, store: StepStore) -> None:
        store.add(self.key, self.output.text)
        store.add(access_key(self.key), json.dumps(self.output.access.to_json(), sort_keys=True))


def build_missing(plan: Plan, dialect: Dialect, steps: Sequence[Step], *, keys: PlanKeys) -> list[BuiltText]:
    """Build each of ``steps`` in the narrowest tier whose blinded plan it does not read past
    (see the module's docstring)."""
    recorded = is_recorded(plan)
    blinded = _Blinded(plan.models)
    built = []
    for step in steps:
        local = dataclasses.replace(
            plan, models=_LocalModels(plan.models, blinded, _open_models(plan, step)), steps=_BLIND, modules=_BLIND
        )
        views = (
            ("local", local),
            ("narrow", dataclasses.replace(plan, models=_NarrowModels(plan.models, blinded, step.model))),
        )
        tier, output = _narrowest(plan, views, dialect, step, recorded)
        built.append(BuiltText(step.id, keys.key(tier, dialect.name, step), output))
    return built


def _narrowest(plan: Plan, views, dialect: Dialect, step: Step, recorded: bool) -> tuple[str, StepFile]:
    for tier, blinded_plan in views:
        try:
            return tier, step_output(blinded_plan, dialect, step, recorded)
        except BlindRead:
            continue
        except Exception:
            break  # a step that fails: the whole plan gives its true error (or its text)
    return "wide", step_output(plan, dialect, step, recorded)


def ordered_outputs(plan: Plan, found: Mapping[str, StepFile], built: Iterable[BuiltText]) -> dict[str, StepFile]:
    """Every step's file in plan order."""
    outputs = {**found, **{item.step_id: item.output for item in built}}
    return {step.id: outputs[step.id] for step in plan.steps}


def cached_check_files(plan: Plan, keys: PlanKeys, dialect: Dialect, store: StepStore) -> dict[str, str]:
    """The checks' files, from the store when its key matches."""
    key = keys.check_files_key(dialect.name)
    found = store.get_many([key])
    if key in found:
        return json.loads(found[key])
    try:
        narrow = dataclasses.replace(plan, models=_NarrowModels(plan.models, _Blinded(plan.models), None))
        files = check_files(narrow, dialect)
    except BlindRead:
        return check_files(plan, dialect)
    store.add(key, json.dumps(files, sort_keys=True))
    return files
