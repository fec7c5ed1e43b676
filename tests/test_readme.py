"""The README's commands work exactly as written from the repository's root: the snowgen part
of the first set-up command, and every command of the "Running a plan" block, in order, in a
copy of the repository (the Postgres URL pointed at the test server)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from snowgen.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
README_POSTGRES_URL = "postgresql://me@localhost:5432/analytics"
WEB_COUNTS = {
    "derived.snowplow_web_user_mapping": 6,
    "derived.snowplow_web_page_views": 74,
    "derived.snowplow_web_sessions": 36,
    "derived.snowplow_web_users": 15,
}


def bash_block_after(heading: str) -> list[str]:
    """The lines of the first ```bash block after ``heading``, without comment lines."""
    section = README.split(heading, 1)[1]
    block = section.split("```bash\n", 1)[1].split("\n```", 1)[0]
    return [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def setup_snowgen_commands() -> list[list[str]]:
    """The snowgen commands of the first set-up command (after the install), as arguments."""
    [first] = [line for line in bash_block_after("## Set-up") if line.startswith("python3 -m venv")]
    parts = [shlex.split(part) for part in first.split("&&")]
    assert parts[:2] == [["python3", "-m", "venv", ".venv"], [".venv/bin/pip", "install", "-e", "."]]
    assert all(part[0] == ".venv/bin/snowgen" for part in parts[2:])
    return [part[1:] for part in parts[2:]]


def running_a_plan_commands() -> list[list[str]]:
    commands = [shlex.split(line, comments=True) for line in bash_block_after("### Running a plan")]
    assert commands and all(command[0] == "snowgen" for command in commands)
    return [command[1:] for command in commands]


def printed_counts(stdout: str) -> dict[str, int]:
    return {t: int(n.replace(",", "")) for t, n in re.findall(r"^(\S+) +([\d,]+) rows?$", stdout, re.MULTILINE)}


@pytest.fixture
def clone(tmp_path, monkeypatch) -> Path:
    """What a fresh clone holds that the commands read (the projects), as the working directory."""
    shutil.copytree(
        ROOT / "model_specs", tmp_path / "model_specs", ignore=shutil.ignore_patterns("*.duckdb*", ".snowgen-cache")
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_first_command_compiles_loads_the_sample_and_runs_the_web_model(clone):
    results = []
    for args in setup_snowgen_commands():
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, (args, result.output)
        results.append(result)
    assert [args[0] for args in setup_snowgen_commands()] == ["compile", "sample-data", "run"]
    assert (clone / "generated/snowplow_web/duckdb/plan.json").is_file()
    assert printed_counts(results[-1].stdout) == WEB_COUNTS
    assert (clone / "model_specs/snowplow_web/snowplow_web.duckdb").is_file()
    summary, *tables = results[-1].stdout.strip().splitlines()
    assert "\n".join(tables) in README  # the README shows what the command prints
    steps = re.fullmatch(r"(ok: \d+ steps in )[\d.]+ s, run id [\d: .-]+, 0 warnings", summary)
    assert steps and f"\n{steps[1]}" in README  # its time and run id differ from run to run


def test_every_command_of_running_a_plan_works_as_written(clone, postgres_db):
    info = postgres_db.conn.info
    url = f"postgresql://{info.user}@{info.host}:{info.port}/{info.dbname}"
    commands = running_a_plan_commands()
    assert any(README_POSTGRES_URL in command for command in commands)
    outputs = {}
    for args in commands:
        args = [url if arg == README_POSTGRES_URL else arg for arg in args]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, (args, result.output)
        outputs.setdefault(args[0], []).append(result)
    web_runs = [r for r in outputs["run"] if "running snowplow_web" in r.stderr]
    assert printed_counts(web_runs[0].stdout) == WEB_COUNTS  # the default target, dev
    assert "on model_specs/snowplow_web/snowplow_web.duckdb (duckdb, target dev):" in web_runs[0].stderr
    assert printed_counts(web_runs[-1].stdout) == WEB_COUNTS  # on Postgres
    assert postgres_db.query("select count(*) from derived.snowplow_web_page_views") == [(74,)]
    assert (clone / "dev.duckdb").is_file()  # --db: relative to where the command runs
    assert 'DELETE FROM "snowplow_manifest"."snowplow_web_incremental_manifest"' in outputs["manifest"][0].stdout
    created = sorted(p.relative_to(clone).as_posix() for p in clone.rglob("*.duckdb*"))
    assert created == ["dev.duckdb", "model_specs/snowplow_web/snowplow_web.duckdb"]
    ignored = subprocess.run(["git", "check-ignore", "--no-index", *created], cwd=ROOT, capture_output=True, text=True)
    assert ignored.stdout.split() == created  # .gitignore keeps the databases out of commits
