"""docs/errors.md and snowgen.errors.CODES list the same codes with the same titles."""

from __future__ import annotations

import re
from pathlib import Path

from snowgen.errors import CODES

DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"
HEADING = re.compile(r"^## (SG\d{3}) (.+?)\s*$")


def doc_headings() -> list[tuple[str, str]]:
    return [m.groups() for line in DOC.read_text(encoding="utf-8").splitlines() if (m := HEADING.match(line))]


def test_doc_headings_equal_codes():
    assert dict(doc_headings()) == CODES


def test_each_code_has_exactly_one_section_in_code_order():
    assert [code for code, _ in doc_headings()] == list(CODES)


def test_no_malformed_code_heading():
    """A '## SG...' line that the pattern misses would silently drop out of the check above."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    suspicious = [line for line in lines if line.startswith("#") and "SG" in line]
    assert all(HEADING.match(line) for line in suspicious), suspicious


def test_each_section_has_trigger_example_and_fix():
    sections = re.split(r"^## ", DOC.read_text(encoding="utf-8"), flags=re.M)[1:]
    for section in sections:
        code = section.split()[0]
        for part in ("**Trigger.**", "**Example.**", "**Fix.**"):
            assert part in section, f"{code}: no {part}"
        assert f"{code} " in section.split("**Example.**", 1)[1] or code == "SG104", f"{code}: example shows no message"
