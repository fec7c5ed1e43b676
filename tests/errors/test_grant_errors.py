"""Mistakes in ``grants:`` and in ``snowgen privileges``: located errors (SG101, SG102, SG270,
SG271) and SG272 for the command's own options."""

from __future__ import annotations

PROJECT_GRANTS = """\
grants:
  select:
    bigquery: [analysts@example.com]
"""


def appended(proj, relative: str, text: str):
    """``proj`` with ``text`` added to the end of one of its files."""
    proj.write(relative, proj.root.joinpath(relative).read_text() + text)
    return proj


def test_a_grants_block_compiles(proj):
    assert (
        appended(proj, "snowgen.yml", "grants:\n  select: [reader]\n").run("compile", "--dialect", "postgres").exit_code
        == 0
    )


def test_unknown_dialect_under_a_privilege(proj):
    assert appended(proj, "snowgen.yml", "grants:\n  select:\n    snowflak: [r]\n").fail(
        "compile", "--dialect", "postgres"
    ) == (
        "snowgen.yml:13:5: SG270 unknown dialect 'snowflak' (did you mean 'snowflake'?)\n"
        " 13 |     snowflak: [r]\n"
        "    |     ^\n"
    )


def test_a_bigquery_grantee_must_be_an_iam_principal(proj):
    assert appended(proj, "snowgen.yml", PROJECT_GRANTS).fail("compile", "--dialect", "bigquery") == (
        "snowgen.yml:13:16: SG271 bigquery: grantee 'analysts@example.com' is not an IAM principal "
        "(user:, group:, serviceAccount:, domain:, principal://, principalSet://)\n"
        " 13 |     bigquery: [analysts@example.com]\n"
        "    |                ^\n"
    )


def test_a_grantee_with_a_space_needs_a_known_kind(proj):
    assert appended(proj, "models/page_views.yml", "grants:\n  select: [team readers]\n").fail(
        "compile", "--dialect", "postgres"
    ) == (
        "models/page_views.yml:6:12: SG271 postgres: grantee 'team readers' has a space: quote it "
        '("team readers") or use a known kind (none)\n'
        " 6 |   select: [team readers]\n"
        "   |            ^\n"
    )


def test_an_unknown_privilege(proj):
    assert appended(proj, "models/page_views.yml", "grants:\n  insert: [loader]\n").fail(
        "compile", "--dialect", "postgres"
    ) == (
        "models/page_views.yml:6:3: SG101 unknown key 'insert' (did you mean 'inherit'?)\n"
        " 6 |   insert: [loader]\n"
        "   |   ^\n"
    )


def test_privileges_needs_the_database_where_schemas_are_created(proj):
    assert proj.fail("privileges", "--project", str(proj.root), "--dialect", "snowflake", "--role", "runner") == (
        "snowgen: SG272 snowflake: the role creates the project's schemas in a database: give --database "
        "(or the project's database:)\n"
    )


def test_privileges_role_must_be_one_the_warehouse_names(proj):
    assert proj.fail("privileges", "--project", str(proj.root), "--dialect", "bigquery", "--role", "runner") == (
        "snowgen: SG272 bigquery: grantee 'runner' is not an IAM principal "
        "(user:, group:, serviceAccount:, domain:, principal://, principalSet://)\n"
    )
