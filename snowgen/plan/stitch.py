"""Stitching: a model option that re-sets one column of the model's whole table from a
mapping model after every upsert or rebuild (Snowplow's user stitching, reference §7.2).

```yaml
stitch: {column: stitched_user_id, key: domain_userid, mapping: user_mapping, value: user_id}
```

After the model's own statements, its step runs one more statement: every row whose ``key``
has a row in the mapping (matched to the mapping's single-column unique key) gets that row's
``value`` in ``column``. Only rows whose value changes are written (a null-safe comparison),
so a re-run writes nothing and the warehouses rewrite no untouched partitions or files.
The statement scans the whole table joined to the mapping on every run, as upstream does.

The step depends on the mapping's step: the mapping comes earlier in the plan (its table
exists on the first run), and ``--select`` of the model selects the mapping too. It is a
dependency of the step only, not of the body: an incremental strategy still tracks the
model by what its SQL reads.
"""

from __future__ import annotations

from dataclasses import replace

from snowgen.errors import SnowgenError
from snowgen.plan.columns import require_output_column
from snowgen.plan.dag import reachable
from snowgen.plan.data import ModelPlan, Step
from snowgen.plan.references import unknown_name
from snowgen.spec.loader import LoadedModel, LoadedProject

Nodes = dict[str, tuple[str, tuple[str, ...]]]  # name -> (module, what it runs after)


# -- checks and dependencies ------------------------------------------------------------------
def check_stitches(loaded: LoadedProject, models: dict[str, ModelPlan]) -> None:
    """Each ``stitch`` names a usable mapping and belongs to a model with a table."""
    for model in _stitched(models):
        _check_materialization(model)
        mapping = _mapping_model(loaded, model)
        _check_mapping(model, mapping)


def with_mapping_edges(nodes: Nodes, models: dict[str, ModelPlan]) -> Nodes:
    """``nodes`` where each stitched model also runs after its mapping."""
    result = dict(nodes)
    for model in _stitched(models):
        module, depends = result[model.name]
        if model.spec.stitch.mapping not in depends:
            result[model.name] = (module, (*depends, model.spec.stitch.mapping))
    return result


def check_order(loaded: LoadedProject, models: dict[str, ModelPlan], nodes: Nodes) -> None:
    """The mapping can run before each model it stitches (``nodes`` hold the mapping edges):
    it does not read the model, directly or through others, and its module is not later."""
    for model in _stitched(models):
        mapping = model.spec.stitch.mapping
        if _reaches(nodes, mapping, model.name):
            message = f"reads model '{model.name}' (directly or through other models), so it cannot be updated "
            _fail(model, ("stitch", "mapping"), f"mapping model '{mapping}' {message}before the model is stitched")
        mapping_module = nodes[mapping][0]
        if _module_runs_later(loaded, nodes, mapping_module, model.module):
            later = f"is in module '{mapping_module}', which runs after module '{model.module}' of model '{model.name}'"
            _fail(model, ("stitch", "mapping"), f"mapping model '{mapping}' {later}; the mapping must be updated first")


def check_columns(models: dict[str, ModelPlan]) -> None:
    """``column`` and ``key`` are output columns of the model, ``value`` one of the mapping;
    ``column`` is not a key (the upsert and the match rely on the keys staying put)."""
    for model in _stitched(models):
        stitch, loaded_model = model.spec.stitch, LoadedModel(model.spec, model.doc)
        if model.output_columns is not None:  # unknown for a table over `select *` of an external table
            for part in ("column", "key"):
                column = getattr(stitch, part)
                require_output_column(loaded_model, ("stitch", part), column, model.spec.name, model.output_columns)
        mapping = models[stitch.mapping]
        require_output_column(loaded_model, ("stitch", "value"), stitch.value, mapping.name, mapping.output_columns)
        if stitch.column == stitch.key or stitch.column in model.spec.unique_key_columns:
            _fail(model, ("stitch", "column"), f"column '{stitch.column}' is a key of model '{model.spec.name}'; "
                  "stitch a column that is neither 'stitch.key' nor part of 'unique_key'")  # fmt: skip


