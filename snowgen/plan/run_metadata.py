"""Run metadata: the step that starts a run (snowgen.build.run_metadata writes its rows)."""

from __future__ import annotations

from dataclasses import replace

from snowgen.plan.data import Plan, Step, StepKind

START_STEP = "start_run"


def with_run_metadata(plan: Plan) -> Plan:
    """``plan`` with the step that starts a run, right after the schemas."""
    setup = plan.steps[0]
    step = Step(
        id=START_STEP, module=setup.module, kind=StepKind.START_RUN, spec_file=setup.spec_file, depends_on=(setup.id,)
    )
    return replace(plan, steps=(setup, step, *plan.steps[1:]))
