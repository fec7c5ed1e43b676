"""Bodies rendered without Jinja (``{{ var('name') }}`` only: snowgen.plan.sqlbody's fast
path) render exactly as Jinja renders them: same text, same printed values, same errors."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from snowgen.errors import SnowgenError
from snowgen.plan import sqlbody
from snowgen.spec.yaml_source import YamlDocument

PIECES = [
    "select a from t where x = ",
    "{{ var('x') }}",
    "{{var('x')}}",
    "{{ var('y') }}",
    "{{  var( 'y' )  }}",
    "{{ var('missing') }}",
    "{{ var('x', 1) }}",
    "{",
    "}",
    "{{",
    "}}",
    "{{{ var('x') }}",
    "{% if true %}1{% endif %}",
    "{# c #}",
    "\n",
    "\r\n",
    " ",
    "'{{ var(\"x\") }}'",
    "{{ var('lst') }}",
    "{{ ident('col') }}",
    "{{- var('x') }}",
    "{{ var('X') }}",
    "{{ 'web' }}",
    " and ",
    "{{ var('nan') }}",
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


#: the pieces a fast-path body is made of (half of the bodies below use these alone)
PLAIN = [p for p in PIECES if "{" not in p or p.startswith("{{ var('") or p.startswith("{{var(")]


def body(seed: int) -> str:
    rng = random.Random(seed)
    pieces = PLAIN if seed % 2 else PIECES
    return "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 8)))


@pytest.mark.parametrize("seed", range(300))
def test_the_fast_path_renders_as_jinja(seed, monkeypatch):
    text = body(seed)
    fast = render(text, True, monkeypatch)
    slow = render(text, False, monkeypatch)
    assert repr(fast) == repr(slow), text


def test_the_bodies_above_take_the_fast_path_often():
    """The comparison means something only if the fast path renders many of the bodies."""
    ctx = sqlbody.BodyContext(YamlDocument(path=Path("m.yml"), data=None), ("sql",), "postgres", VARS)

    def var(name, default=None):
        return VARS[name]

    taken = 0
    for seed in range(300):
        text = body(seed)
        if "{" in text and sqlbody._render_plain_vars(text, var, sqlbody._Placeholders(text), ctx) is not None:
            taken += 1
    assert taken >= 35, taken  # 40 with these seeds (a missing var, a default: Jinja renders them)
