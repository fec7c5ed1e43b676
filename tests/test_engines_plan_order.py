"""plan.json's ``depends_on`` as a scheduler reads them: both shipped projects, compiled for
DuckDB and Postgres, executed step by step in orders that ``depends_on`` allows (seeded
random orders, and the order that always starts the ready step latest in the plan), run
after run with new data loaded between, end with the same tables as the plan's own order
on a second database. And one order that the plan's old dependencies allowed (every step
after create_schemas only) fails, as the contract's bug report says."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable

import pytest
from support import generator
from support import scenarios as sc
from support.deals import DealsOnEngine, deal
from support.runs import run_file

from snowgen.api import CompileOptions, compile_loaded
from snowgen.spec.loader import load_project

ENGINES = ["postgres", "duckdb"]
#: tables whose rows hold the clock or the run's id, not data: left out of the comparison
CLOCK_TABLES = ("_run_metadata", "_current_run", "_run_lock", "_test_results")
#: columns stamped with the clock when a step runs
CLOCK_COLUMNS = {"model_tstamp", "updated_at", "recorded_at"}
SMALL = generator.GeneratorConfig(seed=5, days=3, users=4, long_human_sessions=1, late_loaded_events=2)
#: the orders each test follows besides the plan's: None is the latest-ready order
ORDERS = [None, 1, 2]
START_DATE = "2024-02-29"  # the day before the generated data


def allowed_order(plan: dict, seed: int | None) -> list[dict]:
    """The steps in an order their ``depends_on`` allow: at each turn a ready step, chosen at
    random (``seed``) or the latest of the plan among those ready (None)."""
    steps = {step["id"]: step for step in plan["steps"]}
    waiting = {step_id: set(step["depends_on"]) for step_id, step in steps.items()}
    rng = random.Random(seed)
    order: list[dict] = []
    while waiting:
        ready = [step_id for step_id, needs in waiting.items() if not needs]
        assert ready, f"a cycle among {sorted(waiting)}"
        chosen = ready[-1] if seed is None else rng.choice(ready)
        order.append(steps[chosen])
        del waiting[chosen]
        for needs in waiting.values():
            needs.discard(chosen)
    return order


def run_in_order(engine, files: dict[str, str], order: list[dict]) -> None:
    for step in order:
        run_file(engine, files[step["file"]])


def project_tables(engine, schemas: tuple[str, ...]) -> dict[str, list[tuple]]:
    """Every table of ``schemas`` but the clock's, its rows sorted, clock columns left out."""
    listed = ", ".join(f"'{s}'" for s in schemas)
    names = engine.query(
        "SELECT table_schema, table_name FROM information_schema.tables "
        f"WHERE table_schema IN ({listed}) AND table_type = 'BASE TABLE'"
    )
    found = {}
    for schema, table in sorted(names):
        if any(marker in table for marker in CLOCK_TABLES):  # a selected plan's run table has a suffix
            continue
        columns = [
            c for (c,) in engine.query(
                "SELECT column_name FROM information_schema.columns "
                f"WHERE table_schema = '{schema}' AND table_name = '{table}' ORDER BY ordinal_position"
            ) if c not in CLOCK_COLUMNS
        ]  # fmt: skip
        rows = engine.query(f'SELECT {", ".join(columns)} FROM "{schema}"."{table}"')
        found[f"{schema}.{table}"] = sorted((tuple(row) for row in rows), key=repr)
    return found


def compare_runs(pair: list, files: dict[str, str], loads: list[Callable], schemas: tuple[str, ...], seed) -> None:
    """``pair``: two databases of one engine holding the sources (each with ``.engine``);
    before each run, a load of new data into both; the first runs in plan order, the
    second in an allowed order; after each run every table agrees."""
    reference, ordered = pair
    plan = json.loads(files["plan.json"])
    for number, load in enumerate(loads, start=1):
        load(reference)
        load(ordered)
        run_in_order(reference.engine, files, plan["steps"])
        order = allowed_order(plan, None if seed is None else seed * 100 + number)
        run_in_order(ordered.engine, files, order)
        expected, actual = project_tables(reference.engine, schemas), project_tables(ordered.engine, schemas)
        assert actual.keys() == expected.keys()
        for name in expected:
            assert actual[name] == expected[name], f"run {number}, {name}, order {[s['id'] for s in order]}"


