"""Run compiled files on a test engine the way a scheduler would: each step's file as one
script, in plan order. Two emulator gaps are bridged here, each by running the same
statements the warehouse would run:

- Sail, the Databricks engine, has no SQL session variables (DECLARE VARIABLE / SET
  VARIABLE), which real Databricks has: the runner runs each SET's query and puts the value
  in place of the variable in the statements that follow, as Databricks does. Sail also
  rejects liquid clustering (CLUSTER BY in CREATE TABLE): the runner drops the clause, which
  changes the table's layout and nothing it holds.
- fakesnow cannot run a MERGE inside an explicit transaction (DuckDB allows one database
  per transaction and fakesnow records MERGEs in a second one): its BEGIN TRANSACTION and
  COMMIT are left out, so the statements between them run one after the other.
- fakesnow keeps a session variable's query and runs it again wherever the variable is read,
  where Snowflake keeps the value SET computed once: for a query of the clock (the run lock's
  run id) the two differ, so the runner runs such a SET's query once and sets its value."""

from __future__ import annotations

import json

import sqlglot
from sqlglot import exp

from snowgen.runner.statements import split_statements


def run_compiled(engine, files: dict[str, str]) -> None:
    for step in json.loads(files["plan.json"])["steps"]:
        run_file(engine, files[step["file"]])


def run_file(engine, text: str) -> None:
    """One step's file, as the warehouse would run it (the bridges above)."""
    if engine.name == "databricks":
        run_with_session_variables(engine, text)
    elif engine.name == "snowflake":
        run_without_transaction(engine, text)
    else:
        engine.execute_script(text)


def run_without_transaction(engine, text: str) -> None:
    for statement in split_statements(text, "snowflake"):
        tree = sqlglot.parse_one(statement, read="snowflake")
        if isinstance(tree, exp.Set) and tree.find(exp.CurrentTimestamp):
            item = tree.expressions[0].this
            [[value]] = engine.query(item.expression.this.sql("snowflake"))
            literal = exp.Cast(
                this=exp.Literal.string(str(value)), to=exp.DataType.build("TIMESTAMP_NTZ", dialect="snowflake")
            )
            item.set("expression", literal)
            engine.execute(tree.sql("snowflake"))
        elif not isinstance(tree, (exp.Transaction, exp.Commit)):
            engine.execute(statement)


def run_with_session_variables(engine, text: str) -> None:
    values: dict[str, exp.Expr] = {}
    for statement in split_statements(text, "databricks"):
        tree = sqlglot.parse_one(statement, read="databricks")
        if isinstance(tree, exp.Declare):
            continue
        if isinstance(tree, exp.Set):
            item = tree.expressions[0].this
            [[value]] = engine.query(item.expression.this.sql("databricks"))
            literal = exp.Null() if value is None else exp.Literal.string(str(value))  # NULL: e.g. no watermark yet
            values[item.this.name] = exp.Cast(this=literal, to=exp.DataType.build("TIMESTAMP"))
            continue

        def substitute(node: exp.Expr) -> exp.Expr:
            if isinstance(node, (exp.Var, exp.Column)) and node.name in values and not getattr(node, "table", None):
                return values[node.name].copy()
            return node

        for clustering in list(tree.find_all(exp.ClusterProperty)):
            clustering.pop()
        engine.execute(tree.transform(substitute).sql("databricks"))
