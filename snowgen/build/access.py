"""What a step's built statements read and write (snowgen.plan.dependencies orders the steps
by it). Read from the lowered trees, before printing folds names: every relation snowgen
builds or reads is schema-qualified, and a name is compared in lower case.

Per statement:
- ``CREATE SCHEMA``: the schema is created;
- ``CREATE TABLE | VIEW`` (with or without a query), ``DROP``: the relation is created (or
  replaced, or dropped); a view remembers what its query reads;
- ``CREATE TABLE | INDEX IF NOT EXISTS`` without a query: the relation is *ensured*
  (snowgen.plan.dependencies: a no-op once another step created it);
- ``CREATE INDEX``, ``MERGE``, ``UPDATE``, ``DELETE``, ``INSERT OVERWRITE``: rows of the
  relation change;
- ``INSERT``: rows are appended;
- a table node its builder marked (snowgen.plan.dependencies.with_rows) is touched in those
  rows only, unless the step touches the relation unmarked elsewhere;
- every other table in the statement is read (the target of a MERGE, UPDATE or DELETE too,
  and of an INSERT whose query reads it); names of the statement's CTEs are not relations;
- ``GRANT`` on a table or view reads it; on a schema or database (``ALTER DEFAULT
  PRIVILEGES`` too) it reads no relation;
- ``SELECT``, ``SET``, ``DECLARE``, ``ANALYZE``: read what they name; ``BEGIN`` / ``COMMIT``
  mark a transaction; anything else (a session setting the parser keeps as a Command) names
  no relation.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from snowgen.plan.dependencies import APPEND, CHANGE, CREATE, ENSURE, ROWS_META, Access, merged_write


def access_of(statements: Sequence[exp.Expr], bookkeeping: frozenset[str] = frozenset()) -> Access:
    """The Access of one step's statements, in order. ``bookkeeping``: relations whose
    appended rows a retry may repeat harmlessly (the run metadata's events)."""
    reads: set[str] = set()
    writes: dict[str, str] = {}
    schemas: set[str] = set()
    views: dict[str, frozenset[str]] = {}
    transactions: list[tuple[int, int]] = []
    opened: int | None = None
    unsafe = False
    emptied: set[str] = set()  # relations this step created or replaced so far
    rows: dict[str, frozenset[str] | None] = {}  # relation -> rows touched (None: all)
    for number, statement in enumerate(statements, start=1):
        if isinstance(statement, exp.Transaction):
            opened = number
            continue
        if isinstance(statement, exp.Commit):
            if opened is not None:
                transactions.append((opened, number))
            opened = None
            continue
        tables, ctes = _tables_and_ctes(statement)
        read = _read(statement, tables, ctes)
        reads |= read
        _note_rows(statement, tables, rows)
        if isinstance(statement, exp.Create) and _kind(statement) == "SCHEMA":
            schemas.add(_schema_name(statement))
            continue
        for table in _dropped(statement):
            writes[relation_name(table)] = CREATE
            emptied.add(relation_name(table))
        target, how = _written(statement)
        if target is None:
            continue
        writes[target] = merged_write(writes.get(target), how)
        if how == CREATE and not _ensures(statement):
            emptied.add(target)
            if _kind(statement) == "VIEW":
                views[target] = frozenset(read)
        # an append outside a transaction to a relation it neither reads nor made anew
        # this step would be made twice by running the step again
        if how == APPEND and opened is None and target not in read | emptied | bookkeeping:
            unsafe = True
    return Access(
        reads=frozenset(reads),
        writes=writes,
        schemas=frozenset(schemas),
        views=views,
        transactions=tuple(transactions),
        rows={relation: keys for relation, keys in rows.items() if keys is not None},
        statements=len(statements),
        retry_safe=not unsafe,
    )


def _grants_on_container(statement: exp.Expr) -> bool:
    """A grant on a schema or database (or its future tables): it reads no relation."""
    if isinstance(statement, (exp.Grant, exp.Revoke)):
        return str(statement.args.get("kind") or "").upper() not in ("TABLE", "VIEW")
    return isinstance(statement, exp.Alter) and str(statement.args.get("kind") or "").upper().startswith("DEFAULT")


def _tables_and_ctes(statement: exp.Expr) -> tuple[list[exp.Table], set[str]]:
    """The statement's table nodes and the names of its CTEs, in one walk."""
    tables: list[exp.Table] = []
    ctes: set[str] = set()
    for node in statement.find_all(exp.Table, exp.CTE):
        if isinstance(node, exp.Table):
            tables.append(node)
        else:
            ctes.add(node.alias_or_name.casefold())
    return tables, ctes


def _note_rows(statement: exp.Expr, tables: list[exp.Table], rows: dict[str, frozenset[str] | None]) -> None:
    """The rows each relation of the statement is touched in: those its builder named
    (snowgen.plan.dependencies.with_rows), else all of them (None), for good."""
    if _ensures(statement):
        return  # creating it when missing touches no rows
    for table in tables:
        if not table.name:
            continue
        name = relation_name(table)
        marked = table.meta.get(ROWS_META) if table.meta else None
        if marked is None:
            rows[name] = None
        elif name not in rows:
            rows[name] = frozenset(marked)
        elif rows[name] is not None:
            rows[name] = rows[name] | frozenset(marked)


def _ensures(statement: exp.Expr) -> bool:
    """``CREATE TABLE | INDEX IF NOT EXISTS`` without a query."""
    return (
        isinstance(statement, exp.Create)
        and bool(statement.args.get("exists"))
        and _kind(statement) in ("TABLE", "INDEX")
        and statement.expression is None
    )


def relation_name(table: exp.Table) -> str:
    """``schema.name`` in lower case (the name alone when it has no schema)."""
    return ".".join(part.casefold() for part in (table.db, table.name) if part)


def _kind(statement: exp.Create) -> str:
    return str(statement.args.get("kind") or "").upper()


def _schema_name(statement: exp.Create) -> str:
    target = statement.this
    table = target if isinstance(target, exp.Table) else target.find(exp.Table)
    # CREATE SCHEMA s: sqlglot keeps s as a table named s (or, in some shapes, as its db)
    return (table.name or table.db).casefold()


def _target_table(node: exp.Expr | None) -> exp.Table | None:
    if isinstance(node, exp.Table):
        return node
    if isinstance(node, (exp.Schema, exp.Index)):
        inner = node.args.get("table") if isinstance(node, exp.Index) else node.this
        return inner if isinstance(inner, exp.Table) else None
    return None


def _written(statement: exp.Expr) -> tuple[str | None, str]:
    """The relation a statement writes and how (None: it writes none; a DROP: _dropped)."""
    if isinstance(statement, exp.Create):
        kind = _kind(statement)
        if kind == "INDEX":
            table = _target_table(statement.this)
            return (relation_name(table) if table is not None else None), ENSURE if _ensures(statement) else CHANGE
        if kind in ("TABLE", "VIEW"):
            table = _target_table(statement.this)
            return (relation_name(table) if table is not None else None), ENSURE if _ensures(statement) else CREATE
        return None, CREATE
    if isinstance(statement, exp.Insert):
        table = _target_table(statement.this)
        how = CHANGE if statement.args.get("overwrite") else APPEND
        return (relation_name(table) if table is not None else None), how
    if isinstance(statement, (exp.Merge, exp.Update, exp.Delete)):
        table = _target_table(statement.this)
        return (relation_name(table) if table is not None else None), CHANGE
    return None, CHANGE


def _dropped(statement: exp.Expr) -> list[exp.Table]:
    if not isinstance(statement, exp.Drop):
        return []
    return [t for t in statement.args.get("tables") or [statement.this] if isinstance(t, exp.Table)]


def _target_nodes(statement: exp.Expr) -> list[exp.Table]:
    """The table nodes a statement writes (not reads)."""
    if isinstance(statement, exp.Drop):
        return _dropped(statement)
    if isinstance(statement, (exp.Create, exp.Insert, exp.Merge, exp.Update, exp.Delete)):
        table = _target_table(statement.this)
        return [table] if table is not None else []
    return []


def _read(statement: exp.Expr, tables: list[exp.Table], ctes: set[str]) -> set[str]:
    """Every relation the statement names (``tables``, but its CTEs) but what it writes, and
    the target of a statement that reads its rows (MERGE, UPDATE, DELETE, or a query over it)."""
    if isinstance(statement, exp.Create) and _kind(statement) == "SCHEMA":
        return set()
    if _grants_on_container(statement):
        return set()
    written = {id(table) for table in _target_nodes(statement)}
    names = set()
    for table in tables:
        if id(table) in written or not table.name:
            continue
        if not table.db and table.name.casefold() in ctes:
            continue
        names.add(relation_name(table))
    if isinstance(statement, (exp.Merge, exp.Update, exp.Delete)):
        names |= {relation_name(table) for table in _target_nodes(statement)}
    return names
