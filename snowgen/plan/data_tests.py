"""Data tests planned: each model's ``tests:`` (and its columns') checked against the
model's output columns and turned into :class:`DataTest` data, and one audit step per model
with tests (snowgen.build.audit builds its SQL).

The audit step comes right after the model's step and before any step that advances the
incremental state over the model's rows (a module's complete step, the watermark update),
which waits for it: an error-severity test that fails stops the run there, so the manifest
never advances over bad data.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlglot import exp

from snowgen.errors import SnowgenError
from snowgen.plan import seeds
from snowgen.plan.columns import require_output_column
from snowgen.plan.data import ModelPlan, Plan, Step, StepKind
from snowgen.plan.references import Relation, project_relations, resolve_tables, unknown_name
from snowgen.plan.sqlbody import BodyContext, body_error, parse_body, parse_expression
from snowgen.plan.stars import drop_positions_of
from snowgen.spec.data_tests import FreshnessTest, TestOptions
from snowgen.spec.loader import LoadedModel, LoadedProject

#: the audit step of model NAME is NAME + this
AUDIT_SUFFIX = "__audit"
#: step kinds that build a model's table or view (an audit follows them)
MODEL_STEP_KINDS = (StepKind.VIEW, StepKind.TABLE, StepKind.INCREMENTAL)


@dataclass(frozen=True)
class DataTest:
    """One test of one model, as plain data (plan.json and the docs show ``to_json()``)."""

    name: str
    kind: str  # unique | unique_combination | not_null | accepted_values | relationships | row_count | freshness | sql
    severity: str  # error | warn
    columns: tuple[str, ...] = ()
    values: tuple[Any, ...] = ()  # accepted_values
    to: str | None = None  # relationships: the model or source whose ``field`` holds the values
    field: str | None = None
    parent: exp.Table | None = None  # relationships: ``to``'s table
    min_rows: int | None = None  # row_count
    max_rows: int | None = None
    max_age_hours: int | None = None  # freshness
    where: str | None = None  # the filter as written
    condition: exp.Expr | None = None  # ... and parsed in the body dialect
    sql: str | None = None  # sql: the query as written
    query: exp.Query | None = None  # ... parsed, its tables resolved
    #: an incremental model's test reads only the rows the run wrote, where its kind allows
    #: (an audit step of a run); False: the whole table (``snowgen test`` unless --this-run)
    this_run_only: bool = True

    def to_json(self) -> dict[str, Any]:
        """The test as plan.json lists it: its plain fields that are set."""
        fields = {
            "name": self.name, "kind": self.kind, "severity": self.severity, "columns": list(self.columns),
            "values": list(self.values), "to": self.to, "field": self.field, "min": self.min_rows,
            "max": self.max_rows, "max_age_hours": self.max_age_hours, "where": self.where, "sql": self.sql,
        }  # fmt: skip
        return {key: value for key, value in fields.items() if value not in (None, [])}


def testing_whole_tables(plan: Plan) -> Plan:
    """``plan`` with every test reading its model's whole table, not only the last run's rows."""
    models = {
        name: replace(model, tests=tuple(replace(t, this_run_only=False) for t in model.tests))
        if model.tests
        else model
        for name, model in plan.models.items()
    }
    return replace(plan, models=models)


def audit_step_id(model: str) -> str:
    return model + AUDIT_SUFFIX


# -- planning the tests ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scope:
    """What a model's tests are checked and resolved against."""

    loaded: LoadedProject
    models: Mapping[str, ModelPlan]
    relations: Mapping[str, Relation]
    order: Mapping[str, int]  # each model's position in the plan
    variables: dict[str, Any]


def with_tests(
    loaded: LoadedProject,
    models: dict[str, ModelPlan],
    ordered: list[str],
    variables: dict[str, Any],
    schemas: dict[str, str],
) -> dict[str, ModelPlan]:
    """``models`` with each user model's tests planned (``ModelPlan.tests``)."""
    enabled = [m for m in loaded.models if m.spec.enabled]
    relations = {**project_relations(loaded, enabled, schemas, {}), **seeds.seed_relations(loaded)}
    scope = _Scope(loaded, models, relations, {name: i for i, name in enumerate(ordered)}, variables)
    result = dict(models)
    for name, model in models.items():
        if model.generated is None and (model.spec.tests or any(c.tests for c in model.spec.columns.values())):
            result[name] = replace(model, tests=_model_tests(scope, model))
    return result


