#!/usr/bin/env python
"""How fast does snowgen compile? Shipped projects and a synthetic N-model project.

Run from the repository root (see benchmarks/README.md):

    .venv/bin/python benchmarks/compile_speed.py            # table
    .venv/bin/python benchmarks/compile_speed.py --json     # machine-readable
    .venv/bin/python benchmarks/compile_speed.py --models 2000 --repeat 1
    .venv/bin/python benchmarks/compile_speed.py --profile  # + cProfile of the N-model compile

What it measures (all wall-clock, ``time.perf_counter``; best of ``--repeat`` runs):

(a) every project under ``model_specs/`` (each directory with a ``snowgen.yml``), compiled
    for all six dialects in one process: load + plan once per project, build + emit once
    per dialect -- exactly what ``snowgen.api.compile_loaded`` does, with the four stages
    timed separately. A project that fails to compile is reported and skipped. Also: a
    fresh interpreter doing the same (imports included) and the real CLI command.
(b) a generated, deterministic project of N incremental models (and N/4, N/2 to show the
    growth), compiled the same way.
(c) whether sqlglot's mypyc-compiled build (the ``sqlglotc`` package) is active.
(d) whole processes, as a user meets them: the ``snowgen`` command on the shipped projects
    and on the N-model project, against the floor ``python -c "import sqlglot, pydantic,
    yaml, click, jinja2"``. Wall seconds, and CPU seconds of the process and every worker it
    forked (``RUSAGE_CHILDREN``): imports, planning, workers, writing files and the
    interpreter's exit all count. Medians of ``--repeat`` runs, taken in turn. Each project
    without the build cache (``--no-cache``, every step built), the shipped projects again
    with the cache when nothing changed, and the N-model project with the cache after one
    model's SQL body was edited (a new edit each run). The commands run as after an install,
    with Python's bytecode cache (``PYTHONDONTWRITEBYTECODE`` is dropped from their
    environment, and one untimed run writes the bytecode first).

Statements are counted from the built ASTs: the number of sqlglot statements that
``build_plan`` returns for every step (``len(BuiltStep.statements)``), summed over steps
and dialects. ``emit`` renders each of them into the step's ``.sql`` file, so this is
the number of statements in the emitted ``.sql`` files (``plan.json`` is not counted);
the script cross-checks it once, untimed, against
``snowgen.runner.statements.split_statements`` on the emitted text.

Nothing here asserts on time: the goals are printed next to the figures for comparison.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import math
import os
import platform
import pstats
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SPECS = REPO / "model_specs"
DEFAULT_MODELS = 1000
DEFAULT_SEED = 20240607
GOAL_SHIPPED_S = 1.0  # (a) every shipped project, six dialects, one process
GOAL_SYNTHETIC_S = 15.0  # (b) 1000 models, six dialects
# (d) whole processes: `snowgen compile --all` within this many times the CPU of importing the
# libraries it stands on; 1,000 models x 6 dialects under this many seconds of wall time
GOAL_FLOOR_RATIO = 4.0
GOAL_PROCESS_SYNTHETIC_S = 10.0
# (d) an edit to one model of the 1,000 recompiles all six dialects (build cache on) in under this
GOAL_EDIT_S = 1.0
FLOOR_COMMAND = [sys.executable, "-c", "import sqlglot, pydantic, yaml, click, jinja2"]
GOAL_SYNTHETIC_N = 1000

# The commands run as after an install: Python keeps the bytecode of the modules it imports
# (__pycache__), unless the shell says otherwise; a shell that sets PYTHONDONTWRITEBYTECODE
# (some build machines do) would make every command compile snowgen's source again.
USER_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

# snowgen is imported lazily (see import_snowgen) so that the cold child can time imports.
sg: Any = None


def import_snowgen() -> SimpleNamespace:
    global sg
    if sg is None:
        from snowgen.api import CompileOptions, compile_loaded, compile_planned, plan_loaded
        from snowgen.dialects import DIALECTS, get_dialect
        from snowgen.emit.render import emit
        from snowgen.errors import SnowgenError
        from snowgen.runner.statements import split_statements
        from snowgen.spec.loader import is_project_dir, load_project

        sg = SimpleNamespace(
            CompileOptions=CompileOptions,
            compile_loaded=compile_loaded,
            compile_planned=compile_planned,
            plan_loaded=plan_loaded,
            DIALECTS=DIALECTS,
            get_dialect=get_dialect,
            emit=emit,
            SnowgenError=SnowgenError,
            split_statements=split_statements,
            is_project_dir=is_project_dir,
            load_project=load_project,
        )
    return sg


# -- one compile, phase by phase ---------------------------------------------------------------


@dataclass
class Run:
    """One compile of one project for every dialect."""

    project: str
    load_s: float = 0.0
    plan_s: float = 0.0
    build_s: float = 0.0
    emit_s: float = 0.0
    cpu_s: float = 0.0  # process CPU time of the whole compile (less sensitive to a busy machine)
    gc_s: float = 0.0  # time inside the cyclic garbage collector during the compile
    gc_full: int = 0  # full (generation 2) collections during the compile
    statements: int = 0  # built statements, summed over dialects
    sql_files: int = 0  # emitted .sql files, summed over dialects
    per_dialect: dict[str, dict[str, float | int]] = field(default_factory=dict)

    @property
    def total_s(self) -> float:
        return self.load_s + self.plan_s + self.build_s + self.emit_s


def compile_phased(root: Path, dialects: list[str], keep: dict | None = None) -> Run:
    """``compile_loaded(load_project(root), dialects)``, stage by stage: load, plan, then
    build + emit (streamed step by step, in parallel worker processes when the plan is big
    enough, as ``compile_planned`` does; ``--jobs`` overrides its choice).

    ``keep``, when given, receives dialect -> {path: text} (for the untimed checks).
    """
    clock = time.perf_counter
    cpu0 = time.process_time()
    gc_watch.reset()
    t0 = clock()
    loaded = sg.load_project(root)
    t1 = clock()
    plan = sg.plan_loaded(loaded)
    t2 = clock()
    results = sg.compile_planned(plan, dialects, jobs=JOBS)
    t3 = clock()
    run = Run(project=plan.project, load_s=t1 - t0, plan_s=t2 - t1, build_s=t3 - t2)
    run.cpu_s = time.process_time() - cpu0
    run.gc_s, run.gc_full = gc_watch.seconds, gc_watch.full
    for compiled in results:  # untimed: count what was emitted
        sqlglot_dialect = sg.get_dialect(compiled.dialect).sqlglot_dialect
        sql = {p: t for p, t in compiled.files.items() if p.endswith(".sql")}
        statements = sum(len(sg.split_statements(t, sqlglot_dialect)) for t in sql.values())
        run.statements += statements
        run.sql_files += len(sql)
        run.per_dialect[compiled.dialect] = {"statements": statements, "sql_files": len(sql)}
        if keep is not None:
            keep[compiled.dialect] = compiled.files
    return run


class _GcWatch:
    """Time spent in the cyclic garbage collector (a ``gc.callbacks`` hook; negligible cost)."""

    def __init__(self) -> None:
        self.seconds, self.full, self._start = 0.0, 0, 0.0

    def reset(self) -> None:
        self.seconds, self.full = 0.0, 0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._start
            self.full += info.get("generation") == 2


gc_watch = _GcWatch()
gc.callbacks.append(gc_watch)
GC_MODE = "on"
JOBS: int | None = None  # worker processes for build + emit (None: snowgen decides)


def _gc_before_run() -> None:
    gc.collect()
    if GC_MODE == "off":
        gc.disable()


def _gc_after_run() -> None:
    if GC_MODE == "off":
        gc.enable()
        gc.collect()


def best_of(runs: list[Run]) -> Run:
    return min(runs, key=lambda r: r.total_s)


def timed_runs(root: Path, dialects: list[str], repeat: int) -> tuple[Run, list[float]]:
    runs = []
    for _ in range(repeat):
        _gc_before_run()
        try:
            runs.append(compile_phased(root, dialects))
        finally:
            _gc_after_run()
    return best_of(runs), [r.total_s for r in runs]


def cross_check(root: Path, dialects: list[str]) -> list[str]:
    """Untimed: the staged path emits exactly what ``compile_loaded`` emits, serially too."""
    problems: list[str] = []
    emitted: dict[str, dict[str, str]] = {}
    compile_phased(root, dialects, keep=emitted)
    reference = {
        c.dialect: c.files for c in sg.compile_loaded(sg.load_project(root), dialects, sg.CompileOptions(jobs=1))
    }
    for name in dialects:
        if reference.get(name) != emitted[name]:
            problems.append(f"{name}: staged compile differs from a serial compile_loaded")
    return problems


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, sg.SnowgenError):
        return exc.format()
    return f"{type(exc).__name__}: {exc}"


# -- (a) shipped projects ---------------------------------------------------------------------------


def shipped_projects() -> list[Path]:
    if not SPECS.is_dir():
        return []
    return sorted(p for p in SPECS.iterdir() if sg.is_project_dir(p))


def bench_shipped(repeat: int, dialects: list[str], log) -> dict[str, Any]:
    projects, failed = [], []
    first_total = 0.0
    for root in shipped_projects():
        try:
            _gc_before_run()
            try:
                first = compile_phased(root, dialects)  # first compile in this process: lazy init included
            finally:
                _gc_after_run()
            best, all_totals = timed_runs(root, dialects, repeat)
            problems = cross_check(root, dialects)
        except Exception as exc:  # someone else's work in progress must not stop the benchmark
            failed.append({"project": root.name, "error": describe_error(exc)})
            log(f"  {root.name}: FAILED to compile, skipped ({describe_error(exc).splitlines()[0]})")
            continue
        first_total += first.total_s
        projects.append(
            {**_run_dict(best), "first_run_s": first.total_s, "all_runs_s": all_totals, "check_problems": problems}
        )
        log(f"  {root.name}: best {best.total_s:.3f}s, {best.statements} statements")
    total = _sum_runs(projects)
    total["first_run_s"] = first_total
    return {"projects": projects, "failed": failed, "total": total}


def _run_dict(run: Run) -> dict[str, Any]:
    data = asdict(run)
    data["total_s"] = run.total_s
    data["statements_per_s"] = run.statements / run.total_s if run.total_s else 0.0
    return data


def _sum_runs(items: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("load_s", "plan_s", "build_s", "emit_s", "total_s", "cpu_s", "gc_s", "gc_full", "statements", "sql_files")
    total = {k: sum(item[k] for item in items) for k in keys}
    total["statements_per_s"] = total["statements"] / total["total_s"] if total["total_s"] else 0.0
    return total


def bench_cold(repeat: int, log) -> dict[str, Any]:
    """A fresh interpreter: import snowgen, compile every shipped project once."""
    results = []
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--_cold-child"],
            capture_output=True,
            text=True,
            cwd=REPO,
        )
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            return {"error": (proc.stderr or proc.stdout).strip()[-2000:]}
        child = json.loads(proc.stdout)
        child["process_wall_s"] = wall
        results.append(child)
    best = min(results, key=lambda r: r["process_wall_s"])
    log(
        f"  fresh process: {best['process_wall_s']:.3f}s wall (imports {best['import_s']:.3f}s, compile {best['compile_s']:.3f}s)"
    )
    return best


def cold_child() -> None:
    start = time.perf_counter()
    import_snowgen()
    imported = time.perf_counter()
    statements, failed = 0, []
    for root in shipped_projects():
        try:
            statements += compile_phased(root, list(sg.DIALECTS)).statements
        except Exception:  # reported by name; the parent's in-process run shows the error
            failed.append(root.name)
    done = time.perf_counter()
    json.dump(
        {
            "import_s": imported - start,
            "compile_s": done - imported,
            "in_process_s": done - start,
            "statements": statements,
            "failed": failed,
        },
        sys.stdout,
    )


def snowgen_command() -> list[str]:
    """The ``snowgen`` console script installed beside this interpreter (what a user runs)."""
    script = Path(sys.executable).with_name("snowgen")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from snowgen.cli import entry; entry()"]


def whole_process(command: list[str], cwd: Path = REPO) -> dict[str, Any]:
    """One run of ``command`` in ``cwd``: wall seconds, and CPU seconds of the process and
    every process it forked and waited for (imports, workers, writing, exit)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=USER_ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu, "exit_code": proc.returncode, "stderr": proc.stderr.strip()[-2000:]}


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    failed = [r for r in runs if r["exit_code"] != 0]
    summary = {key: statistics.median(r[key] for r in runs) for key in ("wall_s", "cpu_s")}
    summary["runs"] = [{k: round(r[k], 3) for k in ("wall_s", "cpu_s")} for r in runs]
    summary["exit_code"] = failed[0]["exit_code"] if failed else 0
    if failed:
        summary["stderr"] = failed[0]["stderr"]
    return summary


