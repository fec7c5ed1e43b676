"""What ``snowgen health`` prints: a table for people, or one JSON object for machines
(``--format json``; its keys are stable, docs/health.md lists them). Timestamps print as UTC
without a zone, ``YYYY-MM-DD HH:MM:SS[.ffffff]``, as run ids do."""

from __future__ import annotations

import datetime as dt
from typing import Any

from snowgen.runner.health import HealthReport, LateInterval, ModelState, WatermarkState

#: the version of the JSON report's shape (a key removed or changing meaning raises it)
FORMAT_VERSION = 1

NONE = "-"


def timestamp_text(value: dt.datetime | None) -> str | None:
    return value.isoformat(sep=" ") if value is not None else None


def report_json(report: HealthReport) -> dict[str, Any]:
    events = report.events
    return {
        "format_version": FORMAT_VERSION,
        "project": report.project,
        "strategy": report.strategy,
        "database": report.database,
        "checked_at": timestamp_text(report.checked_at),
        "healthy": report.healthy,
        "problems": list(report.problems),
        "settings": dict(report.settings),
        "watermarks": [_watermark_json(w) for w in report.watermarks],
        "late_intervals": [_late_json(i) for i in report.late_intervals],
        "events": None
        if events is None
        else {
            "source": events.source,
            "table": events.table,
            "latest_event": timestamp_text(events.latest_event),
            "stale": events.stale,
            "future_events": events.future_events,
        },
        "models": [_model_json(m) for m in report.models],
    }


def _watermark_json(w: WatermarkState) -> dict[str, Any]:
    return {
        "model": w.model, "source": w.source, "instance": w.instance, "watermark": timestamp_text(w.watermark),
        "hours_behind": w.hours_behind, "stale": w.stale, "future_rows": w.future_rows,
    }  # fmt: skip


def _late_json(i: LateInterval) -> dict[str, Any]:
    return {
        "model": i.model, "source": i.source, "instance": i.instance,
        "interval_start": timestamp_text(i.interval_start), "interval_end": timestamp_text(i.interval_end),
        "rows_recorded": i.rows_recorded, "rows_now": i.rows_now,
    }  # fmt: skip


def _model_json(m: ModelState) -> dict[str, Any]:
    last = timestamp_text(m.last_success)
    return {"model": m.model, "last_success": last, "hours_behind": m.hours_behind, "lagging": m.lagging}


# -- text -------------------------------------------------------------------------------------------


def report_lines(report: HealthReport) -> list[str]:
    lines = [
        f"{report.project} ({report.strategy} strategy) on {report.database}, "
        f"checked at {timestamp_text(report.checked_at)} UTC",
        "",
    ]
    if report.strategy == "watermark":
        lines += _watermark_lines(report)
    else:
        lines += _sessions_lines(report)
    lines += ["", _verdict(report)]
    return lines


def _watermark_lines(report: HealthReport) -> list[str]:
    settings = report.settings
    lines = [f"watermarks (stale after {settings['stale_after_hours']} h without a newer row):"]
    rows = [("model", "source", "instance", "watermark", "behind", "future rows", "state")]
    rows += [
        (w.model, w.source, w.instance or NONE, _time(w.watermark), _behind(w.hours_behind), str(w.future_rows),
         "STALE" if w.stale else "ok")
        for w in report.watermarks
    ]  # fmt: skip
    lines += _table(rows)
    late_data = settings.get("late_data")
    if late_data == "off":
        return [*lines, "", "late rows: not tracked (late_data: off)"]
    horizon = settings.get("late_data_horizon_hours")
    then = "the next run reads them" if late_data == "reprocess" else "not read: late_data is report"
    lines += ["", f"late rows (intervals starting within {horizon} h of the watermark; {then}):"]
    if not report.late_intervals:
        return [*lines, "  none"]
    rows = [("model", "instance", "interval", "rows recorded", "rows now")]
    rows += [
        (i.model, i.instance or NONE, f"{_time(i.interval_start)} .. {_time(i.interval_end)}", str(i.rows_recorded),
         str(i.rows_now))
        for i in report.late_intervals
    ]  # fmt: skip
    return lines + _table(rows)


def _sessions_lines(report: HealthReport) -> list[str]:
    settings, events = report.settings, report.events
    hours = settings["stale_after_hours"]
    if events.stale:
        state = f"STALE: no event stamped in the last {hours} h"
    else:
        state = f"ok: latest event {_time(events.latest_event)} (stale after {hours} h without one)"
    lines = [f"events {events.table}: {state}"]
    if events.future_events:
        lines.append(f"  {events.future_events} events stamped ahead of the clock wait")
    lines += ["", f"models (lagging when {settings['lag_after_hours']} h behind the most advanced):"]
    rows = [("model", "last success", "behind", "state")]
    rows += [_model_row(m) for m in report.models]
    return lines + _table(rows)


def _model_row(m: ModelState) -> tuple[str, ...]:
    state = "LAGGING" if m.lagging else "ok"
    if m.last_success is None:
        state += " (never ran)"
    return (m.model, _time(m.last_success), _behind(m.hours_behind), state)


def _verdict(report: HealthReport) -> str:
    if report.healthy:
        return "healthy"
    counts = {
        "stale": sum(w.stale for w in report.watermarks) + int(bool(report.events and report.events.stale)),
        "lagging": sum(m.lagging for m in report.models),
        "late_rows": len(report.late_intervals),
        "future_rows": sum(w.future_rows for w in report.watermarks)
        + (report.events.future_events if report.events else 0),
    }
    words = {"stale": "stale", "lagging": "lagging", "late_rows": "with late rows", "future_rows": "waiting"}
    units = {"stale": "source", "lagging": "model", "late_rows": "interval", "future_rows": "row"}
    parts = [f"{counts[p]} {units[p]}{'' if counts[p] == 1 else 's'} {words[p]}" for p in report.problems]
    return f"unhealthy: {', '.join(parts)}"


def _time(value: dt.datetime | None) -> str:
    return value.replace(microsecond=0).isoformat(sep=" ") if value is not None else NONE


def _behind(hours: float | None) -> str:
    return f"{hours:.1f} h" if hours is not None else NONE


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
