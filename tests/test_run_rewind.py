"""``snowgen manifest rewind --db``: the runs it says the catch-up takes are the runs it takes,
on DuckDB and PostgreSQL, over snowplow_web's bundled sample (six days of events in 2020).
The count runs to where the most advanced model is (the end of an out-of-sync window,
reference §1.3), not to today."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.cli_runs import Database, cli, database_maker

from snowgen.cli import main

SPECS = Path(__file__).resolve().parents[1] / "model_specs"
MANIFEST = "snowplow_manifest.snowplow_web_incremental_manifest"
PAGE_VIEWS = "snowplow_web_page_views"
ESTIMATE = re.compile(r"takes about (\d+) runs with backfill_limit_days (\d+)")


@pytest.fixture(scope="module")
def databases(request, tmp_path_factory) -> Iterator[Callable[[str], Database]]:
    yield from database_maker(request, tmp_path_factory)


class Web:
    """snowplow_web with ``backfill_limit_days`` set, on one database holding its sample."""

    def __init__(self, root: Path, db: Database):
        self.root, self.db = root, db
        cli("sample-data", "--project", str(root), "--db", db.url)

    def run(self) -> None:
        cli("run", "--project", str(self.root), "--db", self.db.url, "-q")

    def manifest(self) -> dict[str, dt.datetime]:
        return dict(self.db.query(f"SELECT model, last_success FROM {MANIFEST}"))

    def run_until_stable(self) -> None:
        for _ in range(12):
            before = self.manifest() if self.db.exists(MANIFEST) else {}
            self.run()
            if self.manifest() == before:
                return
        raise AssertionError(f"the manifest still moves: {self.manifest()}")

    def rewind(self, model: str, to: str) -> str:
        """The warnings of the rewind (stderr), which runs on the database."""
        args = ["manifest", "rewind", model, "--project", str(self.root), "--to", to, "--db", self.db.url]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        return result.stderr

    def runs_to_catch_up(self) -> int:
        """Runs until every model of the manifest is where the others are."""
        for runs in range(1, 15):
            self.run()
            if len(set(self.manifest().values())) == 1:
                return runs
        raise AssertionError(f"not caught up after 14 runs: {self.manifest()}")


def caught_up_web(tmp_path: Path, databases, engine: str, backfill_limit_days: int) -> Web:
    root = Path(shutil.copytree(SPECS / "snowplow_web", tmp_path / "snowplow_web"))
    project = root / "snowgen.yml"
    text = project.read_text()
    project.write_text(text.replace("backfill_limit_days: 30", f"backfill_limit_days: {backfill_limit_days}"))
    web = Web(root, databases(engine))
    web.run_until_stable()
    assert len(set(web.manifest().values())) == 1
    return web


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_the_estimate_is_the_number_of_runs_the_catch_up_takes(tmp_path, databases, engine):
    web = caught_up_web(tmp_path, databases, engine, backfill_limit_days=1)
    reached = max(web.manifest().values())
    warnings = web.rewind(PAGE_VIEWS, "2020-01-01")
    estimate = ESTIMATE.search(warnings)
    assert estimate, warnings
    assert f"to {reached:%Y-%m-%d %H:%M} (the most advanced model's last_success)" in warnings
    assert int(estimate[2]) == 1 and int(estimate[1]) > 1
    assert web.runs_to_catch_up() == int(estimate[1])


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_a_catch_up_of_one_run_gives_no_warning(tmp_path, databases, engine):
    web = caught_up_web(tmp_path, databases, engine, backfill_limit_days=30)
    assert web.rewind(PAGE_VIEWS, "2020-01-01") == f"done on {web.db.url}\n"  # no warning
    assert web.runs_to_catch_up() == 1


def test_without_a_database_the_sql_is_printed_with_no_estimate(monkeypatch):
    monkeypatch.chdir(SPECS / "snowplow_web")
    result = CliRunner().invoke(main, ["manifest", "rewind", PAGE_VIEWS, "--to", "2000-01-01", "--dialect", "postgres"])
    assert result.exit_code == 0
    assert "CAST('2000-01-01 00:00:00' AS TIMESTAMP)" in result.stdout
    assert result.stderr == ""