#: the runs of (d), in the order they are printed
PROCESS_RUNS = ("floor", "shipped", "shipped_warm", "synthetic", "synthetic_edit")


def bench_processes(repeat: int, synthetic: Path | None, log) -> dict[str, Any]:
    """(d) The import floor and ``snowgen compile --all`` as whole processes, run in turn
    (so that a busy moment of the machine falls on all of them alike); medians:

    * the shipped projects without the build cache (``--no-cache``: every step built), and
      again with the cache filled and the output up to date (a compile when nothing changed);
    * the synthetic project without the cache, and with it after one model's SQL body was
      edited (a new edit each run, so the edited model's steps are never in the cache).

    The shipped projects are copied to a temporary folder first, so their caches are its."""
    runs: dict[str, list] = {name: [] for name in PROCESS_RUNS}
    command = snowgen_command()
    with tempfile.TemporaryDirectory(prefix="snowgen-bench-cli-") as scratch:
        work = Path(scratch)
        shutil.copytree(SPECS, work / "model_specs", ignore=shutil.ignore_patterns(".snowgen-cache"))
        shipped_out, synthetic_out = work / "out-shipped", work / "out-synthetic"
        whole_process([*command, "compile", "--all", "--out", str(shipped_out)], work)  # fills cache and output
        whole_process(FLOOR_COMMAND)  # (and the floor's bytecode, as the first run above did snowgen's)
        if synthetic is not None:
            whole_process([*command, "compile", "--all", "--project", str(synthetic), "--out", str(synthetic_out)])
        for number in range(repeat):
            runs["floor"].append(whole_process(FLOOR_COMMAND))
            cold = work / f"out-cold-{number}"
            runs["shipped"].append(
                whole_process([*command, "compile", "--all", "--no-cache", "--out", str(cold)], work)
            )
            runs["shipped_warm"].append(whole_process([*command, "compile", "--all", "--out", str(shipped_out)], work))
            if synthetic is None:
                continue
            cold_command = [*command, "compile", "--all", "--no-cache", "--project", str(synthetic), "--out", str(cold)]
            runs["synthetic"].append(whole_process(cold_command))
            edit_one_model(synthetic, number)
            edit_command = [*command, "compile", "--all", "--project", str(synthetic), "--out", str(synthetic_out)]
            runs["synthetic_edit"].append(whole_process(edit_command))
            shutil.rmtree(cold, ignore_errors=True)
    result = {name: _median(items) for name, items in runs.items() if items}
    name = synthetic.name if synthetic else "-"
    result["commands"] = {
        "floor": f"python -c '{FLOOR_COMMAND[2]}'",
        "shipped": "snowgen compile --all --no-cache --out TMPDIR",
        "shipped_warm": "snowgen compile --all  (again: nothing changed)",
        "synthetic": f"snowgen compile --all --no-cache --project {name}",
        "synthetic_edit": f"snowgen compile --all --project {name}  (one model edited)",
    }
    result["ratio"] = result["shipped"]["cpu_s"] / result["floor"]["cpu_s"]
    result["ratio_warm"] = result["shipped_warm"]["cpu_s"] / result["floor"]["cpu_s"]
    log(
        f"  whole processes: floor {result['floor']['cpu_s']:.3f} s CPU, shipped {result['shipped']['cpu_s']:.3f} s CPU"
    )
    return result


