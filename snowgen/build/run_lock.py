"""The run lock's SQL: the step that takes it, the step that gives it back, and the query
``snowgen run`` reads it with (snowgen.plan.run_lock places the steps).

The lock is one row of ``<manifest>.<project>_run_lock``, keyed by the project's name (a
project that extends another takes the lock of the project it extends: Plan.run_lock_name): the
run that holds it (its id), who runs it (the database user), when it was taken and until
when it holds. The acquire step picks the run's id (the warehouse's clock, as a run id
always was), then in one transaction:

1. takes the row in one conditional statement: inserts it if there is none, or takes it
   over if it expired (``expires_at`` < now), keeping the expired holder in ``previous_*``;
   each warehouse's way to make that atomic is its dialect's ``lock_upsert``;
2. fails, with a message that starts with ``snowgen_run_lock_held``, unless the row names
   this run: another run holds the lock (since and until when), or the run that held it
   released it at that very moment (this run's upsert found it live, so did not take it).

Every later step reads the run's id from the row (run metadata copies it into the run
table). The release step deletes the row. A run that dies holding the lock (a killed
process, a scheduler that stops at a failed step) leaves it until it expires, after var
``lock_timeout_minutes``; ``snowgen run`` releases it after a failed step.
"""

from __future__ import annotations

import hashlib

from sqlglot import exp

from snowgen.build import ddl
from snowgen.dialects.base import Dialect
from snowgen.dialects.shapes import Layout, Script, TableShape
from snowgen.plan.data import Plan, Step
from snowgen.plan.references import qualified

#: the columns of the lock table and their logical types
COLUMNS = {
    "lock_name": "string",
    "run_id": "timestamp",
    "holder": "string",
    "acquired_at": "timestamp",
    "expires_at": "timestamp",
    # the run whose expired lock this run took over (NULL when the lock was free)
    "previous_run_id": "timestamp",
    "previous_holder": "string",
    "previous_expires_at": "timestamp",
}
#: the columns an acquire writes; ``previous_*`` keep the expired holder's
TAKEN = ("lock_name", "run_id", "holder", "acquired_at", "expires_at")
PREVIOUS = {"previous_run_id": "run_id", "previous_holder": "holder", "previous_expires_at": "expires_at"}
#: what the acquire step fails with when another run holds the lock (snowgen run looks for it)
HELD_MARKER = "snowgen_run_lock_held"
#: the prefix of the acquire step's variables, on the warehouses that bind values in them
VARIABLE_PREFIX = "snowgen_lock"


def lock_table(plan: Plan) -> exp.Table:
    return qualified(f"{plan.run_lock_name}_run_lock", plan.schemas["manifest"], plan.database)


def held_by_this_project(plan: Plan, alias: str | None = None) -> exp.Expr:
    """The condition picking the project's lock row."""
    return exp.EQ(this=exp.column("lock_name", table=alias), expression=exp.Literal.string(plan.run_lock_name))


def build_acquire(plan: Plan, step: Step, d: Dialect) -> Script:
    script = Script()
    setup = [ddl.create_schema(plan.schemas["manifest"], plan.database), _create_lock_table(plan, d)]
    if not d.lock_ddl_in_transaction:
        script.add(*setup)
        setup = []
    now = {"run_id": ("timestamp", d.cast(d.transaction_now(), "timestamp"))}
    run_id = d.bind_values(script, VARIABLE_PREFIX, now, None)["run_id"]
    minutes = exp.Literal.number(plan.vars["lock_timeout_minutes"])
    row = {
        "lock_name": exp.Literal.string(plan.run_lock_name),
        "run_id": run_id,
        "holder": d.database_user(),
        "acquired_at": run_id,
        "expires_at": d.add_interval(run_id.copy(), minutes, "minute"),
    }
    taking = TAKERS[d.lock_upsert](plan, row, d)
    script.add(*d.in_transaction([*d.lock_guard(_guard_key(plan)), *setup, *taking, _check_held(plan, d, run_id)]))
    return script


def build_release(plan: Plan, step: Step, d: Dialect) -> Script:
    """Delete the lock row. (A scheduler running the files cannot tell its run from one that
    took over an expired lock; ``snowgen run`` checks the row is still its own first.)"""
    return Script(statements=[exp.Delete(this=lock_table(plan), where=exp.Where(this=held_by_this_project(plan)))])


