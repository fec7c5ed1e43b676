"""A project that extends another (docs/spec.md, "Extending a project"): every mistake is
located, in whichever of the two files it is."""

from __future__ import annotations

COMPILE = ("compile", "--dialect", "duckdb")

BASE = """\
project: base
modules: [base, pages]
sources:
  events:
    schema: atomic
    table: events
    columns: {event_id: string, collector_tstamp: timestamp, domain_sessionid: string, domain_userid: string, dvce_created_tstamp: timestamp, dvce_sent_tstamp: timestamp}
vars:
  start_date: '2024-01-01'
incremental:
  strategy: sessions
  contexts:
    - name: web_page
      schema: iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0
      fields: {id: page_view_id}
"""
BASE_MODEL = """\
name: pages
module: pages
materialization: incremental
unique_key: page_view_id
sql: select page_view_id, min(collector_tstamp) as start_tstamp from base_base_events_this_run group by 1
"""


def extending(proj, text: str) -> None:
    proj.write("lib/snowgen.yml", BASE)
    proj.write("lib/models/pages.yml", BASE_MODEL)
    proj.write("snowgen.yml", "project: demo\n" + text)
    proj.remove("models/page_views.yml")


def test_a_folder_that_is_not_there(proj):
    extending(proj, "extends:\n  project: libb\n")
    assert proj.fail(*COMPILE) == (
        "snowgen.yml:3:12: SG242 extends: libb is not a folder\n 3 |   project: libb\n   |            ^\n"
    )


def test_a_folder_without_a_project_file(proj):
    extending(proj, "extends:\n  project: models\n")
    proj.write("models/readme.txt", "no project here\n")
    assert proj.fail(*COMPILE) == (
        "snowgen.yml:3:12: SG242 extends: models holds no snowgen.yml\n 3 |   project: models\n   |            ^\n"
    )


def test_an_absolute_folder(proj):
    extending(proj, "extends:\n  project: /lib\n")
    assert proj.fail(*COMPILE) == (
        "snowgen.yml:3:12: SG102 extends.project: must be a folder relative to snowgen.yml (e.g. ../snowplow_web)\n"
        " 3 |   project: /lib\n   |            ^\n"
    )


def test_projects_extending_each_other(proj):
    extending(proj, "extends:\n  project: lib\n")
    proj.write("lib/snowgen.yml", BASE + "extends:\n  project: ..\n")
    assert proj.fail(*COMPILE).startswith(
        "lib/snowgen.yml:17:12: SG242 extends: projects extend each other in a cycle: "
    )


def test_a_source_declared_in_both(proj):
    extending(proj, "extends:\n  project: lib\nsources:\n  events:\n    schema: raw\n    table: events\n")
    assert proj.fail(*COMPILE) == (
        "snowgen.yml:5:3: SG243 source 'events' is already declared by the extended project; give it another name\n"
        " 5 |   events:\n   |   ^\n"
    )


def test_a_context_declared_in_both(proj):
    extending(
        proj,
        "extends:\n  project: lib\nincremental:\n  strategy: sessions\n  contexts:\n    - name: web_page\n"
        "      schema: iglu:com.acme/page/jsonschema/1-0-0\n      fields: {id: page_id}\n",
    )
    assert proj.fail(*COMPILE) == (
        "snowgen.yml:7:13: SG243 context 'web_page' is already declared by the extended project; "
        "give it another name\n 7 |     - name: web_page\n   |             ^\n"
    )


def test_a_module_declared_in_both(proj):
    extending(proj, "extends:\n  project: lib\nmodules: [pages, media]\n")
    assert proj.fail(*COMPILE) == (
        "snowgen.yml:4:11: SG243 module 'pages' is already declared by the extended project; give it another name\n"
        " 4 | modules: [pages, media]\n   |           ^\n"
    )


def test_another_strategy(proj):
    extending(proj, "extends:\n  project: lib\nincremental:\n  strategy: watermark\n")
    assert proj.fail(*COMPILE) == (
        "snowgen.yml:5:13: SG242 incremental.strategy must be the extended project's ('sessions'): the two "
        "projects share its incremental state\n 5 |   strategy: watermark\n   |             ^\n"
    )


def test_a_model_named_like_one_of_the_extended_project(proj):
    extending(proj, "extends:\n  project: lib\n")
    proj.write("models/pages.yml", BASE_MODEL)
    assert proj.fail(*COMPILE) == (
        "models/pages.yml:1:7: SG203 model 'pages' is already defined in lib/models/pages.yml:1\n"
        " 1 | name: pages\n   |       ^\n"
    )


def test_an_error_in_the_extended_project_points_at_its_file(proj):
    extending(proj, "extends:\n  project: lib\n")
    proj.write("lib/models/pages.yml", BASE_MODEL.replace("module: pages", "module: pagez"))
    assert proj.fail(*COMPILE) == (
        "lib/models/pages.yml:2:9: SG210 unknown module 'pagez' (did you mean 'pages'?)\n"
        " 2 | module: pagez\n   |         ^\n"
    )


def test_an_unknown_module_in_extends_modules(proj):
    extending(proj, "extends:\n  project: lib\n  modules: [page]\n")
    assert proj.fail(*COMPILE) == (
        "snowgen.yml:4:12: SG210 extends.modules: unknown module 'page' (did you mean 'pages'?) of project base\n"
        " 4 |   modules: [page]\n   |            ^\n"
    )


def test_extends_modules_from_a_var_that_is_not_a_list(proj):
    extending(proj, "extends:\n  project: lib\n  modules: \"{{ var('web') }}\"\nvars: {web: pages}\n")
    assert proj.fail(*COMPILE) == (
        "snowgen.yml:4:12: SG240 var 'web' is 'pages' (str); this setting takes a list of strings\n"
        " 4 |   modules: \"{{ var('web') }}\"\n   |            ^\n"
    )


def test_extends_modules_from_an_unknown_var(proj):
    extending(proj, "extends:\n  project: lib\n  modules: \"{{ var('webb') }}\"\nvars: {web: [pages]}\n")
    assert proj.fail(*COMPILE) == (
        "snowgen.yml:4:12: SG240 unknown var 'webb' (did you mean 'web'?)\n"
        " 4 |   modules: \"{{ var('webb') }}\"\n   |            ^\n"
    )


def test_extends_modules_that_is_neither_a_list_nor_a_var(proj):
    extending(proj, "extends:\n  project: lib\n  modules: pages\n")
    assert proj.fail(*COMPILE) == (
        "snowgen.yml:4:12: SG102 extends.modules: expected a list of module names, or \"{{ var('name') }}\" "
        "naming a var that holds one\n 4 |   modules: pages\n   |            ^\n"
    )


def test_a_sample_of_a_self_describing_event(proj):
    extending(
        proj,
        "extends:\n  project: lib\nincremental:\n  strategy: sessions\n  contexts:\n    - name: play\n"
        "      kind: event\n      schema: iglu:com.acme/play/jsonschema/1-0-0\n      fields: {label: label}\n"
        "      sample: samples/play.csv\n",
    )
    assert proj.fail(*COMPILE) == (
        "snowgen.yml:7:7: SG102 incremental.contexts.0: a sample fills a context's entities; a self-describing "
        "event takes none\n 7 |     - name: play\n   |       ^\n"
    )
