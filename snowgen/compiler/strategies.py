"""Project-level incremental strategies: the steps they add to a plan.

A strategy contributes generated nodes (tables the user's SQL bodies can read, such as
Snowplow's ``base_events_this_run``) and steps that run before and after the models.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from snowgen.compiler.plan import ModelPlan, Step


class NoStrategy:
    """A project without an ``incremental`` block: models only."""

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

    def schema_keys(self) -> set[str]:
        return set()

    def gate(self, model: ModelPlan, dialect) -> exp.Expr | None:
        return None

    def builders(self) -> dict:
        return {}

    def trailing_modules(self) -> list[str]:
        return []


def default_vars(spec) -> dict[str, Any]:
    if spec.incremental is not None and spec.incremental.strategy == "sessions":
        from snowgen.compiler.sessions import SESSION_VARS

        return dict(SESSION_VARS)
    return {}


def for_project(loaded, variables: dict[str, Any], schemas: dict[str, str]):
    incremental = loaded.spec.incremental
    if incremental is not None and incremental.strategy == "sessions":
        from snowgen.compiler.sessions import SessionsStrategy

        return SessionsStrategy(loaded, variables, schemas)
    return NoStrategy()
