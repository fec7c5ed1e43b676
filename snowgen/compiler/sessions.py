"""The sessionised incremental strategy (Snowplow's base module), generated from the
project's ``incremental: {strategy: sessions}`` block.

Steps, all plain SQL, all state in the warehouse (reference: incremental-semantics §1):

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

from snowgen.compiler import ddl
from snowgen.compiler.filters import all_of, app_filter
from snowgen.compiler.plan import ModelPlan, Plan, Step
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
    "upsert_lookback_days": 30,
}
_WHOLE_NUMBER_VARS = tuple(k for k in SESSION_VARS if k != "start_date")
COMPLETE_MODULE = "complete"

# Physical layout of the lifecycle manifest (reference §2.2 / §4.1).
LIFECYCLE_LAYOUT = {
    "partition": {"column": "start_tstamp", "by": "day"},
    "cluster": ["session_identifier"],
    "dist": "session_identifier",
    "sort": ["start_tstamp"],
    "dialects": {"snowflake": {"cluster": None}, "databricks": {"clustering": "partition", "cluster": None}},
}


class SessionsStrategy:
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
            "manifest_update": f"{prefix}incremental_manifest_update",
        }
        source = loaded.spec.sources.get(self.config.source)
        if source is None:
            raise SnowgenError.at(
                "SG201", f"incremental.source: unknown source '{self.config.source}'", self._location(("source",))
            )
        if not source.columns:
            raise SnowgenError.at(
                "SG211",
                f"the sessions strategy needs the columns of source '{self.config.source}': declare 'columns'",
                loaded.doc.location(("sources", self.config.source), key=True),
            )
        self.source = source
        self.tracked: tuple[str, ...] = ()

    # -- what the planner asks -------------------------------------------------------------------
    def table(self, key: str) -> exp.Table:
        schema = self.schemas["manifest" if key in ("manifest", "quarantine", "lifecycle") else "scratch"]
        return exp.Table(
            this=exp.to_identifier(self.names[key]),
            db=exp.to_identifier(schema),
            catalog=exp.to_identifier(self.database) if self.database else None,
        )

    def tables(self) -> dict[str, exp.Table]:
        keys = ("manifest", "quarantine", "limits", "lifecycle", "sessions", "events")
        return {self.names[k]: self.table(k) for k in keys}

    def leading_modules(self) -> list[str]:
        return [self.config.module]

    def trailing_modules(self) -> list[str]:
        return [COMPLETE_MODULE]

    def schema_keys(self) -> set[str]:
        return {"manifest", "scratch"}

    def models(self, user_models: dict[str, ModelPlan]) -> dict[str, ModelPlan]:
        self.tracked = tuple(sorted(_downstream_incremental(user_models, self.names["events"])))
        generated = [
            self._model("limits", "table", self._limits_query, ("manifest",), columns=("lower_limit", "upper_limit")),
            self._lifecycle_model(),
            self._model(
                "sessions", "table", self._sessions_query, ("lifecycle",),
                columns=("session_identifier", "user_identifier", "start_tstamp", "end_tstamp"),
            ),
            self._model("events", "table", self._events_query, ("sessions", "quarantine_run"), columns=self.event_columns()),
            self._manifest_update_model(),
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
        return [Step(id=name, module=module, kind=kinds[name], spec_file="snowgen.yml", depends_on=("create_schemas", *depends), model=None)]

    def builders(self) -> dict[str, Callable[[Plan, Step, Dialect], Script]]:
        return {"manifest_table": self._build_manifest_table, "quarantine": self._build_quarantine}

    def select(self, selected: set[str]) -> set[str]:
        """With --select, only the selected tracked models count in the run limits and
        advance in the manifest (what ``models_to_run`` does by hand upstream)."""
        self.tracked = tuple(m for m in self.tracked if m in selected)
        return {self.names["manifest_update"]} if self.tracked else set()

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

    # -- generated models ---------------------------------------------------------------------------
    def _model(self, key: str, materialization: str, build: Callable[[Dialect], exp.Query], depends: tuple[str, ...], *, columns, spec_extra=None, column_types=None, module=None) -> ModelPlan:
        spec = ModelSpec.model_validate(
            {
                "name": self.names[key],
                "module": module or self.config.module,
                "materialization": materialization,
                "schema": "manifest" if key in ("manifest", "quarantine", "lifecycle") else "scratch",
                "sql": "generated by the sessions strategy",
                **(spec_extra or {}),
            }
        )
        return ModelPlan(
            name=self.names[key],
            module=spec.module,
            materialization=materialization,
            table=self.table(key if key != "manifest_update" else "manifest"),
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

    def _manifest_update_model(self) -> ModelPlan:
        model = self._model(
            "manifest_update", "incremental", self._manifest_update_query, ("events", "manifest"),
            columns=("model", "last_success"), column_types={"model": "string", "last_success": "timestamp"},
            spec_extra={"unique_key": "model"}, module=COMPLETE_MODULE,
        )  # fmt: skip
        return replace(model, depends_on=(*model.depends_on, *self.tracked))

    # -- queries (built per dialect) --------------------------------------------------------------------
    def _limits_query(self, d: Dialect) -> exp.Query:
        """§1.3: one row (lower_limit, upper_limit) from the manifest rows of the run's models."""
        start = d.timestamp_literal(self.vars["start_date"])
        backfill, lookback = self.vars["backfill_limit_days"], self.vars["lookback_window_hours"]
        min_ls, max_ls, matched = (exp.column(c, table="s") for c in ("min_last_success", "max_last_success", "models_matched"))
        days = lambda value, n: d.add_interval(value, exp.Literal.number(n), "DAY")  # noqa: E731
        in_run = len(self.tracked)
        no_data = exp.EQ(this=matched.copy(), expression=exp.Literal.number(0))
        new_model = exp.LT(this=matched.copy(), expression=exp.Literal.number(in_run))
        out_of_sync = exp.NEQ(this=min_ls.copy(), expression=max_ls.copy())
        lower = exp.Case(
            ifs=[exp.If(this=no_data, true=start.copy()), exp.If(this=new_model, true=start.copy())],
            default=d.add_interval(min_ls.copy(), exp.Literal.number(-lookback), "HOUR"),
        )
        upper = exp.Case(
            ifs=[
                exp.If(this=no_data.copy(), true=exp.Least(this=days(start.copy(), backfill), expressions=[d.now_utc()])),
                exp.If(this=new_model.copy(), true=exp.Least(this=max_ls.copy(), expressions=[days(start.copy(), backfill)])),
                exp.If(this=out_of_sync, true=exp.Least(this=max_ls.copy(), expressions=[days(min_ls.copy(), backfill)])),
            ],
            default=exp.Least(this=days(min_ls.copy(), backfill), expressions=[d.now_utc()]),
        )
        status = exp.Select(
            expressions=[
                exp.alias_(exp.Min(this=exp.column("last_success")), "min_last_success"),
                exp.alias_(exp.Max(this=exp.column("last_success")), "max_last_success"),
                exp.alias_(exp.Count(this=exp.Star()), "models_matched"),
            ]
        ).from_(self.table("manifest"), copy=False)
        models = [exp.Literal.string(m) for m in self.tracked] or [exp.Null()]
        status = status.where(exp.In(this=exp.column("model"), expressions=models), copy=False)
        return exp.Select(
            expressions=[exp.alias_(d.cast(lower, "timestamp"), "lower_limit"), exp.alias_(d.cast(upper, "timestamp"), "upper_limit")]
        ).from_(status.subquery("s", copy=False), copy=False)

    def _session_expr(self, table: str) -> exp.Expr:
        return _coalesce(self.config.session_id, table)

    def _user_expr(self, table: str) -> exp.Expr:
        return _coalesce(self.config.user_id, table)

    def _late_filter(self, d: Dialect, table: str) -> exp.Expr:
        """§1.5: drop events the device sent more than days_late_allowed after creating them."""
        sent, created = exp.column("dvce_sent_tstamp", table=table), exp.column("dvce_created_tstamp", table=table)
        limit = d.add_interval(created, exp.Literal.number(self.vars["days_late_allowed"]), "DAY")
        return exp.LTE(this=sent, expression=limit)

    def _lifecycle_query(self, d: Dialect) -> exp.Query:
        ts = self.config.session_timestamp
        limits, lifecycle = self.table("limits"), self.table("lifecycle")
        max_days = self.vars["max_session_days"]
        gate = exp.GT(  # §1.4 for the lifecycle: skip when it already holds sessions at or past the window's end
            this=exp.column("upper_limit", table="lim"),
            expression=exp.Select(
                expressions=[exp.Coalesce(this=exp.Max(this=exp.column("start_tstamp")), expressions=[d.timestamp_literal("1970-01-01")])]
            ).from_(lifecycle.copy(), copy=False).subquery(copy=False),
        )
        new_events = (
            exp.Select(
                expressions=[
                    exp.alias_(self._session_expr("e"), "session_identifier"),
                    exp.alias_(exp.Max(this=self._user_expr("e")), "user_identifier"),
                    exp.alias_(exp.Min(this=exp.column(ts, table="e")), "start_tstamp"),
                    exp.alias_(exp.Max(this=exp.column(ts, table="e")), "end_tstamp"),
                ]
            )
            .from_(exp.alias_(self._source_table(), "e", table=True), copy=False)
            .join(exp.alias_(limits.copy(), "lim", table=True), join_type="CROSS", copy=False)
            .where(
                all_of(
                    self._late_filter(d, "e"),
                    exp.Between(this=exp.column(ts, table="e"), low=exp.column("lower_limit", table="lim"), high=exp.column("upper_limit", table="lim")),
                    app_filter(self._app_filter(), "e"),
                    gate,
                ),
                copy=False,
            )
            .group_by(self._session_expr("e"), copy=False)
        )
        quarantined = (
            exp.Select(expressions=[exp.Literal.number(1)])
            .from_(exp.alias_(self.table("quarantine"), "q", table=True), copy=False)
            .where(exp.EQ(this=exp.column("session_identifier", table="q"), expression=exp.column("session_identifier", table="n")), copy=False)
        )
        new_sessions = (
            exp.Select(expressions=[exp.Star()])
            .from_(exp.alias_(exp.Table(this=exp.to_identifier("new_events")), "n", table=True), copy=False)
            .where(
                exp.and_(
                    exp.Not(this=exp.Is(this=exp.column("session_identifier", table="n"), expression=exp.Null())),
                    exp.Not(this=exp.Exists(this=quarantined)),
                ),
                copy=False,
            )
        )
        lookback = d.add_interval(exp.column("lower_limit", table="lim"), exp.Literal.number(-self.vars["session_lookback_days"]), "DAY")
        previous = (
            exp.Select(expressions=[exp.column(c, table="p") for c in ("session_identifier", "user_identifier", "start_tstamp", "end_tstamp")])
            .from_(exp.alias_(lifecycle.copy(), "p", table=True), copy=False)
            .join(exp.alias_(limits.copy(), "lim", table=True), join_type="CROSS", copy=False)
            .where(exp.GTE(this=exp.column("start_tstamp", table="p"), expression=lookback), copy=False)
        )
        ns, ps = "ns", "ps"
        merged = (
            exp.Select(
                expressions=[
                    exp.column("session_identifier", table=ns),
                    exp.alias_(exp.Coalesce(this=exp.column("user_identifier", table=ps), expressions=[exp.column("user_identifier", table=ns)]), "user_identifier"),
                    exp.alias_(_least_of_known(exp.column("start_tstamp", table=ns), exp.column("start_tstamp", table=ps)), "start_tstamp"),
                    exp.alias_(_greatest_of_known(exp.column("end_tstamp", table=ns), exp.column("end_tstamp", table=ps)), "end_tstamp"),
                ]
            )
            .from_(exp.alias_(exp.Table(this=exp.to_identifier("new_sessions")), ns, table=True), copy=False)
            .join(
                exp.alias_(exp.Table(this=exp.to_identifier("previous_sessions")), ps, table=True),
                on=exp.EQ(this=exp.column("session_identifier", table=ns), expression=exp.column("session_identifier", table=ps)),
                join_type="LEFT",
                copy=False,
            )
            .where(
                exp.or_(
                    exp.Is(this=exp.column("session_identifier", table=ps), expression=exp.Null()),
                    exp.LT(
                        this=exp.column("end_tstamp", table=ps),
                        expression=d.add_interval(exp.column("start_tstamp", table=ps), exp.Literal.number(max_days), "DAY"),
                    ),
                ),
                copy=False,
            )
        )
        capped_end = exp.Least(
            this=d.add_interval(exp.column("start_tstamp", table="l"), exp.Literal.number(max_days), "DAY"),
            expressions=[exp.column("end_tstamp", table="l")],
        )
        final = exp.Select(
            expressions=[
                exp.column("session_identifier", table="l"),
                exp.column("user_identifier", table="l"),
                exp.column("start_tstamp", table="l"),
                exp.alias_(capped_end, "end_tstamp"),
            ]
        ).from_(exp.alias_(exp.Table(this=exp.to_identifier("session_lifecycle")), "l", table=True), copy=False)
        for name, query in (("new_events", new_events), ("new_sessions", new_sessions), ("previous_sessions", previous), ("session_lifecycle", merged)):
            final = final.with_(name, as_=query, copy=False)
        return final

    def _sessions_query(self, d: Dialect) -> exp.Query:
        """§1.6: sessions overlapping the window, end capped at upper_limit."""
        s, lim = "s", "lim"
        start, end = exp.column("start_tstamp", table=s), exp.column("end_tstamp", table=s)
        lower, upper = exp.column("lower_limit", table=lim), exp.column("upper_limit", table=lim)
        capped = exp.Case(ifs=[exp.If(this=exp.GT(this=end.copy(), expression=upper.copy()), true=upper.copy())], default=end.copy())
        earliest = d.add_interval(lower.copy(), exp.Literal.number(-self.vars["max_session_days"]), "DAY")
        return (
            exp.Select(
                expressions=[
                    exp.column("session_identifier", table=s),
                    exp.column("user_identifier", table=s),
                    start.copy(),
                    exp.alias_(capped, "end_tstamp"),
                ]
            )
            .from_(exp.alias_(self.table("lifecycle"), s, table=True), copy=False)
            .join(exp.alias_(self.table("limits"), lim, table=True), join_type="CROSS", copy=False)
            .where(
                exp.and_(
                    exp.GTE(this=start.copy(), expression=earliest),
                    exp.LTE(this=start.copy(), expression=upper.copy()),
                    exp.Not(this=exp.Paren(this=exp.or_(exp.GT(this=start.copy(), expression=upper.copy()), exp.LT(this=end.copy(), expression=lower.copy())))),
                ),
                copy=False,
            )
        )

    def event_columns(self) -> tuple[str, ...]:
        session_col, user_col = _first(self.config.session_id), _first(self.config.user_id)
        extra = [f"original_{user_col}", f"original_{session_col}"]
        extra += [alias for context in self.config.contexts for alias in context.fields.values()]
        return (*self.source.columns, *extra)

    def _events_query(self, d: Dialect) -> exp.Query:
        """§1.7: every event of the run's sessions, one row per event id."""
        ts = self.config.session_timestamp
        max_days = self.vars["max_session_days"]
        session_col, user_col = _first(self.config.session_id), _first(self.config.user_id)
        projection: list[exp.Expr] = []
        for column in self.source.columns:
            if column == session_col:
                projection.append(exp.alias_(exp.column("session_identifier", table="b"), column))
            elif column == user_col:
                projection.append(exp.alias_(exp.column("user_identifier", table="b"), column))
            else:
                projection.append(exp.column(column, table="e"))
        projection += [
            exp.alias_(exp.column(user_col, table="e"), f"original_{user_col}"),
            exp.alias_(exp.column(session_col, table="e"), f"original_{session_col}"),
        ]
        select = (
            exp.Select(expressions=projection)
            .from_(exp.alias_(self._source_table(), "e", table=True), copy=False)
            .join(
                exp.alias_(self.table("sessions"), "b", table=True),
                on=exp.EQ(this=self._session_expr("e"), expression=exp.column("session_identifier", table="b")),
                join_type="INNER",
                copy=False,
            )
            .join(exp.alias_(exp.Table(this=exp.to_identifier("session_limits")), "lim", table=True), join_type="CROSS", copy=False)
        )
        for index, context in enumerate(self.config.contexts):
            select = self._attach_context(select, d, context, index)
        event_ts = exp.column(ts, table="e")
        select = select.where(
            all_of(
                exp.LTE(this=event_ts.copy(), expression=d.add_interval(exp.column("start_tstamp", table="b"), exp.Literal.number(max_days), "DAY")),
                self._late_filter(d, "e"),
                exp.Between(this=event_ts.copy(), low=exp.column("lower_limit", table="lim"), high=exp.column("upper_limit", table="lim")),
                exp.GTE(this=event_ts.copy(), expression=exp.column("start_tstamp", table="b")),
                app_filter(self._app_filter(), "e"),
            ),
            copy=False,
        )
        session_limits = exp.Select(
            expressions=[
                exp.alias_(exp.Min(this=exp.column("start_tstamp")), "lower_limit"),
                exp.alias_(exp.Max(this=exp.column("end_tstamp")), "upper_limit"),
            ]
        ).from_(self.table("sessions"), copy=False)
        columns = list(self.event_columns())
        order = [exp.Ordered(this=exp.column(c, table="snowgen_src")) for c in self._dedupe_order()]
        deduped = d.keep_first_row(select, [exp.column(self.config.event_id, table="snowgen_src")], order, columns)
        return deduped.with_("session_limits", as_=session_limits, copy=False)

    def _dedupe_order(self) -> list[str]:
        """§7.1: the earliest session timestamp, then the earliest device time; the further
        keys make the choice deterministic where Snowplow's is arbitrary."""
        wanted = [self.config.session_timestamp, "dvce_created_tstamp", "dvce_sent_tstamp", "derived_tstamp", "etl_tstamp", "event_fingerprint"]
        present = set(self.event_columns())
        return [c for c in dict.fromkeys(wanted) if c in present]

    def _attach_context(self, select: exp.Select, d: Dialect, context, index: int) -> exp.Select:
        vendor, name, version = _iglu_parts(context.schema_)
        fields = list(context.fields.items())
        if d.context_storage == "column":
            column = exp.column(d.context_column(vendor, name, version), table="e")
            extra = [exp.alias_(d.first_context_field(column.copy(), f, "string"), alias) for f, alias in fields]
            select.set("expressions", [*select.expressions, *extra])
            return select
        alias = f"ctx{index}"
        source = self.source
        table = exp.Table(
            this=exp.to_identifier(d.context_table(vendor, name, version)),
            db=exp.to_identifier(source.schema_),
            catalog=exp.to_identifier(source.database or self.database) if (source.database or self.database) else None,
        )
        order = exp.Order(expressions=[exp.Ordered(this=exp.column("root_tstamp", table="c")), *(exp.Ordered(this=exp.column(f, table="c")) for f, _ in fields)])
        numbered = (
            exp.Select(
                expressions=[
                    exp.column("root_id", table="c"),
                    exp.column("root_tstamp", table="c"),
                    *(exp.alias_(exp.column(f, table="c"), a) for f, a in fields),
                    exp.alias_(exp.Window(this=exp.RowNumber(), partition_by=[exp.column("root_id", table="c")], order=order), "entity_index"),
                ]
            )
            .from_(exp.alias_(table, "c", table=True), copy=False)
            .join(exp.alias_(exp.Table(this=exp.to_identifier("session_limits")), "cl", table=True), join_type="CROSS", copy=False)
            .where(exp.Between(this=exp.column("root_tstamp", table="c"), low=exp.column("lower_limit", table="cl"), high=exp.column("upper_limit", table="cl")), copy=False)
        )
        on = [
            exp.EQ(this=exp.column("root_id", table=alias), expression=exp.column(self.config.event_id, table="e")),
            exp.EQ(this=exp.column("root_tstamp", table=alias), expression=exp.column(self.config.session_timestamp, table="e")),
        ]
        if context.single_entity:
            on.append(exp.EQ(this=exp.column("entity_index", table=alias), expression=exp.Literal.number(1)))
        select = select.join(numbered.subquery(alias, copy=False), on=exp.and_(*on), join_type="LEFT", copy=False)
        select.set("expressions", [*select.expressions, *(exp.column(a, table=alias) for _, a in fields)])
        return select

    def _manifest_update_query(self, d: Dialect) -> exp.Query:
        """§1.9: last_success = greatest(old, max(session timestamp of the run)) for each
        model of the run; nothing when the run processed no event."""
        newest = (
            exp.Select(expressions=[exp.alias_(exp.Max(this=exp.column(self.config.session_timestamp)), "last_success")])
            .from_(self.table("events"), copy=False)
        )
        names = self.tracked or ()
        models: exp.Query | None = None
        for name in names:
            item = exp.Select(expressions=[exp.alias_(exp.Literal.string(name), "model")])
            models = item if models is None else exp.Union(this=models, expression=item, distinct=False)
        if models is None:  # no tracked model: an empty list of models
            models = exp.Select(expressions=[exp.alias_(d.cast(exp.Null(), "string"), "model")]).where(
                exp.EQ(this=exp.Literal.number(1), expression=exp.Literal.number(0)), copy=False
            )
        old = exp.column("last_success", table="m")
        new = exp.column("last_success", table="n")
        greatest = exp.Case(ifs=[exp.If(this=exp.GT(this=old.copy(), expression=new.copy()), true=old.copy())], default=new.copy())
        return (
            exp.Select(expressions=[exp.column("model", table="r"), exp.alias_(greatest, "last_success")])
            .from_(models.subquery("r", copy=False), copy=False)
            .join(newest.subquery("n", copy=False), join_type="CROSS", copy=False)
            .join(
                exp.alias_(self.table("manifest"), "m", table=True),
                on=exp.EQ(this=exp.column("model", table="m"), expression=exp.column("model", table="r")),
                join_type="LEFT",
                copy=False,
            )
            .where(exp.Not(this=exp.Is(this=new.copy(), expression=exp.Null())), copy=False)
        )

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
        quarantine = self.table("quarantine")
        present = (
            exp.Select(expressions=[exp.Literal.number(1)])
            .from_(exp.alias_(quarantine.copy(), "q", table=True), copy=False)
            .where(exp.EQ(this=exp.column("session_identifier", table="q"), expression=exp.column("session_identifier", table="s")), copy=False)
        )
        cap = d.add_interval(exp.column("start_tstamp", table="s"), exp.Literal.number(self.vars["max_session_days"]), "DAY")
        select = (
            exp.Select(expressions=[exp.column("session_identifier", table="s")])
            .from_(exp.alias_(self.table("sessions"), "s", table=True), copy=False)
            .where(exp.and_(exp.EQ(this=exp.column("end_tstamp", table="s"), expression=cap), exp.Not(this=exp.Exists(this=present))), copy=False)
        )
        insert = exp.Insert(this=exp.Schema(this=quarantine, expressions=[exp.to_identifier("session_identifier")]), expression=select)
        return Script(statements=[insert])

    # -- helpers --------------------------------------------------------------------------------------
    def _source_table(self) -> exp.Table:
        source = self.source
        database = source.database or self.database
        return exp.Table(
            this=exp.to_identifier(source.table),
            db=exp.to_identifier(source.schema_),
            catalog=exp.to_identifier(database) if database else None,
        )

    def _app_filter(self):
        spec = self.loaded.spec.app_filter
        return spec if spec.enabled else None

    def _location(self, path: tuple):
        return self.loaded.doc.location(("incremental", *path))


