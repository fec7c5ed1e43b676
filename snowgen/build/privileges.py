"""What the role that runs a project needs (``snowgen privileges``), as GRANT statements
spelled by the dialect (snowgen.dialects.grants):

- read the sources: usage of each source schema and read on each table the compiled plan
  reads outside the project's own schemas (found in the built statements, so a context
  table or an instance of a source is listed exactly when a step reads it);
- create the project's schemas (derived, scratch, manifest): the role then owns them and
  every table and view it creates in them, which DROP, ALTER and CREATE OR REPLACE need;
  where DCL cannot grant that (BigQuery), write access on each schema instead;
- what no GRANT of the kind can give comes back as notes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlglot import exp

from snowgen.build.access import relation_name
from snowgen.build.steps import BuiltStep, access
from snowgen.dialects.base import Dialect
from snowgen.dialects.grants import GrantSpelling, grant_on_database, grant_on_schema, grant_read, grant_usage
from snowgen.plan.data import Plan


@dataclass(frozen=True)
class RunnerPrivileges:
    statements: list[exp.Expr]
    notes: tuple[str, ...]


class DatabaseNeeded(ValueError):
    """The grants name the database and neither the project nor the command gives it."""


def runner_privileges(
    plan: Plan, dialect: Dialect, built: Iterable[BuiltStep], role: str, database: str | None
) -> RunnerPrivileges:
    spelling = dialect.grants
    if spelling.read is None:
        return RunnerPrivileges([], (spelling.absent or "",))
    database = database or plan.database
    statements = _schema_creation(plan, spelling, role, database)
    for table in source_tables(plan, built):
        # the table's own database (the project's or its source's), as its name is written
        statements += grant_usage(spelling, table.db, table.catalog or None, role)
        statements += grant_read(spelling, table, False, role)
    unique: list[exp.Expr] = []
    for statement in statements:
        if statement not in unique:
            unique.append(statement)
    return RunnerPrivileges(unique, spelling.runner_notes)


def _schema_creation(plan: Plan, spelling: GrantSpelling, role: str, database: str | None) -> list[exp.Expr]:
    if spelling.create_schema is None:
        schemas = dict.fromkeys(plan.schemas.values())
        write = spelling.write_schema or ""
        return [grant_on_schema(spelling, write, schema, database, role) for schema in schemas]
    if not database:
        raise DatabaseNeeded(
            "the role creates the project's schemas in a database: give --database (or the project's database:)"
        )
    statements: list[exp.Expr] = []
    if spelling.database_usage:
        statements.append(grant_on_database(spelling, spelling.database_usage, database, role))
    statements.append(grant_on_database(spelling, spelling.create_schema, database, role))
    return statements


def source_tables(plan: Plan, built: Iterable[BuiltStep]) -> list[exp.Table]:
    """The tables the plan's statements read outside the project's schemas, by name."""
    own = {schema.casefold() for schema in plan.schemas.values()}
    found: dict[str, exp.Table] = {}
    for item in built:
        reads = access(item, plan).reads
        outside = {name for name in reads if "." in name and name.split(".")[0] not in own}
        if not outside:
            continue
        for statement in item.statements:
            for table in statement.find_all(exp.Table):
                name = relation_name(table)
                if name in outside and name not in found:
                    found[name] = exp.table_(table.name, db=table.db, catalog=table.catalog or None)
    return [found[name] for name in sorted(found)]
