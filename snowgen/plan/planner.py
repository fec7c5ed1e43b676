"""Stage 2, plan: :class:`LoadedProject` -> :class:`Plan` (dialect-neutral).

Resolves vars, parses every SQL body once, resolves its table references to qualified
tables (:mod:`snowgen.plan.references`), finds output columns
(:mod:`snowgen.plan.columns`), orders models into modules and steps, and applies
``--select`` once, before anything reads it: the plan it returns is frozen data.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from snowgen.dialects import BODY_DIALECTS, NAMES, unknown_dialect_message
from snowgen.errors import Diagnostic, SnowgenError
from snowgen.plan import data_tests, grants, seeds, staged, stitch, strategies, subset
from snowgen.plan.backfill import Backfill
from snowgen.plan.bodies import BodyPlanner
from snowgen.plan.columns import drop_positions, with_output_columns
from snowgen.plan.dag import order_nodes
from snowgen.plan.data import SETUP_STEP, BodyInputs, ModelPlan, Plan, Step, StepKind
from snowgen.plan.extends import with_extended_modules
from snowgen.plan.facts import BodyMemo
from snowgen.plan.references import (
    SCHEMA_KEYS,
    Relation,
    instance_name,
    model_instances,
    model_schema_key,
    project_relations,
    qualified,
    unknown_name,
)
from snowgen.plan.selection import Graph
from snowgen.plan.sqlbody import BodyContext
from snowgen.plan.strategy import StrategyPlanner
from snowgen.plan.var_settings import with_var_settings
from snowgen.spec.loader import LoadedModel, LoadedProject, project_relative
from snowgen.spec.models import ModelSpec, check_var_value

SETUP_MODULE = "setup"
DEFAULT_VARS: dict[str, Any] = {
    "upsert_lookback_days": 30,
    # how long a run's lock holds before another run may take it over (snowgen.plan.run_lock)
    "lock_timeout_minutes": 720,
}


def plan_project(
    loaded: LoadedProject,
    *,
    target: str | None = None,
    cli_vars: dict[str, Any] | None = None,
    select: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
    backfill: Backfill | None = None,
    memo: BodyMemo | None = None,
) -> Plan:
    """``select``, ``exclude``: a subset run (snowgen.plan.selection, snowgen.plan.subset).
    ``backfill``: plan a selective backfill instead of a regular run (see snowgen.plan.backfill).
    ``memo``: facts of bodies remembered from earlier compiles (snowgen.plan.facts); a body
    whose facts hold is not parsed."""
    _check_dialect_names(loaded)
    variables = resolve_vars(loaded, target, cli_vars or {})
    loaded = with_var_settings(loaded, variables)
    loaded = with_extended_modules(loaded, variables)
    spec = loaded.spec
    schemas = {key: getattr(spec.schemas, key) for key in SCHEMA_KEYS}
    strategy = strategies.for_project(loaded, variables, schemas, backfill)
    seed_plans = seeds.plan_seeds(loaded, strategy)
    bodies = BodyPlanner(memo, variables)
    models = _plan_models(loaded, variables, schemas, strategy, bodies)
    stitch.check_stitches(loaded, models)
    nodes = {name: (m.module, seeds.without_seeds(m.depends_on, seed_plans)) for name, m in models.items()}
    nodes.update(strategy.nodes())
    nodes = stitch.with_mapping_edges(nodes, models)
    stitch.check_order(loaded, models, nodes)
    modules = _module_order(loaded, nodes, strategy)
    ordered = order_nodes(nodes, modules, lambda name: _locate_node(loaded, name))
    models = with_output_columns(loaded, models, ordered, bodies)
    stitch.check_columns(models)
    models = data_tests.with_tests(loaded, models, ordered, variables, schemas)
    drop_positions(models)
    bodies.remember(models)
    selected = subset.plan_subset(select or (), exclude or (), Graph(nodes, models, loaded.root), strategy)
    strategy_plan = strategy.finish(selected)
    staged_tables = staged.find_staged(loaded, models)
    steps = _steps(loaded, ordered, models, strategy, selected)
    steps = data_tests.with_audit_steps(steps, models, strategy.completion_steps())
    steps = staged.with_consume_steps(steps, staged_tables, strategy_plan.complete_steps)
    steps = seeds.with_seed_steps(steps, seed_plans, selected)
    steps = stitch.with_mapping_steps(steps, models)
    models = grants.with_grantees(loaded.doc, spec, models)
    schema_grants = grants.schema_grants(loaded.doc, spec)
    steps = grants.with_grant_steps(steps, models, schema_grants, _relative(loaded, loaded.doc.path))
    return Plan(
        project=spec.project,
        lock_project=loaded.lock_project,
        root=loaded.root,
        spec=spec,
        doc=loaded.doc,
        vars=variables,
        schemas=schemas,
        database=spec.database,
        modules=tuple(m for m in (SETUP_MODULE, *modules) if any(s.module == m for s in steps)),
        steps=tuple(steps),
        models=models,
        selected=frozenset(selected) if selected is not None else None,
        strategy=strategy_plan,
        staged=staged_tables,
        seeds=seed_plans,
        checks=tuple(c for c in strategy.checks() if any(s.id == c.after for s in steps)),
        schema_grants=schema_grants,
    )


# -- vars -------------------------------------------------------------------------------------


def check_default_target(loaded: LoadedProject) -> None:
    """The project's ``target:`` names one of its targets (SG303 at ``target:``)."""
    spec = loaded.spec
    if spec.target is not None and spec.target not in spec.targets:
        raise SnowgenError.at(
            "SG303", unknown_name("target", spec.target, spec.targets), loaded.doc.location(("target",))
        )


