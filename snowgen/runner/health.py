"""``snowgen health``: run the health queries (snowgen.build.health) on a database and read
their rows into a :class:`HealthReport`, whose verdict is the command's exit status:
0 healthy, 1 a problem found (a stale source, a lagging model, late rows left unread,
rows waiting beyond the clock skew allowance), 2 the check could not run (a SnowgenError).
docs/health.md describes the report's fields."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from snowgen.errors import SnowgenError
from snowgen.runner.connections import connected
from snowgen.runner.connectors import Settings, display_url, first_line, without_password

#: exit statuses of ``snowgen health``
HEALTHY, UNHEALTHY = 0, 1

Query = Callable[[str], list[tuple]]


@dataclass(frozen=True)
class WatermarkState:
    model: str
    source: str
    instance: str | None
    watermark: dt.datetime | None
    stale: bool
    future_rows: int
    hours_behind: float | None  # the watermark's age at the check


@dataclass(frozen=True)
class LateInterval:
    model: str
    source: str
    instance: str | None
    interval_start: dt.datetime
    interval_end: dt.datetime
    rows_recorded: int
    rows_now: int


@dataclass(frozen=True)
class EventsState:
    source: str
    table: str
    latest_event: dt.datetime | None  # the latest within stale_after_hours (None: none)
    stale: bool
    future_events: int


@dataclass(frozen=True)
class ModelState:
    model: str
    last_success: dt.datetime | None
    hours_behind: float | None  # behind the most advanced model
    lagging: bool


@dataclass(frozen=True)
class HealthReport:
    project: str
    strategy: str
    database: str
    checked_at: dt.datetime
    settings: Mapping[str, Any]
    watermarks: tuple[WatermarkState, ...] = ()
    late_intervals: tuple[LateInterval, ...] = ()
    events: EventsState | None = None
    models: tuple[ModelState, ...] = ()
    problems: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "problems", tuple(sorted(self._problems())))

    def _problems(self) -> set[str]:
        """The kinds of problem found: stale, lagging, late_rows, future_rows."""
        found = set()
        if any(w.stale for w in self.watermarks) or (self.events is not None and self.events.stale):
            found.add("stale")
        if any(m.lagging for m in self.models):
            found.add("lagging")
        if self.late_intervals and self.settings.get("late_data") == "report":
            found.add("late_rows")  # with reprocess, the next run reads them
        if any(w.future_rows for w in self.watermarks) or (self.events is not None and self.events.future_events):
            found.add("future_rows")
        return found

    @property
    def healthy(self) -> bool:
        return not self.problems

    @property
    def exit_code(self) -> int:
        return HEALTHY if self.healthy else UNHEALTHY


@dataclass(frozen=True)
class HealthRun:
    """What to check and where: rendered queries by name (snowgen.build.health.COLUMNS)."""

    project: str
    strategy: str
    settings: Mapping[str, Any]
    queries: Mapping[str, str]
    events: tuple[str, str] | None = None  # sessions: (source name, table) of the events


def run_health(url: str, base: Path, settings: Settings, run: HealthRun, shown: str) -> HealthReport:
    """Open ``url``, run the checks, close (SG405 when it cannot be opened, SG441 when a
    query fails)."""
    with connected(url, base, settings) as connection:

        def query(statement: str) -> list[tuple]:
            try:
                return connection.query(statement)
            except connection.errors as exc:
                connection.recover()
                raise _query_failed(url, run, exc) from None

        return check_health(run, query, shown)


def _query_failed(url: str, run: HealthRun, error: Exception) -> SnowgenError:
    message = without_password(first_line(error), url)
    return SnowgenError.at(
        "SG441",
        f"a health query of {run.project} failed on {display_url(url)}: {message} "
        "(has the project run on this database? snowgen run creates the tables health reads)",
    )


def check_health(run: HealthRun, query: Query, shown: str) -> HealthReport:
    """Run each query of ``run`` with ``query`` and read the report from its rows."""
    rows = {name: query(text) for name, text in run.queries.items()}
    [(checked_at,)] = rows["clock"]
    checked_at = naive(checked_at)
    return HealthReport(
        project=run.project, strategy=run.strategy, database=shown, checked_at=checked_at, settings=dict(run.settings),
        watermarks=tuple(_watermark(row, checked_at) for row in sorted(rows.get("watermarks", []), key=_by_name)),
        late_intervals=tuple(sorted((_late(row) for row in rows.get("late_rows", [])), key=_interval_order)),
        events=_events(rows["events"][0], run.events) if "events" in rows else None,
        models=tuple(_model(row) for row in sorted(rows.get("models", []), key=_by_name)),
    )  # fmt: skip


# -- reading rows ---------------------------------------------------------------------------------


def naive(value: Any) -> dt.datetime | None:
    """A timestamp as UTC without a zone (a client may return an aware one, or text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time())
    return value


def _hours(later: dt.datetime | None, earlier: dt.datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return round((later - earlier).total_seconds() / 3600, 2)


def _by_name(row: tuple) -> tuple:
    return (str(row[0]),)


def _interval_order(interval: LateInterval) -> tuple:
    return (interval.model, interval.interval_start)


def _watermark(row: tuple, checked_at: dt.datetime) -> WatermarkState:
    model, source, instance, watermark, stale, future = row
    watermark = naive(watermark)
    return WatermarkState(
        model, source, instance, watermark, bool(stale), int(future or 0), _hours(checked_at, watermark)
    )


def _late(row: tuple) -> LateInterval:
    model, source, instance, start, end, recorded, now = row
    return LateInterval(model, source, instance, naive(start), naive(end), int(recorded), int(now))


def _events(row: tuple, events: tuple[str, str] | None) -> EventsState:
    latest, future, stale = row
    source, table = events or ("events", "")
    return EventsState(source, table, naive(latest), bool(stale), int(future or 0))


def _model(row: tuple) -> ModelState:
    model, last, most, lagging = row
    last = naive(last)
    return ModelState(model, last, _hours(naive(most), last), bool(lagging))
