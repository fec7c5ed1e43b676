"""What an incremental strategy adds to the SQL of the models it governs, per dialect.

:class:`StrategySql` answers for a project without a strategy; the sessions and watermark
strategies subclass it (:mod:`snowgen.build.sessions`, :mod:`snowgen.build.watermark`)
and :mod:`snowgen.build.strategies` registers them by :attr:`StrategyPlan.kind`. Every
hook reads only the frozen plan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

if TYPE_CHECKING:
    from snowgen.build.run_limits import LimitsRelation
    from snowgen.dialects.base import Dialect
    from snowgen.dialects.shapes import Script
    from snowgen.plan.data import ModelPlan, Plan


class StrategySql:
    """A project without an incremental strategy: no gates, inputs or bound limits."""

    def gate(self, plan: Plan, model: ModelPlan) -> exp.Expr | None:
        """A condition false when the model must write nothing this run (§1.4)."""
        return None

    def inputs(self, plan: Plan, model: ModelPlan, dialect: Dialect, script: Script) -> dict[str, exp.Expr]:
        """Run-time values the model's body reads (placeholder name -> expression), computed
        by statements this adds to ``script`` before the model's own statements."""
        return {}

    def limits_relation(self, plan: Plan, model: ModelPlan) -> LimitsRelation | None:
        """Where the model's generated body reads the run limits, for dialects that bind
        them as variables (snowgen.build.run_limits); None when it reads none."""
        return None

    def replace_where(self, plan: Plan, model: ModelPlan) -> exp.Expr | None:
        """The target rows an incremental model replaces (delete + insert of exactly those
        rows) instead of upserting, as in a backfill plan; None for an upsert."""
        return None
