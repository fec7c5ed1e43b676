"""Remembered spec files (snowgen.spec.document_memo) are the documents a parse gives:
values with their types, every position, every block text."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from snowgen.spec.document_memo import document_from_json, document_key, document_to_json, load_remembered
from snowgen.spec.yaml_source import YamlDocument, load_yaml

REPO = Path(__file__).resolve().parents[1]
SPEC_FILES = sorted(REPO.glob("model_specs/**/*.yml"))


def same(a, b) -> bool:
    """Equal, and of the same types all the way down (1 is not 1.0, nor True)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(k, k2) and same(a[k], b[k2]) for k, k2 in zip(a, b, strict=True))
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def round_trip(path: Path):
    doc = load_yaml(path)
    stored = document_to_json(doc)
    assert stored is not None
    text = path.read_bytes().decode("utf-8-sig")
    return doc, document_from_json(path, text, stored)


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_shipped_spec_file_comes_back_as_parsed(path):
    doc, back = round_trip(path)
    assert same(back.data, doc.data)
    assert (back.key_positions, back.value_positions, back.texts, back.lines) == (
        doc.key_positions,
        doc.value_positions,
        doc.texts,
        doc.lines,
    )


TYPED = """\
name: typed
when: 2024-02-29
at: 2024-02-29 10:11:12.5+02:00
plain_at: 2024-02-29 10:11:12
count: 3
ratio: 3.0
yes_no: true
nothing: ~
nan: .nan
inf: -.inf
blob: !!binary aGVsbG8=
keys:
  1: one
  true: yes-key
  2024-01-01: a date key
nested: [[1, 2.5], {a: [x, "3"]}]
sql: |
  select 1
    from dual
"""


def test_every_yaml_type_keeps_its_type(tmp_path):
    path = tmp_path / "typed.yml"
    path.write_text(TYPED, encoding="utf-8")
    doc, back = round_trip(path)
    assert same(back.data, doc.data)
    assert back.texts == doc.texts and back.value_positions == doc.value_positions


def test_a_value_json_cannot_carry_with_its_type_is_not_remembered(tmp_path):
    # the loader refuses tags such as !!set, so only a document made by hand holds one
    assert document_to_json(YamlDocument(path=tmp_path / "x.yml", data={"things": {1, 2}})) is None


class Memo(dict):
    def document(self, key):
        return self.get(key)

    def remember_document(self, key, text):
        self[key] = text


def test_a_changed_byte_is_another_document(tmp_path):
    path = tmp_path / "m.yml"
    path.write_text("name: a\nsql: select 1\n", encoding="utf-8")
    memo = Memo()
    first = load_remembered(path, memo)
    assert list(memo) == [document_key(path, path.read_bytes())]
    path.write_text("name: b\nsql: select 1\n", encoding="utf-8")
    assert load_remembered(path, memo).data["name"] == "b"
    assert first.data["name"] == "a" and len(memo) == 2
