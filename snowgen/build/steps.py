"""Stage 3, build: Plan x Dialect -> sqlglot statements for every step.

One builder per :class:`~snowgen.plan.data.StepKind`, registered in ``BUILDERS`` (a test
checks that every kind has one). Builders return :class:`Script`s; they never render text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlglot import exp

from snowgen.build import (
    audit,
    ddl,
    grants,
    refresh,
    run_lock,
    run_metadata,
    seed_load,
    sessions,
    staged,
    stitch,
    watermark,
)
from snowgen.build.access import access_of, relation_name
from snowgen.build.materialize import ModelContext, build_incremental, build_table, build_view
from snowgen.build.run_limits import bind_limits
from snowgen.build.strategies import GENERATED_QUERIES, strategy_sql
from snowgen.dialects.base import Dialect
from snowgen.dialects.shapes import NameTooLong, Script, Unsupported
from snowgen.errors import SnowgenError
from snowgen.plan.data import Plan, Step, StepKind
from snowgen.plan.dependencies import Access


@dataclass(frozen=True)
class BuiltStep:
    step: Step
    statements: list[exp.Expr]
    #: what the statements read and write (None: not read yet, see :func:`access`)
    access: Access | None = None


def access(item: BuiltStep, plan: Plan) -> Access:
    """What ``item``'s statements read and write (snowgen.build.access)."""
    if item.access is not None:
        return item.access
    return access_of(item.statements, bookkeeping(plan, run_metadata.is_recorded(plan)))


def bookkeeping(plan: Plan, recorded: bool) -> frozenset[str]:
    """Relations whose rows a step appends that a retry may append again harmlessly: the
    data test results (each audit's rows carry their own time; the latest are read) and the
    run metadata's start and end events (``recorded``: the plan records them)."""
    results = relation_name(audit.results_table(plan))
    if not recorded:
        return frozenset({results})
    return frozenset({results, relation_name(run_metadata.metadata_table(plan))})


Builder = Callable[[Plan, Step, Dialect], Script]


def _schemas(plan: Plan, step: Step, dialect: Dialect) -> Script:
    used = {"derived"} | {
        "scratch" if m.scratch or m.materialization == "incremental" else "derived" for m in plan.models.values()
    }
    used |= {m.schema_key for m in plan.models.values()}
    used |= plan.strategy.schema_keys
    if any(s.kind == StepKind.START_RUN for s in plan.steps):
        used |= {"manifest", "scratch"}
    if any(s.kind == StepKind.AUDIT for s in plan.steps):
        used |= {"manifest"}  # the data test results
    if plan.seeds:
        used |= {"scratch"} | {seed.schema_key for seed in plan.seeds.values()}  # the stage, the seed
    names = dict.fromkeys(plan.schemas[key] for key in ("derived", "scratch", "manifest") if key in used)
    return Script(statements=[ddl.create_schema(name, plan.database) for name in names])


def _model_context(plan: Plan, step: Step, dialect: Dialect, script: Script) -> ModelContext:
    """The model for ``dialect``, with what the strategy decides for it; statements that
    compute the run-time values its body reads go to ``script``."""
    model = plan.models[step.model]
    layout = ddl.resolve_layout(model.spec, dialect)
    strategy = strategy_sql(plan)
    generated = GENERATED_QUERIES[model.generated](plan, model, dialect) if model.generated else None
    return ModelContext(
        model, dialect, layout, strategy.gate(plan, model), generated=generated,
        inputs=strategy.inputs(plan, model, dialect, script), replace_where=strategy.replace_where(plan, model),
        staged=plan.staged[model.name].table if model.name in plan.staged else None,
        limits=bind_limits(dialect, script, strategy.limits_relation(plan, model)),
    )  # fmt: skip


def _model_step(plan: Plan, step: Step, dialect: Dialect, build: Callable[[ModelContext], Script]) -> Script:
    """The model's statements, after those computing its inputs; its stitch comes last,
    once the table holds this run's rows."""
    script = Script()
    built = build(_model_context(plan, step, dialect, script))
    script.declarations.extend(built.declarations)
    script.add(*built.statements)
    script.add(*stitch.stitch_statements(plan, plan.models[step.model], dialect))
    return script


def _view(plan: Plan, step: Step, dialect: Dialect) -> Script:
    return _model_step(plan, step, dialect, build_view)


def _table(plan: Plan, step: Step, dialect: Dialect) -> Script:
    return _model_step(plan, step, dialect, build_table)


def _incremental(plan: Plan, step: Step, dialect: Dialect) -> Script:
    settings = plan.spec.dialects.get(dialect.name)
    choice = settings.upsert if settings else None
    return _model_step(plan, step, dialect, lambda ctx: build_incremental(ctx, choice, plan.schemas["scratch"]))


#: every step kind's builder (a test checks that each StepKind has one)
BUILDERS: dict[StepKind, Builder] = {
    StepKind.ACQUIRE_LOCK: run_lock.build_acquire,
    StepKind.SCHEMAS: _schemas,
    StepKind.FULL_REFRESH: refresh.build_full_refresh,
    StepKind.START_RUN: run_metadata.build_start_run,
    StepKind.VIEW: _view,
    StepKind.TABLE: _table,
    StepKind.INCREMENTAL: _incremental,
    StepKind.CONSUME_STAGED: staged.build_consume,
    StepKind.SEED: seed_load.build_seed,
    StepKind.MANIFEST_TABLE: sessions.build_manifest_table,
    StepKind.QUARANTINE: sessions.build_quarantine,
    StepKind.WATERMARK_TABLE: watermark.build_manifest_table,
    StepKind.GRANT: grants.build_grant,
    StepKind.AUDIT: audit.build_audit,
    StepKind.RELEASE_LOCK: run_lock.build_release,
}


