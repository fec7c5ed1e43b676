"""snowgen as a library: the one surface the command line, tests, benchmarks and schedulers use.

The stages, each a package: :mod:`snowgen.spec` (load) -> :mod:`snowgen.plan` (spec -> frozen
plan) -> :mod:`snowgen.build` (plan x dialect -> sqlglot trees) -> :mod:`snowgen.emit` (text,
plan.json, the writer); :mod:`snowgen.runner` executes compiled files. Options are frozen
values (:class:`CompileOptions`, :class:`RunOptions`) checked when made, so a caller gets the
same coded errors as the command line.

This package re-exports every name of the surface; each module holds one subject:
options (CompileOptions, RunOptions), compiling (finding, planning, compiling and writing
projects), databases (a command's dialect and database, sources' DDL, samples), docs
(lineage, the docs site, the runner's privileges), manifest (manifest changes), checks
(snowgen health and snowgen test) and runs (preparing a run, revoking unlisted grants).
"""

from __future__ import annotations

from snowgen.api.checks import data_tests, health, health_checks
from snowgen.api.compiling import (
    check_dialects,
    check_output,
    compile_loaded,
    compile_plan,
    compile_planned,
    compile_project,
    compile_projects,
    find_projects,
    plan_loaded,
    target_of,
    write_output,
)
from snowgen.api.databases import database_for, dialect_for, execute_sql, sample_data, source_ddl
from snowgen.api.docs import column_lineage, docs_site, lineage, privileges, write_docs
from snowgen.api.manifest import ManifestChange, manifest_remove, manifest_rewind
from snowgen.api.options import CompileOptions, RunOptions
from snowgen.api.runs import prepare_run, revoke_unlisted
from snowgen.emit.render import CompiledProject
from snowgen.emit.store import CACHE_FOLDER
from snowgen.errors import SnowgenError
from snowgen.plan.backfill import Backfill, parse_backfill
from snowgen.plan.data import Plan
from snowgen.plan.lineage import ProjectLineage
from snowgen.runner.connectors import display_url
from snowgen.runner.drive import run_plan
from snowgen.runner.execute import PlannedStep, StepFailed, StepResult
from snowgen.runner.health import HealthReport
from snowgen.runner.output import RunOutput, RunSummary, make_output
from snowgen.runner.samples import SampleLoad, load_sample
from snowgen.runner.session import Database, PreparedRun, RunSession, run_session, shown_database
from snowgen.spec.loader import LoadedProject, discover_projects, load_project
from snowgen.spec.schema import KINDS as SCHEMA_KINDS
from snowgen.spec.schema import json_schema, schema_text

__all__ = [
    "CACHE_FOLDER",
    "SCHEMA_KINDS",
    "Backfill",
    "CompileOptions",
    "CompiledProject",
    "Database",
    "HealthReport",
    "LoadedProject",
    "ManifestChange",
    "Plan",
    "PlannedStep",
    "PreparedRun",
    "ProjectLineage",
    "RunOptions",
    "RunOutput",
    "RunSession",
    "RunSummary",
    "SampleLoad",
    "SnowgenError",
    "StepFailed",
    "StepResult",
    "check_dialects",
    "check_output",
    "column_lineage",
    "compile_loaded",
    "compile_plan",
    "compile_planned",
    "compile_project",
    "compile_projects",
    "data_tests",
    "database_for",
    "dialect_for",
    "discover_projects",
    "display_url",
    "docs_site",
    "execute_sql",
    "find_projects",
    "health",
    "health_checks",
    "json_schema",
    "lineage",
    "load_project",
    "load_sample",
    "make_output",
    "manifest_remove",
    "manifest_rewind",
    "parse_backfill",
    "plan_loaded",
    "prepare_run",
    "privileges",
    "revoke_unlisted",
    "run_plan",
    "run_session",
    "sample_data",
    "schema_text",
    "shown_database",
    "source_ddl",
    "target_of",
    "write_docs",
    "write_output",
]
