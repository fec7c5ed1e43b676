"""Full refresh: a plan that starts from nothing, with its incremental state dropped.

A full refresh drops every incremental table the plan writes (derived tables and the
manifests in the manifest schema) so the run rebuilds them from the start date. Dropping
the derived tables but keeping the manifests would make processing resume where the
manifest left off, losing history (reference §6), so snowgen never does one without the
other; and a target protects its manifests unless it allows refresh (``allow_refresh:
true``, meant for dev targets) or the command line says so explicitly.
"""

from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from snowgen.compiler.plan import Plan, Step
from snowgen.dialects.base import Dialect, Script
from snowgen.errors import SnowgenError
from snowgen.spec.loader import LoadedProject

STEP_ID = "full_refresh"


def check_refresh_allowed(loaded: LoadedProject, target: str | None, allow: bool) -> None:
    spec = loaded.spec
    if allow or (target is not None and target in spec.targets and spec.targets[target].allow_refresh):
        return
    where = f"target '{target}'" if target else "the default target"
    raise SnowgenError.at(
        "SG404",
        f"--full-refresh would drop the incremental manifests of {where}, which does not allow refresh; "
        "set allow_refresh: true on a dev target, or pass --allow-refresh to mean it",
        loaded.doc.location(("targets", target), key=True) if target in spec.targets else None,
    )


def with_full_refresh(plan: Plan) -> Plan:
    """``plan`` with a first step (after the schemas) that drops its incremental state."""
    setup = plan.steps[0]
    step = Step(id=STEP_ID, module=setup.module, kind=STEP_ID, spec_file=setup.spec_file, depends_on=(setup.id,))
    later = [replace(s, depends_on=(*s.depends_on, STEP_ID)) if setup.id in s.depends_on else s for s in plan.steps[1:]]
    return replace(plan, steps=(setup, step, *later))


def state_tables(plan: Plan) -> list[exp.Table]:
    """Incremental model tables, their staged tables, and every table the strategy keeps in
    the manifest schema."""
    tables = {m.table.sql(): m.table for m in plan.models.values() if m.materialization == "incremental"}
    tables.update((item.table.sql(), item.table) for item in plan.staged.values())
    manifest_schema = plan.schemas["manifest"]
    for table in plan.strategy.tables().values():
        if table.db == manifest_schema:
            tables.setdefault(table.sql(), table)
    return [tables[key] for key in sorted(tables)]


def build_full_refresh(plan: Plan, step: Step, dialect: Dialect) -> Script:
    drops = [dialect.drop_table(table) for table in state_tables(plan)]
    return Script(statements=drops)
