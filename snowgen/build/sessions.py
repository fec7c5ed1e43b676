"""The sessions strategy's SQL (Snowplow's base module), built from the frozen
:class:`~snowgen.plan.sessions.SessionsPlan`: the generated models' queries, the manifest
and quarantine steps, and the gate and run limits of the models it tracks.
:mod:`snowgen.build.sessions_sql` and :mod:`snowgen.build.sessions_events` hold the queries.
"""

from __future__ import annotations

from sqlglot import exp

from snowgen.build import ddl, sessions_sql
from snowgen.build.run_limits import COLUMNS as LIMIT_COLUMNS
from snowgen.build.run_limits import LimitsRelation
from snowgen.build.sessions_events import events_this_run_query
from snowgen.build.strategy import StrategySql
from snowgen.dialects.base import Dialect
from snowgen.dialects.shapes import Layout, Script, TableShape
from snowgen.plan.data import ModelPlan, Plan, Step
from snowgen.plan.dependencies import with_rows
from snowgen.plan.sessions import SessionsPlan


class SessionsSql(StrategySql):
    def gate(self, plan: Plan, model: ModelPlan) -> exp.Expr | None:
        """§1.4: false when this model's last_success is not before the window's upper limit."""
        strategy = _strategy(plan)
        if model.name not in strategy.tracked:
            return None
        # this model's manifest row only: the complete steps of other modules may change theirs meanwhile
        manifest, limits = with_rows(strategy.table("manifest"), [model.name]), strategy.table("limits")
        consumed = (
            exp.Select(expressions=[exp.Literal.number(1)])
            .from_(exp.alias_(manifest, "m", table=True), copy=False)
            .join(exp.alias_(limits, "l", table=True), join_type="CROSS", copy=False)
            .where(
                exp.and_(
                    exp.EQ(this=exp.column("model", table="m"), expression=exp.Literal.string(model.name)),
                    exp.LTE(
                        this=exp.column("upper_limit", table="l"), expression=exp.column("last_success", table="m")
                    ),
                ),
                copy=False,
            )
        )
        return exp.Not(this=exp.Exists(this=consumed))

    def limits_relation(self, plan: Plan, model: ModelPlan) -> LimitsRelation | None:
        """The steps that scan events or the lifecycle manifest by the run's window: the
        lifecycle, sessions_this_run and the complete steps (the first event after the
        window) read the limits table, events_this_run the span of the run's sessions (its
        ``session_limits`` CTE, ``cl`` for a context table)."""
        strategy = _strategy(plan)
        window_readers = {strategy.names["lifecycle"], strategy.names["sessions"], *strategy.complete_steps.values()}
        if model.name in window_readers:
            return LimitsRelation(strategy.table("limits"), {c: exp.column(c) for c in LIMIT_COLUMNS})
        if model.name == strategy.names["events"]:
            span = {
                "lower_limit": exp.Min(this=exp.column("start_tstamp")),
                "upper_limit": exp.Max(this=exp.column("end_tstamp")),
            }
            return LimitsRelation(strategy.table("sessions"), span, aliases=("lim", "cl"), cte="session_limits")
        return None


def _strategy(plan: Plan) -> SessionsPlan:
    assert isinstance(plan.strategy, SessionsPlan)
    return plan.strategy


# -- the generated models' queries (snowgen.build.strategies.GENERATED_QUERIES) ----------------------
def limits_query(plan: Plan, model: ModelPlan, d: Dialect) -> exp.Query:
    s = _strategy(plan)
    events, timestamp = s.events.table(), s.config.session_timestamp
    return sessions_sql.run_limits_query(d, s.vars, s.table("manifest"), s.tracked, events, timestamp)


def lifecycle_query(plan: Plan, model: ModelPlan, d: Dialect) -> exp.Query:
    s = _strategy(plan)
    return sessions_sql.lifecycle_query(
        d, s.events, s.vars, limits=s.table("limits"), lifecycle=s.table("lifecycle"), quarantine=s.table("quarantine")
    )


def sessions_query(plan: Plan, model: ModelPlan, d: Dialect) -> exp.Query:
    s = _strategy(plan)
    return sessions_sql.sessions_this_run_query(d, s.table("lifecycle"), s.table("limits"), s.vars["max_session_days"])


def events_query(plan: Plan, model: ModelPlan, d: Dialect) -> exp.Query:
    s = _strategy(plan)
    return events_this_run_query(d, s.events, s.vars, s.table("sessions"))


def complete_query(plan: Plan, model: ModelPlan, d: Dialect) -> exp.Query:
    """The manifest rows of the module's tracked models that this plan advances."""
    s = _strategy(plan)
    tables = {key: s.table(key) for key in ("events", "manifest", "limits")}
    tables["source"] = s.events.table()
    models = tuple(m for m in s.tracked_by_module[model.module] if m in s.tracked)
    return sessions_sql.manifest_update_query(d, s.vars, s.config.session_timestamp, tables, models)


# -- steps that are not models (snowgen.build.steps.BUILDERS) ----------------------------------------
def build_manifest_table(plan: Plan, step: Step, d: Dialect) -> Script:
    """The incremental manifest or the quarantine table, created if missing."""
    s = _strategy(plan)
    if step.id == s.names["manifest"]:
        columns = [("model", d.data_type("string")), ("last_success", d.data_type("timestamp"))]
        table = s.table("manifest")
    else:
        columns = [("session_identifier", d.data_type("string"))]
        table = s.table("quarantine")
    props = d.table_properties(TableShape(table, Layout(), None), scratch=False)
    return Script(statements=[ddl.create_table_columns(table, columns, props)])


def build_quarantine(plan: Plan, step: Step, d: Dialect) -> Script:
    """§1.8: sessions that reached max_session_days join the quarantine (once)."""
    s = _strategy(plan)
    insert = sessions_sql.quarantine_insert(d, s.table("quarantine"), s.table("sessions"), s.vars["max_session_days"])
    return Script(statements=[insert])
