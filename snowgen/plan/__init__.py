"""Stage 2, plan: a loaded project -> a frozen, dialect-neutral :class:`~snowgen.plan.data.Plan`
(references resolved, columns found, modules and steps ordered, strategies planned,
``--select`` applied). Imports nothing of build, emit or the runner."""
