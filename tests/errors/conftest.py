"""Fixtures for the error tests: a tiny project in tmp_path and a CLI runner that checks
the product rule for failures (exit 2, no traceback, nothing written to --out)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from snowgen.cli import main

PROJECT = """\
project: demo
vars:
  start_date: '2024-01-01'
sources:
  events:
    schema: atomic
    table: events
targets:
  dev:
    dialect: duckdb
"""

MODEL = """\
name: page_views
sql: |
  select event_id, page_url, collector_tstamp
  from events
"""

# An output tree that exists before every test: a failing compile must leave it byte for byte.
OLD_OUTPUT = {
    "generated/demo/duckdb/plan.json": '{"old": true}\n',
    "generated/demo/duckdb/02_main/01_page_views.sql": "-- old output\nselect 1;\n",
    "generated/demo/bigquery/plan.json": '{"old": "bigquery"}\n',
    "generated/other_project/postgres/notes.txt": "not snowgen's\n",
}

SNOWGEN = Path(sys.executable).with_name("snowgen")


def tree(root: Path) -> dict[str, bytes | None]:
    """Every file (bytes) and directory (None) under ``root``."""
    if not root.exists():
        return {}
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


@dataclass
class Project:
    root: Path

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def remove(self, relative: str) -> None:
        (self.root / relative).unlink()

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(main, list(args))

    def fail(self, *args: str) -> str:
        """Run a command that must fail as a user mistake; return its stderr."""
        before = tree(self.root / "generated")
        result = self.run(*args)
        assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
        assert isinstance(result.exception, SystemExit), result.exception  # not a crash
        assert "Traceback" not in result.stderr
        assert result.stdout == ""
        assert tree(self.root / "generated") == before, "a failing compile changed the output directory"
        return result.stderr

    def subprocess(self, *args: str) -> subprocess.CompletedProcess:
        """The real entry point (``.venv/bin/snowgen``), not CliRunner."""
        return subprocess.run([str(SNOWGEN), *args], cwd=self.root, capture_output=True, text=True, timeout=120)


@pytest.fixture
def proj(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """A valid one-model project in the working directory, with old output on disk."""
    monkeypatch.chdir(tmp_path)
    project = Project(tmp_path)
    project.write("snowgen.yml", PROJECT)
    project.write("models/page_views.yml", MODEL)
    for relative, text in OLD_OUTPUT.items():
        project.write(relative, text)
    return project