def resolve_vars(loaded: LoadedProject, target: str | None, cli_vars: dict[str, Any]) -> dict[str, Any]:
    spec = loaded.spec
    check_default_target(loaded)
    values: dict[str, Any] = {**DEFAULT_VARS, **strategies.default_vars(spec), **spec.vars}
    if target is not None:
        if target not in spec.targets:
            raise SnowgenError.at(
                "SG303", unknown_name("target", target, spec.targets), loaded.doc.location(("targets",), key=True)
            )
        values.update(spec.targets[target].vars)
    for name, value in cli_vars.items():
        if name not in values:
            raise SnowgenError.at("SG401", f"--vars: {unknown_name('var', name, values)}")
        try:
            check_var_value(name, value)
        except ValueError as exc:
            raise SnowgenError.at("SG401", f"--vars: {exc}") from None
        values[name] = value
    _check_lookback(loaded, values)
    _check_lock_timeout(loaded, values)
    return values


def _check_lookback(loaded: LoadedProject, values: dict[str, Any]) -> None:
    """upsert_lookback_days is read by every incremental model: check it once, here."""
    value = values["upsert_lookback_days"]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SnowgenError.at(
            "SG102",
            f"var upsert_lookback_days must be a whole number of days >= 0, got {value!r}",
            loaded.doc.location(("vars", "upsert_lookback_days")),
        )


def _check_lock_timeout(loaded: LoadedProject, values: dict[str, Any]) -> None:
    """lock_timeout_minutes sets every run lock's expiry: a whole number of minutes, at most a year."""
    value = values["lock_timeout_minutes"]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 525600:
        raise SnowgenError.at(
            "SG102",
            f"var lock_timeout_minutes must be a whole number of minutes from 0 to 525600, got {value!r}",
            loaded.doc.location(("vars", "lock_timeout_minutes")),
        )


def _check_dialect_names(loaded: LoadedProject) -> None:
    spec = loaded.spec
    problems: list[Diagnostic] = []
    if spec.sql_dialect not in BODY_DIALECTS:
        problems.append(
            Diagnostic("SG302", unknown_dialect_message(spec.sql_dialect), loaded.doc.location(("sql_dialect",)))
        )
    for name in spec.dialects:
        if name not in NAMES:
            problems.append(
                Diagnostic("SG302", unknown_dialect_message(name), loaded.doc.location(("dialects", name), key=True))
            )
    for target_name, target in spec.targets.items():
        if target.dialect not in NAMES:
            problems.append(
                Diagnostic(
                    "SG302",
                    unknown_dialect_message(target.dialect),
                    loaded.doc.location(("targets", target_name, "dialect")),
                )
            )
    for model in loaded.models:
        for name in model.spec.layout.dialects:
            if name not in NAMES:
                location = model.doc.location(("layout", "dialects", name), key=True)
                problems.append(Diagnostic("SG302", unknown_dialect_message(name), location))
        if model.spec.sql_dialect and model.spec.sql_dialect not in BODY_DIALECTS:
            location = model.doc.location(("sql_dialect",))
            problems.append(Diagnostic("SG302", unknown_dialect_message(model.spec.sql_dialect), location))
    if problems:
        raise SnowgenError(problems)


