"""``snowgen run --threads N``: the scheduler of snowgen.runner.parallel on stand-in
connections (every wait here is on an event another thread sets, never on the clock), and
what the run prints when steps run at once. The runs on real databases are in
tests/test_engines_threads.py."""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from snowgen.runner import parallel
from snowgen.runner.execute import PlannedStep, StepFailed, StepResult
from snowgen.runner.output import RunHeader, RunSummary, make_output, summary_line
from snowgen.runner.parallel import Schedule, open_workers, run_concurrently
from snowgen.runner.session import PreparedRun, lock_around, step_connections

#: the longest any test waits for another thread (a hang fails the test instead of stalling it)
PATIENCE = 30


def step(name: str, *depends_on: str, kind: str = "table") -> PlannedStep:
    return PlannedStep(name, f"{name}.sql", [f"select '{name}'"], kind=kind, depends_on=depends_on)


@dataclass
class StandIn:
    """A connection: which steps ran on it, and whether it was asked to cancel."""

    number: int
    cancelled: threading.Event = field(default_factory=threading.Event)

    @property
    def driver(self) -> StandIn:
        return self

    def cancel(self) -> None:
        self.cancelled.set()


class Recorder:
    """``run_one`` for the scheduler: records each start and end (in order, under a lock);
    a step may wait for an event first or fail."""

    def __init__(self, waits: dict[str, threading.Event] | None = None, failing: frozenset[str] = frozenset()):
        self.events: list[tuple[str, str, int]] = []
        self.lock = threading.Lock()
        self.waits, self.failing = waits or {}, failing

    def __call__(self, planned: PlannedStep, connection: StandIn) -> StepResult:
        self._note("start", planned.id, connection.number)
        if planned.id in self.waits:
            assert self.waits[planned.id].wait(PATIENCE), f"{planned.id} waited in vain"
        if planned.id in self.failing:
            raise StepFailed(planned, planned.statements[0], RuntimeError(f"{planned.id} broke"))
        self._note("end", planned.id, connection.number)
        return StepResult(planned, 0.0)

    def _note(self, what: str, name: str, number: int) -> None:
        with self.lock:
            self.events.append((what, name, number))

    def running_at_most(self) -> int:
        running, most = 0, 0
        for what, _, _ in self.events:
            running += 1 if what == "start" else -1
            most = max(most, running)
        return most


def run(steps: list[PlannedStep], workers: int, record: Recorder, starting=None, warn=None) -> list[str]:
    connections = [StandIn(number) for number in range(workers)]
    results = run_concurrently(Schedule(steps), connections, record, starting or (lambda s: None), warn or print)
    return [result.step.id for result in results]


#: a plan's shape: two chains that meet, and steps no one waits for
DIAMOND = [
    step("a"),
    step("b", "a"),
    step("c", "a"),
    step("d", "b", "c"),
    step("e"),
    step("f", "e", "d"),
    step("g"),
]


@pytest.mark.parametrize("workers", [1, 2, 3, 8])
def test_every_step_runs_once_after_every_step_it_depends_on(workers):
    record = Recorder()
    finished = run(DIAMOND, workers, record)
    assert sorted(finished) == sorted(s.id for s in DIAMOND)
    ended = []
    for what, name, _ in record.events:
        if what == "start":
            planned = next(s for s in DIAMOND if s.id == name)
            assert set(planned.depends_on) <= set(ended), f"{name} started before {planned.depends_on}"
        else:
            ended.append(name)
    assert record.running_at_most() <= workers


def test_with_one_worker_the_steps_run_in_plan_order():
    record = Recorder()
    assert run(DIAMOND, 1, record) == [s.id for s in DIAMOND]


def test_two_steps_that_do_not_wait_for_each_other_run_at_the_same_time():
    both = threading.Barrier(2, timeout=PATIENCE)  # breaks unless both steps are inside at once

    class Meeting(Recorder):
        def __call__(self, planned, connection):
            self._note("start", planned.id, connection.number)
            if planned.id in ("b", "c"):
                both.wait()
            self._note("end", planned.id, connection.number)
            return StepResult(planned, 0.0)

    record = Meeting()
    finished = run([step("a"), step("b", "a"), step("c", "a"), step("d", "b", "c")], 2, record)
    assert finished[0] == "a" and set(finished[1:3]) == {"b", "c"} and finished[3] == "d"
    assert record.running_at_most() == 2


def test_a_step_waits_for_a_dependency_even_when_a_worker_is_idle():
    release_b = threading.Event()  # b runs until d has finished: two workers idle meanwhile
    record = Recorder(waits={"b": release_b})

    def starting(planned):
        if planned.id == "c":
            assert ("end", "b", 0) in record.events, "c started before b ended"

    steps = run_concurrently(
        Schedule([step("b"), step("c", "b"), step("d")]), [StandIn(n) for n in range(3)], record, starting, print
    )
    finished = []
    for result in steps:
        finished.append(result.step.id)
        if result.step.id == "d":
            release_b.set()
    assert finished == ["d", "b", "c"]


def test_steps_ready_together_start_in_plan_order():
    started: list[str] = []
    run([step("x"), step("w"), step("v", "x"), step("u", "x")], 1, Recorder(), lambda s: started.append(s.id))
    assert started == ["x", "w", "v", "u"]


def test_a_dependency_on_a_step_not_scheduled_is_no_wait():
    # the run lock's acquire ran before the others, on the run's own connection
    record = Recorder()
    assert run([step("b", "acquire_lock"), step("c", "b", "acquire_lock")], 2, record) == ["b", "c"]


