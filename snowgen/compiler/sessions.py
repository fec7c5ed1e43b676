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
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlglot import exp

from snowgen.compiler import ddl, run_limits, sessions_sql
from snowgen.compiler.dag import downstream
from snowgen.compiler.plan import SETUP_STEP, Check, ModelPlan, Plan, Step
from snowgen.compiler.references import qualified
from snowgen.compiler.run_limits import LimitsRelation
from snowgen.compiler.sessions_events import EventSource, events_this_run_columns, events_this_run_query
from snowgen.compiler.sessions_sql import LIFECYCLE_COLUMNS
from snowgen.compiler.strategies import NoStrategy
from snowgen.dialects.base import Dialect, Script
from snowgen.errors import SnowgenError
from snowgen.spec.models import ModelSpec, SessionsStrategySpec

SESSION_VARS: dict[str, Any] = {
    "start_date": "2020-01-01",
    "backfill_limit_days": 30,
    "lookback_window_hours": 6,
    "days_late_allowed": 3,
    "max_session_days": 3,
    "session_lookback_days": 730,
    # snowgen's own: how far ahead of the warehouse's clock an event may be stamped and
    # still be read; later events wait (sessions_sql.latest_read)
    "clock_skew_minutes": 60,
}
_WHOLE_NUMBER_VARS = tuple(k for k in SESSION_VARS if k != "start_date")

# Physical layout of the lifecycle manifest (reference §2.2 / §4.1).
LIFECYCLE_LAYOUT = {
    "partition": {"column": "start_tstamp", "by": "day"},
    "cluster": ["session_identifier"],
    "dist": "session_identifier",
    "sort": ["start_tstamp"],
}