def _model_tests(scope: _Scope, model: ModelPlan) -> tuple[DataTest, ...]:
    """The tests of the model's columns, then its own, each name once (SG260)."""
    tests: list[DataTest] = []
    named: set[str] = set()
    for path, kind, options, columns, number in _items(model):
        for test in _planned(scope, model, path, kind, options, columns, number):
            if test.name in named:
                message = f"model '{model.name}' has two tests named '{test.name}': give one a 'name'"
                raise SnowgenError.at("SG260", message, model.doc.location(path, key=True))
            named.add(test.name)
            tests.append(test)
    return tuple(tests)


def _items(model: ModelPlan) -> Iterator[tuple[tuple, str, TestOptions, tuple[str, ...], int]]:
    """Each test item: its YAML path, kind, options, columns (checked: SG207) and number."""
    for column, spec in model.spec.columns.items():
        for index, item in enumerate(spec.tests):
            kind, options = item.chosen()
            yield ("columns", column, "tests", index, kind), kind, options, (column,), 0
    for index, item in enumerate(model.spec.tests):
        kind, options = item.chosen()
        path = ("tests", index, kind)
        columns = _columns_of(options)
        for position, column in enumerate(columns):
            _require_column(
                model, (*path, *(("columns", position) if _listed_columns(options) else ("column",))), column
            )
        yield path, kind, options, columns, index + 1


def _listed_columns(options: TestOptions) -> list[str] | None:
    return getattr(options, "columns", None)


def _columns_of(options: TestOptions) -> tuple[str, ...]:
    columns = _listed_columns(options)
    column = getattr(options, "column", None)
    return tuple(columns) if columns else ((column,) if column else ())


def _require_column(model: ModelPlan, path: tuple, column: str) -> None:
    """A test's column is one of the model's output columns (SG207), where they are known."""
    if model.output_columns is not None:
        require_output_column(LoadedModel(model.spec, model.doc), path, column, model.name, model.output_columns)


def _planned(
    scope: _Scope, model: ModelPlan, path: tuple, kind: str, options: TestOptions, columns: tuple[str, ...], number: int
) -> list[DataTest]:
    """The tests one item declares (a freshness item with two thresholds declares two)."""
    common: dict[str, Any] = {"kind": kind, "severity": options.severity, "columns": columns}
    common.update(_where(scope, model, path, options))
    if kind == "accepted_values":
        common["values"] = tuple(options.values)
    elif kind == "relationships":
        common.update(_parent(scope, model, path, options))
    elif kind == "row_count":
        common.update(min_rows=options.min, max_rows=options.max)
    elif kind == "sql":
        common.update(sql=options.sql, query=_custom_query(scope, model, path, options.sql))
    if isinstance(options, FreshnessTest):
        return _freshness(options, common)
    if kind == "not_null" and len(columns) > 1:  # one test per column, as dbt's: the failure names it
        named = f"{options.name}: " if options.name else "not_null("
        close = "" if options.name else ")"
        return [DataTest(name=f"{named}{c}{close}", **{**common, "columns": (c,)}) for c in columns]
    return [DataTest(name=options.name or _default_name(kind, columns, common, number), **common)]


def _default_name(kind: str, columns: tuple[str, ...], common: dict[str, Any], number: int) -> str:
    """dbt-like names: ``unique(page_view_id)``, ``relationships(domain_sessionid -> sessions.domain_sessionid)``."""
    if kind == "sql":
        return f"sql_{number}"
    if kind == "row_count":
        return kind
    listed = ", ".join(columns)
    if kind == "relationships":
        listed += f" -> {common['to']}.{common['field']}"
    return f"{kind}({listed})"


def _freshness(options: FreshnessTest, common: dict[str, Any]) -> list[DataTest]:
    name = options.name or _default_name("freshness", common["columns"], common, 0)
    if options.max_age_hours is not None:
        return [DataTest(name=name, max_age_hours=options.max_age_hours, **common)]
    bounds = (("warn", options.warn_after_hours), ("error", options.error_after_hours))
    return [
        DataTest(name=f"{name} {severity}", max_age_hours=hours, **{**common, "severity": severity})
        for severity, hours in bounds
        if hours is not None
    ]


def _dialect(scope: _Scope, model: ModelPlan) -> str:
    return model.spec.sql_dialect or scope.loaded.spec.sql_dialect


def _where(scope: _Scope, model: ModelPlan, path: tuple, options: TestOptions) -> dict[str, Any]:
    """The ``where`` filter parsed as one SQL condition of the body dialect (SG261)."""
    if options.where is None:
        return {}
    try:
        condition = parse_expression(options.where, _dialect(scope, model))
    except ValueError as exc:
        raise SnowgenError.at("SG261", f"where: {exc}", model.doc.location((*path, "where"))) from None
    drop_positions_of(condition)
    return {"where": options.where, "condition": condition}


