"""What ``snowgen docs`` shows of a plan, gathered in one place: the DAG's nodes and edges,
each model's columns (types, descriptions, tests, lineage), its layout and its compiled SQL
per dialect. snowgen.emit.docs_html turns it into the site's HTML.

The site reads column types and data tests through :func:`column_types` and
:func:`declared_tests` only, so a plan that carries more of them (inferred types, tests
planned into steps) shows them by changing those two functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from snowgen.build import ddl
from snowgen.dialects import get_dialect
from snowgen.dialects.shapes import TableShape, Unsupported
from snowgen.emit.dag_svg import Node
from snowgen.emit.render import CompiledProject, step_files
from snowgen.plan.data import ModelPlan, Plan
from snowgen.plan.lineage import ColumnRef, ProjectLineage, table_owners


@dataclass(frozen=True)
class ColumnDoc:
    name: str
    type: str  # '' when not known (never guessed)
    description: str
    tests: tuple[str, ...]
    inputs: tuple[ColumnRef, ...]  # one step up
    origins: tuple[ColumnRef, ...]  # down to sources, seeds and contexts


@dataclass(frozen=True)
class ModelDoc:
    name: str
    module: str
    materialization: str
    table: str
    description: str
    generated: str | None  # the strategy's builder of a generated model
    unique_key: tuple[str, ...]
    tags: tuple[str, ...]
    tests: tuple[str, ...]
    columns: tuple[ColumnDoc, ...]
    lineage_note: str | None  # why the lineage could not be traced, if it could not
    layout: Mapping[str, tuple[str, ...]]  # dialect -> its layout clauses and statements
    sql: Mapping[str, tuple[tuple[str, str], ...]]  # dialect -> (file, text) of each step


def declared_tests(spec: Any) -> tuple[str, ...]:
    """The data tests a model or column spec declares (``tests:``), as short text; none
    when the spec has no such key."""
    tests = getattr(spec, "tests", None) or ()
    return tuple(_test_text(test) for test in tests)


def _test_text(test: Any) -> str:
    if hasattr(test, "model_dump"):
        test = test.model_dump(exclude_defaults=True)
    if isinstance(test, Mapping):
        return "; ".join(f"{key}: {value}" for key, value in test.items())
    return str(test)


def model_docs(plan: Plan, lineage: ProjectLineage, compiled: list[CompiledProject]) -> list[ModelDoc]:
    files = step_files(plan)
    steps_of: dict[str, list[str]] = {}
    for step in plan.steps:
        if step.model in plan.models:
            steps_of.setdefault(step.model, []).append(files[step.id])
        elif step.id in plan.models:
            steps_of.setdefault(step.id, []).append(files[step.id])
    return [
        _model_doc(
            plan, lineage, model, {c.dialect: tuple((f, c.files[f]) for f in steps_of.get(name, ())) for c in compiled}
        )
        for name, model in sorted(plan.models.items())
    ]


def _model_doc(plan: Plan, lineage: ProjectLineage, model: ModelPlan, sql: dict) -> ModelDoc:
    spec = model.spec
    types = model.typed_columns  # declared, else inferred at compile time (snowgen.plan.columns)
    columns = tuple(
        ColumnDoc(
            name=column,
            type=types.get(column, ""),
            description=(spec.columns[column].description or "") if column in spec.columns else "",
            tests=declared_tests(spec.columns.get(column)),
            inputs=lineage.inputs(model.name, column),
            origins=lineage.origins(model.name, column),
        )
        for column in model.output_columns or ()
    )
    return ModelDoc(
        name=model.name, module=model.module, materialization=model.materialization, table=_dotted(model.table),
        description=spec.description or "", generated=model.generated, unique_key=model.unique_key,
        tags=tuple(spec.tags), tests=declared_tests(spec), columns=columns, lineage_note=lineage.unknown.get(model.name),
        layout={name: _layout(model, name) for name in sql}, sql=sql,
    )  # fmt: skip


def _layout(model: ModelPlan, dialect_name: str) -> tuple[str, ...]:
    """The table's layout as the warehouse spells it: its CREATE TABLE clauses, the columns
    it adds, the statements after CREATE (a view has none)."""
    if model.materialization == "view":
        return ()
    dialect = get_dialect(dialect_name)
    try:
        layout = ddl.resolve_layout(model.spec, dialect)
    except Unsupported as exc:  # (a compile would have refused it already)
        return (f"-- {exc}",)
    base = TableShape(model.table, layout, model.output_columns, model.column_types)
    added = dialect.layout_columns(base)
    columns = (*model.output_columns, *(name for name, _, _ in added)) if model.output_columns else None
    shape = TableShape(model.table, layout, columns, model.column_types)
    properties = [p.copy() for p in dialect.table_properties(shape, scratch=model.scratch)]
    # all together, as CREATE TABLE prints them (Databricks' TBLPROPERTIES (...) groups its own)
    clauses = [dialect.render(dialect.lower(exp.Properties(expressions=properties)))] if properties else []
    clauses += [f"{dialect.render(dialect.lower(v.copy()))} AS {name}  -- added column" for name, v, _ in added]
    clauses += [dialect.render(dialect.lower(s)) for s in dialect.after_create(shape)]
    return tuple(clauses)


def dag_nodes(plan: Plan, lineage: ProjectLineage) -> tuple[list[Node], list[tuple[str, str]]]:
    """The picture's nodes (sources, seeds, models) and edges (what each model reads)."""
    nodes = [Node(f"source:{n}", "source", n, None, f"#source-{n}") for n in sorted(plan.spec.sources)]
    nodes += [Node(f"seed:{n}", "seed", n, None, f"#seed-{n}") for n in sorted(plan.seeds)]
    nodes += [Node(f"model:{n}", "model", n, m.module, f"#model-{n}") for n, m in sorted(plan.models.items())]
    owners = {key: f"{kind}:{name}" for key, (kind, name) in table_owners(plan).items()}
    edges: set[tuple[str, str]] = set()
    for name, model in plan.models.items():
        reads = {f"model:{d}" for d in model.depends_on if d in plan.models}
        reads |= {f"seed:{d}" for d in model.depends_on if d in plan.seeds}
        reads |= {owners[t] for t in (model.facts.tables if model.facts else ()) if t in owners}
        for refs in lineage.columns.get(name, {}).values():
            reads |= {f"{ref.kind}:{ref.relation}" for ref in refs if ref.kind in ("model", "source", "seed")}
        edges |= {(r, f"model:{name}") for r in reads if r != f"model:{name}"}
    return nodes, sorted(edges)


def _dotted(table) -> str:
    return ".".join(part for part in (table.catalog, table.db, table.name) if part)
