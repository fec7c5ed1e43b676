"""The sessionised incremental strategy (Snowplow's base module), generated from the
project's ``incremental: {strategy: sessions}`` block.

Steps, all plain SQL, all state in the warehouse, as Snowplow's dbt packages run them:

1. the incremental manifest and the quarantine table (created if missing);
2. ``base_new_event_limits``: the run window from the manifest, in the four states of §1.3;
3. ``base_sessions_lifecycle_manifest``: one row per session, upserted (§1.5);
4. ``base_sessions_this_run``: sessions overlapping the window (§1.6);
5. quarantine of sessions that reached ``max_session_days`` (§1.8);
6. ``base_events_this_run``: every event of those sessions, filtered and deduplicated (§1.7);
7. after the models: the manifest advances for the models of the run (§1.9).

Incremental models downstream of ``base_events_this_run`` are *tracked*: they are counted in
the run limits, gated (a model that already consumed the window writes nothing, §1.4), and
advanced in the manifest at the end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from sqlglot import exp

from snowgen.errors import SnowgenError
from snowgen.plan.dag import downstream
from snowgen.plan.data import SETUP_STEP, Check, ModelPlan, Step, StepKind, StrategyPlan
from snowgen.plan.dependencies import with_rows
from snowgen.plan.events import EventSource, events_this_run_columns, events_this_run_types
from snowgen.plan.identifiers import identifier_sources
from snowgen.plan.references import qualified
from snowgen.plan.strategy import StrategyPlanner, generated_model
from snowgen.spec.models import SessionsStrategySpec

SESSION_VARS: dict[str, Any] = {
    "start_date": "2020-01-01",
    "backfill_limit_days": 30,
    "lookback_window_hours": 6,
    "days_late_allowed": 3,
    "max_session_days": 3,
    "session_lookback_days": 730,
    # snowgen's own: how far ahead of the warehouse's clock an event may be stamped and
    # still be read; later events wait (snowgen.build.sessions_sql.latest_read)
    "clock_skew_minutes": 60,
}
_WHOLE_NUMBER_VARS = tuple(k for k in SESSION_VARS if k != "start_date")

#: the run's window, as the limits table holds it (snowgen.build.run_limits binds them)
RUN_LIMIT_COLUMNS = ("lower_limit", "upper_limit")
#: the run limits' columns with their types (future_events: a count, for health checks)
RUN_LIMIT_TYPES = {"lower_limit": "timestamp", "upper_limit": "timestamp", "future_events": "bigint"}
LIFECYCLE_TYPES = {
    "session_identifier": "string",
    "user_identifier": "string",
    "start_tstamp": "timestamp",
    "end_tstamp": "timestamp",
}
LIFECYCLE_COLUMNS = tuple(LIFECYCLE_TYPES)

# Physical layout of the lifecycle manifest (reference §2.2 / §4.1).
LIFECYCLE_LAYOUT = {
    "partition": {"column": "start_tstamp", "by": "day"},
    "cluster": ["session_identifier"],
    "dist": "session_identifier",
    "sort": ["start_tstamp"],
}

#: generated models: name key -> (materialization, the keys of what it reads, its builder)
_GENERATED = {
    "limits": ("table", ("manifest",), "sessions.limits"),
    "lifecycle": ("incremental", ("limits", "quarantine"), "sessions.lifecycle"),
    "sessions": ("table", ("lifecycle",), "sessions.sessions"),
    "events": ("table", ("sessions", "quarantine_run"), "sessions.events"),
}


@dataclass(frozen=True, kw_only=True)
class SessionsPlan(StrategyPlan):
    """The sessions strategy as planned: its tables' names, the checked vars, the events it
    reads and the incremental models it tracks (``tracked``: those this plan advances)."""

    kind: ClassVar[str] = "sessions"
    config: SessionsStrategySpec
    vars: Mapping[str, Any]
    names: Mapping[str, str]  # table key -> table name
    prefix: str
    schemas: Mapping[str, str]
    database: str | None
    events: EventSource
    #: module -> its tracked models (all of them: a module's complete step names them)
    tracked_by_module: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def table(self, key: str) -> exp.Table:
        """A fresh node for one of the strategy's tables (a sqlglot node has one parent)."""
        return qualified(self.names[key], self.schemas[_schema_key(key)], self.database)

    def complete_step(self, module: str) -> str:
        """The step that ends ``module``: its models' manifest rows advance (§1.9)."""
        return f"{self.prefix}{module}_complete"


