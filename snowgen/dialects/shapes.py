"""The values a dialect is asked about and answers with: a table's layout and shape, a
step's script, and the errors for what a warehouse cannot express. Plain data, no warehouse."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sqlglot import exp


class Unsupported(Exception):
    """The warehouse cannot express what the spec asks for.

    ``yaml_path`` names the spec key to blame (relative to the model or project file).
    """

    def __init__(self, message: str, yaml_path: tuple = ()):
        super().__init__(message)
        self.yaml_path = yaml_path


class NameTooLong(Unsupported):
    """A schema, table or column name longer than the warehouse allows (which some
    warehouses truncate silently, so that two long names become one table)."""

    def __init__(self, message: str, name: str):
        super().__init__(message)
        self.name = name


@dataclass(frozen=True)
class Partition:
    column: str
    by: Literal["day", "hour", "month"] = "day"


#: the keys of a model's ``layout:`` (and of each per-dialect override), in spec order; a
#: test checks the spec's LayoutOverride and :class:`Layout` have exactly these
LAYOUT_KEYS = ("partition", "cluster", "sort", "dist", "indexes", "clustering")


@dataclass(frozen=True)
class Layout:
    """A model's physical layout after the per-dialect override was applied (the keys of
    ``LAYOUT_KEYS``, and the model's unique key, which some warehouses index)."""

    partition: Partition | None = None
    cluster: tuple[str, ...] = ()
    sort: tuple[str, ...] = ()
    dist: str | None = None
    indexes: tuple[tuple[str, ...], ...] | None = None
    clustering: Literal["partition", "liquid"] | None = None
    unique_key: tuple[str, ...] = ()

    def named_columns(self) -> list[tuple[tuple[str, ...], str]]:
        """(spec path, column) of every column the layout names."""
        named: list[tuple[tuple[str, ...], str]] = []
        if self.partition:
            named.append((("layout", "partition", "column"), self.partition.column))
        named += [(("layout", "cluster"), c) for c in self.cluster]
        named += [(("layout", "sort"), c) for c in self.sort]
        if self.dist:
            named.append((("layout", "dist"), self.dist))
        named += [(("layout", "indexes"), c) for index in self.indexes or () for c in index]
        return named


@dataclass(frozen=True)
class TableShape:
    """What a dialect needs to know to create a table: its layout and, if known, its columns."""

    table: exp.Table
    layout: Layout
    columns: tuple[str, ...] | None = None
    column_types: dict[str, str] = field(default_factory=dict)


@dataclass
class Script:
    """The statements of one step. Declarations are hoisted to the top of the file
    (BigQuery requires DECLARE to come first in a script)."""

    declarations: list[exp.Expr] = field(default_factory=list)
    statements: list[exp.Expr] = field(default_factory=list)

    def add(self, *statements: exp.Expr) -> None:
        self.statements.extend(statements)

    def all(self) -> list[exp.Expr]:
        return [*self.declarations, *self.statements]
