"""Name resolution for the planner: what a table name in a SQL body stands for.

Sources, models (one table per instance for ``for_each`` models) and the tables an
incremental strategy generates become :class:`Relation` values; :func:`resolve_tables`
rewrites a parsed body's bare names into the qualified tables they resolve to.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlglot import exp

from snowgen.errors import SnowgenError
from snowgen.plan.sqlbody import BodyContext, ParsedBody, body_error, node_position
from snowgen.spec.loader import LoadedModel, LoadedProject
from snowgen.spec.models import ProjectSpec, SourceSpec

SCHEMA_KEYS = ("derived", "scratch", "manifest")


@dataclass(frozen=True)
class Relation:
    """What a name in a SQL body resolves to."""

    # Several for a model or source built once per instance; a strategy may put a subquery
    # in place of a table (the watermark strategy's filtered source).
    tables: tuple[exp.Table | exp.Subquery, ...]
    models: tuple[str, ...]  # the steps it depends on (none for a source)
    instances: tuple[str, ...] = ()  # instance names, parallel to ``tables``


def unknown_name(kind: str, name: str, known: Iterable[str]) -> str:
    """The message for a name that resolves to nothing, with the closest known name."""
    known = list(known)
    hint = difflib.get_close_matches(name, known, n=1)
    if hint:
        return f"unknown {kind} '{name}' (did you mean '{hint[0]}'?)"
    return f"unknown {kind} '{name}'" + (f"; known: {', '.join(sorted(known))}" if known else "")


def qualified(name: str, schema: str, database: str | None) -> exp.Table:
    return exp.Table(
        this=exp.to_identifier(name),
        db=exp.to_identifier(schema),
        catalog=exp.to_identifier(database) if database else None,
    )


def source_tables(spec: ProjectSpec, source: SourceSpec) -> list[exp.Table]:
    """A source's tables: one, or one per instance (an instance overrides what it sets)."""
    database = source.database or spec.database
    if not source.instances:
        return [qualified(source.table, source.schema_, database)]
    return [
        qualified(i.table or source.table, i.schema_ or source.schema_, i.database or database)
        for i in source.instances.values()
    ]


def tables_by_instance(spec: ProjectSpec, source: SourceSpec) -> dict[str | None, exp.Table]:
    """:func:`source_tables` by instance name (None for a source without instances)."""
    return dict(zip(source.instances or (None,), source_tables(spec, source), strict=True))


def instance_name(model: str, instance: str) -> str:
    return f"{model}__{instance}"


def model_instances(loaded: LoadedProject, model: LoadedModel) -> list[str]:
    """The instances a ``for_each`` model is built for: those of the source it names."""
    source = loaded.spec.sources.get(model.spec.for_each)
    if source is None or not source.instances:
        known = [n for n, s in loaded.spec.sources.items() if s.instances]
        raise SnowgenError.at(
            "SG201",
            f"for_each: {unknown_name('source with instances', model.spec.for_each, known)}",
            model.doc.location(("for_each",)),
        )
    return list(source.instances)


def model_schema_key(model: LoadedModel) -> str:
    key = model.spec.schema_ or "derived"
    if key not in SCHEMA_KEYS:
        raise SnowgenError.at(
            "SG102",
            f"schema: expected one of {', '.join(SCHEMA_KEYS)} (the keys of the project's 'schemas'), got '{key}'",
            model.doc.location(("schema",)),
        )
    return key


def project_relations(
    loaded: LoadedProject, enabled: list[LoadedModel], schemas: dict[str, str], generated: dict[str, exp.Table]
) -> dict[str, Relation]:
    """Every name a body may read: sources, the tables a strategy generates, then enabled models."""
    spec = loaded.spec
    relations: dict[str, Relation] = {}
    for name, source in spec.sources.items():
        relations[name] = Relation(tuple(source_tables(loaded.spec, source)), (), tuple(source.instances))
    for name, table in generated.items():
        relations[name] = Relation((table,), (name,))
    for model in enabled:
        schema = schemas[model_schema_key(model)]
        names = [model.spec.name]
        if model.spec.for_each:
            names = [instance_name(model.spec.name, i) for i in model_instances(loaded, model)]
        tables = tuple(qualified(n, schema, spec.database) for n in names)
        instances = tuple(model_instances(loaded, model)) if model.spec.for_each else ()
        relations[model.spec.name] = Relation(tables, tuple(names), instances)
    return relations


def resolve_tables(
    parsed: ParsedBody,
    ctx: BodyContext,
    relations: dict[str, Relation],
    model: str,
    instance: str | None,
    for_each: str | None,
) -> tuple[str, ...]:
    """Replace each bare table name of the body by what it resolves to; return the models
    it reads, in order of first mention."""
    ctes, bare_tables = _ctes_and_tables(parsed.query)
    depends: list[str] = []
    for table in bare_tables:
        if table.args.get("db") or not isinstance(table.this, exp.Identifier):
            continue  # qualified names are external tables; table functions stay as written
        name = table.name
        if name.lower() in ctes:
            continue
        relation = relations.get(name)
        if relation is None or model in relation.models:
            line, col = node_position(table, parsed.text)
            message = (
                f"table '{name}' is neither a model nor a source"
                if relation is None
                else f"model '{model}' reads itself"
            )
            hint = difflib.get_close_matches(name, list(relations), n=1)
            if relation is None and hint:
                message += f" (did you mean '{hint[0]}'?)"
            raise body_error(ctx, "SG201", message, line, col)
        tables = relation.tables
        if instance is not None and name == for_each:
            tables = (tables[relation.instances.index(instance)],)
        table.replace(_relation_node(tables, table.alias or name))
        depends.extend(m for m in relation.models if m not in depends)
    return tuple(depends)


def _ctes_and_tables(query: exp.Expr) -> tuple[set[str], list[exp.Table]]:
    """The body's CTE names (lower case) and its tables, in the order find_all gives them,
    from one walk."""
    ctes: set[str] = set()
    tables: list[exp.Table] = []
    for node in query.find_all(exp.CTE, exp.Table):
        if isinstance(node, exp.CTE):
            ctes.add(node.alias_or_name.lower())
        else:
            tables.append(node)
    return ctes, tables


def _relation_node(tables: tuple[exp.Table | exp.Subquery, ...], alias: str) -> exp.Expr:
    """One table as ``alias``, or several (one per instance) as a UNION ALL subquery."""
    if len(tables) == 1:
        return exp.alias_(tables[0].copy(), alias, table=True, copy=False)
    selects = [exp.Select(expressions=[exp.Star()]).from_(t.copy(), copy=False) for t in tables]
    union = selects[0]
    for select in selects[1:]:
        union = exp.Union(this=union, expression=select, distinct=False)
    return exp.Subquery(this=union, alias=exp.TableAlias(this=exp.to_identifier(alias)))