def lock_status(plan: Plan, d: Dialect) -> str:
    """The query ``snowgen run`` reads the lock row with: its run id, holder, times, and the
    expired holder it took over, printed for ``d``."""
    columns = ["run_id", "holder", "acquired_at", "expires_at", *PREVIOUS]
    query = (
        exp.Select(expressions=[exp.column(c) for c in columns])
        .from_(lock_table(plan), copy=False)
        .where(held_by_this_project(plan), copy=False)
    )
    return d.render(d.lower(query))


def run_id_query(plan: Plan) -> exp.Select:
    """This run's id, read from the lock row (the run metadata's run table holds it)."""
    return (
        exp.Select(expressions=[exp.column("run_id")])
        .from_(lock_table(plan), copy=False)
        .where(held_by_this_project(plan), copy=False)
    )


def _create_lock_table(plan: Plan, d: Dialect) -> exp.Create:
    columns = [(name, d.data_type(logical)) for name, logical in COLUMNS.items()]
    properties = d.table_properties(TableShape(lock_table(plan), Layout()), scratch=False)
    create = ddl.create_table_columns(lock_table(plan), columns, properties)
    if d.lock_upsert == "on_conflict":  # ON CONFLICT names the primary key's column
        create.this.append("expressions", exp.PrimaryKey(expressions=[exp.to_identifier("lock_name")]))
    return create


