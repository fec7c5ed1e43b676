"""Mistakes in the sessions strategy's identifier settings (session_identifiers, session_sql,
user_identifiers, user_sql), written in the block or taken from a var: each is a located
error (SG102, SG201, SG240, SG241, SG246)."""

from __future__ import annotations

import pytest

COMPILE = ("compile", "--dialect", "duckdb")

PROJECT = """\
project: demo
sources:
  events:
    schema: atomic
    table: events
    columns: {event_id: string, collector_tstamp: timestamp, domain_sessionid: string, domain_userid: string, user_id: string, dvce_created_tstamp: timestamp, dvce_sent_tstamp: timestamp}
vars:
  user_identifiers: [{schema: atomic, field: domain_userid}]
incremental:
  strategy: sessions
  user_identifiers: "{{ var('user_identifiers') }}"
"""
MODEL = "name: page_views\nsql: select event_id from demo_base_events_this_run\n"


@pytest.fixture
def ids(proj):
    proj.write("snowgen.yml", PROJECT)
    proj.write("models/page_views.yml", MODEL)
    return proj


def with_setting(proj, line: str) -> None:
    proj.write("snowgen.yml", PROJECT + f"  {line}\n")


def test_the_project_compiles(ids):
    with_setting(ids, "session_sql: \"upper(e.domain_userid) || '-' || domain_sessionid\"")
    assert ids.run(*COMPILE).exit_code == 0


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('session_sql: "e.domain_sessionid ||"', "SG241 session_sql: 'e.domain_sessionid ||' is not a SQL expression"),
        ('session_sql: "select 1"', "SG241 session_sql: 'select 1' is not exactly one SQL expression"),
        (
            'session_sql: "e.app_id"',
            "SG246 session_sql 'e.app_id': 'app_id' is not a column of the events table",
        ),
        (
            'session_sql: "x.user_id"',
            "SG246 session_sql 'x.user_id': 'x.user_id' is not a column of the events (write e.column or column)",
        ),
        (
            'session_sql: "max(e.domain_sessionid)"',
            "SG246 session_sql 'max(e.domain_sessionid)': the session identifier groups the events, "
            "so it cannot aggregate them",
        ),
        (
            'user_sql: "(select max(user_id) from atomic.events)"',
            "SG246 user_sql '(select max(user_id) from atomic.events)': a subquery reads other tables",
        ),
        (
            'user_sql: "row_number() over (order by e.user_id)"',
            "SG246 user_sql 'row_number() over (order by e.user_id)': a window function has no place in an identifier",
        ),
        (
            "session_identifiers: [{schema: atomic, field: domain_sesionid}]",
            "SG201 identifier: 'domain_sesionid' is not a column of the events table (did you mean 'domain_sessionid'?)",
        ),
        (
            "session_identifiers: [{schema: 'com.acme/x', field: sid}]",
            "SG102 identifier schema 'com.acme/x': expected atomic, an entity's Iglu URI",
        ),
        (
            "session_identifiers: [{schema: unstruct_event_com_acme_x_1, field: sid}]",
            "SG102 identifier schema 'unstruct_event_com_acme_x_1': expected atomic",
        ),
    ],
)
def test_a_wrong_identifier_setting_is_located_at_it(ids, line, message):
    with_setting(ids, line)
    error = ids.fail(*COMPILE)
    assert error.startswith("snowgen.yml:12:") and message in error.splitlines()[0], error


def test_an_identifier_var_must_be_a_list_of_maps(ids):
    ids.write("snowgen.yml", PROJECT.replace("[{schema: atomic, field: domain_userid}]", "domain_userid"))
    assert ids.fail(*COMPILE) == (
        "snowgen.yml:11:21: SG240 var 'user_identifiers' is 'domain_userid' (str); "
        "this setting takes a list of maps with the keys schema, field, prefix\n"
        " 11 |   user_identifiers: \"{{ var('user_identifiers') }}\"\n"
        "    |                     ^\n"
    )


def test_an_identifier_map_takes_only_snowplows_keys(ids):
    ids.write("snowgen.yml", PROJECT.replace("field: domain_userid}", "field: domain_userid, alias: u}"))
    assert "SG240 var 'user_identifiers' is [{'schema': 'atomic', 'field': 'domain_userid', 'alias': 'u'}]" in ids.fail(
        *COMPILE
    )


def test_an_identifier_sql_var_must_be_text(ids):
    ids.write(
        "snowgen.yml", PROJECT.replace("vars:\n", "vars:\n  user_sql: ''\n") + "  user_sql: \"{{ var('user_sql') }}\"\n"
    )
    assert "SG240 var 'user_sql' is 3 (int); this setting takes text (a SQL expression)" in ids.fail(
        *COMPILE, "--vars", "{user_sql: 3}"
    )
