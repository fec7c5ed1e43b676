"""snowgen lineage, docs and privileges: what a project's plan says about itself and
about the role that runs it."""

from __future__ import annotations

import click

from snowgen import api
from snowgen.cli.options import compile_options, one_project_option, output_root, reports_errors, single_project


@click.command("lineage")
@click.argument("column", metavar="MODEL.COLUMN")
@one_project_option
@click.option("--target", help="a target of the project file (its vars); default: the project's target")
@click.option("--vars", "vars_text", help="override project vars, as JSON or YAML")
@reports_errors
def lineage_command(column, project, target, vars_text) -> None:
    """Print which columns of upstream models, seeds and sources feed a model's column."""
    loaded = api.load_project(single_project(project))
    click.echo("\n".join(api.column_lineage(loaded, column, compile_options(target, vars_text, ()))))


#: where ``snowgen docs`` writes the site unless told
DOCS_FOLDER = "snowgen-docs"


@click.command("docs")
@one_project_option
@click.option(
    "--out", type=click.Path(), default=DOCS_FOLDER, show_default=True, help="the folder to write the site to"
)
@click.option("--target", help="a target of the project file (its vars); default: the project's target")
@click.option("--vars", "vars_text", help="override project vars, as JSON or YAML")
@reports_errors
def docs_command(project, out, target, vars_text) -> None:
    """Write a static site (DAG, models, columns, lineage, layout and SQL per dialect) to open from disk."""
    root = output_root(out, DOCS_FOLDER)
    loaded = api.load_project(single_project(project))
    folder = api.write_docs(root, api.docs_site(loaded, compile_options(target, vars_text, ())))
    click.echo(f"wrote {folder / 'index.html'}")


@click.command("privileges")
@one_project_option
@click.option("--dialect", "-d", "dialect_name", required=True, help="the warehouse to print the grants for")
@click.option("--role", required=True, help="the role (user, IAM principal) that runs snowgen")
@click.option("--database", help="the database (catalog) the schemas are created in (default: the project's database)")
@click.option("--vars", "vars_text", help="override project vars, as JSON or YAML")
@click.option("--target", help="a target of the project file (its vars)")
@reports_errors
def privileges_command(project, dialect_name, role, database, vars_text, target) -> None:
    """Print the GRANT statements the role that runs the project needs: read the sources,
    create the derived, scratch and manifest schemas (and so own what it makes in them)."""
    loaded = api.load_project(single_project(project))
    dialect = api.dialect_for(loaded, dialect=dialect_name)
    options = compile_options(target, vars_text, ())
    click.echo("\n".join(api.privileges(loaded, dialect, role, database, options)))
