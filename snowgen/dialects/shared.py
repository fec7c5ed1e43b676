"""Lowerings and statement shapes that several warehouses share (each module says which
it uses; none of them is the generic default)."""

from __future__ import annotations

from sqlglot import exp


def case_insensitive_pattern(pattern: exp.Expr) -> exp.Expr:
    """The same regular expression with RE2/Java's case-insensitive flag in front."""
    if isinstance(pattern, exp.Literal) and pattern.is_string:
        return exp.Literal.string("(?i)" + pattern.this)
    return exp.Concat(expressions=[exp.Literal.string("(?i)"), pattern])


def epoch_seconds(value: exp.Expr) -> exp.Expr:
    """Fractional seconds since 1970 (Postgres ``extract(epoch from ts)``): BigQuery and
    Databricks have no EPOCH part; UNIX_MICROS keeps the sub-second digits."""
    micros = exp.Anonymous(this="UNIX_MICROS", expressions=[value])
    return exp.Paren(this=exp.Div(this=micros, expression=exp.Literal.number(1000000)))


def epoch_as_seconds(node: exp.Extract) -> exp.Expr:
    """A lowering of ``EXTRACT(EPOCH FROM ts)``, not a field on BigQuery or Databricks
    (sqlglot prints it as is); other EXTRACTs stay."""
    return epoch_seconds(node.expression) if node.this.name.upper() == "EPOCH" else node


def regexp_ilike_as_flag(node: exp.RegexpILike) -> exp.Expr:
    """A lowering of the case-insensitive match, which sqlglot prints as REGEXP_I_LIKE, a
    function BigQuery and Databricks do not have: a plain match with the ``(?i)`` flag."""
    return exp.RegexpLike(this=node.this, expression=case_insensitive_pattern(node.expression))


def set_each(names: list[str], values: dict, source: exp.Expr | None, kind: str | None = None) -> list[exp.Set]:
    """``SET name = (SELECT value FROM source)``, one variable per statement: the form
    every warehouse documents (a tuple of variables from one query is not portable)."""
    statements = []
    for name, (_, value) in zip(names, values.values(), strict=True):
        query = exp.Select(expressions=[value])
        if source is not None:
            query = query.from_(source.copy(), copy=False)
        item = exp.SetItem(this=exp.EQ(this=exp.var(name), expression=query.subquery(copy=False)), kind=kind)
        statements.append(exp.Set(expressions=[item]))
    return statements
