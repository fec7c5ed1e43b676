"""``snowgen docs``: the site's files (index.html, site.css, site.js), made from the plan's
docs (snowgen.emit.docs_data). One page opened from disk works: no server, no network, the
style and the dialect switcher beside it. Every name, description and SQL text goes
through :func:`html.escape`, so a spec's value can never become markup."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from snowgen.emit.dag_svg import dag_svg
from snowgen.emit.docs_data import ColumnDoc, ModelDoc, dag_nodes, model_docs
from snowgen.emit.render import CompiledProject
from snowgen.plan.data import Plan
from snowgen.plan.lineage import ColumnRef, ProjectLineage

SITE_CSS = """\
body { font-family: system-ui, sans-serif; margin: 0 2em 4em; color: #222; }
header { position: sticky; top: 0; background: #fff; border-bottom: 1px solid #ccc; padding: .5em 0; z-index: 1; }
h1 { margin: .3em 0; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; } h3 { margin-bottom: .3em; }
.dag { overflow-x: auto; border: 1px solid #ddd; padding: .5em; }
#dag .node:hover rect { stroke-width: 2; }
table { border-collapse: collapse; margin: .5em 0; }
.wide { overflow-x: auto; }
th, td { border: 1px solid #ddd; padding: .2em .5em; text-align: left; vertical-align: top; font-size: 90%; }
td ul { margin: 0; padding-left: 1.1em; }
code, pre { font-family: ui-monospace, monospace; }
pre.sql { background: #f6f8fa; padding: .8em; overflow-x: auto; max-height: 40em; }
section, tr[id] { scroll-margin-top: 7em; }
.meta { color: #555; } .empty { color: #999; }
#model-list { columns: 3 22em; }
"""

SITE_JS = """\
// The dialect switcher: every block of one dialect's text (compiled SQL, layout) shows
// when that dialect is chosen, the others hide.
(function () {
  var choice = document.getElementById("dialect-switch");
  function show(dialect) {
    var blocks = document.querySelectorAll("[data-dialect]");
    for (var i = 0; i < blocks.length; i++) {
      blocks[i].hidden = blocks[i].getAttribute("data-dialect") !== dialect;
    }
  }
  choice.addEventListener("change", function () { show(choice.value); });
  show(choice.value);
})();
"""


def site_files(plan: Plan, lineage: ProjectLineage, compiled: list[CompiledProject]) -> dict[str, str]:
    """The site's files by name; the same inputs always give the same bytes."""
    models = model_docs(plan, lineage, compiled)
    dialects = [c.dialect for c in compiled]
    nodes, edges = dag_nodes(plan, lineage)
    body = [
        _header(plan, dialects),
        '<h2 id="dag-title">DAG</h2>',
        f'<div class="dag">{dag_svg(nodes, edges, [m for m in plan.modules if any(n.module == m for n in nodes)])}</div>',
        '<h2 id="models">Models</h2>',
        '<ul id="model-list">',
        *(f'<li><a href="#model-{_e(m.name)}">{_e(m.name)}</a> <span class="meta">{_e(m.module)}, {_e(m.materialization)}</span></li>' for m in models),
        "</ul>",
        *_sources(plan),
        *_seeds(plan),
        *(_model(m) for m in models),
    ]  # fmt: skip
    page = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(plan.project)}: snowgen docs</title>\n"
        '<link rel="stylesheet" href="site.css">\n</head>\n<body>\n'
        + "\n".join(body)
        + '\n<script src="site.js"></script>\n</body>\n</html>\n'
    )
    return {"index.html": page, "site.css": SITE_CSS, "site.js": SITE_JS}


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _header(plan: Plan, dialects: list[str]) -> str:
    options = "".join(f'<option value="{_e(d)}">{_e(d)}</option>' for d in dialects)
    return (
        f"<header><h1>{_e(plan.project)}</h1>"
        f'<p class="meta">{_e(plan.spec.description or "")}</p>'
        f'<label>SQL and layout of: <select id="dialect-switch">{options}</select></label></header>'
    )


def _sources(plan: Plan) -> list[str]:
    parts = ['<h2 id="sources">Sources</h2>'] if plan.spec.sources else []
    for name, source in sorted(plan.spec.sources.items()):
        parts.append(f'<section class="source" id="source-{_e(name)}"><h3>source {_e(name)}</h3>')
        parts.append(
            f'<p class="meta">{_e(source.schema_)}.{_e(source.table)}</p><p>{_e(source.description or "")}</p>'
        )
        rows = [(c, spec.type, spec.description or "") for c, spec in source.columns.items()]
        parts.append(
            _table(("column", "type", "description"), rows) if rows else '<p class="empty">columns not declared</p>'
        )
        parts.append("</section>")
    return parts


def _seeds(plan: Plan) -> list[str]:
    parts = ['<h2 id="seeds">Seeds</h2>'] if plan.seeds else []
    for name, seed in sorted(plan.seeds.items()):
        spec = seed.seed.spec
        parts.append(f'<section class="seed" id="seed-{_e(name)}"><h3>seed {_e(name)}</h3>')
        parts.append(
            f'<p class="meta">{_e(seed.table.db)}.{_e(seed.table.name)}</p><p>{_e(spec.description or "")}</p>'
        )
        rows = [(c, column.type, column.description or "") for c, column in spec.columns.items()]
        parts.append(_table(("column", "type", "description"), rows))
        parts.append("</section>")
    return parts


def _table(headings: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headings)
    body = "".join("<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _model(model: ModelDoc) -> str:
    name = _e(model.name)
    made = f", generated by snowgen ({_e(model.generated)})" if model.generated else ""
    facts = [f"module {_e(model.module)}", _e(model.materialization), f"<code>{_e(model.table)}</code>"]
    if model.unique_key:
        facts.append("unique key " + ", ".join(f"<code>{_e(k)}</code>" for k in model.unique_key))
    if model.tags:
        facts.append("tags " + ", ".join(_e(t) for t in model.tags))
    parts = [
        f'<section class="model" id="model-{name}" data-model="{name}">',
        f"<h2>{name}</h2>",
        f'<p class="meta">{" · ".join(facts)}{made}</p>',
        f'<p class="description">{_e(model.description)}</p>' if model.description else "",
        "<h3>Tests</h3>",
        _list(model.tests, "tests") if model.tests else '<p class="empty tests">no tests declared</p>',
        "<h3>Columns and lineage</h3>",
        f'<p class="empty">lineage not traced: {_e(model.lineage_note)}</p>' if model.lineage_note else "",
        _columns(model),
        "<h3>Layout</h3>",
        *(_layout(dialect, clauses) for dialect, clauses in model.layout.items()),
        "<h3>Compiled SQL</h3>",
        *(_sql(dialect, files) for dialect, files in model.sql.items()),
        "</section>",
    ]
    return "\n".join(p for p in parts if p)


def _columns(model: ModelDoc) -> str:
    if not model.columns:
        return '<p class="empty">output columns not known (a * over a table whose columns are not declared)</p>'
    head = "<tr><th>column</th><th>type</th><th>description</th><th>tests</th><th>reads</th><th>from</th></tr>"
    rows = "".join(_column_row(model.name, c) for c in model.columns)
    return f'<div class="wide"><table class="columns">{head}{rows}</table></div>'


def _column_row(model: str, column: ColumnDoc) -> str:
    cells = [
        f'<td class="name"><code>{_e(column.name)}</code></td>',
        f'<td class="type">{_e(column.type)}</td>',
        f'<td class="description">{_e(column.description)}</td>',
        f'<td class="tests">{_e("; ".join(column.tests))}</td>',
        f'<td class="inputs">{_refs(column.inputs)}</td>',
        f'<td class="origins">{_refs(column.origins)}</td>',
    ]
    return f'<tr id="column-{_e(model)}-{_e(column.name)}" data-column="{_e(column.name)}">{"".join(cells)}</tr>'


def _refs(refs: tuple[ColumnRef, ...]) -> str:
    if not refs:
        return ""
    items = []
    for ref in refs:
        text = f"{_e(ref.kind)} {_e(ref.relation)}.{_e(ref.column)}"
        if ref.kind in ("model", "source", "seed"):
            target = (
                f"#column-{_e(ref.relation)}-{_e(ref.column)}"
                if ref.kind == "model"
                else f"#{ref.kind}-{_e(ref.relation)}"
            )
            text = f'<a href="{target}">{text}</a>'
        items.append(f'<li data-ref="{_e(ref.kind)}:{_e(ref.relation)}.{_e(ref.column)}">{text}</li>')
    return f"<ul>{''.join(items)}</ul>"


def _list(items: Iterable[str], css: str) -> str:
    return f'<ul class="{css}">' + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>"


def _layout(dialect: str, clauses: tuple[str, ...]) -> str:
    text = "\n".join(clauses) if clauses else "(no layout clause)"
    return f'<pre class="layout" data-dialect="{_e(dialect)}">{_e(text)}</pre>'


def _sql(dialect: str, files: tuple[tuple[str, str], ...]) -> str:
    text = "\n\n".join(f"-- file {path}\n{sql}" for path, sql in files) or "(no step of its own)"
    return f'<pre class="sql" data-dialect="{_e(dialect)}">{_e(text)}</pre>'
