"""Column-level lineage: which columns of sources, seeds and upstream models feed each
output column of each model, as plain data.

Each user model's parsed body (its table names already resolved to qualified tables, its
outer stars expanded) is qualified by sqlglot's optimizer against a schema of everything
planned before it: the declared columns of sources, the seeds' columns and the output
columns of models. Then each output column is traced through the body's scopes (CTEs,
derived tables, set operations, scalar subqueries) down to the physical columns it is
computed from, which are named by the relation that owns them. The tables an incremental
strategy generates have no body at plan time (each dialect builds its own), so their
lineage comes from the strategy's own plan (snowgen.plan.lineage_generated).

Computed on demand (``snowgen lineage``, ``snowgen docs``), never during a compile, so it
costs compile time nothing; it works on copies and leaves the plan's trees as they were.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, build_scope
from sqlglot.schema import MappingSchema

from snowgen.plan.data import ModelPlan, Plan
from snowgen.plan.lineage_generated import ColumnRef, generated_lineage
from snowgen.plan.references import source_tables
from snowgen.plan.stars import table_key

__all__ = ["ColumnRef", "ProjectLineage", "project_lineage", "table_owners"]

#: Whose rules fold the bodies' names: Postgres' are snowgen's (snowgen.names: a plain name in
#: lower case, a quoted one exact), so traced names equal the stored output columns whatever
#: dialect the bodies are written in (Snowflake's rules would upper-case them).
_NAMES_DIALECT = "postgres"

#: (schema, table), lower case -> (kind, relation name)
_Owners = dict[tuple[str, str], tuple[str, str]]


@dataclass(frozen=True)
class ProjectLineage:
    """``columns``: model -> output column -> the columns it is computed from, one step up
    (a column of a model is followed further by looking that model up here).
    ``unknown``: model -> why its body's lineage could not be traced."""

    columns: Mapping[str, Mapping[str, tuple[ColumnRef, ...]]]
    unknown: Mapping[str, str] = field(default_factory=dict)

    def inputs(self, model: str, column: str) -> tuple[ColumnRef, ...]:
        return self.columns.get(model, {}).get(column, ())

    def origins(self, model: str, column: str) -> tuple[ColumnRef, ...]:
        """The columns of sources, seeds, contexts and external tables that ``column`` of
        ``model`` comes from, through every model between, sorted."""
        found: set[ColumnRef] = set()
        seen: set[tuple[str, str]] = set()
        pending = [(model, column)]
        while pending:
            key = pending.pop()
            if key in seen:
                continue
            seen.add(key)
            for ref in self.inputs(*key):
                if ref.kind == "model":
                    pending.append((ref.relation, ref.column))
                else:
                    found.add(ref)
        return tuple(sorted(found))


def project_lineage(plan: Plan) -> ProjectLineage:
    """The lineage of every output column of every model of ``plan`` (its bodies parsed:
    plan without a memo of body facts, or see snowgen.plan.bodies.with_bodies)."""
    owners = table_owners(plan)
    schema = _schema(plan)
    columns: dict[str, dict[str, tuple[ColumnRef, ...]]] = dict(generated_lineage(plan))
    unknown: dict[str, str] = {}
    for name, model in plan.models.items():
        if model.query is None or name in columns:
            continue
        try:
            columns[name] = _body_lineage(model, schema, owners)
        except SqlglotError as exc:  # a body the optimizer cannot qualify: said, not guessed
            unknown[name] = str(exc).splitlines()[0]
            columns[name] = {c: () for c in model.output_columns or ()}
    return ProjectLineage(columns, unknown)


def table_owners(plan: Plan) -> _Owners:
    """Which source, seed or model each physical table belongs to."""
    owners: _Owners = {}
    for name, source in plan.spec.sources.items():
        for table in source_tables(plan.spec, source):
            owners[table_key(table)] = ("source", name)
    for name, seed in plan.seeds.items():
        owners[table_key(seed.table)] = ("seed", name)
    for name, model in plan.models.items():
        owners.setdefault(table_key(model.table), ("model", name))
    for producer, staged in plan.staged.items():
        owners[table_key(staged.table)] = ("model", producer)
    return owners