def test_a_plan_listing_a_step_before_its_dependency_is_refused_before_anything_runs():
    with pytest.raises(RuntimeError, match="lists step b before c"):
        Schedule([step("b", "c"), step("c")])


class NoticingQueue(queue.SimpleQueue):
    """The workers' reports; sets ``failure_reported`` once a failed step's report is in."""

    failure_reported = threading.Event()

    def put(self, item, block=True, timeout=None):
        super().put(item, block, timeout)
        if isinstance(item, parallel.Finished) and item.error is not None:
            NoticingQueue.failure_reported.set()


@pytest.fixture
def noticing_queue(monkeypatch):
    NoticingQueue.failure_reported = threading.Event()
    monkeypatch.setattr(parallel.queue, "SimpleQueue", NoticingQueue)
    return NoticingQueue


def test_after_a_failure_no_step_starts_the_running_ones_finish_then_the_failure_is_raised(noticing_queue):
    # a fails while b runs; b ends only once a's failure is reported, so the scheduler knows
    # of it before a worker is free again: c (after a) and d (ready) never start
    record = Recorder(waits={"b": noticing_queue.failure_reported}, failing=frozenset({"a"}))
    finished: list[str] = []
    with pytest.raises(StepFailed) as failed:
        for result in run_concurrently(
            Schedule([step("a"), step("b"), step("c", "a"), step("d")]),
            [StandIn(0), StandIn(1)],
            record,
            lambda s: None,
            print,
        ):
            finished.append(result.step.id)
    assert failed.value.step.id == "a" and failed.value.seconds is not None
    assert finished == ["b"]
    assert {name for what, name, _ in record.events if what == "start"} == {"a", "b"}


def test_a_second_failure_while_the_first_drains_is_a_warning(noticing_queue):
    record = Recorder(waits={"b": noticing_queue.failure_reported}, failing=frozenset({"a", "b"}))
    warnings: list[str] = []
    with pytest.raises(StepFailed) as failed:
        run([step("a"), step("b"), step("c")], 2, record, warn=warnings.append)
    assert failed.value.step.id == "a"
    assert warnings == ["another step failed too: step b (b.sql) failed: b broke"]


def test_an_interrupted_run_cancels_the_running_statements_and_waits_for_them():
    connections = [StandIn(0), StandIn(1)]
    # b runs until its connection is asked to cancel (the database then stops its statement)
    record = Recorder(waits={"b": connections[1].cancelled})
    steps = run_concurrently(
        Schedule([step("a"), step("b"), step("c", "a")]), connections, record, lambda s: None, print
    )
    assert next(steps).step.id == "a"
    with pytest.raises(KeyboardInterrupt):
        steps.throw(KeyboardInterrupt())  # Ctrl-C while the caller prints a's line
    assert connections[1].cancelled.is_set() and not connections[0].cancelled.is_set()
    assert ("end", "b", 1) in record.events  # waited for: b ended before the interruption went on
    assert not [event for event in record.events if event[1] == "c"]


def test_a_connection_that_cannot_be_opened_closes_the_others():
    opened, closed = [], []
    lock = threading.Lock()

    class Opened:
        def close(self):
            closed.append(self)

    def open_one():
        with lock:
            opened.append(len(opened))
            if len(opened) == 2:
                raise ConnectionError("the server said no")
        return Opened()

    with pytest.raises(ConnectionError, match="the server said no"):
        open_workers(3, open_one)
    assert len(opened) == 3 and len(closed) == 2


# -- the run lock around the steps, and where steps run at once ----------------------------------------


def test_the_lock_steps_run_alone_before_and_after_the_others():
    steps = [step("acquire_lock", kind="acquire_lock"), step("a"), step("b"), step("release_lock", kind="release_lock")]
    assert lock_around(steps) == (steps[:1], steps[1:3], steps[3:])
    assert lock_around(steps[1:3]) == ([], steps[1:3], [])


@pytest.mark.parametrize(
    ("url", "connections"),
    [("postgresql://me@localhost/db", 4), ("snowflake://etl@acct/db", 4), ("duckdb:///web.duckdb", 1)],
)
def test_duckdb_runs_its_steps_on_one_connection(url, connections):
    assert step_connections(PreparedRun(url, Path("."), [], []), 4) == connections
    assert step_connections(PreparedRun(url, Path("."), [], []), 1) == 1


# -- what the run prints -------------------------------------------------------------------------------


def header(threads: int) -> RunHeader:
    return RunHeader("web", "postgres", "postgresql://me@localhost/db", None, DIAMOND, threads)


def test_the_header_says_how_many_steps_run_at_once(capsys):
    import io

    for threads, shown in ((1, "7 steps, 2"), (4, "7 steps, up to 4 at once, 2")):
        err = io.StringIO()
        make_output("text", False, io.StringIO(), err).started(header(threads))
        assert shown in err.getvalue()


def test_the_summary_names_the_failed_steps_place_in_the_plan_whatever_finished_before():
    summary = RunSummary(header(2), status="failed", steps_run=5, seconds=1.5)
    summary.failed = StepFailed(DIAMOND[2], "select 1", RuntimeError("no"))
    assert summary_line(summary) == "failed: step 3/7 c after 1.50 s"


def test_the_live_line_names_the_steps_running_now():
    import io

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    err = Terminal()
    output = make_output("text", False, io.StringIO(), err)
    output.started(header(2))
    output.steps_running({"b": 2, "c": 3}, 1)
    assert err.getvalue().endswith("\r[1/7] |##------------------| b, c\x1b[K")
