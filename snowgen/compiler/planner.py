"""Stage 2, plan: :class:`LoadedProject` -> :class:`Plan` (dialect-neutral).

Resolves vars, parses every SQL body once, resolves its table references to qualified
tables, orders models into modules and steps, and applies ``--select``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from sqlglot import exp

from snowgen.compiler import strategies
from snowgen.compiler.dag import order_nodes
from snowgen.compiler.plan import ModelPlan, Plan, Step
from snowgen.compiler.sqlbody import BodyContext, ParsedBody, body_error, node_position, parse_body
from snowgen.dialects import BODY_DIALECTS, DIALECTS, unknown_dialect_message
from snowgen.errors import Diagnostic, SnowgenError
from snowgen.spec.loader import LoadedModel, LoadedProject
from snowgen.spec.models import ModelSpec, check_var_value

SETUP_MODULE = "setup"
SCHEMA_KEYS = ("derived", "scratch", "manifest")
DEFAULT_VARS: dict[str, Any] = {"upsert_lookback_days": 30}


@dataclass(frozen=True)
class Relation:
    """What a name in a SQL body resolves to."""

    tables: tuple[exp.Table, ...]  # several for a model or source built once per instance
    models: tuple[str, ...]  # the steps it depends on (none for a source)
    instances: tuple[str, ...] = ()  # instance names, parallel to ``tables``


def plan_project(
    loaded: LoadedProject,
    *,
    target: str | None = None,
    cli_vars: dict[str, Any] | None = None,
    select: Iterable[str] | None = None,
) -> Plan:
    spec = loaded.spec
    _check_dialect_names(loaded)
    variables = resolve_vars(loaded, target, cli_vars or {})
    schemas = {key: getattr(spec.schemas, key) for key in SCHEMA_KEYS}
    strategy = strategies.for_project(loaded, variables, schemas)
    enabled = [m for m in loaded.models if m.spec.enabled]
    relations = _relations(loaded, enabled, schemas, strategy)
    models: dict[str, ModelPlan] = {}
    for model in enabled:
        for plan in _plan_model(loaded, model, variables, schemas, relations):
            models[plan.name] = plan
    models.update(strategy.models(models))
    nodes = {name: (m.module, m.depends_on) for name, m in models.items()}
    nodes.update(strategy.nodes())
    modules = _module_order(loaded, nodes, strategy)
    ordered = order_nodes(nodes, modules, lambda name: _locate_node(loaded, name))
    models = _with_output_columns(loaded, models, ordered)
    _drop_positions(models)
    selected = _select(loaded, select, nodes) if select else None
    if selected is not None:
        selected |= strategy.select(selected)
    steps = _steps(loaded, ordered, models, strategy, selected)
    return Plan(
        project=spec.project,
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
        strategy=strategy,
    )


# -- vars -------------------------------------------------------------------------------------


def resolve_vars(loaded: LoadedProject, target: str | None, cli_vars: dict[str, Any]) -> dict[str, Any]:
    spec = loaded.spec
    values: dict[str, Any] = {**DEFAULT_VARS, **strategies.default_vars(spec), **spec.vars}
    if target is not None:
        if target not in spec.targets:
            raise SnowgenError.at("SG303", _unknown("target", target, spec.targets), loaded.doc.location(("targets",), key=True))
        values.update(spec.targets[target].vars)
    for name, value in cli_vars.items():
        if name not in values:
            raise SnowgenError.at("SG401", f"--vars: {_unknown('var', name, values)}")
        try:
            check_var_value(name, value)
        except ValueError as exc:
            raise SnowgenError.at("SG401", f"--vars: {exc}") from None
        values[name] = value
    return values


def _unknown(kind: str, name: str, known: Iterable[str]) -> str:
    known = list(known)
    hint = difflib.get_close_matches(name, known, n=1)
    if hint:
        return f"unknown {kind} '{name}' (did you mean '{hint[0]}'?)"
    return f"unknown {kind} '{name}'" + (f"; known: {', '.join(sorted(known))}" if known else "")


def _check_dialect_names(loaded: LoadedProject) -> None:
    spec = loaded.spec
    problems: list[Diagnostic] = []
    if spec.sql_dialect not in BODY_DIALECTS:
        problems.append(Diagnostic("SG302", unknown_dialect_message(spec.sql_dialect), loaded.doc.location(("sql_dialect",))))
    for name in spec.dialects:
        if name not in DIALECTS:
            problems.append(Diagnostic("SG302", unknown_dialect_message(name), loaded.doc.location(("dialects", name), key=True)))
    for target_name, target in spec.targets.items():
        if target.dialect not in DIALECTS:
            problems.append(
                Diagnostic("SG302", unknown_dialect_message(target.dialect), loaded.doc.location(("targets", target_name, "dialect")))
            )
    for model in loaded.models:
        for name in model.spec.layout.dialects:
            if name not in DIALECTS:
                location = model.doc.location(("layout", "dialects", name), key=True)
                problems.append(Diagnostic("SG302", unknown_dialect_message(name), location))
        if model.spec.sql_dialect and model.spec.sql_dialect not in BODY_DIALECTS:
            location = model.doc.location(("sql_dialect",))
            problems.append(Diagnostic("SG302", unknown_dialect_message(model.spec.sql_dialect), location))
    if problems:
        raise SnowgenError(problems)


# -- names --------------------------------------------------------------------------------------


def qualified(name: str, schema: str, database: str | None) -> exp.Table:
    return exp.Table(
        this=exp.to_identifier(name),
        db=exp.to_identifier(schema),
        catalog=exp.to_identifier(database) if database else None,
    )


def _relations(loaded: LoadedProject, enabled: list[LoadedModel], schemas: dict[str, str], strategy) -> dict[str, Relation]:
    spec = loaded.spec
    relations: dict[str, Relation] = {}
    for name, source in spec.sources.items():
        if source.instances:
            tables = tuple(
                qualified(inst.table or source.table, inst.schema_ or source.schema_, inst.database or source.database or spec.database)
                for inst in source.instances.values()
            )
        else:
            tables = (qualified(source.table, source.schema_, source.database or spec.database),)
        relations[name] = Relation(tables, (), tuple(source.instances))
    for name, table in strategy.tables().items():
        relations[name] = Relation((table,), (name,))
    for model in enabled:
        schema = schemas[_schema_key(model)]
        names = [model.spec.name]
        if model.spec.for_each:
            names = [instance_name(model.spec.name, i) for i in _instances(loaded, model)]
        tables = tuple(qualified(n, schema, spec.database) for n in names)
        instances = tuple(_instances(loaded, model)) if model.spec.for_each else ()
        relations[model.spec.name] = Relation(tables, tuple(names), instances)
    return relations


def instance_name(model: str, instance: str) -> str:
    return f"{model}__{instance}"


def _instances(loaded: LoadedProject, model: LoadedModel) -> list[str]:
    source = loaded.spec.sources.get(model.spec.for_each)
    if source is None or not source.instances:
        known = [n for n, s in loaded.spec.sources.items() if s.instances]
        raise SnowgenError.at(
            "SG201",
            f"for_each: {_unknown('source with instances', model.spec.for_each, known)}",
            model.doc.location(("for_each",)),
        )
    return list(source.instances)


def _schema_key(model: LoadedModel) -> str:
    key = model.spec.schema_ or "derived"
    if key not in SCHEMA_KEYS:
        raise SnowgenError.at(
            "SG102",
            f"schema: expected one of {', '.join(SCHEMA_KEYS)} (the keys of the project's 'schemas'), got '{key}'",
            model.doc.location(("schema",)),
        )
    return key


# -- models ---------------------------------------------------------------------------------------


def _plan_model(
    loaded: LoadedProject, model: LoadedModel, variables: dict[str, Any], schemas: dict[str, str], relations: dict[str, Relation]
) -> list[ModelPlan]:
    spec = model.spec
    _check_model_keys(model)
    instances: list[str | None] = _instances(loaded, model) if spec.for_each else [None]
    plans = []
    for instance in instances:
        extra = {"instance": instance} if instance is not None else {}
        ctx = BodyContext(model.doc, ("sql",), spec.sql_dialect or loaded.spec.sql_dialect, variables, extra)
        parsed = parse_body(spec.sql, ctx)
        name = instance_name(spec.name, instance) if instance else spec.name
        depends = _resolve_tables(parsed, ctx, relations, name, instance, spec.for_each)
        key = _schema_key(model)
        plans.append(
            ModelPlan(
                name=name,
                module=spec.module,
                materialization=spec.materialization,
                table=qualified(name, schemas[key], loaded.spec.database),
                query=parsed.query,
                spec=spec,
                doc=model.doc,
                depends_on=depends,
                output_columns=tuple(spec.columns) if spec.columns else None,
                column_types={c: col.type for c, col in spec.columns.items()},
                scratch=key == "scratch",
                bot_filter=_filter(spec.bot_filter, loaded.spec.bot_filter),
                app_filter=_filter(spec.app_filter, loaded.spec.app_filter),
                upsert_lookback_days=_lookback(spec, variables, model),
                instance=instance,
            )
        )
    return plans


def _check_model_keys(model: LoadedModel) -> None:
    spec = model.spec
    if spec.materialization == "incremental":
        if spec.unique_key is None:
            raise SnowgenError.at("SG103", "an incremental model needs 'unique_key'", model.doc.location(("materialization",)))
        return
    for key in ("unique_key", "upsert_date_key", "upsert_lookback_days", "upsert"):
        if getattr(spec, key) is not None:
            raise SnowgenError.at(
                "SG102", f"'{key}' only applies to materialization: incremental", model.doc.location((key,), key=True)
            )
    if spec.materialization == "view" and spec.layout.model_fields_set:
        raise SnowgenError.at("SG102", "a view has no physical layout; remove 'layout'", model.doc.location(("layout",), key=True))


def _filter(model_value, project_value):
    """The filter a model's macro expands to (None when switched off): the project's
    filter, with whatever keys the model sets replaced."""
    if model_value is False:
        return None
    if model_value is None or model_value is True:
        chosen = project_value
    else:
        chosen = project_value.model_copy(update={k: getattr(model_value, k) for k in model_value.model_fields_set})
    return chosen if chosen.enabled else None


def _lookback(spec: ModelSpec, variables: dict[str, Any], model: LoadedModel) -> int:
    if spec.disable_upsert_lookback:
        return 0
    if spec.upsert_lookback_days is not None:
        return spec.upsert_lookback_days
    value = variables.get("upsert_lookback_days", 30)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise SnowgenError.at("SG102", f"var upsert_lookback_days must be a whole number of days >= 0, got {value!r}", model.doc.location(("name",)))
    return value


def _resolve_tables(
    parsed: ParsedBody, ctx: BodyContext, relations: dict[str, Relation], model: str, instance: str | None, for_each: str | None
) -> tuple[str, ...]:
    query = parsed.query
    ctes = {cte.alias_or_name.lower() for cte in query.find_all(exp.CTE)}
    depends: list[str] = []
    for table in list(query.find_all(exp.Table)):
        if table.args.get("db") or not isinstance(table.this, exp.Identifier):
            continue  # qualified names are external tables; table functions stay as written
        name = table.name
        if name.lower() in ctes:
            continue
        relation = relations.get(name)
        if relation is None or model in relation.models:
            line, col = node_position(table, parsed.text)
            message = f"table '{name}' is neither a model nor a source" if relation is None else f"model '{model}' reads itself"
            hint = difflib.get_close_matches(name, list(relations), n=1)
            if relation is None and hint:
                message += f" (did you mean '{hint[0]}'?)"
            raise body_error(ctx, "SG201", message, line, col)
        tables = relation.tables
        if instance is not None and name == for_each:
            tables = (tables[relation.instances.index(instance)],)
        table.replace(_relation_node(tables, table.alias or name))
        depends.extend(m for m in relation.models if m not in depends)
    return tuple(depends)


def _relation_node(tables: tuple[exp.Table, ...], alias: str) -> exp.Expr:
    if len(tables) == 1:
        return exp.alias_(tables[0].copy(), alias, table=True)
    selects = [exp.Select(expressions=[exp.Star()]).from_(t.copy(), copy=False) for t in tables]
    union = selects[0]
    for select in selects[1:]:
        union = exp.Union(this=union, expression=select, distinct=False)
    return exp.Subquery(this=union, alias=exp.TableAlias(this=exp.to_identifier(alias)))


def _with_output_columns(loaded: LoadedProject, models: dict[str, ModelPlan], ordered: list[str]) -> dict[str, ModelPlan]:
    """Find each model's output columns in dependency order, expanding ``*`` where the
    columns of the relation it reads are known (declared source columns, upstream models)."""
    known: dict[tuple[str, str], tuple[str, ...]] = {}
    for name, source in loaded.spec.sources.items():
        if source.columns:
            for table in _source_tables(loaded, source):
                known[_table_key(table)] = tuple(source.columns)
    result = dict(models)
    for name in ordered:
        model = result.get(name)
        if model is None:
            continue
        if model.query is not None:
            expand_stars(model.query, known)
        body_output = _output_columns(model.query) if model.query is not None else None
        output = model.output_columns or body_output
        model = replace(model, output_columns=output)
        if model.doc is not loaded.doc:
            _check_columns(LoadedModel(model.spec, model.doc), output, body_output)
        result[name] = model
        if output is not None:
            known[_table_key(model.table)] = output
    return result


def _drop_positions(models: dict[str, ModelPlan]) -> None:
    """Parse positions were for error messages; every dialect copies each body, and the
    position dicts make those copies several times slower."""
    for model in models.values():
        if model.query is not None:
            for node in model.query.walk():
                node._meta = None


def _table_key(table: exp.Table) -> tuple[str, str]:
    return (table.db.lower(), table.name.lower())


def _source_tables(loaded: LoadedProject, source) -> list[exp.Table]:
    database = source.database or loaded.spec.database
    if not source.instances:
        return [qualified(source.table, source.schema_, database)]
    return [
        qualified(i.table or source.table, i.schema_ or source.schema_, i.database or database)
        for i in source.instances.values()
    ]


def expand_stars(query: exp.Query, known: dict[tuple[str, str], tuple[str, ...]]) -> None:
    """Replace ``*`` and ``alias.*`` in the outer SELECT by the columns they stand for."""
    if not isinstance(query, exp.Select):
        return
    relations = _from_relations(query, known)
    projections: list[exp.Expr] = []
    for item in query.expressions:
        if isinstance(item, exp.Star) and len(relations) == 1:
            alias, columns = next(iter(relations.items()))
        elif isinstance(item, exp.Column) and isinstance(item.this, exp.Star) and item.table in relations:
            alias, columns = item.table, relations[item.table]
        else:
            projections.append(item)
            continue
        if columns is None:
            projections.append(item)
            continue
        projections.extend(exp.column(c, table=alias) for c in columns)
    query.set("expressions", projections)


def _from_relations(select: exp.Select, known) -> dict[str, tuple[str, ...] | None]:
    """alias -> columns (None if unknown) for every relation in FROM and JOINs."""
    nodes = [select.args["from_"].this] if select.args.get("from_") else []
    nodes += [join.this for join in select.args.get("joins") or []]
    relations: dict[str, tuple[str, ...] | None] = {}
    for node in nodes:
        alias = node.alias_or_name
        if isinstance(node, exp.Table):
            relations[alias] = known.get(_table_key(node))
        elif isinstance(node, exp.Subquery):
            inner = node.this
            while isinstance(inner, exp.SetOperation):
                inner = inner.this
            relations[alias] = _output_columns(inner) if isinstance(inner, exp.Select) else None
            if relations[alias] is None and isinstance(inner, exp.Select) and inner.args.get("from_"):
                first = inner.args["from_"].this
                if isinstance(first, exp.Table) and _is_star_only(inner):
                    relations[alias] = known.get(_table_key(first))
        else:
            relations[alias] = None
    return relations


def _is_star_only(select: exp.Select) -> bool:
    return len(select.expressions) == 1 and isinstance(select.expressions[0], exp.Star)


def _output_columns(query: exp.Query) -> tuple[str, ...] | None:
    select = query
    while isinstance(select, exp.SetOperation):
        select = select.this
    if not isinstance(select, exp.Select):
        return None
    if any(isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star)) for e in select.expressions):
        return None
    names = tuple(select.named_selects)
    if len(names) != len(select.expressions) or any(not n for n in names):
        return None
    return names


def _check_columns(model: LoadedModel, output: tuple[str, ...] | None, body_output: tuple[str, ...] | None) -> None:
    spec = model.spec
    if spec.materialization == "incremental" and output is None:
        raise SnowgenError.at(
            "SG211",
            "an incremental model needs explicit output columns: name every column of the outer SELECT "
            "(no '*') or declare 'columns'",
            model.doc.location(("sql",)),
        )
    if spec.columns and body_output is not None:
        # Declared columns must be what the body produces (the stage selects them by name).
        for column in spec.columns:
            _require_column(model, ("columns", column), column, body_output, "the SQL body's output", key=True)
    if output is None:
        return
    keys = spec.unique_key_columns
    checks: list[tuple[tuple, str]] = [
        (("unique_key", i) if isinstance(spec.unique_key, list) else ("unique_key",), c) for i, c in enumerate(keys)
    ]
    if spec.upsert_date_key:
        checks.append((("upsert_date_key",), spec.upsert_date_key))
    layout = spec.layout
    if layout.partition:
        checks.append((("layout", "partition", "column"), layout.partition.column))
    checks += [(("layout", "cluster", i), c) for i, c in enumerate(layout.cluster or [])]
    checks += [(("layout", "sort", i), c) for i, c in enumerate(layout.sort or [])]
    if layout.dist:
        checks.append((("layout", "dist"), layout.dist))
    for path, column in checks:
        _require_column(model, path, column, output, f"an output column of model '{spec.name}'")


def _require_column(model: LoadedModel, path: tuple, column: str, available: tuple[str, ...], what: str, key: bool = False) -> None:
    """``column`` must be one of ``available``; names compare as snowgen stores them."""
    if column in available:
        return
    message = f"column '{column}' is not {what}"
    same_letters = [c for c in available if c.lower() == column.lower()]
    if same_letters:
        message += (
            f": the SQL has the exact-case name '{same_letters[0]}'; write it in double quotes "
            f"in the spec ('\"{same_letters[0]}\"') to keep its case"
        )
    else:
        hint = difflib.get_close_matches(column, list(available), n=1)
        message += f" (did you mean '{hint[0]}'?)" if hint else ""
    raise SnowgenError.at("SG207", message, model.doc.location(path, key=key))


# -- modules, order, selection, steps -----------------------------------------------------------------


def _module_order(loaded: LoadedProject, nodes: dict[str, tuple[str, tuple[str, ...]]], strategy) -> list[str]:
    declared = list(loaded.spec.modules)
    used = {module for module, _ in nodes.values()}
    trailing = [m for m in strategy.trailing_modules() if m in used]
    if declared:
        for model in loaded.models:
            if model.spec.enabled and model.spec.module not in declared:
                raise SnowgenError.at(
                    "SG210", _unknown("module", model.spec.module, declared), model.doc.location(("module",))
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


def _select(loaded: LoadedProject, select: Iterable[str], nodes) -> set[str]:
    chosen: set[str] = set()
    for item in select:
        for word in item.replace(",", " ").split():
            if word.startswith("module:"):
                matches = {n for n, (module, _) in nodes.items() if module == word[len("module:") :]}
            else:
                matches = {n for n in nodes if n == word or n.startswith(word + "__")}
            if not matches:
                raise SnowgenError.at("SG402", f"--select {_unknown('model', word, nodes)}")
            chosen |= matches
    todo = list(chosen)
    while todo:
        for dep in nodes[todo.pop()][1]:
            if dep not in chosen:
                chosen.add(dep)
                todo.append(dep)
    return chosen


def _steps(loaded: LoadedProject, ordered: list[str], models: dict[str, ModelPlan], strategy, selected: set[str] | None) -> list[Step]:
    setup = Step(id="create_schemas", module=SETUP_MODULE, kind="schemas", spec_file=_relative(loaded, loaded.doc.path))
    steps = [setup]
    for name in ordered:
        if selected is not None and name not in selected:
            continue
        model = models.get(name)
        if model is None:
            steps.extend(strategy.steps_for(name, selected))
            continue
        steps.append(
            Step(
                id=name,
                module=model.module,
                kind=model.materialization,
                spec_file=_relative(loaded, model.doc.path),
                depends_on=(setup.id, *model.depends_on),
                model=name,
            )
        )
    return steps


def _relative(loaded: LoadedProject, path) -> str:
    try:
        return path.relative_to(loaded.root).as_posix()
    except ValueError:
        return path.name
