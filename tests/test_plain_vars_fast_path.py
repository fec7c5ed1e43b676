"""PROTOTYPE: bodies rendered without Jinja (``{{ var('name') }}`` only) render exactly as
Jinja renders them: same text, same printed values, same errors."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from snowgen.compiler import sqlbody
from snowgen.errors import SnowgenError
from snowgen.spec.yaml_source import YamlDocument

PIECES = [
    "select a from t where x = ", "{{ var('x') }}", "{{var('x')}}", "{{ var('y') }}", "{{  var( 'y' )  }}",
    "{{ var('missing') }}", "{{ var('x', 1) }}", "{", "}", "{{", "}}", "{{{ var('x') }}", "{% if true %}1{% endif %}",
    "{# c #}", "\n", "\r\n", " ", "'{{ var(\"x\") }}'", "{{ var('lst') }}", "{{ ident('col') }}", "{{- var('x') }}",
    "{{ var('X') }}", "{{ 'web' }}", " and ", "{{ var('nan') }}",
]
VARS = {"x": "O'Brien", "y": 3, "lst": ["a", 2], "nan": float("nan")}


def render(text: str, fast: bool, monkeypatch) -> tuple:
    if not fast:
        monkeypatch.setattr(sqlbody, "_render_plain_vars", lambda *a: None)
    ctx = sqlbody.BodyContext(YamlDocument(path=Path("m.yml"), data=None), ("sql",), "postgres", VARS)
    placeholders = sqlbody._Placeholders(text)
    try:
        out = sqlbody._render_jinja(text, ctx, placeholders)
    except SnowgenError as exc:
        out = ("error", exc.format())
    finally:
        monkeypatch.undo()
    return out, placeholders.values


@pytest.mark.parametrize("seed", range(300))
def test_the_fast_path_renders_as_jinja(seed, monkeypatch):
    rng = random.Random(seed)
    text = "".join(rng.choice(PIECES) for _ in range(rng.randrange(1, 8)))
    fast = render(text, True, monkeypatch)
    slow = render(text, False, monkeypatch)
    assert repr(fast) == repr(slow), text
