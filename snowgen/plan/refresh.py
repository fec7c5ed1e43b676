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

from snowgen.errors import SnowgenError
from snowgen.plan.data import Plan, Step, StepKind
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
    step = Step(
        id=STEP_ID, module=setup.module, kind=StepKind.FULL_REFRESH, spec_file=setup.spec_file, depends_on=(setup.id,)
    )
    later = [replace(s, depends_on=(*s.depends_on, STEP_ID)) if setup.id in s.depends_on else s for s in plan.steps[1:]]
    return replace(plan, steps=(setup, step, *later))
