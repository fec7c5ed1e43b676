"""Source samples as typed rows (docs/spec.md, "Samples"), for ``snowgen sample-data``.

A sample's header names some of its source's declared columns, in any order; the columns it
leaves out are NULL. Every cell is read as a seed's cell is (snowgen.plan.seed_values), so a
sample loads the same rows on every warehouse, and a cell that does not fit its column is
SG216 at the CSV's own ``file:line:col``. A context sample's columns are those of the
context's own table: ``root_id`` (the event_id), ``root_tstamp`` and the context's fields.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from snowgen.errors import Diagnostic, Location, SnowgenError
from snowgen.names import canonical
from snowgen.plan import seed_values
from snowgen.plan.data import SeedRow
from snowgen.plan.references import source_tables
from snowgen.plan.seeds import capped
from snowgen.spec.csv_source import CsvField
from snowgen.spec.loader import LoadedProject
from snowgen.spec.models import SEED_TYPE_PATTERN, SessionContextSpec
from snowgen.spec.samples import LoadedSample

CODE = "SG216"


@dataclass(frozen=True)
class SamplePlan:
    source: str
    #: the source's tables (one per instance); a context's table stands beside the first
    tables: tuple[exp.Table, ...]
    #: a context sample: the context's iglu schema URI (its table's name depends on the dialect)
    context_schema: str | None
    #: a context sample: the source's event id column, which root_id matches
    root_column: str | None
    columns: tuple[tuple[str, str], ...]  # (column, logical type) of the sample's header, in order
    rows: tuple[SeedRow, ...]
    location: Location  # the ``sample:`` key in snowgen.yml

    @property
    def label(self) -> str:
        return f"the sample of '{self.source}'" + (f" ({self.context_schema})" if self.context_schema else "")


def plan_samples(loaded: LoadedProject, samples: list[LoadedSample]) -> list[SamplePlan]:
    """Every sample's rows as typed values; all mistakes of all samples at once (SG216)."""
    if not samples:
        message = f"project '{loaded.spec.project}' names no sample; give a source one: sources.<name>.sample"
        raise SnowgenError.at(CODE, message, loaded.doc.location(("project",)))
    problems: list[Diagnostic] = []
    planned = [plan for sample in samples if (plan := _plan_sample(loaded, sample, problems)) is not None]
    if problems:
        raise SnowgenError(problems)
    return planned


def _plan_sample(loaded: LoadedProject, sample: LoadedSample, problems: list[Diagnostic]) -> SamplePlan | None:
    source = loaded.spec.sources.get(sample.source)
    context = _context(loaded, sample)
    declared = _declared_columns(source, context)
    if not declared:
        message = f"source '{sample.source}' declares no columns; a sample needs the columns' types"
        problems.append(Diagnostic(CODE, message, loaded.doc.location(sample.key)))
        return None
    columns = _header_columns(sample, declared, problems)
    if columns is None:
        return None
    found: list[Diagnostic] = []
    rows = [row for record in sample.csv.records if (row := _row(sample, record, columns, found)) is not None]
    if found:
        problems.extend(capped(found))
        return None
    return SamplePlan(
        source=sample.source,
        tables=tuple(source_tables(loaded.spec, source)),
        context_schema=context.schema_ if context else None,
        root_column=loaded.spec.incremental.event_id if context else None,
        columns=tuple(columns),
        rows=tuple(rows),
        location=loaded.doc.location(sample.key),
    )


def _context(loaded: LoadedProject, sample: LoadedSample) -> SessionContextSpec | None:
    return None if sample.context is None else loaded.spec.incremental.contexts[sample.context]


def _declared_columns(source, context: SessionContextSpec | None) -> dict[str, str]:
    """Column -> logical type of the table the sample fills."""
    if context is not None:
        return {"root_id": "string", "root_tstamp": "timestamp", **{f: context.field_type(f) for f in context.fields}}
    return {name: column.type for name, column in source.columns.items()}


def _header_columns(
    sample: LoadedSample, declared: dict[str, str], problems: list[Diagnostic]
) -> list[tuple[str, str]] | None:
    """(column, type) of each header field; the header must name declared, loadable columns once."""
    header = [_column_name(field.text.strip(), declared) for field in sample.csv.header]
    repeated = sorted({name for name in header if header.count(name) > 1})
    unknown = [name for name in header if name not in declared]
    unloadable = [f"{name} ({declared[name]})" for name in header if name in declared and not _loadable(declared[name])]
    if not (repeated or unknown or unloadable):
        return [(name, declared[name]) for name in header]
    parts = [
        f"{what}: {', '.join(names)}"
        for what, names in (
            ("not declared", unknown),
            ("repeated", repeated),
            ("of a type no sample holds", unloadable),
        )
        if names
    ]
    first = sample.csv.header[0]
    message = f"the header of the sample of '{sample.source}' does not fit its columns ({'; '.join(parts)})"
    problems.append(Diagnostic(CODE, message, sample.csv.at(first.line, first.col)))
    return None


def _column_name(text: str, declared: dict[str, str]) -> str:
    """Source columns are stored canonical (snowgen.names); context fields keep their case."""
    return text if text in declared else canonical(text)


def _loadable(logical: str) -> bool:
    """The types a seed may hold have one text form on every warehouse (seed_values)."""
    return bool(SEED_TYPE_PATTERN.match(logical))


def _row(
    sample: LoadedSample, record: tuple[CsvField, ...], columns: list[tuple[str, str]], found: list[Diagnostic]
) -> SeedRow | None:
    if len(record) != len(columns):
        message = f"this row of the sample of '{sample.source}' has {len(record)} fields; the header has {len(columns)}"
        found.append(Diagnostic(CODE, message, sample.csv.at(record[0].line, record[0].col)))
        return None
    values = []
    for field, (column, logical) in zip(record, columns, strict=True):
        try:
            values.append(seed_values.convert(field.text, logical))
        except ValueError as exc:
            message = f"the sample of '{sample.source}', column '{column}': the value {exc}"
            found.append(Diagnostic(CODE, message, sample.csv.at(field.line, field.col)))
    if len(values) != len(columns):
        return None
    return SeedRow(record[0].line, tuple(field.col for field in record), tuple(values))
