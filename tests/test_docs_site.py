"""`snowgen docs`: the same specs give the same bytes, hostile spec text stays text, every
model and source has its section (the browser test, tests/test_docs_browser.py, reads the
DOM of the same site)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.projects import write_project

from snowgen import api
from snowgen.cli import main
from snowgen.dialects import NAMES

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = "<script>alert('x')</script> & <img src=x onerror=alert(1)> \"quoted\""

MODELS = [
    {
        "name": "by_app",
        "description": HOSTILE,
        "columns": {"app_id": {"type": "string", "description": HOSTILE}, "n": "bigint"},
        "sql": "select app_id, count(*) as n from events group by app_id",
    },
    {"name": "top_apps", "materialization": "view", "sql": "select app_id from by_app where n > 10"},
]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = write_project(tmp_path_factory.mktemp("docs") / "demo", MODELS, description=HOSTILE)
    return api.docs_site(api.load_project(root))


class Tags(HTMLParser):
    """Every start tag of a page, with its attributes."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags_of(page: str) -> list[tuple[str, dict]]:
    parser = Tags()
    parser.feed(page)
    return parser.tags


def test_hostile_text_is_escaped_everywhere(hostile):
    page = hostile["index.html"]
    tags = tags_of(page)
    assert [t for t, _ in tags if t in ("script", "img")] == ["script"]
    assert [a for t, a in tags if t == "script"] == [{"src": "site.js"}]
    assert not [a for _, a in tags if any(k.startswith("on") for k in a)]
    assert page.count("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;") == 3


def test_every_model_and_source_has_its_section(hostile):
    ids = {a.get("id") for _, a in tags_of(hostile["index.html"])}
    assert {"model-by_app", "model-top_apps", "source-events", "dag"} <= ids


def test_a_model_shows_its_declared_types_and_its_sql_in_every_dialect(hostile):
    tags = tags_of(hostile["index.html"])
    dialects = [a["data-dialect"] for t, a in tags if t == "pre" and "sql" in a.get("class", "")]
    assert dialects == [d for _ in ("by_app", "top_apps") for d in NAMES]
    assert '<td class="type">bigint</td>' in hostile["index.html"]


def test_two_writes_are_byte_identical(tmp_path):
    project = str(ROOT / "model_specs" / "snowplow_web")
    for out in ("a", "b"):
        result = CliRunner().invoke(main, ["docs", "--project", project, "--out", str(tmp_path / out)])
        assert result.exit_code == 0, result.output
    read = {out: {p.name: p.read_bytes() for p in (tmp_path / out).iterdir()} for out in ("a", "b")}
    assert sorted(read["a"]) == ["index.html", "site.css", "site.js"]
    assert read["a"] == read["b"]