# -- models ---------------------------------------------------------------------------------------


def _plan_models(
    loaded: LoadedProject,
    variables: dict[str, Any],
    schemas: dict[str, str],
    strategy: StrategyPlanner,
    bodies: BodyPlanner,
) -> dict[str, ModelPlan]:
    """The enabled models (one plan per instance), then the strategy's generated models."""
    enabled = [m for m in loaded.models if m.spec.enabled]
    relations = {
        **project_relations(loaded, enabled, schemas, strategy.tables()),
        **staged.staged_relations(loaded, enabled),
        **seeds.seed_relations(loaded),
    }
    models: dict[str, ModelPlan] = {}
    generated = set(strategy.tables()) | set(strategy.nodes())
    for model in enabled:
        own = strategy.relations_for(model)  # (most models have none: no copy of the whole map)
        model_relations = {**relations, **own} if own else relations
        for plan in _plan_model(loaded, model, variables, schemas, model_relations, bodies):
            _check_name_is_free(plan, models, generated)
            models[plan.name] = plan
    models.update(strategy.models(models))
    return models


def _check_name_is_free(plan: ModelPlan, models: dict[str, ModelPlan], generated: set[str]) -> None:
    """Two models, a model and an instance of another (``<model>__<instance>``), or a model
    and a table the strategy generates would write the same table."""
    other = models.get(plan.name)
    if other is None and plan.name not in generated:
        return
    if other is None:
        clash = "a table the project's incremental strategy generates"
    else:
        where = other.doc.location(("name",))
        clash = f"model '{other.spec.name}' ({where.display_file()}:{where.line})"
    raise SnowgenError.at("SG203", f"model name '{plan.name}' is already used by {clash}", plan.doc.location(("name",)))


def _plan_model(
    loaded: LoadedProject,
    model: LoadedModel,
    variables: dict[str, Any],
    schemas: dict[str, str],
    relations: dict[str, Relation],
    bodies: BodyPlanner,
) -> list[ModelPlan]:
    spec = model.spec
    _check_model_keys(model)
    instances: list[str | None] = model_instances(loaded, model) if spec.for_each else [None]
    plans = []
    for instance in instances:
        extra = {"instance": instance} if instance is not None else {}
        ctx = BodyContext(model.doc, ("sql",), spec.sql_dialect or loaded.spec.sql_dialect, variables, extra)
        name = instance_name(spec.name, instance) if instance else spec.name
        query, facts, inputs = bodies.plan_body(spec.sql, BodyInputs(ctx, relations, name, instance, spec.for_each))
        key = model_schema_key(model)
        plans.append(
            ModelPlan(
                name=name,
                module=spec.module,
                materialization=spec.materialization,
                table=qualified(name, schemas[key], loaded.spec.database),
                query=query,
                spec=spec,
                doc=model.doc,
                depends_on=facts.depends_on,
                output_columns=tuple(spec.columns) if spec.columns else None,
                column_types={c: col.type for c, col in spec.columns.items()},
                scratch=key == "scratch",
                bot_filter=_filter(spec.bot_filter, loaded.spec.bot_filter),
                app_filter=_filter(spec.app_filter, loaded.spec.app_filter),
                upsert_lookback_days=_lookback(spec, variables),
                schema_key=key,
                unique_key=spec.unique_key_columns,
                body=inputs,
                facts=facts,
            )
        )
    return plans


def _check_model_keys(model: LoadedModel) -> None:
    spec = model.spec
    if spec.materialization == "incremental":
        if spec.unique_key is None:
            raise SnowgenError.at(
                "SG103", "an incremental model needs 'unique_key'", model.doc.location(("materialization",))
            )
        return
    for key in ("unique_key", "upsert_date_key", "upsert_lookback_days", "upsert", "dedupe_order_by"):
        if getattr(spec, key) not in (None, []):
            raise SnowgenError.at(
                "SG102", f"'{key}' only applies to materialization: incremental", model.doc.location((key,), key=True)
            )
    if spec.materialization == "view" and spec.layout.model_fields_set:
        raise SnowgenError.at(
            "SG102", "a view has no physical layout; remove 'layout'", model.doc.location(("layout",), key=True)
        )


