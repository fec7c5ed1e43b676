"""The seed CSV reader (snowgen.spec.csv_source) against Python's csv module: on any text it
accepts, it reads the same records; on any text, it ends in a record list or a located
SnowgenError, and every field's position points at the field's first character."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from snowgen.errors import SnowgenError
from snowgen.spec.csv_source import load_csv

# Pieces that exercise every branch: separators, quotes, line breaks of both kinds, a lone CR.
PIECES = st.sampled_from(["a", "bc", "é", "🙂", ",", '"', '""', "\n", "\r\n", "\r", " ", "x,y", '"q,"', "\t"])
TEXTS = st.lists(PIECES, max_size=30).map("".join)


def read(tmp: Path, text: str):
    path = tmp / "seed.csv"
    path.write_bytes(text.encode("utf-8"))
    return load_csv(path)


def python_records(text: str) -> list[list[str]]:
    """csv.reader's records, blank lines dropped (a seed skips them too)."""
    return [row for row in csv.reader(io.StringIO(text, newline="")) if row]


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXTS)
@example(text='a,"b\r\nc"\r\n\r\n"",d\n')
def test_accepted_text_reads_as_pythons_csv_module_reads_it(tmp_path, text):
    try:
        document = read(tmp_path, text)
    except SnowgenError as exc:
        assert all(d.code == "SG005" and d.location is not None for d in exc.diagnostics)
        return
    ours = [[f.text for f in record] for record in (document.header, *document.records)]
    assert ours == python_records(text)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXTS)
def test_every_field_is_located_at_its_first_character(tmp_path, text):
    try:
        document = read(tmp_path, text)
    except SnowgenError:
        return
    lines = text.split("\n")
    for record in (document.header, *document.records):
        for field in record:
            start = lines[field.line - 1][field.col - 1 :]
            assert start.startswith('"') or start.startswith(field.text.split("\n")[0].split("\r")[0])
