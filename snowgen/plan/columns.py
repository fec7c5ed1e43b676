"""Output columns for the planner: what each model's body produces, and checks against it.

Columns are found in dependency order, so that ``*`` over a source with declared columns
or over an upstream model expands to named columns; the spec's keys and layout columns
must then name output columns.
"""

from __future__ import annotations

import difflib
from dataclasses import replace

from snowgen.errors import SnowgenError
from snowgen.plan.bodies import BodyPlanner
from snowgen.plan.column_check import UNKNOWN
from snowgen.plan.data import UNPARSED, ModelPlan
from snowgen.plan.references import source_tables
from snowgen.plan.seeds import seed_table
from snowgen.plan.staged import staged_table
from snowgen.plan.stars import KnownColumns, drop_positions_of, table_key
from snowgen.spec.loader import LoadedModel, LoadedProject


def with_output_columns(
    loaded: LoadedProject, models: dict[str, ModelPlan], ordered: list[str], bodies: BodyPlanner
) -> dict[str, ModelPlan]:
    """Find each model's output columns in dependency order, expanding ``*`` where the
    columns of the relation it reads are known (declared source columns, upstream models)."""
    known: KnownColumns = {}
    types: dict[tuple[str, str], dict[str, str]] = {}
    for source in loaded.spec.sources.values():
        if source.columns:
            for table in source_tables(loaded.spec, source):
                known[table_key(table)] = tuple(source.columns)
                types[table_key(table)] = {c: column.type for c, column in source.columns.items()}
    for seed in loaded.seeds:
        key = table_key(seed_table(loaded, seed.name, seed.spec))
        known[key] = tuple(seed.spec.columns)
        types[key] = {c: column.type for c, column in seed.spec.columns.items()}
    result = dict(models)
    for name in ordered:
        model = result.get(name)
        if model is None:
            continue
        body_output = None
        if model.query is not None:
            model = bodies.output(model, known, types)
            assert model.facts is not None
            body_output = model.facts.output
        output = model.output_columns or body_output
        model = replace(model, output_columns=output, output_types=_output_types(model, output))
        if model.doc is not loaded.doc:
            _check_columns(LoadedModel(model.spec, model.doc), output, body_output)
            _check_watermark_column(loaded, LoadedModel(model.spec, model.doc), output)
        result[name] = model
        if output is not None:
            tables = [model.table, *([staged_table(name, loaded)] if model.spec.staged else [])]
            for table in tables:
                known[table_key(table)] = output
                types[table_key(table)] = model.typed_columns
    return result


def _output_types(model: ModelPlan, output: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """Each output column's type: declared, else inferred from the body, else unknown."""
    if output is None:
        return None
    if model.output_types is not None and model.output_columns == output:
        return model.output_types  # a generated model's, set by its strategy
    inferred = model.facts.output_types if model.facts is not None else None
    body_output = model.facts.output if model.facts is not None else None
    by_name = dict(zip(body_output, inferred, strict=True)) if inferred and body_output else {}
    return tuple(model.column_types.get(c) or by_name.get(c, UNKNOWN) for c in output)


def drop_positions(models: dict[str, ModelPlan]) -> None:
    """Parse positions were for error messages; every dialect copies each body, and the
    position dicts make those copies several times slower. The parser also gives function
    nodes an empty comment list, which each copy deep-copies; sqlglot reads an empty list
    and None alike (no comment), so those become None too."""
    for model in models.values():
        if model.query is not None and model.query is not UNPARSED:
            drop_positions_of(model.query)


def _check_columns(model: LoadedModel, output: tuple[str, ...] | None, body_output: tuple[str, ...] | None) -> None:
    spec = model.spec
    if spec.materialization == "incremental" and output is None:
        raise SnowgenError.at(
            "SG211",
            "an incremental model needs explicit output columns: name every column of the outer SELECT "
            "(no '*') or declare 'columns'",
            model.doc.location(("sql",)),
        )
    if spec.columns and body_output is not None:
        # Declared columns must be exactly what the body produces: they are selected by name
        # and typed one by one, so a column left out would be dropped without a word.
        for column in spec.columns:
            _require_column(model, ("columns", column), column, body_output, "the SQL body's output", key=True)
        undeclared = [c for c in body_output if c not in spec.columns]
        if undeclared:
            raise SnowgenError.at(
                "SG207",
                f"the SQL body's output has columns that 'columns' does not declare: {', '.join(undeclared)}; "
                "declare every column (or none)",
                model.doc.location(("columns",), key=True),
            )
    if output is None:
        return
    for path, column in _columns_named_by_spec(model):
        _require_column(model, path, column, output, f"an output column of model '{spec.name}'")


def _columns_named_by_spec(model: LoadedModel) -> list[tuple[tuple, str]]:
    """(YAML path, column) for every key and layout setting that names an output column."""
    spec = model.spec
    keys = spec.unique_key_columns
    checks: list[tuple[tuple, str]] = [
        (("unique_key", i) if isinstance(spec.unique_key, list) else ("unique_key",), c) for i, c in enumerate(keys)
    ]
    if spec.upsert_date_key:
        checks.append((("upsert_date_key",), spec.upsert_date_key))
    layout = spec.layout
    if layout.partition:
        checks.append((("layout", "partition", "column"), layout.partition.column))
    checks += [(("layout", "cluster", i), c) for i, c in enumerate(layout.cluster or [])]
    checks += [(("layout", "sort", i), c) for i, c in enumerate(layout.sort or [])]
    if layout.dist:
        checks.append((("layout", "dist"), layout.dist))
    checks += [(("dedupe_order_by", i), item.column) for i, item in enumerate(spec.dedupe_order_by)]
    if spec.backfill is not None and spec.backfill.instance_column:
        checks.append((("backfill", "instance_column"), spec.backfill.instance_column))
    return checks


def _check_watermark_column(loaded: LoadedProject, model: LoadedModel, output: tuple[str, ...] | None) -> None:
    """A watermark model outputs its source's timestamp: the watermark advances from it."""
    source = loaded.spec.sources.get(model.spec.watermark) if model.spec.watermark else None
    if source is None or source.timestamp is None or output is None:
        return  # no watermark, or the strategy has reported the source already
    what = f"an output column of model '{model.spec.name}'; a watermark model outputs the timestamp of its source '{model.spec.watermark}'"
    _require_column(model, ("watermark",), source.timestamp, output, what)


def _require_column(
    model: LoadedModel, path: tuple, column: str, available: tuple[str, ...], what: str, key: bool = False
) -> None:
    """``column`` must be one of ``available``; names compare as snowgen stores them."""
    if column in available:
        return
    message = f"column '{column}' is not {what}"
    same_letters = [c for c in available if c.lower() == column.lower()]
    if same_letters:
        message += (
            f": the SQL has the exact-case name '{same_letters[0]}'; write it in double quotes "
            f"in the spec ('\"{same_letters[0]}\"') to keep its case"
        )
    else:
        hint = difflib.get_close_matches(column, list(available), n=1)
        message += f" (did you mean '{hint[0]}'?)" if hint else ""
    raise SnowgenError.at("SG207", message, model.doc.location(path, key=key))


def require_output_column(model: LoadedModel, path: tuple, column: str, owner: str, available: tuple[str, ...]) -> None:
    """SG207 at ``path`` of ``model``'s file unless ``column`` is an output column of the
    model named ``owner`` (``available``: its output columns)."""
    _require_column(model, path, column, available, f"an output column of model '{owner}'")