def fresh(request, name: str):
    engine = request.getfixturevalue(f"{name}_engine").fresh()
    request.addfinalizer(engine.close)
    return engine


def compiled_files(name: str, project, select: tuple[str, ...] = (), **cli_vars) -> dict[str, str]:
    [compiled] = compile_loaded(load_project(project), [name], CompileOptions(vars=cli_vars, select=select))
    return compiled.files


ORDER_IDS = ["latest-ready", "random-1", "random-2"]


@pytest.mark.parametrize("seed", ORDERS, ids=ORDER_IDS)
@pytest.mark.parametrize("name", ENGINES)
def test_snowplow_web_in_any_allowed_order_builds_the_plan_orders_tables(request, name, seed):
    data = generator.generate(SMALL)
    steps = sc.plan(name, start_date=START_DATE)
    pair = [sc.Warehouse(fresh(request, name), steps) for _ in range(2)]
    files = compiled_files(name, sc.PROJECT, start_date=START_DATE)
    loads = [lambda w, batch=batch: w.load(data.batch(batch)) for batch in range(data.batch_count)]
    compare_runs(pair, files, loads, ("derived", "scratch", "snowplow_manifest"), seed)


@pytest.mark.parametrize("name", ENGINES)
def test_a_selected_plan_in_an_allowed_order_builds_the_plan_orders_tables(request, name):
    """A subset plan (one module, with the base module and the run's inputs it needs)."""
    data = generator.generate(SMALL)
    files = compiled_files(name, sc.PROJECT, select=("module:page_views",), start_date=START_DATE)
    steps = sc.plan(name, start_date=START_DATE)  # the project's source tables only
    pair = [sc.Warehouse(fresh(request, name), steps) for _ in range(2)]
    loads = [lambda w, batch=batch: w.load(data.batch(batch)) for batch in range(data.batch_count)]
    compare_runs(pair, files, loads, ("derived", "scratch", "snowplow_manifest"), 3)


#: deals by server, loaded before each of three runs
START = dt.datetime(2024, 3, 1, 10)
DEAL_BATCHES = [
    {"p1": [deal(1, START), deal(2, START + dt.timedelta(minutes=5))], "p2": [deal(3, START)]},
    {"p2": [deal(4, START + dt.timedelta(hours=1))], "p3": [deal(5, START + dt.timedelta(hours=2))]},
    {"p1": [deal(6, START + dt.timedelta(hours=3))], "p3": [deal(7, START + dt.timedelta(hours=3))]},
]


def load_deals(batch: dict[str, list[dict]]) -> Callable[[DealsOnEngine], None]:
    def load(database: DealsOnEngine) -> None:
        for server, rows in batch.items():
            database.load(server, rows)

    return load


@pytest.mark.parametrize("seed", ORDERS, ids=ORDER_IDS)
@pytest.mark.parametrize("name", ENGINES)
def test_multi_source_deals_in_any_allowed_order_builds_the_plan_orders_tables(request, tmp_path, name, seed):
    pair = [DealsOnEngine.create(fresh(request, name), tmp_path) for _ in range(2)]
    files = compiled_files(name, pair[0].loaded.root)
    loads = [load_deals(batch) for batch in DEAL_BATCHES]
    compare_runs(pair, files, loads, ("deals", "deals_scratch", "deals_manifest"), seed)


@pytest.mark.parametrize("name", ENGINES)
def test_an_order_the_old_dependencies_allowed_fails(request, name):
    """Every step after create_schemas only (plan.json before its dependencies were derived):
    a step that records its start in the run metadata, run before start_run, fails."""
    data = generator.generate(SMALL)
    warehouse = sc.Warehouse(fresh(request, name), sc.plan(name, start_date=START_DATE))
    warehouse.load(data.batch(0))
    files = compiled_files(name, sc.PROJECT, start_date=START_DATE)
    plan = json.loads(files["plan.json"])
    by_id = {step["id"]: step for step in plan["steps"]}
    early = [by_id["acquire_lock"], by_id["create_schemas"], by_id["snowplow_web_base_quarantined_sessions"]]
    assert "start_run" in by_id["snowplow_web_base_quarantined_sessions"]["depends_on"]
    with pytest.raises(Exception, match="run_metadata"):
        run_in_order(warehouse.engine, files, early)
