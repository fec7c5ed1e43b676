"""The GRANT steps (snowgen.plan.grants): a model's readers after every run of its step, and
the project's schema grants after the schemas step, spelled by the dialect
(snowgen.dialects.grants). GRANT is idempotent on every warehouse that has it, so each run
grants again what a replaced view or table lost. A warehouse without privileges (DuckDB)
gets a step without statements."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlglot import exp

from snowgen.dialects.base import Dialect
from snowgen.dialects.grants import (
    GranteeError,
    catalog_name,
    grant_future_read,
    grant_read,
    grant_usage,
    readers_query,
    revoke_read,
)
from snowgen.dialects.shapes import Script
from snowgen.errors import SnowgenError
from snowgen.plan.data import Grantee, ModelPlan, Plan, Step
from snowgen.plan.grants import for_dialect


def build_grant(plan: Plan, step: Step, dialect: Dialect) -> Script:
    if step.model is not None:
        return Script(statements=model_grants(plan, step.model, dialect))
    return Script(statements=schema_grants(plan, dialect))


def model_grants(plan: Plan, model_name: str, dialect: Dialect) -> list[exp.Expr]:
    """SELECT on the model's table or view for each of its grantees on ``dialect``."""
    model = plan.models[model_name]
    is_view = model.materialization == "view"
    return _each(
        plan,
        model,
        for_dialect(model.grantees, dialect.name),
        dialect,
        lambda name: grant_read(dialect.grants, model.table, is_view, name),
    )


def schema_grants(plan: Plan, dialect: Dialect) -> list[exp.Expr]:
    """Usage of the project's schemas, and reading the tables they will hold."""
    statements: list[exp.Expr] = []
    for grant in plan.schema_grants:
        schema = plan.schemas[grant.schema_key]
        make = grant_usage if grant.privilege == "usage" else grant_future_read
        statements += _each(
            plan,
            None,
            for_dialect(grant.grantees, dialect.name),
            dialect,
            lambda name, make=make, schema=schema: make(dialect.grants, schema, plan.database, name),
        )
    return statements


def _each(
    plan: Plan,
    model: ModelPlan | None,
    grantees: tuple[Grantee, ...],
    dialect: Dialect,
    build: Callable[[str], list[exp.Expr]],
) -> list[exp.Expr]:
    """``build``'s statements for each grantee; one the warehouse cannot name is an SG271 at
    the line that lists it (in the project file, or in ``model``'s)."""
    statements: list[exp.Expr] = []
    for grantee in grantees:
        try:
            statements += build(grantee.name)
        except GranteeError as exc:
            doc = plan.doc if grantee.in_project or model is None else model.doc
            raise SnowgenError.at("SG271", f"{dialect.name}: {exc}", doc.location(grantee.path)) from None
    return statements


# -- revoking what the spec no longer lists (snowgen run --revoke-unlisted) -----------------------


@dataclass(frozen=True)
class ReaderCheck:
    """Who may read one model's table now (``query``, run by the runner) against who the
    spec lists (``listed``, as the catalog names them)."""

    table: exp.Table
    is_view: bool
    listed: frozenset[str]
    query: exp.Select


class CatalogNotRead(ValueError):
    """The warehouse's grants are not read by snowgen (the message says which)."""


def reader_checks(plan: Plan, dialect: Dialect) -> Iterator[ReaderCheck]:
    """One check per model of the plan (a model without grants lists nobody)."""
    spelling = dialect.grants
    if spelling.read is None:
        return
    for model in plan.models.values():
        query = readers_query(spelling, model.table)
        if query is None:
            raise CatalogNotRead(f"{dialect.name}: snowgen reads the grants of postgres only so far")
        listed = for_dialect(model.grantees, dialect.name)
        names = frozenset(catalog_name(spelling, grantee.name) for grantee in listed)
        yield ReaderCheck(model.table, model.materialization == "view", names, query)


def revokes(dialect: Dialect, check: ReaderCheck, readers: list[str]) -> list[exp.Expr]:
    """REVOKE from each of ``readers`` (read from the catalog) the spec does not list."""
    unlisted = sorted(set(readers) - check.listed)
    statements = [revoke_read(dialect.grants, check.table, check.is_view, reader) for reader in unlisted]
    return [statement for statement in statements if statement is not None]
