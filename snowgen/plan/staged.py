"""Staged tables: a module's output kept across runs until the module that reads it has run.

A module that runs more often than the module reading its output (page views every hour,
a custom daily rollup over them) cannot hand over a table rebuilt every run: the reader
would see only the last run's rows. An incremental model with ``staged: true`` therefore
also upserts each run's rows into ``<scratch>.<name>_staged``; a model of a later module
reads that table like any other, and a step at the end of the reading module (before its
complete step) empties it. The SQL-runner v1 web model had the same ``_staged`` tables
(reference §2.6), emptied by the complete step of the next module.

Two rules keep rows from being dropped unread:

- one module reads a staged table (a second would find it emptied by the first);
- the emptying is guarded by the gates of the models that read it: under an incremental
  strategy a model that has already consumed the run's window writes nothing (§1.4), and
  then the staged rows stay for its next run.

A run interrupted before the emptying step reruns with the rows still staged; every
reader upserts, so reading them twice changes nothing.
"""

from __future__ import annotations

from sqlglot import exp

from snowgen.errors import SnowgenError
from snowgen.plan.data import ModelPlan, StagedTable, Step, StepKind
from snowgen.plan.references import Relation, qualified
from snowgen.spec.loader import LoadedModel, LoadedProject

SUFFIX = "_staged"


def staged_table(name: str, loaded: LoadedProject) -> exp.Table:
    return qualified(name + SUFFIX, loaded.spec.schemas.scratch, loaded.spec.database)


def staged_relations(loaded: LoadedProject, enabled: list[LoadedModel]) -> dict[str, Relation]:
    """``<model>_staged`` for every model that declares ``staged: true``."""
    taken = set(loaded.spec.sources) | {m.spec.name for m in enabled}
    relations: dict[str, Relation] = {}
    for model in enabled:
        if not model.spec.staged:
            continue
        _check_producer(model, taken)
        relations[model.spec.name + SUFFIX] = Relation((staged_table(model.spec.name, loaded),), (model.spec.name,))
    return relations


def _check_producer(model: LoadedModel, taken: set[str]) -> None:
    spec, where = model.spec, model.doc.location(("staged",), key=True)
    if spec.materialization != "incremental":
        raise SnowgenError.at(
            "SG220", "staged: only an incremental model keeps its runs' rows in a staged table", where
        )
    if spec.for_each:
        raise SnowgenError.at(
            "SG220", "staged: a for_each model cannot be staged; stage a model that reads all its instances", where
        )
    name = spec.name + SUFFIX
    if name in taken:
        raise SnowgenError.at(
            "SG220", f"staged: the staged table '{name}' would have the name of a model or source", where
        )


def find_staged(loaded: LoadedProject, models: dict[str, ModelPlan]) -> dict[str, StagedTable]:
    """Each staged table with the models reading it; checks the one-module rule."""
    found: dict[str, StagedTable] = {}
    for name, model in models.items():
        if not model.spec.staged:
            continue
        table = staged_table(name, loaded)
        readers = tuple(other for other, m in models.items() if other != name and _reads(m, table))
        where = model.doc.location(("staged",), key=True)
        if not readers:
            raise SnowgenError.at(
                "SG220",
                f"staged: no model reads '{table.name}', so nothing would ever empty it; "
                "read it in a later module or remove 'staged'",
                where,
            )
        modules = sorted({models[r].module for r in readers})
        if len(modules) > 1:
            raise SnowgenError.at(
                "SG220",
                f"staged: '{table.name}' is read by the modules {', '.join(modules)}; the first to run would "
                "empty it for the others (give each reading module a model of its own that reads it, in one module)",
                where,
            )
        found[name] = StagedTable(name, table, readers, modules[0])
    return found


def _reads(model: ModelPlan, table: exp.Table) -> bool:
    if model.facts is None:  # a generated model reads no staged table
        return False
    return (table.db.lower(), table.name.lower()) in model.facts.tables


def with_consume_steps(steps: list[Step], staged: dict[str, StagedTable], completes: dict[str, str]) -> list[Step]:
    """A step emptying each staged table whose readers run: after the reading module's
    other steps, before its complete step (the readers' gates still tell whether they ran)."""
    result = list(steps)
    ids = {s.id for s in steps}
    for item in staged.values():
        readers = [r for r in item.readers if r in ids]
        if not readers:
            continue
        complete = completes.get(item.module)
        module_steps = [i for i, s in enumerate(result) if s.module == item.module and s.id != complete]
        position = module_steps[-1] + 1
        step = Step(
            id=item.consume_step,
            module=item.module,
            kind=StepKind.CONSUME_STAGED,
            spec_file=result[position - 1].spec_file,
            depends_on=tuple(readers),
        )
        result.insert(position, step)
    return result
