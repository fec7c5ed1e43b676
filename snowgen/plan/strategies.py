"""The incremental strategies a project may choose (``incremental.strategy``), by key."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from snowgen.errors import SnowgenError
from snowgen.plan.sessions import SESSION_VARS, SessionsPlanner
from snowgen.plan.strategy import StrategyPlanner
from snowgen.plan.watermark import WatermarkPlanner

if TYPE_CHECKING:
    from snowgen.plan.backfill import Backfill
    from snowgen.spec.loader import LoadedProject


def _sessions(loaded: LoadedProject, variables: dict[str, Any], schemas: dict[str, str], backfill: Backfill | None):
    _refuse_backfill(loaded, backfill)
    return SessionsPlanner(loaded, variables, schemas)


def _watermark(loaded: LoadedProject, variables: dict[str, Any], schemas: dict[str, str], backfill: Backfill | None):
    return WatermarkPlanner(loaded, schemas, backfill)


#: ``incremental.strategy`` -> the function making that strategy's planner
STRATEGIES = {"sessions": _sessions, "watermark": _watermark}

#: ``incremental.strategy`` -> the vars it adds, with their defaults
STRATEGY_VARS: dict[str, dict[str, Any]] = {"sessions": SESSION_VARS}


def _refuse_backfill(loaded: LoadedProject, backfill: Backfill | None) -> None:
    if backfill is None:
        return
    incremental = loaded.spec.incremental
    has = f"strategy '{incremental.strategy}'" if incremental else "no incremental strategy"
    message = f"--backfill needs the watermark strategy; project '{loaded.spec.project}' has {has}"
    raise SnowgenError.at("SG406", message)


def default_vars(spec) -> dict[str, Any]:
    if spec.incremental is None:
        return {}
    return dict(STRATEGY_VARS.get(spec.incremental.strategy, {}))


def for_project(
    loaded: LoadedProject, variables: dict[str, Any], schemas: dict[str, str], backfill: Backfill | None = None
) -> StrategyPlanner:
    incremental = loaded.spec.incremental
    if incremental is None:
        _refuse_backfill(loaded, backfill)
        return StrategyPlanner()
    return STRATEGIES[incremental.strategy](loaded, variables, schemas, backfill)
