"""Project-level incremental strategies: the steps they add to a plan.

A strategy contributes generated nodes (tables the user's SQL bodies can read, such as
Snowplow's ``base_events_this_run``) and steps that run before and after the models.
Strategies are registered in :data:`STRATEGIES` under their ``incremental.strategy`` key;
each subclasses :class:`NoStrategy`, whose methods are the hooks the planner and the
builders call, with the answers of a project that has no strategy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlglot import exp

from snowgen.compiler.plan import Check, ModelPlan, Step
from snowgen.errors import SnowgenError

if TYPE_CHECKING:
    from snowgen.compiler.backfill import Backfill
    from snowgen.compiler.references import Relation
    from snowgen.compiler.run_limits import LimitsRelation
    from snowgen.dialects.base import Dialect, Script
    from snowgen.spec.loader import LoadedModel, LoadedProject

#: model keys that only a project strategy gives a meaning to: key -> that strategy
STRATEGY_MODEL_KEYS = {"watermark": "watermark", "backfill": "watermark"}


class NoStrategy:
    """A project without an ``incremental`` block: models only (and every hook's default)."""

    def tables(self) -> dict[str, exp.Table]:
        return {}

    def models(self, user_models: dict[str, ModelPlan]) -> dict[str, ModelPlan]:
        """Generated models (built like user models), knowing the user's models."""
        return {}

    def nodes(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        return {}

    def steps_for(self, name: str, selected: set[str] | None) -> list[Step]:
        return []

    def leading_modules(self) -> list[str]:
        return []

    def select(self, selected: set[str]) -> set[str]:
        """Steps that must run with a --select choice (beyond what it reads)."""
        return set()

    def complete_steps(self) -> dict[str, str]:
        """module -> the step that completes it (advances its incremental state)."""
        return {}

    def schema_keys(self) -> set[str]:
        return set()

    def gate(self, model: ModelPlan, dialect) -> exp.Expr | None:
        return None

    def builders(self) -> dict:
        return {}

    def trailing_modules(self) -> list[str]:
        return []

    def relations_for(self, model: LoadedModel) -> dict[str, Relation]:
        """Names that resolve differently in this model's body than in others' (the
        watermark strategy's filtered source); also checks the model's strategy keys."""
        for key, strategy in STRATEGY_MODEL_KEYS.items():
            if getattr(model.spec, key) is not None:
                raise SnowgenError.at(
                    "SG102",
                    f"'{key}' needs the project's 'incremental: {{strategy: {strategy}}}'",
                    model.doc.location((key,), key=True),
                )
        return {}

    def inputs(self, model: ModelPlan, dialect: Dialect, script: Script) -> dict[str, exp.Expr]:
        """Run-time values the model's body reads (placeholder name -> expression), computed
        by statements this adds to ``script`` before the model's own statements."""
        return {}

    def limits_relation(self, model: ModelPlan) -> LimitsRelation | None:
        """Where the model's generated body reads the run limits, for dialects that bind
        them as variables (compiler.run_limits); None when it reads none."""
        return None

    def checks(self) -> list[Check]:
        """Health checks to read after a run (warnings: compiler.checks)."""
        return []

    def replace_where(self, model: ModelPlan, dialect: Dialect) -> exp.Expr | None:
        """The target rows an incremental model replaces (delete + insert of exactly those
        rows) instead of upserting, as in a backfill plan; None for an upsert."""
        return None


def _sessions(loaded: LoadedProject, variables: dict[str, Any], schemas: dict[str, str], backfill: Backfill | None):
    from snowgen.compiler.sessions import SessionsStrategy

    _refuse_backfill(loaded, backfill)
    return SessionsStrategy(loaded, variables, schemas)


def _watermark(loaded: LoadedProject, variables: dict[str, Any], schemas: dict[str, str], backfill: Backfill | None):
    from snowgen.compiler.watermark import WatermarkStrategy

    return WatermarkStrategy(loaded, schemas, backfill)


#: ``incremental.strategy`` -> the function making that strategy (modules import on use:
#: each strategy module imports this one for :class:`NoStrategy`)
STRATEGIES = {"sessions": _sessions, "watermark": _watermark}


def _refuse_backfill(loaded: LoadedProject, backfill: Backfill | None) -> None:
    if backfill is None:
        return
    incremental = loaded.spec.incremental
    has = f"strategy '{incremental.strategy}'" if incremental else "no incremental strategy"
    message = f"--backfill needs the watermark strategy; project '{loaded.spec.project}' has {has}"
    raise SnowgenError.at("SG406", message)


def default_vars(spec) -> dict[str, Any]:
    if spec.incremental is not None and spec.incremental.strategy == "sessions":
        from snowgen.compiler.sessions import SESSION_VARS

        return dict(SESSION_VARS)
    return {}


def for_project(loaded, variables: dict[str, Any], schemas: dict[str, str], backfill: Backfill | None = None):
    incremental = loaded.spec.incremental
    if incremental is None:
        _refuse_backfill(loaded, backfill)
        return NoStrategy()
    return STRATEGIES[incremental.strategy](loaded, variables, schemas, backfill)
