"""Seeded mutation fuzzing: copies of the shipped projects (model_specs/*), each changed by one
to three mutations (tests/fuzz/mutations.py, hostile_files.py), compiled in a worker process.
Every compile must succeed or end in SnowgenErrors whose diagnostics have a registered code
and a location inside the project (a few project-level codes may have none), within a time
limit. Anything else (a traceback, a hang, a dead worker) fails the test, listing the
mutants by number with their mutations.

Environment:
  SNOWGEN_FUZZ_MUTANTS   how many mutants (default 200: about half a minute on 2 cores)
  SNOWGEN_FUZZ_SEED      the run's seed (default 0); mutant i draws from Random(f"{seed}:{i}")
  SNOWGEN_FUZZ_ONLY      comma-separated mutant numbers to run again (from a failure report)
  SNOWGEN_FUZZ_TIMEOUT   seconds one compile may take (default 20)
  SNOWGEN_FUZZ_WORKERS   worker processes (default: the cores, at most 4)
"""

from __future__ import annotations

import multiprocessing
import os
import random
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from snowgen.dialects import DIALECTS
from snowgen.errors import CODES

from . import hostile_files, mutations
from .worker import compile_all

pytestmark = pytest.mark.fuzz

REPO = Path(__file__).resolve().parents[2]
PROJECTS = sorted(p for p in (REPO / "model_specs").iterdir() if (p / "snowgen.yml").is_file())
#: (weight, mutation): edits of the spec text most often, the heavy hostile files less
MUTATIONS: list[tuple[int, mutations.Mutation]] = [
    (6, mutations.edit_lines), (8, mutations.replace_value), (6, mutations.insert_key), (5, mutations.mutate_sql),
    (1, mutations.nest_sql),
    (5, mutations.flip_bytes), (6, mutations.insert_bytes), (3, mutations.reencode), (3, mutations.truncate),
    (2, hostile_files.alias_bomb), (2, hostile_files.self_alias), (2, hostile_files.deep_nesting),
    (1, hostile_files.huge_spec), (1, hostile_files.huge_seed), (2, hostile_files.delete_file),
    (2, hostile_files.rename_file), (1, hostile_files.replace_with_folder), (2, hostile_files.symlink_out),
    (2, hostile_files.models_folder),
]  # fmt: skip
#: errors about the whole project or its folder, which have no file position to give
FILE_LESS_CODES = {"SG003"}
_YAML_OR_CSV_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


@dataclass
class Mutant:
    number: int
    project: str
    dialect: str
    root: Path
    steps: list[str] = field(default_factory=list)


def make_mutant(number: int, seed: str, tmp: Path) -> Mutant:
    rng = random.Random(f"{seed}:{number}")
    source = rng.choice(PROJECTS)
    root = tmp / f"mutant_{number}" / source.name
    # every shipped project, so that one extending another finds it (only the chosen one is mutated)
    shutil.copytree(source.parent, root.parent, symlinks=True, ignore=shutil.ignore_patterns(".snowgen-cache"))
    mutant = Mutant(number, source.name, rng.choice(sorted(DIALECTS)), root)
    weights = [w for w, _ in MUTATIONS]
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        mutation = rng.choices([m for _, m in MUTATIONS], weights)[0]
        mutant.steps.append(f"{mutation.__name__}: {mutation(rng, root)}")
    return mutant


def problems(mutant: Mutant, outcome: dict[str, Any]) -> list[str]:
    """What is wrong with one compile's outcome; empty when it is a clean success or failure."""
    if outcome["kind"] == "ok":
        return []
    if outcome["kind"] == "crash":
        return [f"crash: {crash_summary(outcome['error'])}"]
    if outcome["kind"] != "error":
        return [outcome["kind"]]
    # inside the copied projects: a project that extends another may be told of the other's files
    return [p for d in outcome["diagnostics"] for p in diagnostic_problems(mutant.root.parent, d)]


