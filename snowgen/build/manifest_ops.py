"""One-off statements on the incremental manifest: remove models, rewind models.

- Remove (upstream's ``models_to_remove``): the models leave the manifest, so the next run
  sees them as new and backfills them from ``start_date`` while the others wait.
- Rewind: the models' ``last_success`` goes back to a date (never forward), so the next
  runs reprocess from there without a full refresh; the others wait until they catch up
  ("out of sync" state, reference §1.3).

Under the watermark strategy the same commands move watermarks, and forget the intervals
the models read where late rows are tracked (snowgen.build.late_data: ``forget_intervals``,
``rewind_watermarks``).

Both are plain SQL for the project's dialect, inside a transaction where the warehouse has
them, to be run once by hand or by ``snowgen manifest ... --db``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlglot import exp

from snowgen.build.late_data import forget_intervals, rewind_watermarks
from snowgen.dialects.base import Dialect
from snowgen.errors import SnowgenError
from snowgen.names import canonical
from snowgen.plan.data import Plan
from snowgen.plan.watermark import WatermarkPlan


@dataclass(frozen=True)
class ManifestChange:
    statements: list[exp.Expr]
    warnings: list[str]


def _manifest(plan: Plan) -> exp.Table:
    manifest = plan.strategy.manifest
    if manifest is None:
        raise SnowgenError.at(
            "SG403", f"project {plan.project} has no incremental manifest (incremental: {{strategy: sessions}})"
        )
    return manifest


def _models(plan: Plan, names: list[str]) -> list[str]:
    known = set(plan.strategy.tracked)
    chosen = [canonical(n) for n in names]
    unknown = [n for n in chosen if n not in known]
    if unknown or not chosen:
        listed = ", ".join(sorted(known)) or "none"
        raise SnowgenError.at(
            "SG402", f"not a model of the manifest: {', '.join(unknown) or '(none given)'}; its models: {listed}"
        )
    return list(dict.fromkeys(chosen))


def remove_models(plan: Plan, dialect: Dialect, names: list[str]) -> ManifestChange:
    manifest, models = _manifest(plan), _models(plan, names)
    delete = exp.Delete(
        this=manifest.copy(),
        where=exp.Where(this=exp.In(this=exp.column("model"), expressions=[exp.Literal.string(m) for m in models])),
    )
    if _tracks_intervals(plan):
        intervals = plan.strategy.table("intervals")
        return ManifestChange(dialect.in_transaction([delete, forget_intervals(intervals, models)]), [])
    return ManifestChange(dialect.in_transaction([delete]), [])


def _tracks_intervals(plan: Plan) -> bool:
    return isinstance(plan.strategy, WatermarkPlan) and plan.strategy.tracks_intervals


def rewind_models(
    plan: Plan, dialect: Dialect, names: list[str], to: dt.datetime, reached: dt.datetime | None = None
) -> ManifestChange:
    """``reached``: where the most advanced model of the manifest is before the rewind
    (:func:`reached_query`), to count the runs of the catch-up; None: not known, no count."""
    manifest, models = _manifest(plan), _models(plan, names)
    when = dialect.timestamp_literal(to.isoformat(sep=" "))
    column = plan.strategy.manifest_column
    update = exp.Update(
        this=manifest.copy(),
        expressions=[exp.EQ(this=exp.column(column), expression=when.copy())],
        where=exp.Where(
            this=exp.and_(
                exp.In(this=exp.column("model"), expressions=[exp.Literal.string(m) for m in models]),
                exp.GT(this=exp.column(column), expression=when.copy()),
            )
        ),
    )
    if _tracks_intervals(plan):
        changes = rewind_watermarks(manifest, plan.strategy.table("intervals"), models, when)
        return ManifestChange(dialect.in_transaction(changes), [])
    return ManifestChange(dialect.in_transaction([update]), _catch_up_warning(plan, to, reached))


def counts_catch_up(plan: Plan) -> bool:
    """Does a rewind of this plan's manifest catch up by windows (backfill_limit_days)?"""
    return bool(plan.vars.get("backfill_limit_days")) and plan.strategy.manifest is not None


def reached_query(plan: Plan) -> exp.Select:
    """The last_success of the most advanced model the plan tracks: where a rewound model
    catches up to. While the manifest is out of sync a run's window ends there at most
    (reference §1.3), so events after it are not part of the catch-up."""
    column = plan.strategy.manifest_column
    models = [exp.Literal.string(m) for m in plan.strategy.tracked] or [exp.Null()]
    return (
        exp.Select(expressions=[exp.Max(this=exp.column(column))])
        .from_(_manifest(plan).copy(), copy=False)
        .where(exp.In(this=exp.column("model"), expressions=models), copy=False)
    )


def _catch_up_warning(plan: Plan, to: dt.datetime, reached: dt.datetime | None) -> list[str]:
    """Each run moves a rewound model at most backfill_limit_days on, up to ``reached``."""
    days = plan.vars.get("backfill_limit_days")  # none: no window limit (the watermark strategy)
    if not days or reached is None:
        return []
    runs = math.ceil(max((reached - to).total_seconds(), 0) / (days * 86400))
    if runs <= 1:
        return []
    return [
        f"catching up from {to:%Y-%m-%d %H:%M} to {reached:%Y-%m-%d %H:%M} (the most advanced model's last_success) "
        f"takes about {runs} runs with backfill_limit_days {days}; other models write nothing meanwhile. "
        f"A larger backfill_limit_days (e.g. --vars '{{backfill_limit_days: {runs * days}}}') finishes in one run"
    ]