def with_mapping_steps(steps: list[Step], models: dict[str, ModelPlan]) -> list[Step]:
    """Each stitched model's step also depends on its mapping's step (plan.json's
    ``depends_on``, for schedulers that run steps in parallel)."""
    result = []
    for step in steps:
        model = models.get(step.model) if step.model else None
        if model is not None and model.spec.stitch is not None and model.spec.stitch.mapping not in step.depends_on:
            step = replace(step, depends_on=(*step.depends_on, model.spec.stitch.mapping))
        result.append(step)
    return result


def _stitched(models: dict[str, ModelPlan]) -> list[ModelPlan]:
    return [m for m in models.values() if m.spec.stitch is not None]


def _check_materialization(model: ModelPlan) -> None:
    if model.materialization == "view":
        _fail(model, ("stitch",), "a view stores no rows to stitch; make the model a table or incremental, "
              "or stitch the model the view reads", key=True)  # fmt: skip


def _mapping_model(loaded: LoadedProject, model: ModelPlan) -> LoadedModel:
    name = model.spec.stitch.mapping
    by_name = {m.spec.name: m for m in loaded.models}
    mapping = by_name.get(name)
    if mapping is None or not mapping.spec.enabled:
        enabled = [n for n, m in by_name.items() if m.spec.enabled]
        message = f"model '{name}' is disabled (enabled: false)" if mapping else unknown_name("model", name, enabled)
        raise SnowgenError.at("SG201", f"stitch: mapping: {message}", model.doc.location(("stitch", "mapping")))
    return mapping


def _check_mapping(model: ModelPlan, mapping: LoadedModel) -> None:
    spec, name = mapping.spec, mapping.spec.name
    if name == model.spec.name:
        _fail(model, ("stitch", "mapping"), f"model '{name}' cannot be its own mapping")
    keys = spec.unique_key_columns
    if spec.materialization != "incremental" or len(keys) != 1:
        has = f"a composite unique_key ({', '.join(keys)})" if keys else "no unique_key"
        has += "" if keys else f" (materialization: {spec.materialization})"
        _fail(model, ("stitch", "mapping"), f"mapping model '{name}' has {has}; a mapping is an incremental model "
              "with a single-column unique_key, so that each key maps to one value")  # fmt: skip
    if spec.for_each:
        _fail(model, ("stitch", "mapping"), f"mapping model '{name}' is built once per instance of '{spec.for_each}' "
              "(for_each); a mapping is one table")  # fmt: skip


def _reaches(nodes: Nodes, start: str, goal: str) -> bool:
    """Whether ``start`` runs after ``goal`` through the edges of ``nodes``."""
    return goal in reachable({name: deps for name, (_, deps) in nodes.items()}, {start})


def _module_runs_later(loaded: LoadedProject, nodes: Nodes, module: str, other: str) -> bool:
    """Whether ``module`` must run after ``other``: later in the declared ``modules``, or
    (derived order) reading from ``other``, directly or through further modules."""
    if module == other:
        return False
    declared = list(loaded.spec.modules)
    if declared:
        return module in declared and other in declared and declared.index(module) > declared.index(other)
    reads: dict[str, set[str]] = {}
    for owner, depends in nodes.values():
        reads.setdefault(owner, set()).update(nodes[d][0] for d in depends if d in nodes)
    modules: Nodes = {m: (m, tuple(sorted(r - {m}))) for m, r in reads.items()}
    return _reaches(modules, module, other)


def _fail(model: ModelPlan, path: tuple, message: str, key: bool = False) -> None:
    raise SnowgenError.at("SG230", f"stitch: {message}", model.doc.location(path, key=key))
