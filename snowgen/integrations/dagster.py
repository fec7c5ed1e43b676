"""Dagster: one asset per table a plan's models build (``pip install 'snowgen[dagster]'``).

::

    import dagster as dg
    from snowgen.integrations.dagster import SnowgenResource, plan_assets

    defs = dg.Definitions(
        assets=[plan_assets("model_specs/snowplow_web")],
        resources={"snowgen": SnowgenResource(db="postgresql://etl@warehouse/analytics")},
    )

The design:

- **Assets.** Every step of plan.json that builds a model's table (a step with a ``model``
  that is not its module's complete step) is an asset, keyed by the model's name (under
  ``key_prefix``), in the project's group. An asset depends on the assets of the tables its
  step waits for, directly or through steps that build no table (the schemas, the run's
  start, the manifest tables, the quarantine, the seeds): Dagster's lineage is the plan's.
- **One run of the plan per materialization.** The assets are one ``multi_asset``: its op runs
  the whole plan in plan order on one connection, exactly as ``snowgen run`` does (the same
  :class:`snowgen.api.RunSession`), and reports each asset as materialized when its step
  finishes, with the rows the step wrote, its seconds, its file and the run id. The steps
  that build no table run where the plan puts them, inside that op: the run lock's acquire
  first and release last (also after a failed step, and only a lock that is still this
  run's), the schemas, the run's start and its metadata rows, the manifest and quarantine
  steps, and each module's complete step after the module's tables. So the assets cannot
  be materialized one by one (``can_subset`` is off): a plan's steps share one run window,
  one run lock and, on DuckDB, one file that one process writes at a time, and Dagster has
  no teardown step that would give a lock back after a failed asset. A module on its own
  schedule is a second ``plan_assets`` with ``options=CompileOptions(select=("module:NAME",))``
  (distinct ``name`` and ``key_prefix``), as ``snowgen run --select`` runs it.
- **The connection** is :class:`SnowgenResource`, resource key ``snowgen``: the database as
  ``snowgen run`` chooses it (``db``, a URL, else the project's ``target``, else the
  project's default target), opened by snowgen's own connectors (snowgen.runner.connections):
  DuckDB, Postgres and the warehouses work as with ``snowgen run``; ``wait_seconds`` is
  ``--wait``.
- **Retries** are Dagster's (``retry_policy=dagster.RetryPolicy(...)``). A failed step fails
  the op after the lock is released; the retry runs the plan again, which resumes the run as
  a second ``snowgen run`` does (the warehouse is the only state, every step is safe to run
  again). A run that finds the lock held fails (SG410) and is retried the same way.

A project folder is compiled when the op runs, for the resource's database (its dialect,
target and vars, as ``snowgen run`` compiles); a compiled folder runs as written, on a ``db``
of its own dialect.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import dagster as dg

from snowgen import api
from snowgen.errors import SnowgenError
from snowgen.integrations.plan import SchedulerPlan, load_plan
from snowgen.runner.connections import Connection, connected, dialect_for_url
from snowgen.runner.execute import read_compiled
from snowgen.runner.targets import target_settings
from snowgen.spec.loader import PROJECT_FILE

__all__ = ["RESOURCE_KEY", "SnowgenResource", "plan_assets"]

#: the resource key the assets ask for
RESOURCE_KEY = "snowgen"


class SnowgenResource(dg.ConfigurableResource):
    """The database a plan runs on, chosen as ``snowgen run`` chooses it."""

    #: a database URL, as ``snowgen run --db`` (a relative DuckDB path: from the working directory)
    db: str | None = None
    #: a target of the project file (its db or connection settings, and its vars), as ``--target``
    target: str | None = None
    #: seconds to wait for the run lock held by another run, as ``--wait``
    wait_seconds: float = 0.0

    def prepare(self, plan: "PlanSource") -> api.PreparedRun:
        """The run of ``plan`` on this database: compiled for its dialect from a project, or
        a compiled folder's files as written."""
        if plan.project is not None:
            loaded = api.load_project(plan.project)
            options = replace(plan.options, target=self.target or plan.options.target)
            return api.prepare_run(loaded, api.RunOptions(options, self.db))
        return self._prepare_compiled(plan.compiled)

    def _prepare_compiled(self, plan: SchedulerPlan) -> api.PreparedRun:
        if self.db is None:
            raise SnowgenError.at("SG432", f"the compiled plan of {plan.project} needs the resource's db (a URL)")
        dialect = dialect_for_url(self.db)
        if dialect.name != plan.dialect:
            raise SnowgenError.at(
                "SG432",
                f"the compiled plan of {plan.project} is {plan.dialect}, but {api.display_url(self.db)} is {dialect.name}",
            )
        steps, checks = read_compiled(dict(plan.files or {}), plan.dialect)
        return api.PreparedRun(self.db, Path.cwd(), steps, checks, project=plan.project, dialect=plan.dialect)

    @contextmanager
    def connection(self, project: str | Path | None = None) -> Iterator[Connection]:
        """An open snowgen connection to this database (``db``, else ``project``'s target), for
        an op or a check of your own; closed at the end."""
        if self.db is not None:
            with connected(self.db, Path.cwd()) as connection:
                yield connection
            return
        if project is None:
            raise SnowgenError.at("SG432", "the resource names no database: give it a db, or pass the project")
        loaded = api.load_project(Path(project))
        target = api.target_of(loaded, self.target)
        database = api.database_for(loaded, target, None)
        with connected(database.url, database.base, target_settings(loaded, target)) as connection:
            yield connection