def edit_one_model(root: Path, number: int) -> None:
    """Change one model's SQL body (its output columns stay): a different model and a new
    literal each time, so the cache never holds the edited steps."""
    models = sorted((root / "models").glob("*.yml"))
    path = models[(len(models) // 2 + 7 * number) % len(models)]
    text = path.read_text(encoding="utf-8")
    edited = text.replace("sum(u.item_count) as item_count", f"sum(u.item_count) + {number + 1} as item_count", 1)
    if edited == text:  # already edited once: bump the literal
        edited = re.sub(
            r"sum\(u\.item_count\) \+ (\d+)", lambda m: f"sum(u.item_count) + {int(m[1]) + 1}", text, count=1
        )
    path.write_text(edited, encoding="utf-8")


# -- (b) the synthetic project ------------------------------------------------------------------------

# Every model reads an upstream relation with these columns and writes the same columns,
# so any model can read the source ``orders`` or any earlier model.
COLUMNS: dict[str, str] = {
    "order_id": "bigint",
    "customer_id": "bigint",
    "order_ts": "timestamp",
    "order_date": "date",
    "status": "string(16)",
    "channel": "string(16)",
    "country": "string(2)",
    "segment": "string(32)",
    "item_count": "int",
    "gross_amount": "decimal(18,2)",
    "discount_amount": "decimal(18,2)",
    "net_amount": "decimal(18,2)",
    "tax_amount": "decimal(18,2)",
    "max_price": "decimal(18,4)",
    "min_price": "decimal(18,4)",
}
CUSTOMER_COLUMNS = {
    "customer_id": "bigint",
    "country": "string(2)",
    "segment": "string(32)",
    "signup_ts": "timestamp",
    "is_test": "boolean",
}
LAYERS = 10  # models are spread over modules layer_0 .. layer_9 in index order


def project_yaml(n: int) -> str:
    columns = "\n".join(f"      {name}: {kind}" for name, kind in COLUMNS.items())
    customers = "\n".join(f"      {name}: {kind}" for name, kind in CUSTOMER_COLUMNS.items())
    return f"""\
# Generated by benchmarks/compile_speed.py: {n} incremental models over two sources.
project: synthetic_{n}
description: Synthetic benchmark project with {n} incremental models.
sql_dialect: postgres
schemas:
  derived: bench
  scratch: bench_scratch
  manifest: bench_manifest
sources:
  orders:
    schema: raw
    table: orders
    timestamp: order_ts
    columns:
{columns}
  customers:
    schema: raw
    table: customers
    columns:
{customers}
vars:
  upsert_lookback_days: 3
  start_date: '2024-01-01'
  excluded_status: cancelled
  channels: [web, app, store]
targets:
  dev: {{dialect: duckdb}}
"""


def model_yaml(i: int, n: int, rng: random.Random) -> str:
    name = f"m{i:05d}"
    module = f"layer_{i * LAYERS // n}"
    upstream = "orders" if i < 5 or rng.random() < 0.1 else f"m{rng.randrange(max(0, i - 50), i):05d}"
    extra = f"m{rng.randrange(0, i):05d}" if i > 5 and rng.random() < 0.3 else None
    if extra == upstream:
        extra = None
    join = rng.choice(["join", "left join"])
    use_jinja = rng.random() < 0.5
    declared = rng.random() < 0.5
    key = ["order_id"] if rng.random() < 0.7 else ["order_id", "customer_id"]
    partition = rng.choice(
        ["{column: order_ts, by: day}", "{column: order_date, by: day}", "{column: order_date, by: month}"]
    )
    cluster = rng.choice([["customer_id"], ["country", "channel"], ["segment"]])
    databricks_partition = rng.random() < 0.2

    filters = ["c.is_test = false"]
    if use_jinja:
        filters += [
            "u.order_ts >= cast({{ var('start_date') }} as timestamp)",
            "u.status <> {{ var('excluded_status') }}",
            "u.channel in ({{ var('channels') }})",
        ]
    else:
        filters += ["u.order_ts >= cast('2024-01-01' as timestamp)", "u.status <> 'cancelled'"]
    if rng.random() < 0.5:
        filters.append(f"u.gross_amount > {rng.randrange(0, 100)}")
    tax = "coalesce(x.tax_amount, u.tax_amount)" if extra else "u.tax_amount"
    extra_join = f"\n  left join {extra} as x on x.order_id = u.order_id" if extra else ""
    channel = (
        "case when u.channel in ('web', 'app') then u.channel else 'other' end"
        if rng.random() < 0.5
        else "coalesce(u.channel, 'unknown')"
    )
    sql = f"""\
  select
    u.order_id,
    u.customer_id,
    max(u.order_ts) as order_ts,
    cast(max(u.order_ts) as date) as order_date,
    u.status,
    {channel} as channel,
    c.country,
    c.segment,
    sum(u.item_count) as item_count,
    sum(u.gross_amount) as gross_amount,
    sum(coalesce(u.discount_amount, 0)) as discount_amount,
    sum(u.gross_amount - coalesce(u.discount_amount, 0)) as net_amount,
    sum({tax}) as tax_amount,
    max(u.max_price) as max_price,
    min(u.min_price) as min_price
  from {upstream} as u
  {join} customers as c on c.customer_id = u.customer_id{extra_join}
  where {" and ".join(filters)}
  group by u.order_id, u.customer_id, u.status, {channel}, c.country, c.segment
"""
    lines = [
        f"# Generated by benchmarks/compile_speed.py (model {i + 1} of {n}).",
        f"name: {name}",
        f"description: Synthetic incremental model {i} reading {upstream}{' and ' + extra if extra else ''}.",
        f"module: {module}",
        "materialization: incremental",
        f"unique_key: [{', '.join(key)}]",
        "upsert_date_key: order_ts",
    ]
    if declared:
        lines.append("columns:")
        lines += [f"  {column}: {kind}" for column, kind in COLUMNS.items()]
    lines += ["layout:", f"  partition: {partition}", f"  cluster: [{', '.join(cluster)}]"]
    if databricks_partition:
        lines += ["  dialects:", "    databricks: {clustering: partition, cluster: null}"]
    lines += ["sql: |", sql.rstrip("\n")]
    return "\n".join(lines) + "\n"


def write_synthetic_project(root: Path, n: int, seed: int) -> Path:
    """A deterministic project of ``n`` incremental models under ``root`` (same seed, same files)."""
    rng = random.Random(seed)
    if root.exists():
        shutil.rmtree(root)
    (root / "models").mkdir(parents=True)
    (root / "snowgen.yml").write_text(project_yaml(n), encoding="utf-8")
    for i in range(n):
        (root / "models" / f"m{i:05d}.yml").write_text(model_yaml(i, n, rng), encoding="utf-8")
    return root


def synthetic_sizes(n: int) -> list[int]:
    return sorted({max(1, n // 4), max(1, n // 2), n})


def bench_synthetic(
    sizes: list[int], repeat: int, seed: int, dialects: list[str], workdir: Path, log
) -> dict[str, Any]:
    results = []
    for n in sizes:
        root = write_synthetic_project(workdir / f"synthetic_{n}", n, seed)
        try:
            problems = cross_check(root, dialects) if n == sizes[0] else None
            best, all_totals = timed_runs(root, dialects, repeat)
        except Exception as exc:
            results.append({"models": n, "error": describe_error(exc)})
            log(f"  N={n}: FAILED ({describe_error(exc).splitlines()[0]})")
            continue
        entry = {
            "models": n,
            **_run_dict(best),
            "ms_per_model": best.total_s / n * 1000,
            "all_runs_s": all_totals,
            "check_problems": problems,
        }
        results.append(entry)
        log(f"  N={n}: best {best.total_s:.2f}s of {[round(t, 2) for t in all_totals]}, {best.statements} statements")
    ok = [r for r in results if "error" not in r]
    scaling = None
    if len(ok) >= 2:
        small, large = ok[0], ok[-1]
        exponent = math.log(large["total_s"] / small["total_s"]) / math.log(large["models"] / small["models"])
        scaling = {
            "from_models": small["models"],
            "to_models": large["models"],
            "time_ratio": large["total_s"] / small["total_s"],
            "size_ratio": large["models"] / small["models"],
            "exponent": exponent,  # 1.0 = linear
        }
    return {"seed": seed, "sizes": results, "scaling": scaling}


def profile_synthetic(n: int, seed: int, dialects: list[str], workdir: Path, top: int, sort: str, tool: str) -> str:
    """Profile one compile of the N-model project (after a small warm-up compile)."""
    root = write_synthetic_project(workdir / f"synthetic_{n}", n, seed)
    warm = write_synthetic_project(workdir / "synthetic_warmup", min(n, 20), seed)
    compile_phased(warm, dialects)  # sqlglot's lazy per-dialect set-up stays out of the profile
    gc.collect()
    out = io.StringIO()
    if tool == "pyinstrument":
        from pyinstrument import Profiler  # pip install pyinstrument

        profiler = Profiler(interval=0.002)
        profiler.start()
        run = compile_phased(root, dialects)
        profiler.stop()
        print(f"pyinstrument (sampling) of the N={n} synthetic compile, six dialects: {_phase_line(run)}", file=out)
        print(profiler.output_text(unicode=False, color=False), file=out)
        return out.getvalue()
    profiler = cProfile.Profile()
    profiler.enable()
    run = compile_phased(root, dialects)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats(sort)
    print(f"cProfile of the N={n} synthetic compile, six dialects: {_phase_line(run)}", file=out)
    print(
        "(cProfile cannot see inside sqlglot's compiled functions and inflates pure-Python code such as copy.deepcopy;",
        file=out,
    )
    print(" compare with --profile-with pyinstrument and with the unprofiled phase timings.)", file=out)
    print(f"Top {top} snowgen and sqlglot functions, sorted by {sort}:", file=out)
    stats.print_stats(r"snowgen/|sqlglot/", top)
    print(f"Top {top} of everything (yaml, pydantic, jinja, copy, compiled sqlglot methods...):", file=out)
    stats.print_stats(top)
    return out.getvalue()


def _phase_line(run: Run) -> str:
    return (
        f"wall {run.total_s:.2f} s under the profiler (load {run.load_s:.2f}, plan {run.plan_s:.2f}, "
        f"build {run.build_s:.2f}, emit {run.emit_s:.2f}; gc {run.gc_s:.2f} s in {run.gc_full} full collections)"
    )


# -- (c) sqlglot build ------------------------------------------------------------------------------------


def git_revision() -> str | None:
    """The commit measured, with '+dirty' when snowgen/ or model_specs/ have uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "snowgen", "model_specs"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def sqlglot_build() -> dict[str, Any]:
    import importlib
    from importlib import metadata

    import sqlglot

    modules = {}
    for name in (
        "sqlglot.generator",
        "sqlglot.parser",
        "sqlglot.tokenizer_core",
        "sqlglot.expressions.core",
        "sqlglot.optimizer.qualify_columns",
    ):
        try:
            module = importlib.import_module(name)
            modules[name] = getattr(module, "__file__", "") or ""
        except ImportError:
            modules[name] = None
    try:
        sqlglotc = metadata.version("sqlglotc")
    except metadata.PackageNotFoundError:
        sqlglotc = None
    compiled = (modules["sqlglot.generator"] or "").endswith(".so")
    return {
        "sqlglot_version": sqlglot.__version__,
        "sqlglotc_version": sqlglotc,
        "compiled": compiled,
        "compiled_modules": {name: bool(path and path.endswith((".so", ".pyd"))) for name, path in modules.items()},
        "generator_file": modules["sqlglot.generator"],
    }


# -- output ------------------------------------------------------------------------------------------------


def _verdict(value: float, goal: float) -> str:
    return "meets goal" if value < goal else "MISSES goal"


def print_table(results: dict[str, Any]) -> None:
    env, build = results["environment"], results["sqlglot"]
    repeat = results["repeat"]
    print(
        f"snowgen compile speed  |  python {env['python']}  |  sqlglot {build['sqlglot_version']}  |  "
        f"{env['cpus']} CPUs  |  best of {repeat}  |  dialects: {', '.join(results['dialects'])}"
    )
    load = env.get("load_average")
    print(
        f"    snowgen at {env.get('git') or 'unknown revision'}; load average at start: {', '.join(f'{x:.2f}' for x in load) if load else 'n/a'}"
    )
    if build["compiled"]:
        print(f"(c) sqlglot compiled build: ACTIVE (sqlglotc {build['sqlglotc_version']}; sqlglot.generator is a .so)")
    else:
        print(
            f"(c) sqlglot compiled build: NOT active (pure Python; sqlglotc {build['sqlglotc_version'] or 'not installed'})"
        )
    print("    stmts = sqlglot statements built for the .sql files (len(BuiltStep.statements)), summed over dialects;")
    print("    stmt/s = stmts / wall s; load..emit = wall seconds per stage; cpu s = process CPU time; gc s = time in")
    print(f"    Python's cyclic garbage collector (gc: {results['gc_mode']}); goals compare wall seconds")
    print()

    header = (
        f"{'':34} {'load':>7} {'plan':>7} {'bld+emit':>8} {'':>6} {'wall s':>8} {'cpu s':>7} {'gc s':>6} "
        f"{'stmts':>7} {'stmt/s':>7} {'ms/model':>8}  goal"
    )
    rule = "-" * (len(header) + 24)
    if "shipped" in results:
        shipped = results["shipped"]
        print("(a) shipped projects, six dialects, one process (seconds)")
        print(header)
        print(rule)
        for item in shipped["projects"]:
            print(_row(item["project"], item))
        total = shipped["total"]
        if shipped["projects"]:
            print(
                _row(
                    "all shipped, warm",
                    total,
                    goal=f"< {GOAL_SHIPPED_S:g} s: {_verdict(total['total_s'], GOAL_SHIPPED_S)}",
                )
            )
            print(_row("all shipped, first compile each", {**total, "total_s": total["first_run_s"]}, phases=False))
        cold = results.get("cold")
        if cold and "error" not in cold:
            fresh = {"total_s": cold["process_wall_s"], "statements": cold["statements"]}
            print(
                _row(
                    "fresh interpreter incl. imports",
                    fresh,
                    phases=False,
                    goal=f"< {GOAL_SHIPPED_S:g} s: {_verdict(cold['process_wall_s'], GOAL_SHIPPED_S)}",
                )
            )
            print(
                f"{'':36}(imports {cold['import_s']:.3f} s, compile {cold['compile_s']:.3f} s, interpreter start + exit the rest)"
            )
            if cold.get("failed"):
                print(f"{'':36}(projects that failed in the fresh interpreter: {', '.join(cold['failed'])})")
        elif cold:
            print(f"  fresh interpreter: failed: {cold['error'][:300]}")
        for item in shipped["failed"]:
            print(f"  FAILED, skipped: {item['project']}: {item['error'].splitlines()[0][:160]}")
        for item in shipped["projects"]:
            for problem in item["check_problems"]:
                print(f"  cross-check {item['project']}: {problem}")
        print()

    if "synthetic" in results:
        synthetic = results["synthetic"]
        print(f"(b) synthetic incremental models (seed {synthetic['seed']}), six dialects, one process (seconds)")
        print(header)
        print(rule)
        for item in synthetic["sizes"]:
            label = f"N={item['models']}"
            if "error" in item:
                print(f"{label:34} FAILED: {item['error'].splitlines()[0][:160]}")
                continue
            goal = ""
            if item["models"] == GOAL_SYNTHETIC_N:
                goal = f"< {GOAL_SYNTHETIC_S:g} s: {_verdict(item['total_s'], GOAL_SYNTHETIC_S)}"
            elif item["models"] > 0:
                budget = GOAL_SYNTHETIC_S * item["models"] / GOAL_SYNTHETIC_N
                goal = f"< {budget:g} s pro rata: {_verdict(item['total_s'], budget)}"
            print(_row(label, item, per_model=True, goal=goal))
        scaling = synthetic["scaling"]
        if scaling:
            print(
                f"growth N={scaling['from_models']} -> {scaling['to_models']}: time x{scaling['time_ratio']:.2f} for "
                f"size x{scaling['size_ratio']:.2f}; exponent {scaling['exponent']:.2f} (1.00 = linear; goal: linear)"
            )
        for item in synthetic["sizes"]:
            for problem in item.get("check_problems") or []:
                print(f"  cross-check N={item['models']}: {problem}")
        print()
    if "processes" in results:
        print_processes(results["processes"])
    if "profile" in results:
        print(results["profile"])


def print_processes(processes: dict[str, Any]) -> None:
    """(d) whole processes: medians of wall and CPU seconds (CPU includes forked workers)."""
    print("(d) whole processes, median of the runs: wall s, and CPU s of the process and its workers")
    floor, commands = processes["floor"], processes["commands"]
    print(f"    {'':62} {'wall s':>8} {'cpu s':>8}  goal")
    print(f"    {commands['floor']:62} {floor['wall_s']:8.3f} {floor['cpu_s']:8.3f}  (the floor)")
    for name, ratio in (("shipped", processes["ratio"]), ("shipped_warm", processes["ratio_warm"])):
        run = processes[name]
        verdict = "meets goal" if ratio <= GOAL_FLOOR_RATIO else "MISSES goal"
        print(
            f"    {commands[name]:62} {run['wall_s']:8.3f} {run['cpu_s']:8.3f}  "
            f"{ratio:.2f}x the floor's CPU; goal <= {GOAL_FLOOR_RATIO:g}x: {verdict}"
        )
    for name, goal in (("synthetic", GOAL_PROCESS_SYNTHETIC_S), ("synthetic_edit", GOAL_EDIT_S)):
        run = processes.get(name)
        if run:
            print(
                f"    {commands[name]:62} {run['wall_s']:8.3f} {run['cpu_s']:8.3f}  "
                f"< {goal:g} s wall: {_verdict(run['wall_s'], goal)}"
            )
    for name in PROCESS_RUNS:
        if name in processes and processes[name]["exit_code"] != 0:
            print(
                f"    {name} FAILED (exit {processes[name]['exit_code']}): {processes[name].get('stderr', '')[-300:]}"
            )
    print()


def _row(label: str, item: dict[str, Any], *, phases: bool = True, per_model: bool = False, goal: str = "") -> str:
    def num(key: str, width: int = 7, digits: int = 3) -> str:
        return f"{item[key]:{width}.{digits}f}" if phases and key in item else " " * width

    statements = item.get("statements")
    total = item["total_s"]
    rate = f"{statements / total:7.0f}" if statements and total else " " * 7
    count = f"{statements:7d}" if statements is not None else " " * 7
    ms = f"{item['ms_per_model']:8.2f}" if per_model else " " * 8
    return (
        f"{label[:34]:34} {num('load_s')} {num('plan_s')} {num('build_s', 8)} {'':>6} {total:8.3f} "
        f"{num('cpu_s')} {num('gc_s', 6, 2)} {count} {rate} {ms}  {goal}"
    ).rstrip()


# -- main ----------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--models",
        type=int,
        default=DEFAULT_MODELS,
        help="largest synthetic project (also runs N/4 and N/2); default %(default)s",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per figure, the best is reported; default %(default)s"
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="seed of the synthetic project; default %(default)s"
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON (progress goes to stderr)")
    parser.add_argument("--json-out", type=Path, metavar="FILE", help="also write the JSON results to FILE")
    parser.add_argument("--skip-shipped", action="store_true", help="skip (a), the shipped projects")
    parser.add_argument("--skip-synthetic", action="store_true", help="skip (b), the synthetic project")
    parser.add_argument(
        "--skip-processes", action="store_true", help="skip (d), the whole-process runs of the snowgen command"
    )
    parser.add_argument("--profile", action="store_true", help="also cProfile one compile of the N-model project")
    parser.add_argument(
        "--profile-with",
        choices=["cprofile", "pyinstrument"],
        default="cprofile",
        help="profiler for --profile; default %(default)s",
    )
    parser.add_argument(
        "--profile-top", type=int, default=15, help="functions to show per profile listing; default %(default)s"
    )
    parser.add_argument(
        "--profile-sort", default="cumulative", help="pstats sort key (cumulative, tottime...); default %(default)s"
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="worker processes for build + emit (default: snowgen decides by plan size and cores)",
    )
    parser.add_argument(
        "--gc",
        choices=["on", "off"],
        default="on",
        help="'off' disables the cyclic garbage collector during each timed compile (diagnostic); default %(default)s",
    )
    parser.add_argument("--keep", type=Path, help="write the synthetic projects here instead of a temporary directory")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument("--_cold-child", action="store_true", dest="cold_child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.cold_child:
        cold_child()
        return 0
    if args.models < 1 or args.repeat < 1:
        parser.error("--models and --repeat must be at least 1")
    global GC_MODE, JOBS
    GC_MODE, JOBS = args.gc, args.jobs

    def log(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)

    start = time.perf_counter()
    import_snowgen()
    import_s = time.perf_counter() - start
    dialects = list(sg.DIALECTS)
    results: dict[str, Any] = {
        "environment": {
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
            "git": git_revision(),
            "import_snowgen_s": import_s,
        },
        "sqlglot": sqlglot_build(),
        "repeat": args.repeat,
        "gc_mode": args.gc,
        "dialects": dialects,
        "statement_count": "sqlglot statements built per step (len(BuiltStep.statements)), summed over steps and dialects; "
        "cross-checked with snowgen.runner.statements.split_statements on the emitted .sql files",
        "goals": {
            "shipped_s": GOAL_SHIPPED_S,
            "synthetic_s": GOAL_SYNTHETIC_S,
            "synthetic_models": GOAL_SYNTHETIC_N,
            "edit_one_model_s": GOAL_EDIT_S,
            "synthetic_growth": "linear",
        },
    }
    if not args.skip_shipped:
        log("(a) shipped projects")
        results["shipped"] = bench_shipped(args.repeat, dialects, log)
        results["cold"] = bench_cold(args.repeat, log)
    if not args.skip_synthetic or args.profile or not args.skip_processes:
        with tempfile.TemporaryDirectory(prefix="snowgen-bench-") as tmp:
            workdir = args.keep or Path(tmp)
            if not args.skip_processes:
                log("(d) whole processes")
                synthetic = None
                if not args.skip_synthetic:
                    synthetic = write_synthetic_project(workdir / f"process_{args.models}", args.models, args.seed)
                results["processes"] = bench_processes(args.repeat, synthetic, log)
            if not args.skip_synthetic:
                log(f"(b) synthetic project, N in {synthetic_sizes(args.models)}")
                results["synthetic"] = bench_synthetic(
                    synthetic_sizes(args.models), args.repeat, args.seed, dialects, workdir, log
                )
            if args.profile:
                log(f"profiling N={args.models}")
                results["profile"] = profile_synthetic(
                    args.models, args.seed, dialects, workdir, args.profile_top, args.profile_sort, args.profile_with
                )
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        print()
    else:
        print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
