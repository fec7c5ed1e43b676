"""The shipped multi_source_deals project on the Snowflake, BigQuery and Databricks
emulators: the generated DDL, stage, variables and MERGE run for real, twice.

Each step's file runs as one script, as a scheduler would send it (BigQuery's variables
live for one script). Two gaps of Sail (the Databricks engine here) against real Databricks:
- it rejects CLUSTER BY in CREATE TABLE, so on Sail the project runs with the other
  Databricks layout snowgen supports: a date partition column (clustering: partition);
- it has no SQL session variables (DECLARE VARIABLE / SET VARIABLE), so the test plays
  their part: it runs each SET's query, then puts the value in place of the variable in
  the statements that follow, as Databricks does when it runs them.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import sqlglot
import yaml
from sqlglot import exp
from support.data import insert_rows

from snowgen.api import compile_loaded
from snowgen.compiler.sources import source_ddl
from snowgen.dialects import get_dialect
from snowgen.runner.statements import split_statements
from snowgen.spec.loader import load_project

SHIPPED = Path(__file__).resolve().parents[1] / "model_specs" / "multi_source_deals"
EMULATORS = ["snowflake", "bigquery", "databricks"]


def project_for(engine_name: str, tmp_path: Path) -> Path:
    if engine_name != "databricks":
        return SHIPPED
    root = tmp_path / "multi_source_deals"
    shutil.copytree(SHIPPED, root)
    model = root / "models" / "inter_deals.yml"
    spec = yaml.safe_load(model.read_text())
    spec["layout"]["dialects"]["databricks"] = {"clustering": "partition", "cluster": None}
    model.write_text(yaml.safe_dump(spec, sort_keys=False))
    return root


def deal(number: int, when: str, comment: str) -> dict:
    return {
        "deal": number, "login": 7, "timemsc": dt.datetime.fromisoformat(when), "symbol": "EURUSD", "action": 0,
        "entry": 0, "volume": Decimal("1.5"), "price": Decimal("1.1"), "profit": Decimal("2.5"),
        "commission": Decimal("0"), "swap": Decimal("0"), "comment": comment,
    }  # fmt: skip


@pytest.fixture
def deals_run(engine, tmp_path):
    loaded = load_project(project_for(engine.name, tmp_path))
    dialect = get_dialect(engine.name)
    for statement in source_ddl(loaded.spec, dialect):
        engine.execute(dialect.render(statement))
    [compiled] = compile_loaded(loaded, [engine.name])
    plan = json.loads(compiled.files["plan.json"])

    def run() -> None:
        for step in plan["steps"]:
            text = compiled.files[step["file"]]
            if engine.name == "databricks":
                run_with_session_variables(engine, text)
            else:
                engine.execute_script(text)

    return engine, run


def run_with_session_variables(engine, text: str) -> None:
    """Run a Databricks script on an engine without session variables (see the docstring)."""
    values: dict[str, exp.Expr] = {}
    for statement in split_statements(text, "databricks"):
        tree = sqlglot.parse_one(statement, read="databricks")
        if isinstance(tree, exp.Declare):
            continue
        if isinstance(tree, exp.Set):
            item = tree.expressions[0].this
            [[value]] = engine.query(item.expression.this.sql("databricks"))
            values[item.this.name] = exp.Cast(this=exp.Literal.string(str(value)), to=exp.DataType.build("TIMESTAMP"))
            continue
        tree = tree.transform(lambda n: values[n.name].copy() if isinstance(n, (exp.Var, exp.Column)) and n.name in values and not getattr(n, "table", None) else n)
        engine.execute(tree.sql("databricks"))


def load(engine, server: str, rows: list[dict]) -> None:
    for statement in insert_rows(engine.name, f"mt5_{server}", "deals", rows):
        engine.execute(statement)


def table(engine) -> list[tuple]:
    d = get_dialect(engine.name)
    query = sqlglot.parse_one("SELECT server_source, deal, comment FROM deals.inter_deals ORDER BY 1, 2", read="postgres")
    rows = engine.query(d.render(query))
    return [tuple(row) for row in rows]


@pytest.mark.parametrize("engine", EMULATORS, indirect=True)
def test_deals_upsert_runs_on_the_emulator(deals_run):
    engine, run = deals_run
    load(engine, "p1", [deal(1, "2024-03-01 10:00:00", "a"), deal(2, "2024-03-02 10:00:00", "b")])
    load(engine, "p2", [deal(1, "2024-03-01 11:00:00", "c")])
    run()
    assert table(engine) == [("p1", 1, "a"), ("p1", 2, "b"), ("p2", 1, "c")]


@pytest.mark.parametrize("engine", EMULATORS, indirect=True)
def test_deals_second_run_updates_and_inserts_without_duplicates(deals_run):
    engine, run = deals_run
    load(engine, "p1", [deal(1, "2024-03-01 10:00:00", "a")])
    run()
    load(engine, "p1", [deal(1, "2024-03-01 10:00:05", "a2"), deal(3, "2024-03-03 10:00:00", "new")])
    run()
    assert table(engine) == [("p1", 1, "a2"), ("p1", 3, "new")]