class PlanSource:
    """What the op runs: a project (compiled when it runs) or a compiled folder."""

    def __init__(self, compiled: SchedulerPlan, project: Path | None, options: api.CompileOptions):
        self.compiled, self.project, self.options = compiled, project, options


def plan_assets(
    plan: str | Path,
    *,
    name: str | None = None,
    key_prefix: Sequence[str] = (),
    group_name: str | None = None,
    target: str | None = None,
    dialect: str | None = None,
    options: api.CompileOptions | None = None,
    retry_policy: dg.RetryPolicy | None = None,
) -> dg.AssetsDefinition:
    """The assets of ``plan`` (a project folder, or a compiled folder
    ``generated/<project>/<dialect>``) as one multi-asset (module docstring). The graph is
    read now: a project is compiled for ``dialect``, else ``target``'s, else its default
    target's (the models and their order are the same in every dialect)."""
    folder = Path(plan)
    is_project = (folder / PROJECT_FILE).is_file()
    compiled = load_plan(folder, target=target, dialect=dialect, options=options)
    chosen = options or api.CompileOptions()
    source = PlanSource(compiled, folder if is_project else None, replace(chosen, target=target or chosen.target))
    keys = {step.id: dg.AssetKey([*key_prefix, step.model]) for step in compiled.table_steps}
    specs = [
        dg.AssetSpec(
            keys[step.id],
            deps=[keys[upstream] for upstream in compiled.upstream_tables(step.id)],
            description=f"{step.kind} model of module {step.module} (snowgen project {compiled.project})",
            group_name=group_name or compiled.project,
            metadata={"snowgen/step": step.id, "snowgen/module": step.module},
        )
        for step in compiled.table_steps
    ]

    @dg.multi_asset(
        specs=specs,
        name=name or f"snowgen_{compiled.project}",
        required_resource_keys={RESOURCE_KEY},
        retry_policy=retry_policy,
        can_subset=False,
    )
    def run_plan(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult]:
        yield from materialize_plan(context, getattr(context.resources, RESOURCE_KEY), source, keys)

    return run_plan


def materialize_plan(
    context: dg.AssetExecutionContext,
    resource: SnowgenResource,
    source: PlanSource,
    keys: dict[str, dg.AssetKey],
) -> Iterator[dg.MaterializeResult]:
    """Run the plan as ``snowgen run`` does; a result per asset as its step finishes."""
    try:
        prepared = resource.prepare(source)
        yield from _run(context, resource, prepared, keys)
    except SnowgenError as exc:  # a mistake, the connection, or the lock held by another run
        raise dg.Failure(description=exc.format()) from None


def _run(
    context: dg.AssetExecutionContext,
    resource: SnowgenResource,
    prepared: api.PreparedRun,
    keys: dict[str, dg.AssetKey],
) -> Iterator[dg.MaterializeResult]:
    missing = set(keys) - {step.id for step in prepared.steps}
    if missing:
        raise dg.Failure(description=f"the plan no longer has the steps {sorted(missing)}: reload the definitions")
    run_id: str | None = None
    with api.run_session(prepared, resource.wait_seconds, context.log.warning) as session:
        try:
            for result in session.steps():
                run_id = session.run_id_after(result.step) or run_id
                context.log.info(f"step {result.step.id} done in {result.seconds:.2f} s")
                if result.step.id in keys:
                    yield dg.MaterializeResult(asset_key=keys[result.step.id], metadata=_metadata(result, run_id))
        except api.StepFailed as failure:
            raise dg.Failure(description=str(failure), metadata=_failure_metadata(failure)) from None
        for warning in session.warnings():
            context.log.warning(warning)


def _metadata(result: api.StepResult, run_id: str | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "snowgen/step": result.step.id,
        "snowgen/file": result.step.file,
        "snowgen/seconds": round(result.seconds, 3),
    }
    if result.rows is not None:
        metadata["snowgen/rows_written"] = result.rows
    if run_id is not None:
        metadata["snowgen/run_id"] = run_id
    return metadata


def _failure_metadata(failure: api.StepFailed) -> dict[str, Any]:
    return {"snowgen/step": failure.step.id, "snowgen/file": failure.step.file}
