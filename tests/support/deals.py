"""The shipped multi_source_deals project on a test engine: its sources, its runs (regular
and backfill plans, each step's file as one script, see support.runs) and what to read back.

Sail (the Databricks engine) rejects CLUSTER BY in CREATE TABLE, which real Databricks
accepts, so on Sail the project runs with the other Databricks layout snowgen supports: a
date partition column (clustering: partition)."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import sqlglot
import yaml

from snowgen.api import CompileOptions, compile_loaded
from snowgen.build.manifest_ops import rewind_models
from snowgen.build.sources import source_ddl
from snowgen.dialects import get_dialect
from snowgen.plan.backfill import Backfill
from snowgen.plan.planner import plan_project
from snowgen.spec.loader import LoadedProject, load_project
from support.data import insert_rows
from support.runs import run_compiled

SHIPPED = Path(__file__).resolve().parents[2] / "model_specs" / "multi_source_deals"
HEALTH = "deals_manifest.multi_source_deals_watermark_health"
WATERMARKS = "deals_manifest.multi_source_deals_watermarks"


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
    def run(self, *, full_refresh: bool = False) -> None:
        [compiled] = compile_loaded(
            self.loaded, [self.engine.name], CompileOptions(full_refresh=full_refresh, allow_refresh=full_refresh)
        )
        run_compiled(self.engine, compiled.files)

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
