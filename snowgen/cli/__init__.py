"""The ``snowgen`` command: thin click commands over :mod:`snowgen.api`.

``main`` is the group every command registers on; the commands live in modules by subject:
compiling (compile, validate, schema), running (run, sources, sample-data, health, test),
inspecting (lineage, docs, privileges) and manifest (manifest remove, rewind). What they
share is in options; process holds what only the console script (:func:`entry`) does.
"""

from __future__ import annotations

import click

from snowgen import __version__
from snowgen.cli import compiling, inspecting, manifest, running
from snowgen.cli.process import ends_with_command
from snowgen.masking import masked_streams


@click.group()
@click.version_option(__version__, prog_name="snowgen")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Compile declarative YAML event-data models into warehouse-specific SQL."""
    # everything a command prints passes one place that masks secrets (snowgen.masking)
    ctx.with_resource(masked_streams())


for command in (
    compiling.compile_command,
    compiling.validate_command,
    compiling.schema_command,
    running.run_command,
    running.sources_command,
    running.sample_data_command,
    running.health_command,
    running.test_command,
    inspecting.lineage_command,
    inspecting.docs_command,
    inspecting.privileges_command,
    manifest.manifest_group,
):
    main.add_command(command)


def entry() -> None:
    """The ``snowgen`` console script: ``main`` in a process of its own."""
    ends_with_command()
    main()
