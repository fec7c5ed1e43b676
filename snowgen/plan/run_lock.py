"""The run lock: a plan's first step takes the project's lock in the warehouse and its last
gives it back, so that two runs of one project never interleave (snowgen.build.run_lock
builds their SQL; ``snowgen run`` waits for, or reports, a lock another run holds).

Both are steps of the plan, in plan.json like any other: a scheduler that runs the files
gets the same protection as ``snowgen run``. Every step without a dependency comes after
the acquire step, and the release step comes after every step that nothing else waits for,
so a scheduler that runs independent steps side by side still runs them inside the lock.
"""

from __future__ import annotations

from dataclasses import replace

from snowgen.plan.data import Plan, Step, StepKind

ACQUIRE_STEP = "acquire_lock"
RELEASE_STEP = "release_lock"
#: the module of the release step: the plan's last, so its folder is the last one too
RELEASE_MODULE = "finish"


def with_run_lock(plan: Plan) -> Plan:
    """``plan`` between the step that takes the run lock and the step that releases it."""
    first = plan.steps[0]
    acquire = Step(id=ACQUIRE_STEP, module=first.module, kind=StepKind.ACQUIRE_LOCK, spec_file=first.spec_file)
    steps = [replace(s, depends_on=(ACQUIRE_STEP,)) if not s.depends_on else s for s in plan.steps]
    awaited = {dependency for s in plan.steps for dependency in s.depends_on}
    last = tuple(s.id for s in plan.steps if s.id not in awaited)
    release = Step(
        id=RELEASE_STEP, module=RELEASE_MODULE, kind=StepKind.RELEASE_LOCK, spec_file=first.spec_file, depends_on=last
    )
    modules = plan.modules if RELEASE_MODULE in plan.modules else (*plan.modules, RELEASE_MODULE)
    return replace(plan, steps=(acquire, *steps, release), modules=modules)


def has_run_lock(plan: Plan) -> bool:
    return any(step.kind == StepKind.ACQUIRE_LOCK for step in plan.steps)