class SessionsStrategy(NoStrategy):
    def __init__(self, loaded, variables: dict[str, Any], schemas: dict[str, str]):
        self.loaded = loaded
        self.config: SessionsStrategySpec = loaded.spec.incremental
        self.vars = _checked_vars(loaded, variables)
        self.schemas = schemas
        self.database = loaded.spec.database
        prefix = self.config.prefix if self.config.prefix is not None else f"{loaded.spec.project}_"
        self.names = {
            "manifest": f"{prefix}incremental_manifest",
            "quarantine": f"{prefix}base_quarantined_sessions",
            "limits": f"{prefix}base_new_event_limits",
            "lifecycle": f"{prefix}base_sessions_lifecycle_manifest",
            "sessions": f"{prefix}base_sessions_this_run",
            "quarantine_run": f"{prefix}base_quarantine_sessions",
            "events": f"{prefix}base_events_this_run",
        }
        self.prefix = prefix
        self.events = self._event_source()
        self.tracked: tuple[str, ...] = ()
        self.tracked_by_module: dict[str, tuple[str, ...]] = {}

    # -- what the planner asks -------------------------------------------------------------------
    def table(self, key: str) -> exp.Table:
        return qualified(self.names[key], self.schemas[_schema_key(key)], self.database)

    def tables(self) -> dict[str, exp.Table]:
        keys = ("manifest", "quarantine", "limits", "lifecycle", "sessions", "events")
        return {self.names[k]: self.table(k) for k in keys}

    def leading_modules(self) -> list[str]:
        return [self.config.module]

    def trailing_modules(self) -> list[str]:
        return []

    def schema_keys(self) -> set[str]:
        return {"manifest", "scratch"}

    def models(self, user_models: dict[str, ModelPlan]) -> dict[str, ModelPlan]:
        self.tracked = tuple(sorted(_downstream_incremental(user_models, self.names["events"])))
        for name in self.tracked:
            module = user_models[name].module
            self.tracked_by_module[module] = (*self.tracked_by_module.get(module, ()), name)
        generated = [
            self._model("limits", "table", self._limits_query, ("manifest",), columns=(*run_limits.COLUMNS, "future_events")),
            self._lifecycle_model(),
            self._model("sessions", "table", self._sessions_query, ("lifecycle",), columns=LIFECYCLE_COLUMNS),
            self._model(
                "events", "table", self._events_query, ("sessions", "quarantine_run"), columns=events_this_run_columns(self.events),
            ),
            *(self._complete_model(module) for module in sorted(self.tracked_by_module)),
        ]  # fmt: skip
        return {m.name: m for m in generated}

    def nodes(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        module = self.config.module
        return {
            self.names["manifest"]: (module, ()),
            self.names["quarantine"]: (module, ()),
            self.names["quarantine_run"]: (module, (self.names["sessions"], self.names["quarantine"])),
        }

    def steps_for(self, name: str, selected: set[str] | None) -> list[Step]:
        kinds = {
            self.names["manifest"]: "manifest_table",
            self.names["quarantine"]: "manifest_table",
            self.names["quarantine_run"]: "quarantine",
        }
        module, depends = self.nodes()[name]
        return [Step(id=name, module=module, kind=kinds[name], spec_file="snowgen.yml", depends_on=(SETUP_STEP, *depends), model=None)]

    def builders(self) -> dict[str, Callable[[Plan, Step, Dialect], Script]]:
        return {"manifest_table": self._build_manifest_table, "quarantine": self._build_quarantine}

    def select(self, selected: set[str]) -> set[str]:
        """With --select, only the selected tracked models count in the run limits and
        advance in the manifest (what ``models_to_run`` does by hand upstream)."""
        self.tracked = tuple(m for m in self.tracked if m in selected)
        return {self.complete_step(module) for module, models in self.tracked_by_module.items() if set(models) & selected}

    def complete_steps(self) -> dict[str, str]:
        """module -> its complete step, for the modules whose models the manifest tracks."""
        return {module: self.complete_step(module) for module in self.tracked_by_module}

    def complete_step(self, module: str) -> str:
        """The step that ends ``module``: its models' manifest rows advance (§1.9)."""
        return f"{self.prefix}{module}_complete"

    def gate(self, model: ModelPlan, dialect: Dialect) -> exp.Expr | None:
        """§1.4: false when this model's last_success is not before the window's upper limit."""
        if model.name not in self.tracked:
            return None
        manifest, limits = self.table("manifest"), self.table("limits")
        consumed = (
            exp.Select(expressions=[exp.Literal.number(1)])
            .from_(exp.alias_(manifest, "m", table=True), copy=False)
            .join(exp.alias_(limits, "l", table=True), join_type="CROSS", copy=False)
            .where(
                exp.and_(
                    exp.EQ(this=exp.column("model", table="m"), expression=exp.Literal.string(model.name)),
                    exp.LTE(this=exp.column("upper_limit", table="l"), expression=exp.column("last_success", table="m")),
                ),
                copy=False,
            )
        )
        return exp.Not(this=exp.Exists(this=consumed))

    def checks(self) -> list[Check]:
        skew = self.vars["clock_skew_minutes"]
        description = (
            f"events stamped more than {skew} minutes after the warehouse's clock were not read; they wait "
            "until their time (a broken collector clock? var clock_skew_minutes sets the allowance)"
        )
        limits = self.names["limits"]
        return [Check(f"{self.prefix}future_events", description, self.table("limits"), ("future_events",), "future_events", limits)]

    def limits_relation(self, model: ModelPlan) -> LimitsRelation | None:
        """The steps that scan events or the lifecycle manifest by the run's window: the
        lifecycle, sessions_this_run and the complete steps (the first event after the
        window) read the limits table, events_this_run the span of the run's sessions (its
        ``session_limits`` CTE, ``cl`` for a context table)."""
        window_readers = {self.names["lifecycle"], self.names["sessions"], *self.complete_steps().values()}
        if model.name in window_readers:
            return LimitsRelation(self.table("limits"), {c: exp.column(c) for c in run_limits.COLUMNS})
        if model.name == self.names["events"]:
            span = {"lower_limit": exp.Min(this=exp.column("start_tstamp")), "upper_limit": exp.Max(this=exp.column("end_tstamp"))}
            return LimitsRelation(self.table("sessions"), span, aliases=("lim", "cl"), cte="session_limits")
        return None

    # -- generated models ---------------------------------------------------------------------------
    def _model(self, key: str, materialization: str, build: Callable[[Dialect], exp.Query], depends: tuple[str, ...], *, columns, spec_extra=None, column_types=None, module=None, name=None) -> ModelPlan:
        spec = ModelSpec.model_validate(
            {
                "name": name or self.names[key],
                "module": module or self.config.module,
                "materialization": materialization,
                "schema": _schema_key(key),
                "sql": "generated by the sessions strategy",
                **(spec_extra or {}),
            }
        )
        return ModelPlan(
            name=spec.name,
            module=spec.module,
            materialization=materialization,
            table=self.table(key),
            query=None,
            spec=spec,
            doc=self.loaded.doc,
            depends_on=tuple(self.names[d] for d in depends),
            output_columns=tuple(columns),
            column_types=dict(column_types or {}),
            scratch=spec.schema_ == "scratch",
            bot_filter=None,
            app_filter=None,
            upsert_lookback_days=self.vars["upsert_lookback_days"],
            build_query=build,
        )

    def _lifecycle_model(self) -> ModelPlan:
        types = {"session_identifier": "string", "user_identifier": "string", "start_tstamp": "timestamp", "end_tstamp": "timestamp"}
        return self._model(
            "lifecycle", "incremental", self._lifecycle_query, ("limits", "quarantine"),
            columns=tuple(types), column_types=types,
            spec_extra={"unique_key": "session_identifier", "upsert_date_key": "start_tstamp", "layout": LIFECYCLE_LAYOUT},
        )  # fmt: skip

    def _complete_model(self, module: str) -> ModelPlan:
        """A module's complete step: an upsert of its models' rows into the manifest, so a
        module can run on its own (``--select module:NAME``) and advance only its models."""
        model = self._model(
            "manifest", "incremental", lambda d: self._manifest_update_query(d, module), ("events", "manifest", "limits"),
            columns=("model", "last_success"), column_types={"model": "string", "last_success": "timestamp"},
            spec_extra={"unique_key": "model"}, module=module, name=self.complete_step(module),
        )  # fmt: skip
        return replace(model, depends_on=(*model.depends_on, *self.tracked_by_module[module]))

    # -- queries, built per dialect when the plan is built ----------------------------------------------
    # Methods rather than calls prepared in ``models``: ``select`` narrows ``tracked`` after
    # ``models`` runs, and each build needs fresh table nodes (a sqlglot node has one parent).
    def _limits_query(self, d: Dialect) -> exp.Query:
        events, timestamp = self.events.table(), self.config.session_timestamp
        return sessions_sql.run_limits_query(d, self.vars, self.table("manifest"), self.tracked, events, timestamp)

    def _lifecycle_query(self, d: Dialect) -> exp.Query:
        return sessions_sql.lifecycle_query(
            d, self.events, self.vars,
            limits=self.table("limits"), lifecycle=self.table("lifecycle"), quarantine=self.table("quarantine"),
        )  # fmt: skip

    def _sessions_query(self, d: Dialect) -> exp.Query:
        max_days = self.vars["max_session_days"]
        return sessions_sql.sessions_this_run_query(d, self.table("lifecycle"), self.table("limits"), max_days)

    def _events_query(self, d: Dialect) -> exp.Query:
        return events_this_run_query(d, self.events, self.vars, self.table("sessions"))

    def _manifest_update_query(self, d: Dialect, module: str) -> exp.Query:
        tables = {key: self.table(key) for key in ("events", "manifest", "limits")}
        tables["source"] = self.events.table()
        models = tuple(m for m in self.tracked_by_module[module] if m in self.tracked)
        return sessions_sql.manifest_update_query(d, self.vars, self.config.session_timestamp, tables, models)

    # -- non-model steps ----------------------------------------------------------------------------
    def _build_manifest_table(self, plan: Plan, step: Step, d: Dialect) -> Script:
        if step.id == self.names["manifest"]:
            columns = [("model", d.data_type("string")), ("last_success", d.data_type("timestamp"))]
            table = self.table("manifest")
        else:
            columns = [("session_identifier", d.data_type("string"))]
            table = self.table("quarantine")
        return Script(statements=[ddl.create_table_columns(table, columns, d.table_properties(_shape(table), scratch=False))])

    def _build_quarantine(self, plan: Plan, step: Step, d: Dialect) -> Script:
        """§1.8: sessions that reached max_session_days join the quarantine (once)."""
        max_days = self.vars["max_session_days"]
        insert = sessions_sql.quarantine_insert(d, self.table("quarantine"), self.table("sessions"), max_days)
        return Script(statements=[insert])

    # -- helpers --------------------------------------------------------------------------------------
    def _event_source(self) -> EventSource:
        """The source the strategy reads events from; it must declare its columns."""
        source = self.loaded.spec.sources.get(self.config.source)
        if source is None:
            raise SnowgenError.at(
                "SG201", f"incremental.source: unknown source '{self.config.source}'", self._location(("source",))
            )
        if not source.columns:
            raise SnowgenError.at(
                "SG211",
                f"the sessions strategy needs the columns of source '{self.config.source}': declare 'columns'",
                self.loaded.doc.location(("sources", self.config.source), key=True),
            )
        project_filter = self.loaded.spec.app_filter
        enabled_filter = project_filter if project_filter.enabled else None
        return EventSource(self.config, source, source.database or self.database, enabled_filter)

    def _location(self, path: tuple):
        return self.loaded.doc.location(("incremental", *path))


def _schema_key(table_key: str) -> str:
    """State kept between runs lives in the manifest schema; the rest is rebuilt each run."""
    return "manifest" if table_key in ("manifest", "quarantine", "lifecycle") else "scratch"


def _shape(table: exp.Table):
    from snowgen.dialects.base import Layout, TableShape

    return TableShape(table, Layout(), None)


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
        checked["start_date"] = start.isoformat() if isinstance(start, dt.date) else dt.date.fromisoformat(str(start)).isoformat()
    except ValueError:
        raise SnowgenError.at(
            "SG102", f"var start_date must be a date (YYYY-MM-DD), got {start!r}", loaded.doc.location(("vars", "start_date"))
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
