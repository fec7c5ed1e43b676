"""Stage 3, build: a plan x a dialect -> sqlglot statements for every step (one builder per
step kind in :data:`snowgen.build.steps.BUILDERS`); never text."""
