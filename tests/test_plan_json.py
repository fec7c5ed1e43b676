"""plan.json's documented format (docs/plan-json.md, docs/plan.schema.json) and how its
dependencies are derived (snowgen.plan.dependencies): every plan compiled (the committed
ones and the full-refresh, backfill and selected variants) validates against the schema;
the rules of the derivation, one case each."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema
import pytest

from snowgen.api import Backfill, CompileOptions, compile_loaded
from snowgen.build.access import access_of
from snowgen.emit.render import PLAN_FORMAT_VERSION
from snowgen.plan.dependencies import APPEND, CHANGE, CREATE, ENSURE, Access, LockSteps, derive
from snowgen.spec.loader import load_project

REPO = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((REPO / "docs" / "plan.schema.json").read_text())
COMMITTED = sorted((REPO / "generated").glob("*/*/plan.json"))
DIALECTS = ["bigquery", "databricks", "duckdb", "postgres", "redshift", "snowflake"]


def valid(document: dict) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(document)


def test_the_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: f"{p.parent.parent.name}-{p.parent.name}")
def test_every_committed_plan_validates_and_orders_its_steps(path):
    plan = json.loads(path.read_text())
    valid(plan)
    assert plan["format_version"] == PLAN_FORMAT_VERSION
    ids = [step["id"] for step in plan["steps"]]
    position = {step_id: i for i, step_id in enumerate(ids)}
    for step in plan["steps"]:
        assert all(position[d] < position[step["id"]] for d in step["depends_on"]), step["id"]
        assert (path.parent / step["file"]).is_file()
    assert_lock_around_everything(plan)


def assert_lock_around_everything(plan: dict) -> None:
    """Every step descends from the acquire step; the release step from every step."""
    lock = plan["lock"]
    needs = {step["id"]: set(step["depends_on"]) for step in plan["steps"]}

    def ancestors(step_id: str) -> set[str]:
        found, todo = set(), list(needs[step_id])
        while todo:
            current = todo.pop()
            if current not in found:
                found.add(current)
                todo.extend(needs[current])
        return found

    assert all(lock["acquire"] in ancestors(s) for s in needs if s != lock["acquire"])
    assert ancestors(lock["release"]) == set(needs) - {lock["release"]}


VARIANTS = {
    "full-refresh": CompileOptions(full_refresh=True, allow_refresh=True),
    "backfill": CompileOptions(backfill=Backfill("p1", dt.datetime(2024, 3, 1), dt.datetime(2024, 3, 8))),
    "selected": CompileOptions(select=("inter_deals",)),
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_variant_plans_validate(variant):
    loaded = load_project(REPO / "model_specs" / "multi_source_deals")
    for compiled in compile_loaded(loaded, DIALECTS, VARIANTS[variant]):
        plan = json.loads(compiled.files["plan.json"])
        valid(plan)
        assert_lock_around_everything(plan)


def test_a_plan_with_an_unknown_key_or_kind_does_not_validate():
    plan = json.loads(COMMITTED[0].read_text())
    plan["steps"][0]["kind"] = "mystery"
    with pytest.raises(jsonschema.ValidationError):
        valid(plan)
    plan = json.loads(COMMITTED[0].read_text())
    plan["steps"][0]["extra"] = 1
    with pytest.raises(jsonschema.ValidationError):
        valid(plan)


# -- the derivation's rules -------------------------------------------------------------------------------
def access(reads=(), writes=None, schemas=(), views=None, rows=None) -> Access:
    return Access(
        reads=frozenset(reads), writes=writes or {}, schemas=frozenset(schemas), views=views or {}, rows=rows or {}
    )


def deps(steps: dict[str, Access]) -> dict[str, tuple[str, ...]]:
    return derive(list(steps), steps, {})


def test_a_reader_waits_for_writers_and_appenders_but_appenders_not_for_each_other():
    found = deps({
        "make": access(writes={"s.t": CREATE}),
        "add1": access(writes={"s.t": APPEND}),
        "add2": access(writes={"s.t": APPEND}),
        "read": access(reads={"s.t"}),
    })  # fmt: skip
    assert found == {"make": (), "add1": ("make",), "add2": ("make",), "read": ("make", "add1", "add2")}


def test_a_change_waits_for_earlier_readers_and_an_append_for_earlier_readers_too():
    found = deps({
        "read": access(reads={"s.t"}),
        "change": access(writes={"s.t": CHANGE}),
        "other": access(reads={"s.u"}),
        "add": access(writes={"s.u": APPEND}),
    })  # fmt: skip
    assert found["change"] == ("read",) and found["add"] == ("other",)


def test_schema_users_wait_for_its_makers_and_a_read_of_a_view_reads_its_tables():
    found = deps({
        "schemas": access(schemas={"s"}),
        "view": access(reads={"s.t"}, writes={"s.v": CREATE}, views={"s.v": frozenset({"s.t"})}),
        "read_view": access(reads={"s.v"}),
        "change_table": access(writes={"s.t": CHANGE}),
    })  # fmt: skip
    assert found["view"] == ("schemas",)
    assert found["change_table"] == ("schemas", "view", "read_view")  # the view's reader saw s.t


def test_an_ensure_after_the_creation_waits_for_the_creator_only():
    found = deps({
        "make": access(writes={"s.t": ENSURE}),
        "read": access(reads={"s.t"}),
        "again": access(writes={"s.t": ENSURE}),
    })  # fmt: skip
    assert found["again"] == ("make",)


def test_disjoint_rows_let_a_reader_and_a_writer_be_but_two_writers_wait():
    found = deps({
        "gate_a": access(reads={"m.manifest"}, rows={"m.manifest": frozenset({"a"})}),
        "complete_b": access(writes={"m.manifest": CHANGE}, rows={"m.manifest": frozenset({"b"})}),
        "complete_a": access(writes={"m.manifest": CHANGE}, rows={"m.manifest": frozenset({"a"})}),
        "read_all": access(reads={"m.manifest"}),
    })  # fmt: skip
    assert found["complete_b"] == ()
    assert found["complete_a"] == ("gate_a", "complete_b")
    assert found["read_all"] == ("complete_b", "complete_a")


def test_the_lock_comes_first_and_is_given_back_last():
    steps = {
        "lock": access(writes={"m.lock": CREATE}),
        "a": access(writes={"s.a": CREATE}),
        "b": access(reads={"s.a"}, writes={"s.b": CREATE}),
        "c": access(writes={"s.c": CREATE}),
        "unlock": access(writes={"m.lock": CHANGE}),
    }
    found = derive(list(steps), steps, {}, LockSteps("lock", "unlock"))
    assert found == {"lock": (), "a": ("lock",), "b": ("a",), "c": ("lock",), "unlock": ("lock", "b", "c")}


def test_the_plans_own_dependencies_are_kept():
    steps = {"model": access(writes={"s.t": CREATE}), "complete": access(writes={"m.manifest": CHANGE})}
    assert derive(list(steps), steps, {"complete": ("model",)})["complete"] == ("model",)


def test_statements_are_read_for_what_they_touch():
    import sqlglot

    statements = [
        sqlglot.parse_one(sql, read="postgres")
        for sql in (
            "CREATE SCHEMA IF NOT EXISTS s",
            "DROP TABLE IF EXISTS s.old",
            "CREATE TABLE s.t AS WITH c AS (SELECT * FROM src.e) SELECT * FROM c JOIN s.dim AS d ON TRUE",
            "BEGIN",
            "MERGE INTO s.target AS t USING s.t AS x ON t.id = x.id WHEN MATCHED THEN UPDATE SET v = x.v",
            "COMMIT",
            "INSERT INTO s.log SELECT 1",
            "CREATE TABLE IF NOT EXISTS s.kept (a INT)",
        )
    ]
    found = access_of(statements)
    assert found.schemas == {"s"}
    assert found.reads == {"src.e", "s.dim", "s.t", "s.target"}  # not the CTE c
    assert found.writes == {"s.old": CREATE, "s.t": CREATE, "s.target": CHANGE, "s.log": APPEND, "s.kept": ENSURE}
    assert found.transactions == ((4, 6),) and found.statements == 8
    assert not found.retry_safe  # the INSERT into s.log, outside a transaction, would repeat
    assert access_of(statements, bookkeeping=frozenset({"s.log"})).retry_safe
