"""Seeds: lookup tables shipped with a project as CSV files (docs/spec.md, "Seeds").

A body reads a seed by its name, as it reads a model. Planning checks each CSV against the
seed's declared columns and turns every cell into a typed value (snowgen.plan.seed_values);
errors point at the CSV's own ``file:line:col``. Each seed becomes one step of the setup
module, before every model that reads it; snowgen.build.seed_load builds its statements.
"""

from __future__ import annotations

from sqlglot import exp

from snowgen.errors import Diagnostic, SnowgenError
from snowgen.names import canonical
from snowgen.plan import seed_values
from snowgen.plan.data import SETUP_STEP, SeedPlan, SeedRow, Step, StepKind
from snowgen.plan.references import Relation, instance_name, qualified
from snowgen.plan.strategy import StrategyPlanner
from snowgen.spec.csv_source import CsvField
from snowgen.spec.loader import LoadedProject, LoadedSeed, project_relative
from snowgen.spec.models import SeedSpec

#: step ids of the setup module a seed must not take
RESERVED_STEP_IDS = (SETUP_STEP, "full_refresh", "start_run")
#: a CSV with a systematic mistake (a wrong type) would report every row: the first ones do
MAX_ERRORS_PER_SEED = 20


def seed_table(loaded: LoadedProject, name: str, spec: SeedSpec) -> exp.Table:
    return qualified(name, getattr(loaded.spec.schemas, spec.schema_), loaded.spec.database)


def seed_relations(loaded: LoadedProject) -> dict[str, Relation]:
    """What a seed's name stands for in a SQL body: its table, read after its step."""
    return {s.name: Relation((seed_table(loaded, s.name, s.spec),), (s.name,)) for s in loaded.seeds}


def plan_seeds(loaded: LoadedProject, strategy: StrategyPlanner) -> dict[str, SeedPlan]:
    """Every seed with its rows as typed values; all mistakes of all seeds at once."""
    _check_names(loaded, strategy)
    problems: list[Diagnostic] = []
    seeds = {}
    for seed in loaded.seeds:
        plan = _plan_seed(loaded, seed, problems)
        if plan is not None:
            seeds[seed.name] = plan
    if problems:
        raise SnowgenError(problems)
    return seeds


def without_seeds(depends: tuple[str, ...], seeds: dict[str, SeedPlan]) -> tuple[str, ...]:
    """Dependencies other than seeds (which always load first, in the setup module)."""
    return tuple(d for d in depends if d not in seeds)


def with_seed_steps(steps: list[Step], seeds: dict[str, SeedPlan], selected: set[str] | None) -> list[Step]:
    """The seed steps right after the setup step: every seed, or with ``--select`` the seeds
    that the chosen steps read."""
    setup = steps[0]
    read = {d for step in steps for d in step.depends_on}
    added = [
        Step(id=name, module=setup.module, kind=StepKind.SEED, spec_file=seed.spec_file, depends_on=(setup.id,))
        for name, seed in seeds.items()
        if selected is None or name in read
    ]
    return [setup, *added, *steps[1:]]


# -- names -------------------------------------------------------------------------------------


def _check_names(loaded: LoadedProject, strategy: StrategyPlanner) -> None:
    """A seed's name is a table name and a step id: no model, source or generated table may
    have it (a body naming it would be ambiguous, or two steps would write one table)."""
    if not loaded.seeds:
        return
    taken = _taken_names(loaded, strategy)
    problems = [
        Diagnostic("SG215", f"seed '{seed.name}' has the name of {taken[seed.name]}; rename the seed", loaded.doc.location(("seeds", seed.name), key=True))
        for seed in loaded.seeds
        if seed.name in taken
    ]  # fmt: skip
    if problems:
        raise SnowgenError(problems)


