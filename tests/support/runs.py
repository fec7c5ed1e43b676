"""Run compiled files on a test engine the way a scheduler would: each step's file as one
script, in plan order. These emulator gaps are bridged here, each by running the same
statements the warehouse would run:

- Sail, the Databricks engine, has no SQL session variables (DECLARE VARIABLE / SET
  VARIABLE), which real Databricks has: the runner runs each SET's query and puts the value
  in place of the variable in the statements that follow, as Databricks does. Sail also
  rejects liquid clustering (CLUSTER BY in CREATE TABLE): the runner drops the clause, which
  changes the table's layout and nothing it holds.
- fakesnow cannot run a MERGE inside an explicit transaction (DuckDB allows one database
  per transaction and fakesnow records MERGEs in a second one): its BEGIN TRANSACTION and
  COMMIT are left out, so the statements between them run one after the other.
- Sail does not parse ``SET TIME ZONE 'zone'`` (Databricks SQL and Runtime do): the runner sets
  ``spark.sql.session.timeZone``, the session setting the statement sets in Spark.
- *sail-duplicate-aggregate-names*: Sail names an aggregate by its text and refuses two of one
  query with the same name ("Schema contains duplicate unqualified field name"), which Spark
  tells apart: two ordered lists of one SELECT, ``TRANSFORM(ARRAY_SORT(COLLECT_LIST(STRUCT(...,
  x AS v))), e -> e.v)`` (snowgen.dialects.databricks), differ in their value only. The runner
  names each list's value field apart (``v`` -> ``v_1``, ``v_2``, ...), which changes no value.
- bqemulator does not parse ``SET @@time_zone = 'zone'`` (BigQuery does): the runner leaves it
  out of the script, as the emulator reads every timestamp in UTC anyway.
- fakesnow keeps a session variable's query and runs it again wherever the variable is read,
  where Snowflake keeps the value SET computed once: for a query of the clock (the run lock's
  run id) the two differ, so the runner runs such a SET's query once and sets its value.
- fakesnow cannot join a VARIANT array: ``ARRAY_TO_STRING(record:field, ', ')`` fails to bind in
  DuckDB (``list_transform`` over a JSON value), where Snowflake joins the array's elements. The
  runner reads it as the array's JSON text without brackets and quotes, each comma followed by
  a space (``array_joined_as_json_text``): the same text for items without a comma, quote or
  bracket, as the generated events' are."""

from __future__ import annotations

import json
from collections.abc import Callable

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
    elif engine.name == "bigquery":
        engine.execute_script(without_time_zone_setting(text))
    else:
        engine.execute_script(text)


def run_without_transaction(engine, text: str) -> None:
    for statement in split_statements(text, "snowflake"):
        tree = sqlglot.parse_one(statement, read="snowflake")
        if not isinstance(tree, (exp.Transaction, exp.Commit)):
            engine.execute(clock_set_once(tree, engine.query) or array_joined_as_json_text(tree) or statement)


def array_joined_as_json_text(tree: exp.Expr) -> str | None:
    """fakesnow's missing join of a VARIANT array: the statement with each ARRAY_TO_STRING of a
    JSON path read from the array's JSON text (None: a statement without one)."""
    joins = [node for node in tree.find_all(exp.ArrayToString) if isinstance(node.this, exp.JSONExtract)]
    for node in joins:
        text = exp.Anonymous(this="TO_JSON", expressions=[node.this.copy()])
        bare = exp.Anonymous(this="TRANSLATE", expressions=[text, exp.Literal.string('[]"'), exp.Literal.string("")])
        node.replace(exp.Anonymous(this="REPLACE", expressions=[bare, exp.Literal.string(","), node.expression.copy()]))
    return tree.sql("snowflake") if joins else None


def clock_set_once(tree: exp.Expr, query: Callable[[str], list[tuple]]) -> str | None:
    """fakesnow's re-read session variable: a Snowflake ``SET v = (SELECT ... clock ...)`` as
    the statement that sets ``v`` to the value its query gives now (None: another statement)."""
    if not (isinstance(tree, exp.Set) and tree.find(exp.CurrentTimestamp)):
        return None
    item = tree.expressions[0].this
    [[value]] = query(item.expression.this.sql("snowflake"))
    literal = exp.Cast(this=exp.Literal.string(str(value)), to=exp.DataType.build("TIMESTAMP_NTZ", dialect="snowflake"))
    item.set("expression", literal)
    return tree.sql("snowflake")