def crash_summary(traceback_text: str) -> str:
    """snowgen's own frames and the exception: enough to find the place, short enough to read."""
    lines = traceback_text.strip().splitlines()
    frames = [line.strip() for line in lines if line.strip().startswith("File ") and "/snowgen/" in line]
    return " <- ".join(reversed(frames[-4:])) + f" :: {lines[-1][:300]}"


def diagnostic_problems(root: Path, diagnostic: dict[str, Any]) -> list[str]:
    code, file = diagnostic["code"], diagnostic["file"]
    shown = diagnostic["text"].splitlines()[0][:300]
    if code not in CODES:
        return [f"unregistered code: {shown}"]
    if file is None:
        return [] if code in FILE_LESS_CODES else [f"no location: {shown}"]
    path = Path(file)
    if not path.resolve().is_relative_to(root.resolve()) and not path.is_relative_to(root):
        return [f"location outside the project: {shown}"]
    if diagnostic["line"] < 1 or diagnostic["col"] < 1 or diagnostic["line"] > _line_count(path) + 1:
        return [f"location not in the file ({diagnostic['line']}:{diagnostic['col']}): {shown}"]
    return []


def _line_count(path: Path) -> int:
    """Lines by any rule a reader might count them (YAML's breaks, or line feeds only)."""
    if not path.is_file():  # a diagnostic must not point into a device or a folder
        return 0
    with path.open("rb") as stream:
        text = stream.read(64 * 1024 * 1024).decode("utf-8", "replace")
    return max(len(_YAML_OR_CSV_LINE_BREAK.split(text)), text.count("\n") + 1)


def _settings() -> tuple[list[int], str, float, int]:
    count = int(os.environ.get("SNOWGEN_FUZZ_MUTANTS", "200"))
    only = os.environ.get("SNOWGEN_FUZZ_ONLY", "")
    numbers = [int(n) for n in only.split(",") if n.strip()] if only else list(range(count))
    seed = os.environ.get("SNOWGEN_FUZZ_SEED", "0")
    timeout = float(os.environ.get("SNOWGEN_FUZZ_TIMEOUT", "20"))
    workers = int(os.environ.get("SNOWGEN_FUZZ_WORKERS", str(min(4, os.cpu_count() or 1))))
    return numbers, seed, timeout, workers


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="workers are forked")
def test_mutated_projects_fail_cleanly(tmp_path: Path) -> None:
    numbers, seed, timeout, workers = _settings()
    mutants = [make_mutant(number, seed, tmp_path) for number in numbers]
    outcomes = compile_all([(m.root, m.dialect) for m in mutants], workers, timeout)
    report = []
    for mutant, outcome in zip(mutants, outcomes, strict=True):
        found = problems(mutant, outcome)
        if not found:  # a long run writes gigabytes otherwise; failures stay for a look
            shutil.rmtree(mutant.root.parent, ignore_errors=True)
        else:
            steps = "; ".join(mutant.steps)
            heading = f"mutant {mutant.number} ({mutant.project}, {mutant.dialect}; {steps}):"
            report.append(heading + "".join(f"\n  {p}" for p in found))
    kinds = Counter(o["kind"] if o["kind"] != "error" else o["diagnostics"][0]["code"] for o in outcomes)
    print(f"fuzz seed {seed}: {len(mutants)} mutants, outcomes {dict(sorted(kinds.items()))}")
    rerun = ",".join(str(int(line.split()[1])) for line in report)
    assert not report, f"SNOWGEN_FUZZ_SEED={seed} SNOWGEN_FUZZ_ONLY={rerun}\n" + "\n".join(report)


def test_a_mutant_is_the_same_for_the_same_seed_and_number(tmp_path: Path) -> None:
    """A failure report's SNOWGEN_FUZZ_SEED and SNOWGEN_FUZZ_ONLY rebuild the same files."""

    def files(mutant: Mutant) -> dict[str, bytes]:
        return {p.relative_to(mutant.root).as_posix(): p.read_bytes() for p in mutations.project_files(mutant.root)}

    for number in range(12):
        first, second = make_mutant(number, "0", tmp_path / "a"), make_mutant(number, "0", tmp_path / "b")
        assert (first.steps, files(first)) == (second.steps, files(second))