def _parent(scope: _Scope, model: ModelPlan, path: tuple, options: TestOptions) -> dict[str, Any]:
    """``to`` (a model or source with one table) and its ``field``, which it must have."""
    relation = scope.relations.get(options.to)
    where_to = model.doc.location((*path, "to"))
    if relation is None:
        raise SnowgenError.at(
            "SG201", f"relationships: {unknown_name('model or source', options.to, scope.relations)}", where_to
        )
    if len(relation.tables) != 1:
        message = f"relationships: '{options.to}' is one table per instance; test one instance's model instead"
        raise SnowgenError.at("SG260", message, where_to)
    parent = scope.models.get(options.to)
    if parent is not None:
        if scope.order.get(options.to, -1) > scope.order.get(model.name, -1):
            message = f"relationships: model '{options.to}' runs after '{model.name}', so its rows are not there yet"
            raise SnowgenError.at("SG260", message, where_to)
        if parent.output_columns is not None:
            loaded_model = LoadedModel(model.spec, model.doc)
            require_output_column(loaded_model, (*path, "field"), options.field, options.to, parent.output_columns)
    else:
        declared = scope.loaded.spec.sources.get(options.to)
        if declared is not None and declared.columns and options.field not in declared.columns:
            message = f"relationships: column '{options.field}' is not a declared column of source '{options.to}'"
            raise SnowgenError.at("SG207", message, model.doc.location((*path, "field")))
    return {"to": options.to, "field": options.field, "parent": relation.tables[0].copy()}


def _custom_query(scope: _Scope, model: ModelPlan, path: tuple, text: str) -> exp.Query:
    """The test's query, parsed like a body (Jinja, vars), its models and sources resolved;
    it may read the tested model itself."""
    ctx = BodyContext(model.doc, (*path, "sql"), _dialect(scope, model), scope.variables)
    parsed = parse_body(text, ctx)
    read = resolve_tables(parsed, ctx, dict(scope.relations), "", None, None)
    later = [name for name in read if scope.order.get(name, -1) > scope.order.get(model.name, -1)]
    if later:
        message = f"the test reads model '{later[0]}', which runs after '{model.name}'"
        raise body_error(ctx, "SG260", message, 1, 1)
    drop_positions_of(parsed.query)
    return parsed.query


# -- the audit steps ------------------------------------------------------------------------------------


def with_audit_steps(steps: list[Step], models: Mapping[str, ModelPlan], completions: set[str]) -> list[Step]:
    """An audit step after each tested model's step; each step in ``completions`` (those
    advancing the incremental state) also waits for the audits of the models it waits for."""
    result: list[Step] = []
    audits: dict[str, tuple[str, str]] = {}  # model -> (its module, its audit step)
    ids = {step.id for step in steps}
    for step in steps:
        result.append(step)
        model = models.get(step.model) if step.model and step.kind in MODEL_STEP_KINDS else None
        if model is None or not model.tests:
            continue
        audit = audit_step_id(model.name)
        if audit in ids:
            raise SnowgenError.at(
                "SG260", f"the audit step '{audit}' would have the name of a model", model.doc.location(("name",))
            )
        reads = [t.to for t in model.tests if t.to in models and t.to in ids]
        reads += [name for t in model.tests if t.query is not None for name in _models_read(t.query, models, ids)]
        depends = tuple(dict.fromkeys((step.id, *reads)))
        result.append(Step(audit, step.module, StepKind.AUDIT, step.spec_file, depends, model.name))
        audits[model.name] = (step.module, audit)
    return [_after_audits(step, audits) if step.id in completions else step for step in result]


def _models_read(query: exp.Query, models: Mapping[str, ModelPlan], ids: set[str]) -> list[str]:
    tables = {(t.db.lower(), t.name.lower()) for t in query.find_all(exp.Table)}
    return [n for n, m in models.items() if n in ids and (m.table.db.lower(), m.table.name.lower()) in tables]


def _after_audits(step: Step, audits: Mapping[str, tuple[str, str]]) -> Step:
    """``step`` also waits for the audits of the models it waits for and of its module's models."""
    waited = set(step.depends_on)
    extra = tuple(a for m, (module, a) in audits.items() if (m in waited or module == step.module) and a not in waited)
    return replace(step, depends_on=(*step.depends_on, *extra)) if extra else step
