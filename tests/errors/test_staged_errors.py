"""``staged: true`` (SG220): a staged table someone empties, read by one module."""

from __future__ import annotations

from .conftest import PROJECT

COMPILE = ("compile", "--dialect", "duckdb")
PRODUCER = "name: page_views\nmodule: web\nmaterialization: incremental\nunique_key: event_id\nstaged: true\n"
BODY = "sql: select event_id, page_url from events\n"
MODULES = PROJECT + "modules: [web, daily, weekly]\n"


def reader(name: str, module: str) -> str:
    return f"name: {name}\nmodule: {module}\nsql: select event_id from page_views_staged\n"


def test_a_staged_table_nobody_reads(proj):
    proj.write("models/page_views.yml", PRODUCER + BODY)
    assert proj.fail(*COMPILE) == (
        "models/page_views.yml:5:1: SG220 staged: no model reads 'page_views_staged', so nothing would ever "
        "empty it; read it in a later module or remove 'staged'\n"
        " 5 | staged: true\n"
        "   | ^\n"
    )


def test_a_staged_table_read_by_two_modules(proj):
    proj.write("snowgen.yml", MODULES)
    proj.write("models/page_views.yml", PRODUCER + BODY)
    proj.write("models/daily.yml", reader("daily", "daily"))
    proj.write("models/weekly.yml", reader("weekly", "weekly"))
    assert proj.fail(*COMPILE).splitlines()[0] == (
        "models/page_views.yml:5:1: SG220 staged: 'page_views_staged' is read by the modules daily, weekly; the "
        "first to run would empty it for the others (give each reading module a model of its own that reads it, "
        "in one module)"
    )


def test_only_an_incremental_model_is_staged(proj):
    proj.write("models/page_views.yml", "name: page_views\nstaged: true\n" + BODY)
    assert proj.fail(*COMPILE).splitlines()[0] == (
        "models/page_views.yml:2:1: SG220 staged: only an incremental model keeps its runs' rows in a staged table"
    )


def test_a_staged_table_named_like_a_model(proj):
    proj.write("models/page_views.yml", PRODUCER + BODY)
    proj.write("models/page_views_staged.yml", "name: page_views_staged\nsql: select 1 as one\n")
    assert proj.fail(*COMPILE).splitlines()[0] == (
        "models/page_views.yml:5:1: SG220 staged: the staged table 'page_views_staged' would have the name of a "
        "model or source"
    )


def test_a_staged_table_that_is_read_compiles(proj):
    proj.write("snowgen.yml", MODULES)
    proj.write("models/page_views.yml", PRODUCER + BODY)
    proj.write("models/daily.yml", reader("daily", "daily"))
    result = proj.run(*COMPILE)
    assert result.exit_code == 0, result.output
    emptied = (proj.root / "generated/demo/duckdb/03_daily/02_page_views_staged_consumed.sql").read_text()
    assert 'DELETE FROM "scratch"."page_views_staged" WHERE TRUE;' in " ".join(emptied.split())
