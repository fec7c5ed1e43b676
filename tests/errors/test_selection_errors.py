"""--select and --exclude mistakes (SG402, SG450, SG451) and a bad ``tags:`` entry, in full:
exit 2, nothing written, on compile and on run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

COMPILE = ("compile", "--dialect", "duckdb")
SPECS = Path(__file__).resolve().parents[2] / "model_specs"
METHODS = "; use one of module, path, tag or a model name"

TAGGED = """\
name: page_views
module: web
tags: [daily, finance]
sql: |
  select event_id, page_url, collector_tstamp
  from events
"""


@pytest.fixture
def tagged(proj):
    proj.write("models/page_views.yml", TAGGED)
    return proj


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--select", "module:nope", "--select 'module:nope': unknown module 'nope'; modules: web"),
        ("--select", "module:we", "--select 'module:we': unknown module 'we' (did you mean 'web'?); modules: web"),
        ("--select", "tag:weekly", "--select 'tag:weekly': unknown tag 'weekly'; tags: daily, finance"),
        (
            "--select",
            "tag:dayly",
            "--select 'tag:dayly': unknown tag 'dayly' (did you mean 'daily'?); tags: daily, finance",
        ),
        ("--select", "tag:w*", "--select 'tag:w*': no tag matches 'w*'; tags: daily, finance"),
        ("--select", "+page_view", "--select '+page_view': unknown model 'page_view' (did you mean 'page_views'?)"),
        ("--select", "pv_*", "--select no model matches 'pv_*'"),
        (
            "--select",
            "path:models/web",
            "--select 'path:models/web': no model file at or under 'models/web' (relative to the project folder); "
            "model folders: models",
        ),
        ("--exclude", "module:nope", "--exclude 'module:nope': unknown module 'nope'; modules: web"),
        ("--exclude", "page_views", "--exclude 'page_views' leaves no model to run"),
        ("--select", "page_views,tag:weekly", "--select 'tag:weekly': unknown tag 'weekly'; tags: daily, finance"),
    ],
)
def test_a_selector_that_matches_nothing(tagged, option, value, expected):
    assert tagged.fail(*COMPILE, option, value) == f"snowgen: SG402 {expected}\n"


def test_an_intersection_that_leaves_nothing(tagged):
    stderr = tagged.fail(*COMPILE, "--select", "tag:daily", "--exclude", "tag:finance")
    assert stderr == "snowgen: SG402 --select 'tag:daily' --exclude 'tag:finance' leaves no model to run\n"


def test_a_tag_where_no_model_has_tags(proj):
    expected = "snowgen: SG402 --select 'tag:daily': no model has tags; give a model 'tags: [daily]'\n"
    assert proj.fail(*COMPILE, "--select", "tag:daily") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "config.materialized:table",
            f"'config.materialized:table': unknown selector method 'config.materialized'{METHODS}",
        ),
        ("source:events", f"'source:events': unknown selector method 'source'{METHODS}"),
        ("@+page_views", "'@+page_views': '@' already selects every parent; drop the '+' before"),
        ("+", "'+': no model, module, tag or path named"),
        ("tag:", "'tag:': no model, module, tag or path named"),
        ("page_views,", "'page_views,': an empty selector beside a comma"),
    ],
)
@pytest.mark.parametrize("command", [COMPILE, ("run",)], ids=["compile", "run"])
def test_a_malformed_selector(tagged, command, value, expected):
    assert tagged.fail(*command, "--select", value) == f"snowgen: SG450 --select {expected}\n"
    assert not (tagged.root / "snowgen.duckdb").exists()


def test_a_malformed_exclude(tagged):
    expected = "snowgen: SG450 --exclude 'source:events': unknown selector method 'source'; use one of module, path, "
    assert tagged.fail(*COMPILE, "--exclude", "source:events") == expected + "tag or a model name\n"


@pytest.fixture
def web(proj, monkeypatch):
    root = proj.root / "snowplow_web"
    shutil.copytree(SPECS / "snowplow_web", root)
    monkeypatch.chdir(root)
    return proj


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("--exclude", "snowplow_web_users_this_run"),
            "--exclude removes 'snowplow_web_users_this_run', but selected model 'snowplow_web_users' reads it as "
            "rebuilt for this run's window",
        ),
        (
            ("--select", "module:page_views", "--exclude", "module:base"),
            "--exclude removes 'snowplow_web_base_events_this_run', but the base module computes the run's window "
            "and events for selected model 'snowplow_web_page_views'",
        ),
        (
            ("--select", "+snowplow_web_users", "--exclude", "snowplow_web_incremental_manifest"),
            "--exclude removes 'snowplow_web_incremental_manifest', but the base module computes the run's window "
            "and events for selected model 'snowplow_web_sessions'",
        ),
    ],
    ids=["this-run-input", "base-module", "manifest"],
)
@pytest.mark.parametrize("command", [COMPILE, ("run",)], ids=["compile", "run"])
def test_an_exclude_that_removes_what_the_selection_needs(web, command, args, expected):
    suffix = "; exclude the models that need it too, or select fewer\n"
    assert web.fail(*command, *args) == f"snowgen: SG451 {expected}{suffix}"
    assert not (web.root / "snowplow_web" / "snowplow_web.duckdb").exists()


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ("[daily, 'two words']", "models/page_views.yml:3:15: SG102 tags.1: 'two words' is not a valid tag"),
        ("'a,b'", "models/page_views.yml:3:7: SG102 tags: 'a,b' is not a valid tag"),
        ("{daily: true}", "models/page_views.yml:3:7: SG102 tags: input should be a valid list"),
    ],
    ids=["in-a-list", "shorthand", "not-a-list"],
)
def test_a_bad_tag_is_located(proj, tags, expected):
    proj.write("models/page_views.yml", TAGGED.replace("[daily, finance]", tags))
    assert proj.fail(*COMPILE).startswith(expected)