def build_steps(plan: Plan, dialect: Dialect) -> Iterator[BuiltStep]:
    """Each step's statements, one step at a time (so a big plan never holds every tree)."""
    recorded = run_metadata.is_recorded(plan)
    for step in plan.steps:
        yield build_step(plan, step, dialect, recorded)


def build_step(plan: Plan, step: Step, dialect: Dialect, recorded: bool) -> BuiltStep:
    """One step's statements, lowered for ``dialect``; ``recorded``: the plan records its
    steps in run metadata (``run_metadata.is_recorded``)."""
    try:
        statements = BUILDERS[step.kind](plan, step, dialect).all()
        if recorded:
            statements = run_metadata.wrapped(plan, step, statements, dialect)
        statements = _with_session_settings(statements, dialect)
        model = plan.models.get(step.model) if step.model else None
        if model is not None and model.query is not None:
            # Only a user's SQL body can hold what a warehouse lacks (snowgen builds none of
            # it): one walk over the body instead of one over every statement built from it.
            dialect.refuse_unsupported(model.query)
        statements = [dialect.lower(s) for s in statements]
    except Unsupported as exc:
        raise located_error(plan, step, dialect, exc) from None
    return BuiltStep(step, statements, access_of(statements, bookkeeping(plan, recorded)))


def _with_session_settings(statements: list[exp.Expr], dialect: Dialect) -> list[exp.Expr]:
    """The dialect's session settings after the script's declarations (BigQuery wants every
    DECLARE first) and before anything else: every file pins them, so a scheduler may run any
    file in any session."""
    settings = dialect.session_settings()
    if not settings:
        return statements
    declared = next((i for i, s in enumerate(statements) if not isinstance(s, exp.Declare)), len(statements))
    return [*statements[:declared], *settings, *statements[declared:]]


def build_plan(plan: Plan, dialect: Dialect) -> list[BuiltStep]:
    return list(build_steps(plan, dialect))


def located_error(plan: Plan, step: Step, dialect: Dialect, exc: Unsupported) -> SnowgenError:
    """What a warehouse cannot express, blamed on the spec key that asked for it (the SQL
    body unless the error names another key)."""
    if isinstance(exc, NameTooLong):
        return name_error(plan, step, exc)
    if isinstance(exc, ddl.UnknownLayoutColumn):
        code, message = "SG207", str(exc)
    else:
        code, message = "SG301", f"{dialect.name} {exc}"
    model = plan.models.get(step.model) if step.model else None
    if model is None or model.doc is plan.doc:
        return SnowgenError.at(code, message, plan.doc.location(exc.yaml_path or ("incremental",), key=True))
    if exc.yaml_path == ("upsert",) and model.spec.upsert is None and dialect.name in plan.spec.dialects:
        # The refused choice comes from the project file's per-dialect settings.
        return SnowgenError.at(code, message, plan.doc.location(("dialects", dialect.name, "upsert"), key=True))
    path = ddl.layout_path(model.spec, dialect, exc.yaml_path) if exc.yaml_path else ("sql",)
    return SnowgenError.at(code, message, model.doc.location(path, key=True))


def name_error(plan: Plan, step: Step, exc: NameTooLong) -> SnowgenError:
    """SG105 at the spec key the name comes from: a declared column, the model's name (the
    tables snowgen derives from it, such as ``<name>__snowgen_stage`` or ``<name>__<instance>``),
    the model's SQL (a name its body gives), else the project file (schemas, sources, seeds,
    the strategy's tables)."""
    model = plan.models.get(step.model) if step.model else None
    if model is None or model.doc is plan.doc:
        return SnowgenError.at("SG105", str(exc), plan.doc.location(_project_key(plan, exc.name), key=True))
    message = str(exc)
    if exc.name in model.spec.columns:
        path: tuple = ("columns", exc.name)
    elif model.spec.name in exc.name:
        path = ("name",)
        if exc.name != model.spec.name:
            message += f" (snowgen derives it from model '{model.spec.name}': shorten the model's name)"
    else:
        path = ("sql",)
    return SnowgenError.at("SG105", message, model.doc.location(path, key=path != ("name",)))


def _project_key(plan: Plan, name: str) -> tuple:
    """The project file's key that names ``name``: a schema, a source or its column, a seed
    or its column, else the strategy."""
    for key, value in plan.schemas.items():
        if value == name:
            return ("schemas", key)
    for source, spec in plan.spec.sources.items():
        if name in (spec.table, spec.schema_):
            return ("sources", source)
        if name in spec.columns:
            return ("sources", source, "columns", name)
    for seed, spec in plan.spec.seeds.items():
        if name == seed:
            return ("seeds", seed)
        if name in spec.columns:
            return ("seeds", seed, "columns", name)
    return ("incremental",) if plan.spec.incremental is not None else ("project",)