def _shape(table: exp.Table):
    from snowgen.dialects.base import Layout, TableShape

    return TableShape(table, Layout(), None)


def _first(value: str | list[str]) -> str:
    return value if isinstance(value, str) else value[0]


def _coalesce(columns: str | list[str], table: str) -> exp.Expr:
    names = [columns] if isinstance(columns, str) else list(columns)
    parts = [exp.column(n, table=table) for n in names]
    return parts[0] if len(parts) == 1 else exp.Coalesce(this=parts[0], expressions=parts[1:])


def _least_of_known(new: exp.Expr, old: exp.Expr) -> exp.Expr:
    """least(new, coalesce(old, new)): BigQuery's LEAST is NULL when any argument is."""
    return exp.Least(this=new, expressions=[exp.Coalesce(this=old, expressions=[new.copy()])])


def _greatest_of_known(new: exp.Expr, old: exp.Expr) -> exp.Expr:
    return exp.Greatest(this=new, expressions=[exp.Coalesce(this=old, expressions=[new.copy()])])


def _iglu_parts(uri: str) -> tuple[str, str, str]:
    vendor, name, _, version = uri[len("iglu:") :].split("/")
    return vendor, name, version


def _downstream_incremental(models: dict[str, ModelPlan], root: str) -> set[str]:
    """Incremental models that read ``root`` directly or through other models."""
    reaches: dict[str, bool] = {}

    def reads_root(name: str) -> bool:
        if name not in reaches:
            reaches[name] = False  # guards against cycles; the planner reports them
            model = models.get(name)
            deps = model.depends_on if model else ()
            reaches[name] = root in deps or any(reads_root(dep) for dep in deps)
        return reaches[name]

    return {name for name, model in models.items() if model.materialization == "incremental" and reads_root(name)}


def _checked_vars(loaded, variables: dict[str, Any]) -> dict[str, Any]:
    checked = dict(variables)
    for name in _WHOLE_NUMBER_VARS:
        value = variables.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SnowgenError.at(
                "SG102", f"var {name} must be a whole number >= 0, got {value!r}", loaded.doc.location(("vars", name))
            )
    start = variables.get("start_date")
    try:
        checked["start_date"] = start.isoformat() if isinstance(start, dt.date) else dt.date.fromisoformat(str(start)).isoformat()
    except ValueError:
        raise SnowgenError.at(
            "SG102", f"var start_date must be a date (YYYY-MM-DD), got {start!r}", loaded.doc.location(("vars", "start_date"))
        ) from None
    return checked