class SessionsPlanner(StrategyPlanner):
    def __init__(self, loaded, variables: dict[str, Any], schemas: dict[str, str]):
        self.loaded = loaded
        config: SessionsStrategySpec = loaded.spec.incremental
        prefix = config.prefix if config.prefix is not None else f"{loaded.spec.project}_"
        names = {
            "manifest": f"{prefix}incremental_manifest",
            "quarantine": f"{prefix}base_quarantined_sessions",
            "limits": f"{prefix}base_new_event_limits",
            "lifecycle": f"{prefix}base_sessions_lifecycle_manifest",
            "sessions": f"{prefix}base_sessions_this_run",
            "quarantine_run": f"{prefix}base_quarantine_sessions",
            "events": f"{prefix}base_events_this_run",
        }
        self.plan = SessionsPlan(
            config=config, vars=_checked_vars(loaded, variables), names=names, prefix=prefix, schemas=dict(schemas),
            database=loaded.spec.database, events=_event_source(loaded, config), schema_keys=frozenset({"manifest", "scratch"}),
        )  # fmt: skip
        self.plan = replace(self.plan, tables=self.tables(), manifest=self.plan.table("manifest"))

    def tables(self) -> dict[str, exp.Table]:
        keys = ("manifest", "quarantine", "limits", "lifecycle", "sessions", "events")
        return {self.plan.names[k]: self.plan.table(k) for k in keys}

    def leading_modules(self) -> list[str]:
        return [self.plan.config.module]

    def nodes(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        module, names = self.plan.config.module, self.plan.names
        return {
            names["manifest"]: (module, ()),
            names["quarantine"]: (module, ()),
            names["quarantine_run"]: (module, (names["sessions"], names["quarantine"])),
        }

    def steps_for(self, name: str) -> list[Step]:
        names = self.plan.names
        kinds = {
            names["manifest"]: StepKind.MANIFEST_TABLE,
            names["quarantine"]: StepKind.MANIFEST_TABLE,
            names["quarantine_run"]: StepKind.QUARANTINE,
        }
        module, depends = self.nodes()[name]
        return [
            Step(id=name, module=module, kind=kinds[name], spec_file="snowgen.yml", depends_on=(SETUP_STEP, *depends))
        ]

    def models(self, user_models: dict[str, ModelPlan]) -> dict[str, ModelPlan]:
        tracked = tuple(sorted(_downstream_incremental(user_models, self.plan.names["events"])))
        by_module: dict[str, tuple[str, ...]] = {}
        for name in tracked:
            module = user_models[name].module
            by_module[module] = (*by_module.get(module, ()), name)
        complete = {module: self.plan.complete_step(module) for module in by_module}
        self.plan = replace(self.plan, tracked=tracked, tracked_by_module=by_module, complete_steps=complete)
        columns = {
            "limits": (*RUN_LIMIT_COLUMNS, "future_events"),
            "lifecycle": LIFECYCLE_COLUMNS,
            "sessions": LIFECYCLE_COLUMNS,
            "events": events_this_run_columns(self.plan.events),
        }
        lifecycle = {"column_types": LIFECYCLE_TYPES, "spec_extra": {
            "unique_key": "session_identifier", "upsert_date_key": "start_tstamp", "layout": LIFECYCLE_LAYOUT}}  # fmt: skip
        seen_as = {
            "limits": RUN_LIMIT_TYPES,
            "sessions": LIFECYCLE_TYPES,
            "events": events_this_run_types(self.plan.events),
        }
        generated = [
            self._model(key, columns[key], output_types=seen_as.get(key), **(lifecycle if key == "lifecycle" else {}))
            for key in _GENERATED
        ]
        generated += [self._complete_model(module) for module in sorted(by_module)]
        return {m.name: m for m in generated}

    def required_steps(self, selected: set[str]) -> dict[str, str]:
        """With --select of a tracked model: the base module, which computes the window from
        the selected models' manifest rows (§1.3), and the complete step of each module with
        a selected tracked model."""
        tracked = [m for m in self.plan.tracked if m in selected]
        if not tracked:
            return {}
        base = self.plan.config.module
        why = f"the {base} module computes the run's window and events for selected model '{tracked[0]}'"
        needs = dict.fromkeys(self.plan.names.values(), why)
        for module, models in self.plan.tracked_by_module.items():
            chosen = [m for m in models if m in selected]
            if chosen:
                needs[self.plan.complete_step(module)] = (
                    f"the complete step of module '{module}' advances the manifest of selected model '{chosen[0]}'"
                )
        return needs

    def completion_steps(self) -> set[str]:
        return set(self.plan.complete_steps.values())

    def setup_nodes(self) -> set[str]:
        return {self.plan.names["manifest"], self.plan.names["quarantine"]}

    def finish(self, selected: set[str] | None) -> SessionsPlan:
        """With --select, only the selected tracked models count in the run limits and
        advance in the manifest (what ``models_to_run`` does by hand upstream)."""
        if selected is None:
            return self.plan
        return replace(self.plan, tracked=tuple(m for m in self.plan.tracked if m in selected))

    def checks(self) -> list[Check]:
        skew = self.plan.vars["clock_skew_minutes"]
        description = (
            f"events stamped more than {skew} minutes after the warehouse's clock were not read; they wait "
            "until their time (a broken collector clock? var clock_skew_minutes sets the allowance)"
        )
        prefix, limits = self.plan.prefix, self.plan.names["limits"]
        return [
            Check(
                f"{prefix}future_events",
                description,
                self.plan.table("limits"),
                ("future_events",),
                "future_events",
                limits,
            )
        ]

    # -- generated models ---------------------------------------------------------------------------
    def _model(self, key: str, columns, *, column_types=None, output_types=None, spec_extra=None) -> ModelPlan:
        materialization, reads, builder = _GENERATED[key]
        plan = self.plan
        return generated_model(
            self.loaded.doc, strategy="sessions", generated=builder, name=plan.names[key], module=plan.config.module,
            materialization=materialization, schema_key=_schema_key(key), table=plan.table(key),
            depends_on=tuple(plan.names[r] for r in reads), columns=columns, column_types=column_types,
            output_types=output_types, spec_extra=spec_extra, upsert_lookback_days=plan.vars["upsert_lookback_days"],
        )  # fmt: skip

    def _complete_model(self, module: str) -> ModelPlan:
        """A module's complete step: an upsert of its models' rows into the manifest, so a
        module can run on its own (``--select module:NAME``) and advance only its models."""
        plan = self.plan
        reads = tuple(plan.names[k] for k in ("events", "manifest", "limits"))
        return generated_model(
            self.loaded.doc, strategy="sessions", generated="sessions.complete", name=plan.complete_step(module),
            module=module, materialization="incremental", schema_key="manifest",
            table=with_rows(plan.table("manifest"), plan.tracked_by_module[module]),
            depends_on=(*reads, *plan.tracked_by_module[module]), columns=("model", "last_success"),
            column_types={"model": "string", "last_success": "timestamp"}, spec_extra={"unique_key": "model"},
            upsert_lookback_days=plan.vars["upsert_lookback_days"],
        )  # fmt: skip


def _event_source(loaded, config: SessionsStrategySpec) -> EventSource:
    """The source the strategy reads events from; it must declare its columns."""
    source = loaded.spec.sources.get(config.source)
    if source is None:
        raise SnowgenError.at(
            "SG201",
            f"incremental.source: unknown source '{config.source}'",
            loaded.doc.location(("incremental", "source")),
        )
    if not source.columns:
        raise SnowgenError.at(
            "SG211",
            f"the sessions strategy needs the columns of source '{config.source}': declare 'columns'",
            loaded.doc.location(("sources", config.source), key=True),
        )
    project_filter = loaded.spec.app_filter
    enabled_filter = project_filter if project_filter.enabled else None
    identifiers = identifier_sources(loaded, config)
    return EventSource(config, source, source.database or loaded.spec.database, enabled_filter, identifiers)


def _schema_key(table_key: str) -> str:
    """State kept between runs lives in the manifest schema; the rest is rebuilt each run."""
    return "manifest" if table_key in ("manifest", "quarantine", "lifecycle") else "scratch"


def _downstream_incremental(models: dict[str, ModelPlan], root: str) -> set[str]:
    """Incremental models that read ``root`` directly or through other models."""
    readers = downstream({name: model.depends_on for name, model in models.items()}, {root})
    return {name for name in readers if name in models and models[name].materialization == "incremental"}


def _checked_vars(loaded, variables: dict[str, Any]) -> dict[str, Any]:
    checked = dict(variables)
    for name in _WHOLE_NUMBER_VARS:
        value = variables.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SnowgenError.at(
                "SG102", f"var {name} must be a whole number >= 0, got {value!r}", loaded.doc.location(("vars", name))
            )
    _check_skew_within_lookback(loaded, variables)
    start = variables.get("start_date")
    try:
        checked["start_date"] = (
            start.isoformat() if isinstance(start, dt.date) else dt.date.fromisoformat(str(start)).isoformat()
        )
    except ValueError:
        raise SnowgenError.at(
            "SG102",
            f"var start_date must be a date (YYYY-MM-DD), got {start!r}",
            loaded.doc.location(("vars", "start_date")),
        ) from None
    return checked


def _check_skew_within_lookback(loaded, variables: dict[str, Any]) -> None:
    """A run may read an event up to clock_skew_minutes ahead and move the manifest to it; the
    next window starts lookback_window_hours before, so it must reach back past now, or events
    stamped between now and that event which arrive later would never be read."""
    skew, lookback = variables["clock_skew_minutes"], variables["lookback_window_hours"]
    if skew > lookback * 60:
        blamed = "clock_skew_minutes" if "clock_skew_minutes" in loaded.spec.vars else "lookback_window_hours"
        raise SnowgenError.at(
            "SG102",
            f"var clock_skew_minutes ({skew}) must not exceed lookback_window_hours ({lookback}) x 60: "
            "the next run's window would start after events stamped before an early one",
            loaded.doc.location(("vars", blamed)),
        )