def _filter(model_value, project_value):
    """The filter a model's macro expands to (None when switched off): the project's
    filter, with whatever keys the model sets replaced."""
    if model_value is False:
        return None
    if model_value is None:
        chosen = project_value
    elif model_value is True:
        chosen = project_value.model_copy(update={"enabled": True})
    else:
        update = {"enabled": True, **{k: getattr(model_value, k) for k in model_value.model_fields_set}}
        chosen = project_value.model_copy(update=update)
    return chosen if chosen.enabled else None


def _lookback(spec: ModelSpec, variables: dict[str, Any]) -> int:
    if spec.disable_upsert_lookback:
        return 0
    if spec.upsert_lookback_days is not None:
        return spec.upsert_lookback_days
    return variables["upsert_lookback_days"]


# -- modules, order, selection, steps -----------------------------------------------------------------


def _module_order(
    loaded: LoadedProject, nodes: dict[str, tuple[str, tuple[str, ...]]], strategy: StrategyPlanner
) -> list[str]:
    declared = list(loaded.spec.modules)
    used = {module for module, _ in nodes.values()}
    trailing = [m for m in strategy.trailing_modules() if m in used]
    if declared:
        for model in loaded.models:
            if model.spec.enabled and model.spec.module not in declared:
                raise SnowgenError.at(
                    "SG210", unknown_name("module", model.spec.module, declared), model.doc.location(("module",))
                )
        leading = [m for m in strategy.leading_modules() if m not in declared]
        order = [*leading, *declared, *[m for m in trailing if m not in declared]]
    else:
        order = _derived_module_order(nodes, trailing)
    _check_module_dependencies(loaded, nodes, order)
    return order


def _derived_module_order(nodes: dict[str, tuple[str, tuple[str, ...]]], trailing: list[str]) -> list[str]:
    """Modules ordered so that a module comes after every module it reads from."""
    edges: dict[str, set[str]] = {}
    for module, depends in nodes.values():
        edges.setdefault(module, set())
        for dep in depends:
            other = nodes[dep][0]
            if other != module:
                edges[module].add(other)
    order: list[str] = []
    remaining = {m for m in edges if m not in trailing}
    while remaining:
        ready = sorted(m for m in remaining if not (edges[m] - set(order)))
        if not ready:  # modules reading each other: fall back to names; the check reports it
            ready = sorted(remaining)
        order.append(ready[0])
        remaining.discard(ready[0])
    return order + [m for m in trailing if m in edges]


def _check_module_dependencies(loaded: LoadedProject, nodes, order: list[str]) -> None:
    rank = {m: i for i, m in enumerate(order)}
    for name, (module, depends) in sorted(nodes.items()):
        for dep in depends:
            other = nodes[dep][0]
            if rank[other] > rank[module]:
                raise SnowgenError.at(
                    "SG202",
                    f"model '{name}' (module '{module}') reads '{dep}' from the later module '{other}'",
                    _locate_node(loaded, name),
                )


def _locate_node(loaded: LoadedProject, name: str):
    for model in loaded.models:
        if name == model.spec.name or name.startswith(model.spec.name + "__"):
            return model.doc.location(("name",))
    return loaded.doc.location(("incremental",), key=True)


def _steps(
    loaded: LoadedProject,
    ordered: list[str],
    models: dict[str, ModelPlan],
    strategy: StrategyPlanner,
    selected: set[str] | None,
) -> list[Step]:
    setup = Step(
        id=SETUP_STEP, module=SETUP_MODULE, kind=StepKind.SCHEMAS, spec_file=_relative(loaded, loaded.doc.path)
    )
    steps = [setup]
    for name in ordered:
        if selected is not None and name not in selected:
            continue
        model = models.get(name)
        if model is None:
            steps.extend(strategy.steps_for(name))
            continue
        steps.append(
            Step(
                id=name,
                module=model.module,
                kind=StepKind(model.materialization),
                spec_file=_relative(loaded, model.doc.path),
                depends_on=(setup.id, *model.depends_on),
                model=name,
            )
        )
    return steps


def _relative(loaded: LoadedProject, path) -> str:
    return project_relative(loaded.root, path)
