"""Source samples: CSV files of example rows that ``snowgen sample-data`` loads into a
project's source tables (docs/spec.md, "Samples").

A compile never reads them: only the command that loads them does, through
:func:`load_samples`. A source names its sample (``sources.<name>.sample``); a Snowplow
context of the sessions strategy, which has a table of its own on some warehouses, names one
too (``incremental.contexts[i].sample``).
"""

from __future__ import annotations

from dataclasses import dataclass

from snowgen.errors import Diagnostic, SnowgenError
from snowgen.spec.csv_source import CsvDocument, load_csv
from snowgen.spec.loader import LoadedProject, file_path_problem, unprintable_diagnostic
from snowgen.spec.models import SessionsStrategySpec
from snowgen.spec.yaml_source import YamlPath
from snowgen.text import has_unprintable


@dataclass(frozen=True)
class LoadedSample:
    source: str  # the source whose tables (or whose context's table) the rows go to
    context: int | None  # the index of the context in incremental.contexts, or None
    key: YamlPath  # where ``sample:`` is written in snowgen.yml
    csv: CsvDocument


def declared_samples(loaded: LoadedProject) -> list[tuple[str, int | None, YamlPath, str]]:
    """(source, context index, YAML path, file) of every sample the project names."""
    spec = loaded.spec
    found = [(name, None, ("sources", name, "sample"), s.sample) for name, s in spec.sources.items() if s.sample]
    if isinstance(spec.incremental, SessionsStrategySpec):
        for index, context in enumerate(spec.incremental.contexts):
            if context.sample:
                path = ("incremental", "contexts", index, "sample")
                found.append((spec.incremental.source, index, path, context.sample))
    return found


def load_samples(loaded: LoadedProject) -> list[LoadedSample]:
    """Every sample file, parsed; all unreadable files reported at once (SG005, SG008, SG106)."""
    samples, problems = [], []
    for source, context, key, file in declared_samples(loaded):
        where = loaded.doc.location(key)
        if has_unprintable(file):
            problems.append(unprintable_diagnostic(file, where))
            continue
        # relative to the project file that names it (a project it extends, for an inherited source)
        folder = where.file.parent
        problem = file_path_problem(folder, folder / file, file)
        if problem is not None:
            problems.append(Diagnostic("SG005", f"sample of '{source}': {problem}", where))
            continue
        try:
            samples.append(LoadedSample(source, context, key, load_csv(folder / file, "sample")))
        except SnowgenError as exc:
            problems.extend(exc.diagnostics)
    if problems:
        raise SnowgenError(problems)
    return samples
