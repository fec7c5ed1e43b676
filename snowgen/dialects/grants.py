"""Grants as each warehouse spells them: every dialect module holds its spelling as data
(:class:`GrantSpelling`, ``Dialect.grants``, with the vendor's page), and the trees are
built here from it. sqlglot has ``exp.Grant`` / ``exp.Revoke`` nodes that print the
keyword, privilege, object kind and principals as given (sqlglot-30 notes, row 41); what
differs per warehouse is which words go in them, so no dialect needs a lowering.

One statement per grantee: Snowflake and Databricks name one grantee per GRANT.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from sqlglot import exp

from snowgen.names import canonical

#: how a warehouse grants SELECT on the tables a schema will hold: FUTURE grants
#: (Snowflake), ALTER DEFAULT PRIVILEGES (Postgres, Redshift), or a grant on the schema
#: itself that its tables inherit (BigQuery datasets, Databricks Unity Catalog schemas)
FutureRead = Literal["future", "default_privileges", "schema"]


class GranteeError(ValueError):
    """A grantee the warehouse cannot name (the message says what it expects)."""


@dataclass(frozen=True)
class GrantSpelling:
    #: the privilege that lets a grantee read a table or view; None: the warehouse has no
    #: privileges (``absent`` says so)
    read: str | None
    #: the object kind a view is granted on (``TABLE`` covers views on some warehouses)
    view_kind: str = "TABLE"
    #: the schema privilege needed to reach its tables (None: none exists, the grant is skipped)
    usage: str | None = "USAGE"
    future_read: FutureRead | None = "default_privileges"
    #: a schema is named within its database (``db.schema``); Postgres and Redshift name a
    #: schema alone (of the connection's database)
    qualified_schemas: bool = True
    #: the privilege on the database (catalog) granted with schema usage, and its kind
    #: (None: none needed)
    database_usage: str | None = None
    database_kind: str = "DATABASE"
    #: a grantee's first word -> its principal keyword (Redshift ``group analysts``)
    principal_kinds: Mapping[str, str] = field(default_factory=dict)
    #: the keyword of a grantee written without one (Snowflake: ROLE)
    default_principal_kind: str | None = None
    #: the privilege is an IAM role, printed as a quoted name (BigQuery)
    read_is_role: bool = False
    #: grantees are strings (BigQuery IAM principals) matching this pattern; None: names
    principal_pattern: str | None = None
    principal_hint: str = ""
    #: names keep their case as written (Databricks principals), else plain names fold
    exact_principals: bool = False
    #: why the warehouse has no grants (with ``read`` None)
    absent: str | None = None
    # -- what the role running snowgen needs (``snowgen privileges``) --
    #: the privilege on the database (``database_kind``) to create schemas: the role then
    #: owns them and all it creates in them (None: DCL cannot grant it)
    create_schema: str | None = "CREATE"
    #: the privilege granted on each of the project's schemas instead (they must exist)
    write_schema: str | None = None
    #: what the role needs that no GRANT of this kind gives (printed as comments)
    runner_notes: tuple[str, ...] = ()
    #: where ``snowgen run --revoke-unlisted`` reads who may read a table (None: not yet)
    grantees_catalog: Literal["role_table_grants"] | None = None


def principal(spelling: GrantSpelling, grantee: str, exact: bool = False) -> exp.GrantPrincipal:
    """The principal ``grantee`` names, as the warehouse spells it (``exact``: a name read
    from the warehouse's catalog, used as it is)."""
    if spelling.principal_pattern is not None:
        if not re.fullmatch(spelling.principal_pattern, grantee):
            raise GranteeError(f"grantee '{grantee}' is not {spelling.principal_hint}")
        return exp.GrantPrincipal(this=exp.Literal.string(grantee))
    if exact:
        return exp.GrantPrincipal(this=exp.to_identifier(grantee, quoted=True), kind=spelling.default_principal_kind)
    kind = spelling.default_principal_kind
    first, _, rest = grantee.partition(" ")
    if rest.strip() and first.lower() in spelling.principal_kinds:
        kind, grantee = spelling.principal_kinds[first.lower()], rest.strip()
    elif " " in grantee and not grantee.startswith('"') and not spelling.exact_principals:
        kinds = ", ".join(f"'{word} NAME'" for word in spelling.principal_kinds) or "none"
        raise GranteeError(f"grantee '{grantee}' has a space: quote it (\"{grantee}\") or use a known kind ({kinds})")
    name = grantee if spelling.exact_principals else canonical(grantee)
    # a plain name is folded like any identifier when printed (snowgen.names)
    return exp.GrantPrincipal(this=exp.to_identifier(name, quoted=spelling.exact_principals or None), kind=kind)


def _privilege(spelling: GrantSpelling, word: str) -> exp.GrantPrivilege:
    if spelling.read_is_role:
        return exp.GrantPrivilege(this=exp.to_identifier(word, quoted=True))
    return exp.GrantPrivilege(this=exp.var(word))


def _grant(privilege: exp.GrantPrivilege, kind: str, securable: exp.Expr | None, who: exp.GrantPrincipal) -> exp.Grant:
    return exp.Grant(privileges=[privilege], kind=kind, securable=securable, principals=[who])


def grant_read(spelling: GrantSpelling, table: exp.Table, is_view: bool, grantee: str) -> list[exp.Expr]:
    """SELECT (or the reading role) on one table or view."""
    if spelling.read is None:
        return []
    kind = spelling.view_kind if is_view else "TABLE"
    return [_grant(_privilege(spelling, spelling.read), kind, table.copy(), principal(spelling, grantee))]


def revoke_read(spelling: GrantSpelling, table: exp.Table, is_view: bool, grantee: str) -> exp.Revoke | None:
    """The revoke of :func:`grant_read` from a grantee named as the catalog names it (None:
    the warehouse has no grants)."""
    if spelling.read is None:
        return None
    kind = spelling.view_kind if is_view else "TABLE"
    who = principal(spelling, grantee, exact=True)
    return exp.Revoke(
        privileges=[_privilege(spelling, spelling.read)], kind=kind, securable=table.copy(), principals=[who]
    )


def grant_usage(spelling: GrantSpelling, schema: str, database: str | None, grantee: str) -> list[exp.Expr]:
    """Usage of a schema (and of its database where the warehouse wants both)."""
    if spelling.read is None or spelling.usage is None:
        return []
    who = principal(spelling, grantee)
    statements: list[exp.Expr] = []
    if database and spelling.database_usage:
        statements.append(grant_on_database(spelling, spelling.database_usage, database, grantee))
    statements.append(
        _grant(
            exp.GrantPrivilege(this=exp.var(spelling.usage)), "SCHEMA", schema_table(spelling, schema, database), who
        )
    )
    return statements


def grant_future_read(spelling: GrantSpelling, schema: str, database: str | None, grantee: str) -> list[exp.Expr]:
    """Read access to the tables (and views) the schema will hold."""
    if spelling.read is None or spelling.future_read is None:
        return []
    who = principal(spelling, grantee)
    privilege = _privilege(spelling, spelling.read)
    target = schema_table(spelling, schema, database)
    if spelling.future_read == "schema":
        return [_grant(privilege, "SCHEMA", target, who)]
    if spelling.future_read == "future":
        return [
            _grant(privilege.copy(), f"FUTURE {kind} IN SCHEMA", target.copy(), who.copy())
            for kind in ("TABLES", "VIEWS")
        ]
    # ALTER DEFAULT PRIVILEGES: only for objects the role running it creates, which are
    # the tables snowgen creates when the run's role runs this step
    tables = _grant(privilege, "TABLES", None, who)
    return [exp.Alter(kind="DEFAULT PRIVILEGES IN SCHEMA", this=target, actions=[tables])]


def catalog_name(spelling: GrantSpelling, grantee: str) -> str:
    """A grantee as the catalog of :func:`readers_query` names it."""
    first, _, rest = grantee.partition(" ")
    if rest.strip() and first.lower() in spelling.principal_kinds:
        grantee = rest.strip()
    return grantee if spelling.exact_principals else canonical(grantee)


def readers_query(spelling: GrantSpelling, table: exp.Table) -> exp.Select | None:
    """Who other than the running role may SELECT from ``table``, one name a row (None:
    snowgen does not read this warehouse's grants yet). ``role_table_grants`` lists the
    grants the running role made or holds: https://www.postgresql.org/docs/15/infoschema-role-table-grants.html"""
    if spelling.grantees_catalog is None:
        return None
    condition = exp.and_(
        exp.column("table_schema").eq(exp.Literal.string(table.db)),
        exp.column("table_name").eq(exp.Literal.string(table.name)),
        exp.column("privilege_type").eq(exp.Literal.string("SELECT")),
        exp.column("grantee").neq(exp.CurrentUser()),
    )
    catalog = exp.table_(spelling.grantees_catalog, db="information_schema")
    return exp.select(exp.column("grantee")).distinct().from_(catalog).where(condition).order_by(exp.column("grantee"))


def grant_on_database(spelling: GrantSpelling, privilege: str, database: str, grantee: str) -> exp.Grant:
    on_database = exp.Table(this=exp.to_identifier(database))
    return _grant(
        exp.GrantPrivilege(this=exp.var(privilege)), spelling.database_kind, on_database, principal(spelling, grantee)
    )


def grant_on_schema(
    spelling: GrantSpelling, privilege: str, schema: str, database: str | None, grantee: str
) -> exp.Grant:
    """``privilege`` (a role where the warehouse grants roles) on one schema."""
    return _grant(
        _privilege(spelling, privilege),
        "SCHEMA",
        schema_table(spelling, schema, database),
        principal(spelling, grantee),
    )


def schema_table(spelling: GrantSpelling, schema: str, database: str | None) -> exp.Table:
    within = database if database and spelling.qualified_schemas else None
    return exp.Table(this=exp.to_identifier(schema), db=exp.to_identifier(within) if within else None)
