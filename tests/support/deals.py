"""The shipped multi_source_deals project on a test engine: its sources, its runs (regular
and backfill plans, each step's file as one script, see support.runs) and what to read back.

Sail (the Databricks engine) rejects CLUSTER BY in CREATE TABLE, which real Databricks
accepts, so on Sail the project runs with the other Databricks layout snowgen supports: a
date partition column (clustering: partition)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import sqlglot
import yaml

from snowgen.api import CompileOptions, compile_loaded, health_checks
from snowgen.build.manifest_ops import rewind_models
from snowgen.build.sources import source_ddl
from snowgen.dialects import get_dialect
from snowgen.plan.backfill import Backfill
from snowgen.plan.planner import plan_project
from snowgen.runner.health import HealthReport, check_health
from snowgen.spec.loader import LoadedProject, load_project
from support.data import insert_rows
from support.runs import run_compiled, run_file

SHIPPED = Path(__file__).resolve().parents[2] / "model_specs" / "multi_source_deals"
HEALTH = "deals_manifest.multi_source_deals_watermark_health"
WATERMARKS = "deals_manifest.multi_source_deals_watermarks"
INTERVALS = "deals_manifest.multi_source_deals_watermarks_intervals"


def project_for(engine_name: str, tmp_path: Path) -> Path:
    if engine_name != "databricks":
        return SHIPPED
    root = tmp_path / "multi_source_deals"
    shutil.copytree(SHIPPED, root)
    model = root / "models" / "inter_deals.yml"
    spec = yaml.safe_load(model.read_text())
    spec["layout"]["dialects"]["databricks"] = {"clustering": "partition", "cluster": None}
    model.write_text(yaml.safe_dump(spec, sort_keys=False))
    return root


def project_with(engine_name: str, tmp_path: Path, **incremental) -> Path:
    """A copy of the project (as :func:`project_for` gives it) with ``incremental`` keys set."""
    root = tmp_path / "deals_with"
    shutil.copytree(project_for(engine_name, tmp_path), root)
    spec = yaml.safe_load((root / "snowgen.yml").read_text(encoding="utf-8"))
    spec["incremental"].update(incremental)
    (root / "snowgen.yml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return root


def deal(number: int, when: dt.datetime | str, comment: str = "ok") -> dict:
    when = dt.datetime.fromisoformat(when) if isinstance(when, str) else when
    return {
        "deal": number, "login": 7, "timemsc": when, "symbol": "EURUSD", "action": 0, "entry": 0,
        "volume": Decimal("1.5"), "price": Decimal("1.1"), "profit": Decimal("2.5"),
        "commission": Decimal("0"), "swap": Decimal("0"), "comment": comment,
    }  # fmt: skip


@dataclass
class DealsOnEngine:
    engine: object
    loaded: LoadedProject

    @classmethod
    def create(cls, engine, tmp_path: Path, project: Path | None = None) -> DealsOnEngine:
        loaded = load_project(project or project_for(engine.name, tmp_path))
        dialect = get_dialect(engine.name)
        for statement in source_ddl(loaded.spec, dialect):
            engine.execute(dialect.render(statement))
        return cls(engine, loaded)

    # -- the plans ---------------------------------------------------------------------------
    def run(self, *, full_refresh: bool = False, after: dict[str, Callable[[], None]] | None = None) -> None:
        """A regular run (or a full refresh); ``after``: step id -> what happens once it ran."""
        [compiled] = compile_loaded(
            self.loaded, [self.engine.name], CompileOptions(full_refresh=full_refresh, allow_refresh=full_refresh)
        )
        for step in json.loads(compiled.files["plan.json"])["steps"]:
            run_file(self.engine, compiled.files[step["file"]])
            (after or {}).get(step["id"], lambda: None)()

    def backfill(self, source: str, start: str, end: str) -> None:
        backfill = Backfill(source, dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(end))
        [compiled] = compile_loaded(self.loaded, [self.engine.name], CompileOptions(backfill=backfill))
        run_compiled(self.engine, compiled.files)

    def rewind(self, model: str, to: str) -> None:
        """``snowgen manifest rewind MODEL --to TO``, run on the engine."""
        dialect = get_dialect(self.engine.name)
        change = rewind_models(plan_project(self.loaded), dialect, [model], dt.datetime.fromisoformat(to))
        for statement in change.statements:
            self.engine.execute(dialect.render(dialect.lower(statement)))

    # -- the sources -----------------------------------------------------------------------------
    def load(self, server: str, rows: list[dict]) -> None:
        for statement in insert_rows(self.engine.name, f"mt5_{server}", "deals", rows):
            self.engine.execute(statement)

    def change(self, sql: str) -> None:
        """An UPDATE or DELETE on the sources, written in Postgres SQL."""
        self.engine.execute(self._render(sql))

    # -- what the plans wrote ---------------------------------------------------------------------
    def deals(self) -> list[tuple]:
        return self._rows("SELECT server_source, deal, comment FROM deals.inter_deals ORDER BY 1, 2")

    def watermarks(self) -> dict[str, dt.datetime]:
        rows = self._rows(f"SELECT instance, watermark FROM {WATERMARKS} ORDER BY 1")
        return {instance: _naive(watermark) for instance, watermark in rows}

    def health(self) -> dict[str, bool]:
        return {
            instance: bool(stale)
            for instance, stale in self._rows(f"SELECT instance, is_stale FROM {HEALTH} ORDER BY 1")
        }

    def health_report(self) -> HealthReport:
        """``snowgen health``'s report, its queries run on the engine."""
        run = health_checks(self.loaded, get_dialect(self.engine.name))
        return check_health(run, lambda sql: [tuple(row) for row in self.engine.query(sql)], self.engine.name)

    def late_rows(self) -> list[tuple]:
        """(instance, interval start, rows recorded, rows now) of each interval with late rows."""
        report = self.health_report()
        return [(i.instance, i.interval_start, i.rows_recorded, i.rows_now) for i in report.late_intervals]

    def intervals(self, instance: str) -> list[tuple]:
        """The recorded intervals of an instance: (start, end, row count)."""
        rows = self._rows(
            f"SELECT interval_start, interval_end, row_count FROM {INTERVALS} WHERE instance = '{instance}' ORDER BY 1"
        )
        return [(_naive(start), _naive(end), int(count)) for start, end, count in rows]

    def future_rows(self) -> dict[str, int]:
        """instance -> rows of its source stamped after now plus the clock skew allowance."""
        return dict(self._rows(f"SELECT instance, future_rows FROM {HEALTH} ORDER BY 1"))

    def _rows(self, sql: str) -> list[tuple]:
        return [tuple(row) for row in self.engine.query(self._render(sql))]

    def _render(self, sql: str) -> str:
        return get_dialect(self.engine.name).render(sqlglot.parse_one(sql, read="postgres"))


def _naive(value) -> dt.datetime:
    """Timestamps as UTC without a zone (BigQuery's client returns aware datetimes)."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
