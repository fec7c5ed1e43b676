"""What `pip install` gives: the embedded default runs after the plain install, and every
extra an error message names exists."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[<>=~!; ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_duckdb_the_embedded_default_is_a_runtime_dependency():
    assert "duckdb" in requirement_names(PROJECT["dependencies"])


def test_every_extra_a_message_names_exists():
    named = {
        extra
        for path in (REPO / "snowgen").rglob("*.py")
        for extra in re.findall(r"snowgen\[(\w+)\]", path.read_text(encoding="utf-8"))
    }
    assert named, "the messages name no extra: the pattern no longer matches them"
    assert named <= set(PROJECT["optional-dependencies"])


def test_the_all_extra_installs_every_connector():
    [all_extra] = PROJECT["optional-dependencies"]["all"]
    listed = set(re.fullmatch(r"snowgen\[([\w,]+)\]", all_extra).group(1).split(","))
    assert listed == {"postgres", "snowflake", "bigquery", "databricks", "redshift"}