def without_time_zone_setting(text: str) -> str:
    """A BigQuery script without its ``SET @@time_zone`` statement."""
    kept = [s for s in split_statements(text, "bigquery") if not _sets_time_zone(sqlglot.parse_one(s, read="bigquery"))]
    return ";\n".join(kept)


def _sets_time_zone(tree: exp.Expr) -> bool:
    return isinstance(tree, exp.Set) and tree.find(exp.Parameter) is not None and "time_zone" in tree.sql("bigquery")


def session_time_zone(tree: exp.Expr) -> str | None:
    """The zone of a ``SET TIME ZONE 'zone'`` statement (sqlglot reads it as a Command)."""
    if isinstance(tree, exp.Command) and tree.name.upper() == "SET":
        words = tree.text("expression").split(maxsplit=2)
        if len(words) == 3 and [w.upper() for w in words[:2]] == ["TIME", "ZONE"]:
            return words[2].strip("'")
    return None


def run_with_session_variables(engine, text: str) -> None:
    variables = SailStatements(lambda zone: engine.spark.conf.set("spark.sql.session.timeZone", zone))
    for statement in split_statements(text, "databricks"):
        rewritten = variables.rewrite(statement, engine.query)
        if rewritten is not None:
            engine.execute(rewritten)


class SailStatements:
    """The two Sail bridges above, one statement at a time (the values of the SETs seen so
    far are kept): ``rewrite`` gives the statement to run, or None for one that only
    declares or sets a variable (``query`` runs the SET's query)."""

    def __init__(self, set_time_zone: Callable[[str], None]):
        self.values: dict[str, exp.Expr] = {}
        self.set_time_zone = set_time_zone  # Sail parses no SET TIME ZONE: the session's setting instead

    def rewrite(self, statement: str, query: Callable[[str], list[tuple]]) -> str | None:
        tree = sqlglot.parse_one(statement, read="databricks")
        if isinstance(tree, exp.Declare):
            return None
        zone = session_time_zone(tree)
        if zone is not None:
            self.set_time_zone(zone)
            return None
        if isinstance(tree, exp.Set):
            item = tree.expressions[0].this
            [[value]] = query(item.expression.this.sql("databricks"))
            literal = exp.Null() if value is None else exp.Literal.string(str(value))  # NULL: e.g. no watermark yet
            self.values[item.this.name] = exp.Cast(this=literal, to=exp.DataType.build("TIMESTAMP"))
            return None
        for clustering in list(tree.find_all(exp.ClusterProperty)):
            clustering.pop()
        _name_list_values_apart(tree)
        return tree.transform(self._substitute).sql("databricks")

    def _substitute(self, node: exp.Expr) -> exp.Expr:
        if isinstance(node, (exp.Var, exp.Column)) and node.name in self.values and not getattr(node, "table", None):
            return self.values[node.name].copy()
        return node


def _name_list_values_apart(tree: exp.Expr) -> None:
    """*sail-duplicate-aggregate-names* (above): the value field of each ordered list's
    structs, and the lambda that reads it, renamed ``v_<n>``."""
    lists = [
        t for t in tree.find_all(exp.Transform)
        if isinstance(t.this, exp.ArraySort) and isinstance(t.this.this, exp.ArrayAgg)
        and isinstance(t.this.this.this, exp.Struct)
    ]  # fmt: skip
    for number, listed in enumerate(lists, 1):
        value = listed.this.this.this.expressions[-1]  # `x` AS `v`, read back as v := x
        pick = listed.expression.this
        if isinstance(value, exp.PropertyEQ) and isinstance(pick, exp.Dot) and value.name == pick.name == "v":
            value.set("this", exp.to_identifier(f"v_{number}"))
            pick.set("expression", exp.to_identifier(f"v_{number}"))
