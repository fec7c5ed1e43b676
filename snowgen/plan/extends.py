"""Which modules of an extended project run (``extends.modules``, docs/spec.md "Extending
a project"), decided once the vars are known: a target or ``--vars`` may choose them
through a var. The models of the modules left out are planned as disabled ones are."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from snowgen.errors import SnowgenError
from snowgen.names import canonical
from snowgen.plan.references import unknown_name
from snowgen.plan.var_settings import setting_value
from snowgen.spec.loader import ExtendedModules, LoadedModel, LoadedProject
from snowgen.spec.models import VarRef

_MODULE_NAMES = "a list of module names"


def with_extended_modules(loaded: LoadedProject, variables: dict[str, Any]) -> LoadedProject:
    """``loaded`` with the models of every extended module left out by ``extends.modules``
    disabled (a project that extends another may leave out its derived modules)."""
    left_out: set[str] = set()
    for extended in loaded.extended:
        chosen = _chosen_modules(extended, variables)
        if chosen is not None:
            left_out |= {m.spec.name for m in loaded.models if _left_out(m, extended, chosen)}
    if not left_out:
        return loaded
    disabled = {"enabled": False}
    models = [
        LoadedModel(m.spec.model_copy(update=disabled), m.doc) if m.spec.name in left_out else m for m in loaded.models
    ]
    return replace(loaded, models=tuple(models))


def _left_out(model: LoadedModel, extended: ExtendedModules, chosen: tuple[str, ...]) -> bool:
    return model.spec.name in extended.models and model.spec.module not in chosen


def _chosen_modules(extended: ExtendedModules, variables: dict[str, Any]) -> tuple[str, ...] | None:
    """The module names ``extends.modules`` gives (read from its var), checked; None: all."""
    chosen = extended.chosen
    if chosen is None:
        return None
    if isinstance(chosen, VarRef):
        chosen = setting_value(
            chosen, list[str] | VarRef, extended.where, variables, "extends.modules: ", _MODULE_NAMES
        )
    for module in chosen:
        if canonical(module) not in extended.modules:
            message = (
                f"extends.modules: {unknown_name('module', module, extended.modules)} of project {extended.project}"
            )
            raise SnowgenError.at("SG210", message, extended.where)
    return tuple(canonical(m) for m in chosen)
