"""The columns of a SQL body: its stars expanded where the columns they stand for are known,
and the names of its outer SELECT's columns (for snowgen.plan.columns and .bodies)."""

from __future__ import annotations

from sqlglot import exp

KnownColumns = dict[tuple[str, str], tuple[str, ...]]  # (schema, table), lower case -> columns


def drop_positions_of(query: exp.Expr) -> None:
    for node in query.walk():
        node._meta = None
        if node.comments == []:
            node.comments = None


def table_key(table: exp.Table) -> tuple[str, str]:
    return (table.db.lower(), table.name.lower())


def expand_stars(query: exp.Query, known: KnownColumns) -> None:
    """Replace ``*`` and ``alias.*`` in the outer SELECT by the columns they stand for."""
    if not isinstance(query, exp.Select) or not any(_is_star(item) for item in query.expressions):
        return  # (no lookups without a star: the body's remembered facts name only what it used)
    relations = _from_relations(query, known)
    projections: list[exp.Expr] = []
    for item in query.expressions:
        star = item if isinstance(item, exp.Star) else item.this if isinstance(item, exp.Column) else None
        if isinstance(star, exp.Star) and any(star.args.get(k) for k in ("except_", "replace", "rename", "ilike")):
            projections.append(item)  # * EXCEPT (...) / REPLACE (...): left as written
            continue
        if isinstance(item, exp.Star) and len(relations) == 1:
            alias, columns = next(iter(relations.items()))
        elif isinstance(item, exp.Column) and isinstance(item.this, exp.Star) and item.table in relations:
            alias, columns = item.table, relations[item.table]
        else:
            projections.append(item)
            continue
        if columns is None:
            projections.append(item)
            continue
        projections.extend(exp.column(c, table=alias) for c in columns)
    query.set("expressions", projections)


def _is_star(item: exp.Expr) -> bool:
    return isinstance(item, exp.Star) or (isinstance(item, exp.Column) and isinstance(item.this, exp.Star))


def _from_relations(select: exp.Select, known: KnownColumns) -> dict[str, tuple[str, ...] | None]:
    """alias -> columns (None if unknown) for every relation in FROM and JOINs."""
    nodes = [select.args["from_"].this] if select.args.get("from_") else []
    nodes += [join.this for join in select.args.get("joins") or []]
    relations: dict[str, tuple[str, ...] | None] = {}
    for node in nodes:
        alias = node.alias_or_name
        if isinstance(node, exp.Table):
            relations[alias] = known.get(table_key(node))
        elif isinstance(node, exp.Subquery):
            inner = node.this
            while isinstance(inner, exp.SetOperation):
                inner = inner.this
            relations[alias] = body_output_columns(inner) if isinstance(inner, exp.Select) else None
            if relations[alias] is None and isinstance(inner, exp.Select) and inner.args.get("from_"):
                first = inner.args["from_"].this
                if isinstance(first, exp.Table) and _is_star_only(inner):
                    relations[alias] = known.get(table_key(first))
        else:
            relations[alias] = None
    return relations


def _is_star_only(select: exp.Select) -> bool:
    return len(select.expressions) == 1 and isinstance(select.expressions[0], exp.Star)


def body_output_columns(query: exp.Query) -> tuple[str, ...] | None:
    """The names of the outer SELECT's columns; None if any is ``*`` or unnamed."""
    select = query
    while isinstance(select, exp.SetOperation):
        select = select.this
    if not isinstance(select, exp.Select):
        return None
    if any(
        isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star))
        for e in select.expressions
    ):
        return None
    names = tuple(select.named_selects)
    if len(names) != len(select.expressions) or any(not n for n in names):
        return None
    return names
