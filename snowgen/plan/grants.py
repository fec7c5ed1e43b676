"""Grants: who gets which privilege on the models and schemas (the spec's ``grants:``).

Planned once, dialect-neutral: each grantee keeps the spec position it was written at and
the warehouse it was written for (None: every warehouse), so a builder can take the
grantees of its dialect and blame a grantee its warehouse cannot name on its own line.

- a model's ``grants.select`` replaces the project's ``grants.select`` (``inherit: true``
  adds to it); a model without ``grants`` gets the project's when it lives in the derived
  schema (scratch tables are rebuilt every run and the manifest is the run's state);
- each model with grantees gets a GRANT step right after its own step, so grants lost when
  a view or table is replaced (``CREATE OR REPLACE``) are granted again by every run;
- the project's ``grants.schemas`` make one GRANT step after the schemas step.
"""

from __future__ import annotations

from dataclasses import replace

from snowgen.dialects import NAMES, unknown_dialect_message
from snowgen.errors import SnowgenError
from snowgen.plan.data import SETUP_STEP, Grantee, ModelPlan, SchemaGrant, Step, StepKind
from snowgen.spec.models import Grantees
from snowgen.spec.yaml_source import YamlDocument

#: the step granting the project's ``grants.schemas``
SCHEMA_GRANTS_STEP = "grant_schemas"
#: what a model's grant step's id ends with
GRANT_STEP_SUFFIX = "__grants"


def for_dialect(grantees: tuple[Grantee, ...], dialect: str) -> tuple[Grantee, ...]:
    """The grantees written for ``dialect`` or for every warehouse, each name once."""
    chosen: dict[str, Grantee] = {}
    for grantee in grantees:
        if grantee.dialect in (None, dialect):
            chosen.setdefault(grantee.name, grantee)
    return tuple(chosen.values())


def grantees_of(value: Grantees, doc: YamlDocument, in_project: bool, path: tuple) -> tuple[Grantee, ...]:
    """The grantees of one ``select:`` / ``usage:`` value of ``doc``; a warehouse key must be
    one of snowgen's dialects (SG270 at the key)."""
    if isinstance(value, list):
        return tuple(Grantee(name, None, in_project, (*path, i)) for i, name in enumerate(value))
    found: list[Grantee] = []
    for dialect, names in value.items():
        if dialect not in NAMES:
            raise SnowgenError.at("SG270", unknown_dialect_message(dialect), doc.location((*path, dialect), key=True))
        found += [Grantee(name, dialect, in_project, (*path, dialect, i)) for i, name in enumerate(names)]
    return tuple(found)


def with_grantees(project_doc: YamlDocument, spec, models: dict[str, ModelPlan]) -> dict[str, ModelPlan]:
    """``models`` with who may read each (none when the project's ``grants.enabled`` is false)."""
    if not spec.grants.enabled:
        return models
    default = grantees_of(spec.grants.select, project_doc, True, ("grants", "select"))
    result = dict(models)
    for name, model in models.items():
        own = model.spec.grants
        if own is None:
            grantees = default if model.schema_key == "derived" else ()
        else:
            grantees = grantees_of(own.select, model.doc, False, ("grants", "select"))
            grantees = (*default, *grantees) if own.inherit else grantees
        if grantees:
            result[name] = replace(model, grantees=grantees)
    return result


def schema_grants(project_doc: YamlDocument, spec) -> tuple[SchemaGrant, ...]:
    """The project's ``grants.schemas``, one entry per schema and privilege."""
    if not spec.grants.enabled:
        return ()
    return tuple(
        SchemaGrant(key, privilege, grantees_of(value, project_doc, True, ("grants", "schemas", key, privilege)))
        for key, item in spec.grants.schemas.items()
        for privilege, value in (("usage", item.usage), ("select", item.select))
        if value
    )


def with_grant_steps(
    steps: list[Step], models: dict[str, ModelPlan], schemas: tuple[SchemaGrant, ...], project_file: str
) -> list[Step]:
    """A GRANT step after each granted model's step, and one after the schemas step for the
    project's schema grants."""
    result: list[Step] = []
    for step in steps:
        result.append(step)
        model = models.get(step.model) if step.model else None
        if model is not None and model.grantees and step.id == step.model:
            result.append(
                Step(
                    id=step.model + GRANT_STEP_SUFFIX,
                    module=step.module,
                    kind=StepKind.GRANT,
                    spec_file=step.spec_file,
                    depends_on=(step.id,),
                    model=step.model,
                )
            )
        if step.id == SETUP_STEP and schemas:
            result.append(
                Step(
                    id=SCHEMA_GRANTS_STEP,
                    module=step.module,
                    kind=StepKind.GRANT,
                    spec_file=project_file,
                    depends_on=(SETUP_STEP,),
                )
            )
    return result