def _schema(plan: Plan) -> MappingSchema:
    """Every table whose columns are known, by schema and table (catalogs left out: the
    bodies' copies drop theirs too, so tables of one project always nest alike)."""
    tables: dict[str, dict[str, dict[str, str]]] = {}

    def add(table: exp.Table, names) -> None:
        tables.setdefault(table.db, {})[table.name] = dict.fromkeys(names, "text")

    for source in plan.spec.sources.values():
        if source.columns:
            for table in source_tables(plan.spec, source):
                add(table, source.columns)
    for seed in plan.seeds.values():
        add(seed.table, [c for c, _ in seed.columns])
    for model in plan.models.values():
        if model.output_columns:
            add(model.table, model.output_columns)
    for producer, staged in plan.staged.items():
        output = plan.models[producer].output_columns
        if output:
            add(staged.table, output)
    return MappingSchema(tables, dialect=_NAMES_DIALECT, normalize=False)  # (stored names are canonical already)


def _body_lineage(model: ModelPlan, schema: MappingSchema, owners: _Owners) -> dict:
    query = model.query.copy()
    for table in query.find_all(exp.Table):
        table.set("catalog", None)
    qualified = qualify(query, schema=schema, dialect=_NAMES_DIALECT, validate_qualify_columns=False, identify=False)
    tracer = _Tracer(build_scope(qualified), owners)
    names = model.output_columns or tuple(_output_names(tracer.root))
    return {name: tuple(sorted(tracer.projection(tracer.root, index))) for index, name in enumerate(names)}


def _output_names(scope: Scope) -> list[str]:
    while scope.set_operation_scopes:
        scope = scope.set_operation_scopes[0]
    return list(scope.expression.named_selects)


class _Tracer:
    """Follows a qualified query's columns through its scopes to physical columns."""

    def __init__(self, root: Scope | None, owners: _Owners):
        if root is None:
            raise _NotAQuery("the body has no SELECT to trace")
        self.root = root
        self.owners = owners
        self.scopes = {id(scope.expression): scope for scope in root.traverse()}
        self.memo: dict[tuple[int, int], frozenset[ColumnRef]] = {}

    def projection(self, scope: Scope, index: int) -> frozenset[ColumnRef]:
        """The physical columns the ``index``-th column of ``scope``'s SELECT reads."""
        key = (id(scope), index)
        if key not in self.memo:
            self.memo[key] = frozenset()  # (a recursive CTE reads itself: stop there)
            self.memo[key] = self._projection(scope, index)
        return self.memo[key]

    def _projection(self, scope: Scope, index: int) -> frozenset[ColumnRef]:
        if scope.set_operation_scopes:
            return frozenset().union(*(self.projection(branch, index) for branch in scope.set_operation_scopes))
        selects = scope.expression.selects
        if index >= len(selects):
            return frozenset()
        return self.expression(selects[index])

    def expression(self, expression: exp.Expr) -> frozenset[ColumnRef]:
        """The columns an expression's value reads: its own columns, and what a scalar
        subquery in it selects (not what the subquery filters on)."""
        found: set[ColumnRef] = set()
        for node in expression.walk(prune=lambda n: n is not expression and id(n) in self.scopes):
            if node is not expression and id(node) in self.scopes:
                found |= self.projection(self.scopes[id(node)], 0)
            elif isinstance(node, exp.Column):
                found |= self.column(node)
        return frozenset(found)

    def column(self, column: exp.Column) -> frozenset[ColumnRef]:
        scope = self._scope_of(column)
        while scope is not None and column.table not in scope.sources:
            scope = scope.parent  # a correlated subquery reads its outer query's columns
        if scope is None:
            return frozenset()
        source = scope.sources[column.table]
        if isinstance(source, Scope):
            names = _output_names(source)
            return self.projection(source, names.index(column.name)) if column.name in names else frozenset()
        if isinstance(source, exp.Table):
            kind, relation = self.owners.get(table_key(source), ("table", f"{source.db}.{source.name}"))
            return frozenset({ColumnRef(kind, relation, column.name)})
        return frozenset()

    def _scope_of(self, node: exp.Expr) -> Scope | None:
        while node is not None:
            scope = self.scopes.get(id(node))
            if scope is not None:
                return scope
            node = node.parent
        return None


class _NotAQuery(SqlglotError):
    """A body build_scope does not see a query in (reported as the model's unknown lineage)."""
