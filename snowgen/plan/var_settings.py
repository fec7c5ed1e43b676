"""Settings taken from vars (``enabled: "{{ var('enable_consent') }}"``), read at plan time.

The spec keeps such a setting as a VarRef; planning resolves the vars (project, then
target, then ``--vars``) and replaces every VarRef with its var's value, checked against the
setting's own type, before anything reads the spec. A switched-off context or stitch block is
then removed, so the rest of the planner sees plain values only, as if they had been
written in the YAML.
"""

from __future__ import annotations

import functools
import types
import typing
from dataclasses import replace
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from snowgen.errors import SnowgenError
from snowgen.plan.references import unknown_name
from snowgen.spec.loader import LoadedModel, LoadedProject
from snowgen.spec.models import SessionsStrategySpec, VarRef
from snowgen.spec.yaml_source import YamlDocument, YamlPath


def with_var_settings(loaded: LoadedProject, variables: dict[str, Any]) -> LoadedProject:
    """``loaded`` with every setting read from a var replaced by the var's value."""
    spec = _resolved(loaded.spec, _Place(loaded.doc, ()), variables)
    spec = _without_disabled_contexts(spec)
    models = tuple(_resolved_model(model, variables) for model in loaded.models)
    if spec is loaded.spec and all(new is old for new, old in zip(models, loaded.models, strict=True)):
        return loaded
    return replace(loaded, spec=spec, models=models)


def _resolved_model(model: LoadedModel, variables: dict[str, Any]) -> LoadedModel:
    spec = _resolved(model.spec, _Place(model.doc, ()), variables)
    if spec.stitch is not None and not spec.stitch.enabled:
        spec = spec.model_copy(update={"stitch": None})
    return model if spec is model.spec else LoadedModel(spec, model.doc)


def _without_disabled_contexts(spec):
    incremental = spec.incremental
    if not isinstance(incremental, SessionsStrategySpec) or all(c.enabled for c in incremental.contexts):
        return spec
    contexts = [c for c in incremental.contexts if c.enabled]
    return spec.model_copy(update={"incremental": incremental.model_copy(update={"contexts": contexts})})


# -- the walk -----------------------------------------------------------------------------------


class _Place:
    """Where a value stands in its YAML file (for errors)."""

    def __init__(self, doc: YamlDocument, path: YamlPath):
        self.doc, self.path = doc, path

    def __truediv__(self, key: str | int) -> _Place:
        return _Place(self.doc, (*self.path, key))


def _resolved(value: Any, place: _Place, variables: dict[str, Any]) -> Any:
    """``value`` (a spec, list or dict) with its VarRefs replaced; the same object when it
    has none, so an untouched spec is shared, not copied."""
    if isinstance(value, BaseModel):
        return _resolved_spec(value, place, variables)
    if isinstance(value, list):
        items = [_resolved(item, place / index, variables) for index, item in enumerate(value)]
        return value if all(new is old for new, old in zip(items, value, strict=True)) else items
    if isinstance(value, dict):
        items = {key: _resolved(item, place / key, variables) for key, item in value.items()}
        return value if all(items[key] is item for key, item in value.items()) else items
    return value


def _resolved_spec(spec: BaseModel, place: _Place, variables: dict[str, Any]) -> BaseModel:
    update = {}
    for name in _fields_with_settings(type(spec)):
        value, field = getattr(spec, name), type(spec).model_fields[name]
        here = place / (field.alias or name)
        if isinstance(value, VarRef):
            update[name] = _value_of(value, field.annotation, here, variables)
        else:
            new = _resolved(value, here, variables)
            if new is not value:
                update[name] = new
    return spec.model_copy(update=update) if update else spec


def _value_of(ref: VarRef, annotation: Any, place: _Place, variables: dict[str, Any]) -> Any:
    return setting_value(ref, annotation, place.doc.location(place.path), variables)


def setting_value(
    ref: VarRef, annotation: Any, where: Any, variables: dict[str, Any], label: str = "", needs: str | None = None
) -> Any:
    """The value of the var ``ref`` names, checked against ``annotation`` (the setting's type,
    VarRef among its members) without conversion; SG240 at ``where`` otherwise. ``label``
    starts the message (the setting's key where the location does not say it), ``needs``
    words the type when the setting's own words say more."""
    if ref.var not in variables:
        raise SnowgenError.at("SG240", f"{label}{unknown_name('var', ref.var, variables)}", where)
    value = variables[ref.var]
    try:
        return _setting_type(annotation).validate_python(value, strict=True)
    except ValidationError:
        takes = needs or _needs(annotation)
        message = f"{label}var '{ref.var}' is {value!r} ({type(value).__name__}); this setting takes {takes}"
        raise SnowgenError.at("SG240", message, where) from None


def _needs(annotation: Any) -> str:
    """What a setting takes, in words (for SG240)."""
    members = [m for m in typing.get_args(annotation) if m not in (VarRef, type(None))]
    kind = members[0] if members else annotation
    if kind is bool:
        return "true or false"
    if kind is str:
        return "text (a SQL expression)"
    item = typing.get_args(kind)[0] if typing.get_origin(kind) is list else None
    if isinstance(item, type) and issubclass(item, BaseModel):
        keys = ", ".join(field.alias or name for name, field in item.model_fields.items())
        return f"a list of maps with the keys {keys}"
    return "a list of strings"


@functools.cache
def _setting_type(annotation: Any) -> TypeAdapter:
    """What a VarRef may stand for: the setting's type without the VarRef."""
    members = [m for m in typing.get_args(annotation) if m is not VarRef]
    return TypeAdapter(functools.reduce(lambda a, b: a | b, members) if len(members) > 1 else members[0])


@functools.cache
def _fields_with_settings(cls: type[BaseModel]) -> tuple[str, ...]:
    """The fields of ``cls`` that may hold a VarRef, directly or inside a nested spec."""
    return tuple(name for name, field in cls.model_fields.items() if _can_hold_setting(field.annotation))


def _can_hold_setting(annotation: Any) -> bool:
    if annotation is VarRef:
        return True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return bool(_fields_with_settings(annotation))
    if isinstance(annotation, (types.UnionType, typing._GenericAlias, types.GenericAlias)) or typing.get_origin(
        annotation
    ):
        return any(_can_hold_setting(arg) for arg in typing.get_args(annotation))
    return False
