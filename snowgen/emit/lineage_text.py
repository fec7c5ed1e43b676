"""``snowgen lineage MODEL.COLUMN``: a column's lineage as an indented tree of text, and the
checks of the name asked for (SG290-SG292)."""

from __future__ import annotations

import difflib

from snowgen.errors import SnowgenError
from snowgen.plan.data import Plan
from snowgen.plan.lineage import ColumnRef, ProjectLineage

_INDENT = "  "


def parse_column_name(text: str, lineage: ProjectLineage) -> tuple[str, str]:
    """``MODEL.COLUMN`` split and checked against the project's models and their columns."""
    model, dot, column = text.rpartition(".")
    if not dot or not model or not column:
        raise SnowgenError.at("SG292", f"'{text}' is not MODEL.COLUMN (e.g. snowplow_web_page_views.page_view_id)")
    if model not in lineage.columns:
        raise SnowgenError.at("SG290", _unknown(f"model '{model}'", model, lineage.columns))
    columns = lineage.columns[model]
    if column not in columns:
        if not columns:
            raise SnowgenError.at(
                "SG291",
                f"the output columns of model '{model}' are not known (a '*' over a table whose columns are not declared)",
            )
        raise SnowgenError.at("SG291", _unknown(f"column '{column}' of model '{model}'", column, columns))
    return model, column


def _unknown(what: str, name: str, known) -> str:
    hint = difflib.get_close_matches(name, sorted(known), n=1)
    return f"unknown {what}" + (f" (did you mean '{hint[0]}'?)" if hint else "")


def lineage_lines(plan: Plan, lineage: ProjectLineage, model: str, column: str) -> list[str]:
    """The column, then each column it reads, indented one level per step, down to the
    columns of sources, seeds and contexts. A model column met a second time is not
    expanded again ("see above"), so a column read along many paths stays short."""
    lines = [f"{model}.{column}"]
    _expand(plan, lineage, model, column, 1, lines, set())
    return lines


def _expand(
    plan: Plan, lineage: ProjectLineage, model: str, column: str, depth: int, lines: list[str], shown: set
) -> None:
    shown.add((model, column))
    if model in lineage.unknown:
        lines.append(f"{_INDENT * depth}(lineage not traced: {lineage.unknown[model]})")
        return
    inputs = lineage.inputs(model, column)
    if not inputs:
        lines.append(f"{_INDENT * depth}(reads no column: a constant, or computed by snowgen)")
        return
    for ref in inputs:
        again = ref.kind == "model" and (ref.relation, ref.column) in shown
        lines.append(f"{_INDENT * depth}<- {describe(plan, ref)}" + (" (see above)" if again else ""))
        if ref.kind == "model" and not again:
            _expand(plan, lineage, ref.relation, ref.column, depth + 1, lines, shown)


def describe(plan: Plan, ref: ColumnRef) -> str:
    """``kind relation.column``, with the table a source or seed lives in."""
    text = f"{ref.kind} {ref.relation}.{ref.column}"
    if ref.kind == "source" and ref.relation in plan.spec.sources:
        source = plan.spec.sources[ref.relation]
        text += f" ({source.schema_}.{source.table})"
    elif ref.kind == "seed" and ref.relation in plan.seeds:
        table = plan.seeds[ref.relation].table
        text += f" ({table.db}.{table.name})"
    return text
