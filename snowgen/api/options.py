"""The options of a compile and of a run: frozen values checked when made, so a caller
gets the same coded errors as the command line."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from snowgen.errors import SnowgenError
from snowgen.plan.backfill import Backfill
from snowgen.plan.selection import parse_selection, selection_variant


@dataclass(frozen=True)
class CompileOptions:
    """What to compile: the target (its vars and dialect), var overrides, a ``--select`` /
    ``--exclude`` choice (dbt's selector grammar: snowgen.plan.selection; what a subset run
    adds: snowgen.plan.subset), and a full-refresh or backfill plan instead of the regular one.

    ``jobs``: worker processes for several dialects; None chooses by the plan's size and
    the machine's cores (output never depends on it). ``cache``: reuse the step files of
    earlier compiles of the project whose inputs are unchanged (snowgen.emit.cache; output
    never depends on it either)."""

    target: str | None = None
    vars: Mapping[str, Any] = field(default_factory=dict)
    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    full_refresh: bool = False
    allow_refresh: bool = False
    backfill: Backfill | None = None
    jobs: int | None = None
    cache: bool = False

    def __post_init__(self) -> None:
        parse_selection(self.select, "--select")  # the grammar's errors now, before any project is read
        parse_selection(self.exclude, "--exclude")
        if self.allow_refresh and not self.full_refresh:
            raise SnowgenError.at("SG403", "--allow-refresh only goes with --full-refresh")
        if self.full_refresh and self.backfill is not None:
            raise SnowgenError.at("SG403", "--full-refresh and --backfill exclude each other")

    @property
    def variant(self) -> str | None:
        """The output folder's suffix for a plan other than the regular one: a full refresh,
        a backfill, a selection, or a selection of one of those."""
        kind = "full-refresh" if self.full_refresh else self.backfill.variant if self.backfill is not None else None
        chosen = selection_variant(self.select, self.exclude)
        return "-".join(part for part in (kind, chosen) if part) or None


@dataclass(frozen=True)
class RunOptions:
    """What to run, and where: ``db`` (a URL) else the target's database (its ``db``, or
    its connection settings) else a DuckDB file in the project
    (snowgen.runner.session.choose_database)."""

    compile: CompileOptions = field(default_factory=CompileOptions)
    db: str | None = None
