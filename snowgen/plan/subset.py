"""A subset run: the nodes ``--select`` / ``--exclude`` choose, and what a run of them needs
to be correct.

dbt runs exactly the selected models. snowgen runs them too, reading every other table as
it is, with these additions, because its incremental state lives in the same run:

- the steps that take the run lock, create the schemas and record the run (added to every
  plan, snowgen.plan.run_lock and snowgen.plan.run_metadata), and the seeds the chosen steps
  read (snowgen.plan.seeds);
- an incremental model's *this-run inputs*: the tables and views between it and the
  strategy's tables of the run (``page_views_this_run`` and what it reads, up to
  ``base_events_this_run``). They hold the last run's rows until rebuilt: upserting from them
  and then advancing the manifest would skip the rows of this run's window;
- what the strategy needs for the chosen models (``StrategyPlanner.required_steps``): under
  the sessions strategy, the base module that computes the window from the manifest rows of
  the selected models only, and the complete step of each module with a selected model;
  under the watermark strategy, the watermark update once a watermark model and every
  incremental model reading it run;
- the strategy's state tables (created if missing) that a chosen step reads.

Incremental tables of other models (``sessions`` read by the users module) are read as they
are, as dbt reads an unselected parent; ``+model`` runs them first. A step the subset needs
that ``--exclude`` removes is SG451. The complete steps and the watermark update are never
chosen directly: they come with the models whose state they advance.
"""

from __future__ import annotations

from collections.abc import Iterable

from snowgen.errors import SnowgenError
from snowgen.plan.selection import Graph, parse_selection, resolve
from snowgen.plan.strategy import StrategyPlanner


def plan_subset(
    select: Iterable[str], exclude: Iterable[str], graph: Graph, strategy: StrategyPlanner
) -> set[str] | None:
    """The nodes of a subset run (None: every node, no selection given)."""
    select, exclude = tuple(select), tuple(exclude)
    if not select and not exclude:
        return None
    chosen = resolve(parse_selection(select, "--select"), graph, "--select") if select else set(graph.nodes)
    excluded = resolve(parse_selection(exclude, "--exclude"), graph, "--exclude") if exclude else set()
    if not chosen - excluded - strategy.completion_steps():
        note = " (the complete steps run with the models whose state they advance)" if chosen - excluded else ""
        raise SnowgenError.at("SG402", f"{_options(select, exclude)} leaves no model to run{note}")
    chosen -= excluded | strategy.completion_steps()
    needs = required(chosen, graph, strategy)
    blocked = sorted(needs.keys() & excluded)
    if blocked:
        name = blocked[0]
        raise SnowgenError.at(
            "SG451",
            f"--exclude removes '{name}', but {needs[name]}; exclude the models that need it too, or select fewer",
        )
    return chosen | needs.keys()


def _options(select: tuple[str, ...], exclude: tuple[str, ...]) -> str:
    shown = [f"--select '{v}'" for v in select] + [f"--exclude '{v}'" for v in exclude]
    return " ".join(shown)


def required(chosen: set[str], graph: Graph, strategy: StrategyPlanner) -> dict[str, str]:
    """What a run of ``chosen`` needs besides them: node -> why (a clause of a sentence)."""
    needs: dict[str, str] = {}
    this_run = this_run_models(graph, strategy)
    for name in sorted(chosen):
        model = graph.models.get(name)
        if model is None or model.generated is not None or model.materialization != "incremental":
            continue
        for dep in sorted(_inputs(name, graph, this_run) - chosen):
            needs.setdefault(dep, f"selected model '{name}' reads it as rebuilt for this run's window")
    for step, why in strategy.required_steps(chosen | needs.keys()).items():
        if step not in chosen:
            needs.setdefault(step, why)
    every = chosen | needs.keys()
    for node in sorted(strategy.setup_nodes() - every):
        reader = next((n for n in sorted(every) if node in graph.nodes[n][1]), None)
        if reader is not None:
            needs[node] = f"'{reader}' reads it (the step creates it if missing)"
    return needs


def this_run_models(graph: Graph, strategy: StrategyPlanner) -> set[str]:
    """User tables and views rebuilt from this run's window: they read a table the strategy
    generates, or another such model."""
    generated = set(strategy.nodes()) | {n for n, m in graph.models.items() if m.generated is not None}
    candidates = {n for n, m in graph.user_models().items() if m.materialization != "incremental" and n in graph.nodes}
    found: set[str] = set()
    grew = True
    while grew:
        added = {n for n in candidates - found if any(d in generated or d in found for d in graph.nodes[n][1])}
        found |= added
        grew = bool(added)
    return found


def _inputs(name: str, graph: Graph, this_run: set[str]) -> set[str]:
    """The this-run models ``name`` reads, directly or through other this-run models."""
    found: set[str] = set()
    todo = [name]
    while todo:
        for dep in graph.nodes[todo.pop()][1]:
            if dep in this_run and dep not in found:
                found.add(dep)
                todo.append(dep)
    return found