def _taken_names(loaded: LoadedProject, strategy: StrategyPlanner) -> dict[str, str]:
    taken = {name: "a step snowgen generates" for name in RESERVED_STEP_IDS}
    taken.update(
        {
            name: "a table the project's incremental strategy generates"
            for name in (*strategy.tables(), *strategy.nodes())
        }
    )
    sources = loaded.spec.sources
    taken.update({name: f"source '{name}'" for name in sources})
    seeds = {seed.name for seed in loaded.seeds}
    for model in loaded.models:
        if not model.spec.enabled:
            continue
        source = sources.get(model.spec.for_each) if model.spec.for_each else None
        names = [model.spec.name, *(instance_name(model.spec.name, i) for i in (source.instances if source else ()))]
        if seeds.isdisjoint(names):
            continue  # (the message names the model's file and line: found only for a clash)
        where = model.doc.location(("name",))
        taken.update(dict.fromkeys(names, f"model '{model.spec.name}' ({where.display_file()}:{where.line})"))
    return taken


# -- rows ----------------------------------------------------------------------------------------


def _plan_seed(loaded: LoadedProject, seed: LoadedSeed, problems: list[Diagnostic]) -> SeedPlan | None:
    columns = tuple((name, column.type) for name, column in seed.spec.columns.items())
    order = _header_order(seed, problems)
    if order is None:
        return None
    found: list[Diagnostic] = []
    rows = [row for record in seed.csv.records if (row := _row(seed, record, order, columns, found)) is not None]
    if found:
        problems.extend(capped(found))
        return None
    return SeedPlan(
        name=seed.name,
        table=seed_table(loaded, seed.name, seed.spec),
        schema_key=seed.spec.schema_,
        columns=columns,
        rows=tuple(rows),
        spec_file=project_relative(loaded.root, seed.csv.path),
        seed=seed,
    )


def _header_order(seed: LoadedSeed, problems: list[Diagnostic]) -> list[int] | None:
    """For each declared column, its position in the CSV header (any order)."""
    header = [canonical(field.text.strip()) for field in seed.csv.header]
    declared = list(seed.spec.columns)
    first = seed.csv.header[0]
    location = seed.csv.at(first.line, first.col)
    duplicated = sorted({name for name in header if header.count(name) > 1})
    missing = [name for name in declared if name not in header]
    extra = [name for name in header if name not in declared]
    if duplicated or missing or extra:
        parts = [
            f"{what}: {', '.join(names)}"
            for what, names in (("missing", missing), ("not declared", extra), ("repeated", duplicated))
            if names
        ]
        message = f"the header of seed '{seed.name}' does not match its columns ({'; '.join(parts)}); declared: {', '.join(declared)}"
        problems.append(Diagnostic("SG213", message, location))
        return None
    return [header.index(name) for name in declared]


def _row(
    seed: LoadedSeed,
    record: tuple[CsvField, ...],
    order: list[int],
    columns: tuple[tuple[str, str], ...],
    found: list[Diagnostic],
) -> SeedRow | None:
    width = len(seed.csv.header)
    if len(record) != width:
        message = f"this row of seed '{seed.name}' has {len(record)} fields; the header has {width}"
        found.append(Diagnostic("SG213", message, seed.csv.at(record[0].line, record[0].col)))
        return None
    values = []
    for index, (column, logical) in zip(order, columns, strict=True):
        field = record[index]
        try:
            values.append(seed_values.convert(field.text, logical))
        except ValueError as exc:
            found.append(
                Diagnostic(
                    "SG214",
                    f"seed '{seed.name}', column '{column}': the value {exc}",
                    seed.csv.at(field.line, field.col),
                )
            )
    if len(values) != len(columns):
        return None
    return SeedRow(record[0].line, tuple(record[i].col for i in order), tuple(values))


def capped(found: list[Diagnostic]) -> list[Diagnostic]:
    if len(found) <= MAX_ERRORS_PER_SEED:
        return found
    last = found[MAX_ERRORS_PER_SEED - 1]
    note = f"{last.message} ({len(found) - MAX_ERRORS_PER_SEED} more errors in this file not shown)"
    return [*found[: MAX_ERRORS_PER_SEED - 1], Diagnostic(last.code, note, last.location)]