def _guard_key(plan: Plan) -> int:
    """A number for the project's lock, the same in every compile (a signed 64-bit value)."""
    digest = hashlib.sha256(f"snowgen_run_lock:{plan.schemas['manifest']}.{plan.run_lock_name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _columns(names) -> list[exp.Identifier]:
    return [exp.to_identifier(c) for c in names]


def _on_conflict(plan: Plan, row: dict[str, exp.Expr], d: Dialect) -> list[exp.Expr]:
    """INSERT ... ON CONFLICT (lock_name) DO UPDATE SET ... WHERE the stored row expired."""
    stored, proposed = "held", "excluded"  # ``excluded`` names the row proposed for insertion
    table = lock_table(plan)
    table.set("alias", exp.TableAlias(this=exp.to_identifier(stored)))
    updates = [exp.EQ(this=exp.column(c), expression=exp.column(c, table=proposed)) for c in TAKEN[1:]]
    updates += [exp.EQ(this=exp.column(p), expression=exp.column(c, table=stored)) for p, c in PREVIOUS.items()]
    expired = exp.LT(this=exp.column("expires_at", table=stored), expression=exp.column("acquired_at", table=proposed))
    conflict = exp.OnConflict(
        conflict_keys=[exp.column("lock_name")],
        action=exp.var("DO UPDATE"),
        expressions=updates,
        where=exp.Where(this=expired),
    )
    values = exp.Values(expressions=[exp.Tuple(expressions=[row[c].copy() for c in TAKEN])])
    return [exp.Insert(this=exp.Schema(this=table, expressions=_columns(TAKEN)), expression=values, conflict=conflict)]


def _merge(plan: Plan, row: dict[str, exp.Expr], d: Dialect) -> list[exp.Expr]:
    """MERGE: insert the row when there is none, take it over when the stored one expired."""
    nothing = [exp.alias_(d.cast(exp.Null(), COLUMNS[c]), c) for c in PREVIOUS]
    source = exp.Select(expressions=[*(exp.alias_(row[c].copy(), c) for c in TAKEN), *nothing])
    expired = exp.LT(
        this=exp.column("expires_at", table="target"), expression=exp.column("acquired_at", table="source")
    )
    # SET targets stay unqualified (see snowgen.build.materialize.merge)
    updates = [exp.EQ(this=exp.column(c), expression=exp.column(c, table="source")) for c in TAKEN[1:]]
    updates += [exp.EQ(this=exp.column(p), expression=exp.column(c, table="target")) for p, c in PREVIOUS.items()]
    insert = exp.Insert(  # every column named: the new row has no previous holder
        this=exp.Tuple(expressions=[exp.column(c) for c in COLUMNS]),
        expression=exp.Tuple(expressions=[exp.column(c, table="source") for c in COLUMNS]),
    )
    whens = [
        exp.When(matched=True, source=False, condition=expired, then=exp.Update(expressions=updates)),
        exp.When(matched=False, source=False, then=insert),
    ]
    merge = exp.Merge(
        this=exp.alias_(lock_table(plan), "target", table=True, copy=False),
        using=source.subquery("source", copy=False),
        on=exp.EQ(this=exp.column("lock_name", table="target"), expression=exp.column("lock_name", table="source")),
        whens=exp.Whens(expressions=whens),
    )
    return [merge]


def _insert_then_delete(plan: Plan, row: dict[str, exp.Expr], d: Dialect) -> list[exp.Expr]:
    """INSERT the row where no live one is (with the expired holder's values), then DELETE
    the expired row: the warehouse's serializable transactions keep two such runs apart."""
    run_id = row["run_id"]

    def stored(value: exp.Expr, condition: exp.Expr | None = None) -> exp.Select:
        query = exp.Select(expressions=[value]).from_(lock_table(plan), copy=False)
        return query.where(exp.and_(held_by_this_project(plan), *([condition] if condition else [])), copy=False)

    live = exp.GTE(this=exp.column("expires_at"), expression=run_id.copy())
    previous = [stored(exp.Max(this=exp.column(c))).subquery(copy=False) for c in PREVIOUS.values()]
    values = [row[c].copy() for c in TAKEN] + previous
    free = exp.Not(this=exp.Exists(this=stored(exp.column("lock_name"), live)))
    insert = exp.Insert(
        this=exp.Schema(this=lock_table(plan), expressions=_columns([*TAKEN, *PREVIOUS])),
        expression=exp.Select(expressions=values).where(free, copy=False),
    )
    expired = exp.LT(this=exp.column("expires_at"), expression=run_id.copy())
    delete = exp.Delete(this=lock_table(plan), where=exp.Where(this=exp.and_(held_by_this_project(plan), expired)))
    return [insert, delete]


#: Dialect.lock_upsert -> the statements that take the lock row
TAKERS = {"on_conflict": _on_conflict, "merge": _merge, "insert_then_delete": _insert_then_delete}


def _check_held(plan: Plan, d: Dialect, run_id: exp.Expr) -> exp.Select:
    """Fails unless the lock row names this run: ``snowgen_run_lock_held: run <id> of
    <holder> holds the lock of <project> since <time> until <time>`` when it names another,
    and a message with the same marker when there is no row (the run holding it released it
    between this run's upsert, which found it live, and this check: the lock was not taken).
    One row comes back either way: the row's values are read through aggregates."""
    alias = "held"

    def text(column: str) -> exp.Expr:
        value = exp.Max(this=exp.column(column, table=alias))
        if COLUMNS[column] != "string":
            value = d.cast(value, "string")
        return exp.Coalesce(this=value, expressions=[exp.Literal.string("?")])

    pieces: list[exp.Expr] = [
        exp.Literal.string(f"{HELD_MARKER}: run "), text("run_id"),
        exp.Literal.string(" of "), text("holder"),
        exp.Literal.string(f" holds the run lock of {plan.run_lock_name} since "), text("acquired_at"),
        exp.Literal.string(" until "), text("expires_at"),
    ]  # fmt: skip
    message = message_of(pieces)
    rows = exp.Count(this=exp.Star())
    # never a constant: Postgres and Snowflake may evaluate a constant failing branch of a
    # CASE while planning, taken or not
    # (https://www.postgresql.org/docs/15/functions-conditional.html#FUNCTIONS-CASE)
    released = exp.DPipe(
        this=exp.Literal.string(
            f"{HELD_MARKER}: the run lock of {plan.run_lock_name} was released by the run holding it while this "
            "run took it; lock rows now: "
        ),
        expression=d.cast(rows.copy(), "string"),
        safe=True,
    )
    no_row = exp.EQ(this=rows, expression=exp.Literal.number(0))
    other = exp.NEQ(this=exp.Max(this=exp.column("run_id", table=alias)), expression=run_id.copy())
    failing = exp.Case(
        ifs=[exp.If(this=no_row, true=d.fail_with(released)), exp.If(this=other, true=d.fail_with(message))]
    )
    return (
        exp.Select(expressions=[exp.alias_(failing, "lock_check")])
        .from_(exp.alias_(lock_table(plan), alias, table=True), copy=False)
        .where(held_by_this_project(plan, alias), copy=False)
    )


def message_of(pieces: list[exp.Expr]) -> exp.Expr:
    """The text of a failure message (Dialect.fail_with) joined from literal and computed
    pieces with ``||`` (each dialect prints its own concatenation)."""
    message = pieces[0]
    for piece in pieces[1:]:
        message = exp.DPipe(this=message, expression=piece, safe=True)
    return message
