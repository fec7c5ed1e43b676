"""Mistakes in a model's ``stitch`` option: each is a located error (SG201, SG207, SG230)."""

from __future__ import annotations

import pytest

COMPILE = ("compile", "--dialect", "duckdb")

MAPPING = """\
name: user_mapping
materialization: incremental
unique_key: domain_userid
sql: select domain_userid, user_id from events
"""
SESSIONS = """\
name: sessions
materialization: incremental
unique_key: session_id
stitch:
  column: stitched_user_id
  key: domain_userid
  mapping: user_mapping
  value: user_id
sql: select session_id, domain_userid, domain_userid as stitched_user_id from events
"""


@pytest.fixture
def st(proj):
    proj.remove("models/page_views.yml")
    proj.write("models/user_mapping.yml", MAPPING)
    proj.write("models/sessions.yml", SESSIONS)
    return proj


def test_the_project_compiles(st):
    assert st.run(*COMPILE).exit_code == 0


def test_unknown_mapping_model(st):
    st.write("models/sessions.yml", SESSIONS.replace("mapping: user_mapping", "mapping: user_maping"))
    assert st.fail(*COMPILE) == (
        "models/sessions.yml:7:12: SG201 stitch: mapping: unknown model 'user_maping' (did you mean 'user_mapping'?)\n"
        " 7 |   mapping: user_maping\n"
        "   |            ^\n"
    )


def test_disabled_mapping_model(st):
    st.write("models/user_mapping.yml", MAPPING + "enabled: false\n")
    assert st.fail(*COMPILE) == (
        "models/sessions.yml:7:12: SG201 stitch: mapping: model 'user_mapping' is disabled (enabled: false)\n"
        " 7 |   mapping: user_mapping\n"
        "   |            ^\n"
    )


def test_mapping_without_a_unique_key(st):
    st.write("models/user_mapping.yml", "name: user_mapping\nsql: select domain_userid, user_id from events\n")
    assert st.fail(*COMPILE) == (
        "models/sessions.yml:7:12: SG230 stitch: mapping model 'user_mapping' has no unique_key (materialization: "
        "table); a mapping is an incremental model with a single-column unique_key, so that each key maps to one "
        "value\n"
        " 7 |   mapping: user_mapping\n"
        "   |            ^\n"
    )


def test_mapping_with_a_composite_unique_key(st):
    composite = MAPPING.replace("unique_key: domain_userid", "unique_key: [domain_userid, user_id]")
    st.write("models/user_mapping.yml", composite)
    assert st.fail(*COMPILE).startswith(
        "models/sessions.yml:7:12: SG230 stitch: mapping model 'user_mapping' has a composite unique_key "
        "(domain_userid, user_id); a mapping is an incremental model with a single-column unique_key"
    )


def test_mapping_built_for_each_instance(st):
    with_instances = (
        st.root.joinpath("snowgen.yml")
        .read_text()
        .replace("    table: events\n", "    table: events\n    instances: {eu: {schema: eu}, us: {schema: us}}\n")
    )
    st.write("snowgen.yml", with_instances)
    st.write("models/user_mapping.yml", MAPPING + "for_each: events\n")
    assert st.fail(*COMPILE) == (
        "models/sessions.yml:7:12: SG230 stitch: mapping model 'user_mapping' is built once per instance of 'events' "
        "(for_each); a mapping is one table\n"
        " 7 |   mapping: user_mapping\n"
        "   |            ^\n"
    )


def test_a_model_that_is_its_own_mapping(st):
    st.write("models/sessions.yml", SESSIONS.replace("mapping: user_mapping", "mapping: sessions"))
    assert st.fail(*COMPILE) == (
        "models/sessions.yml:7:12: SG230 stitch: model 'sessions' cannot be its own mapping\n"
        " 7 |   mapping: sessions\n"
        "   |            ^\n"
    )


def test_a_view_cannot_be_stitched(st):
    view = SESSIONS.replace("materialization: incremental\nunique_key: session_id\n", "materialization: view\n")
    st.write("models/sessions.yml", view)
    assert st.fail(*COMPILE) == (
        "models/sessions.yml:3:1: SG230 stitch: a view stores no rows to stitch; make the model a table or "
        "incremental, or stitch the model the view reads\n"
        " 3 | stitch:\n"
        "   | ^\n"
    )


@pytest.mark.parametrize(
    "part,line,owner,hint",
    [
        ("column", 5, "sessions", "stitched_user_id"),
        ("key", 6, "sessions", "domain_userid"),
        ("value", 8, "user_mapping", "user_id"),
    ],
)
def test_unknown_column(st, part, line, owner, hint):
    st.write("models/sessions.yml", SESSIONS.replace(f"  {part}: {hint}", f"  {part}: {hint}x"))
    col = len(f"  {part}: ") + 1
    assert st.fail(*COMPILE) == (
        f"models/sessions.yml:{line}:{col}: SG207 column '{hint}x' is not an output column of model '{owner}' "
        f"(did you mean '{hint}'?)\n"
        f" {line} |   {part}: {hint}x\n"
        f"   | {' ' * (col - 1)}^\n"
    )


def test_the_stitched_column_is_a_key(st):
    st.write("models/sessions.yml", SESSIONS.replace("column: stitched_user_id", "column: session_id"))
    assert st.fail(*COMPILE) == (
        "models/sessions.yml:5:11: SG230 stitch: column 'session_id' is a key of model 'sessions'; stitch a column "
        "that is neither 'stitch.key' nor part of 'unique_key'\n"
        " 5 |   column: session_id\n"
        "   |           ^\n"
    )


def test_a_mapping_that_reads_the_stitched_model(st):
    st.write("models/user_mapping.yml", MAPPING.replace("from events", "from sessions"))
    assert st.fail(*COMPILE).startswith(
        "models/sessions.yml:7:12: SG230 stitch: mapping model 'user_mapping' reads model 'sessions' (directly or "
        "through other models), so it cannot be updated before the model is stitched\n"
    )


def test_a_mapping_in_a_later_module(st):
    st.write("snowgen.yml", st.root.joinpath("snowgen.yml").read_text() + "modules: [sessions, users]\n")
    st.write("models/user_mapping.yml", MAPPING + "module: users\n")
    st.write("models/sessions.yml", SESSIONS + "module: sessions\n")
    assert st.fail(*COMPILE).startswith(
        "models/sessions.yml:7:12: SG230 stitch: mapping model 'user_mapping' is in module 'users', which runs after "
        "module 'sessions' of model 'sessions'; the mapping must be updated first\n"
    )


def test_a_mapping_module_that_reads_the_stitched_models_module(st):
    # No declared order: the mapping's module reads the sessions module (through 'lookup'),
    # so no module order runs the mapping first.
    st.write("models/lookup.yml", "name: lookup\nmodule: sessions\nsql: select 1 as one from events\n")
    reads_lookup = MAPPING.replace("from events", "from events cross join lookup")
    st.write("models/user_mapping.yml", reads_lookup + "module: users\n")
    st.write("models/sessions.yml", SESSIONS + "module: sessions\n")
    assert st.fail(*COMPILE).startswith(
        "models/sessions.yml:7:12: SG230 stitch: mapping model 'user_mapping' is in module 'users', which runs after "
        "module 'sessions' of model 'sessions'"
    )


def test_a_stitch_without_value(st):
    st.write("models/sessions.yml", SESSIONS.replace("  value: user_id\n", ""))
    assert st.fail(*COMPILE) == ("models/sessions.yml:4:1: SG103 missing required key 'value'\n 4 | stitch:\n   | ^\n")
