"""What ``snowgen health`` checks, per incremental strategy, as plain data (no dialect):
snowgen.build.health builds the queries for a warehouse and snowgen.runner.health runs them.

- watermark strategy: every watermark model's watermark (stale when older than
  ``stale_after_hours`` or never set, as the ``<prefix>watermark_health`` view says), the
  rows of its source waiting beyond the clock skew allowance, and the recorded intervals that
  hold late rows (snowgen.plan.late_data);
- sessions strategy: the events table (stale when it holds no event stamped in the last
  ``stale_after_hours``), and each tracked model's manifest row (lagging when its
  ``last_success`` is more than ``lag_after_hours`` behind the most advanced model's, or
  missing).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from snowgen.errors import SnowgenError
from snowgen.plan.data import Plan
from snowgen.plan.references import tables_by_instance
from snowgen.plan.sessions import SessionsPlan
from snowgen.plan.watermark import WatermarkPlan, WatermarkRead


@dataclass(frozen=True)
class WatermarkChecks:
    reads: tuple[WatermarkRead, ...]
    sources: tuple[exp.Table, ...]  # the source table each read reads (parallel to ``reads``)
    manifest: exp.Table
    intervals: exp.Table | None  # None: late rows are not tracked (late_data: off)
    stale_after_hours: int
    clock_skew_minutes: int
    late_data: str
    horizon_hours: int


@dataclass(frozen=True)
class SessionsChecks:
    source: str  # the events source's name
    events: exp.Table
    timestamp: str
    manifest: exp.Table
    models: tuple[str, ...]  # the tracked models, whose manifest rows are compared
    stale_after_hours: int
    lag_after_hours: int
    clock_skew_minutes: int


@dataclass(frozen=True)
class HealthPlan:
    project: str
    strategy: str  # watermark | sessions
    watermarks: WatermarkChecks | None = None
    sessions: SessionsChecks | None = None

    @property
    def settings(self) -> dict[str, object]:
        """The thresholds the checks apply, for the report."""
        if self.watermarks is not None:
            w = self.watermarks
            settings = {"stale_after_hours": w.stale_after_hours, "clock_skew_minutes": w.clock_skew_minutes}
            return {**settings, "late_data": w.late_data, "late_data_horizon_hours": w.horizon_hours}
        s = self.sessions
        return {
            "stale_after_hours": s.stale_after_hours,
            "lag_after_hours": s.lag_after_hours,
            "clock_skew_minutes": s.clock_skew_minutes,
        }


def health_plan(plan: Plan) -> HealthPlan:
    """The checks of ``plan``'s strategy; a project without one has nothing to check (SG440)."""
    strategy = plan.strategy
    if isinstance(strategy, WatermarkPlan):
        return HealthPlan(plan.project, "watermark", watermarks=_watermark_checks(plan, strategy))
    if isinstance(strategy, SessionsPlan):
        return HealthPlan(plan.project, "sessions", sessions=_sessions_checks(strategy))
    raise SnowgenError.at(
        "SG440",
        f"project {plan.project} has no incremental strategy: snowgen health checks the sources of "
        "incremental: {strategy: watermark} and {strategy: sessions}",
    )


def _watermark_checks(plan: Plan, strategy: WatermarkPlan) -> WatermarkChecks:
    reads = tuple(strategy.reads[name] for name in sorted(strategy.reads))
    sources = tuple(tables_by_instance(plan.spec, plan.spec.sources[r.source])[r.instance] for r in reads)
    config = strategy.config
    return WatermarkChecks(
        reads=reads, sources=sources, manifest=strategy.table("manifest"),
        intervals=strategy.table("intervals") if strategy.tracks_intervals else None,
        stale_after_hours=config.stale_after_hours, clock_skew_minutes=config.clock_skew_minutes,
        late_data=config.late_data, horizon_hours=config.late_data_horizon_hours,
    )  # fmt: skip


def _sessions_checks(strategy: SessionsPlan) -> SessionsChecks:
    config = strategy.config
    return SessionsChecks(
        source=config.source, events=strategy.events.table(), timestamp=config.session_timestamp,
        manifest=strategy.table("manifest"), models=tuple(sorted(strategy.tracked)),
        stale_after_hours=config.stale_after_hours, lag_after_hours=config.lag_after_hours,
        clock_skew_minutes=strategy.vars["clock_skew_minutes"],
    )  # fmt: skip
