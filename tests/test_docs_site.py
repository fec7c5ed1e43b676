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
    {"name": "top_apps", "materialization": "view", "sql": "select app_id, n * 2 as doubled from by_app where n > 10"},
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


def test_a_column_without_a_declared_type_shows_the_type_compiling_inferred(hostile):
    row = '<tr id="column-top_apps-doubled" data-column="doubled"><td class="name"><code>doubled</code></td>'
    assert row + '<td class="type">bigint</td>' in hostile["index.html"]


def write_web_site(out: Path) -> dict[str, bytes]:
    project = str(ROOT / "model_specs" / "snowplow_web")
    result = CliRunner().invoke(main, ["docs", "--project", project, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return {p.name: p.read_bytes() for p in out.iterdir()}


@pytest.fixture(scope="module")
def web_site(tmp_path_factory):
    return write_web_site(tmp_path_factory.mktemp("web") / "site")


def test_two_writes_are_byte_identical(web_site, tmp_path):
    assert sorted(web_site) == ["index.html", "site.css", "site.js"]
    assert write_web_site(tmp_path / "again") == web_site


class SqlBlocks(HTMLParser):
    """The text of each model's SQL block, by (model, dialect)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.model, self.open, self.blocks = None, None, {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section" and "data-model" in attrs:
            self.model = attrs["data-model"]
        if tag == "pre" and attrs.get("class") == "sql":
            self.open = (self.model, attrs["data-dialect"])
            self.blocks[self.open] = ""

    def handle_endtag(self, tag):
        if tag == "pre":
            self.open = None

    def handle_data(self, data):
        if self.open is not None:
            self.blocks[self.open] += data


@pytest.mark.parametrize("dialect", NAMES)
def test_a_models_sql_is_the_compiled_file(web_site, dialect):
    """The site compiles as `snowgen compile` does: the text shown is generated/'s files of the
    model's steps (its own, then its audit's)."""
    parser = SqlBlocks()
    parser.feed(web_site["index.html"].decode("utf-8"))
    paths = ["04_page_views/04_snowplow_web_page_views.sql", "04_page_views/05_snowplow_web_page_views__audit.sql"]
    compiled = [(ROOT / "generated" / "snowplow_web" / dialect / p).read_text(encoding="utf-8") for p in paths]
    expected = "\n\n".join(f"-- file {path}\n{text}" for path, text in zip(paths, compiled, strict=True))
    assert parser.blocks[("snowplow_web_page_views", dialect)] == expected


DOCS_ERRORS = [
    ("", "snowgen: SG407 --out is empty; give the folder to write to (default: snowgen-docs)\n"),
    ("a_file", "snowgen: SG407 cannot write the output under .: a_file: a file, not a folder snowgen wrote\n"),
]


@pytest.mark.parametrize(("out", "message"), DOCS_ERRORS, ids=["empty", "a file"])
def test_docs_cannot_write_error_in_full(tmp_path, monkeypatch, out, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a_file").write_text("mine\n")
    project = str(ROOT / "model_specs" / "multi_source_deals")
    result = CliRunner().invoke(main, ["docs", "--project", project, "--out", out])
    assert (result.exit_code, result.output, sorted(p.name for p in tmp_path.iterdir())) == (2, message, ["a_file"])
