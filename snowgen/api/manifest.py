"""Changes to the manifest of the sessions strategy, as statements to print or run:
models removed (backfilled from start_date by the next run) or set back to a time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from snowgen.build import manifest_ops
from snowgen.dialects.base import Dialect
from snowgen.plan.data import Plan
from snowgen.plan.planner import plan_project
from snowgen.runner.connections import query_rows
from snowgen.spec.loader import LoadedProject


@dataclass(frozen=True)
class ManifestChange:
    statements: list[str]  # rendered for the dialect, to print or run
    warnings: list[str]


def manifest_remove(
    loaded: LoadedProject, dialect: Dialect, models: list[str], target: str | None = None
) -> ManifestChange:
    """Remove ``models`` from the manifest: the next run backfills them from start_date."""
    change = manifest_ops.remove_models(plan_project(loaded, target=target), dialect, models)
    return ManifestChange([dialect.render(s) for s in change.statements], change.warnings)


def manifest_rewind(
    loaded: LoadedProject,
    dialect: Dialect,
    models: list[str],
    to: dt.datetime,
    target: str | None = None,
    db: str | None = None,
    base: Path | None = None,
) -> ManifestChange:
    """Set ``models`` back to ``to``: the next runs reprocess from there. With ``db`` (a
    relative DuckDB path is relative to ``base``, default the working directory), the
    manifest is read first to warn how many runs the catch-up takes."""
    plan = plan_project(loaded, target=target)
    reached = _most_advanced(plan, dialect, db, base or Path.cwd()) if db is not None else None
    change = manifest_ops.rewind_models(plan, dialect, models, to, reached)
    return ManifestChange([dialect.render(s) for s in change.statements], change.warnings)


def _most_advanced(plan: Plan, dialect: Dialect, db: str, base: Path) -> dt.datetime | None:
    """The last_success of the most advanced model on ``db`` (None: none, or no window to count)."""
    if not manifest_ops.counts_catch_up(plan):
        return None
    [(value,)] = query_rows(db, base, dialect.render(dialect.lower(manifest_ops.reached_query(plan))))
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value
