"""What every warehouse must answer, and the answers most of them share.

A dialect is data first (capability flags, a type table, links to the vendor docs) and a
few small hooks that return sqlglot trees where a statement's *shape* differs. Builders in
``snowgen.build`` ask questions of a dialect; they never ask which dialect it is.

sqlglot prints several constructs wrongly without warning (see the project's sqlglot notes).
Each dialect lowers its statements before rendering (:meth:`Dialect.lower`), and rendering
runs with ``unsupported_level=RAISE`` so that whatever sqlglot knows it cannot print becomes
an error instead of a logged warning.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import ClassVar, Literal

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect as SqlglotDialect
from sqlglot.errors import ErrorLevel, UnsupportedError

from snowgen.dialects.grants import GrantSpelling
from snowgen.dialects.shapes import Layout, NameTooLong, Script, TableShape, Unsupported
from snowgen.names import is_exact

UpsertStrategy = Literal["merge", "delete_insert"]
#: a field's value in a nested context entity (a JSON scalar)
ContextValue = str | bool | int | float | None
#: how the acquire step takes the run lock's row in one transaction (snowgen.build.run_lock)
LockUpsert = Literal["on_conflict", "merge", "insert_then_delete"]


#: the kinds of name a warehouse limits; an identifier's kind is where it stands in a statement
NameKind = Literal["schema", "table", "column"]
#: no warehouse limits names shorter than this many characters (4 bytes each at most in UTF-8)
_SHORTEST_LIMIT = 63 // 4


# Logical types (the spec's column types) -> sqlglot type names that render correctly
# in each dialect. Each dialect overrides entries whose generic rendering is wrong.
GENERIC_TYPES: dict[str, str] = {
    "string": "TEXT",
    "int": "INT",
    "bigint": "BIGINT",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "timestamptz": "TIMESTAMPTZ",
    "json": "JSON",
}


def _snake(text: str) -> str:
    """Snowplow's column naming: dots and dashes to underscores, camelCase to snake_case."""
    text = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", text)
    return re.sub(r"[^A-Za-z0-9_]", "_", text).lower()


REGEX_METACHARACTERS = frozenset(".^$*+?()[]{}|\\")
#: how an array field of a self-describing event is read: its items joined into one text
ARRAY_ITEM_SEPARATOR = ", "
#: statements printed on one line (pretty-printing only pads them)
_ONE_LINERS = (exp.Transaction, exp.Commit, exp.Rollback, exp.Declare)

_SIZED_STRING = re.compile(r"^string\((\d+)\)$")
_DECIMAL = re.compile(r"^decimal\((\d+),\s*(\d+)\)$")


def parameterized(kind: exp.DataType.Type, *numbers: int) -> exp.DataType:
    """A type with numeric parameters, e.g. DECIMAL(18, 2), built as nodes."""
    params = [exp.DataTypeParam(this=exp.Literal.number(n)) for n in numbers]
    return exp.DataType(this=kind, expressions=params, nested=False)


def rewrite_nodes(statement: exp.Expr, node_types: tuple[type, ...], rewrite) -> exp.Expr:
    """Replace each node of ``node_types`` by ``rewrite(node)`` (which may return the node
    itself), innermost first (a reversed breadth-first walk): a rewrite that copies its
    operands copies them already rewritten. Visits only those nodes, unlike
    ``Expression.transform``, which calls back for every node of the tree: the lowerings run
    on every emitted statement."""
    for node in reversed(list(statement.find_all(*node_types))):
        replacement = rewrite(node)
        if replacement is not node:
            if node is statement:
                statement = replacement
            else:
                node.replace(replacement)
    return statement


def _name_kind(identifier: exp.Identifier) -> NameKind:
    """A table's own name, its schema (or database), or any other name (columns and aliases,
    which the warehouses that limit names limit like columns)."""
    parent = identifier.parent
    if isinstance(parent, exp.Table):
        return "table" if identifier.arg_key == "this" else "schema"
    if isinstance(parent, exp.Index):
        return "table"
    return "column"


@functools.cache
def _sqlglot_dialect(name: str) -> SqlglotDialect:
    """One sqlglot Dialect object per name (it holds only its settings; each ``generate``
    still makes a fresh Generator, so no state carries from one statement to the next)."""
    return SqlglotDialect.get_or_raise(name)


@functools.cache
def _type_cache(dialect_class: type, logical: str) -> exp.DataType:
    # Building a DataType parses a string; a compile asks for the same few types thousands of times.
    return dialect_class().build_data_type(logical)


@functools.lru_cache(maxsize=1 << 16)
def _upper_unless_exact(name: str) -> str:
    # An upper-casing warehouse's spelling of an unquoted name; depends on the name alone
    # (a compile asks for the same few thousand names hundreds of thousands of times).
    return name if is_exact(name) else name.upper()


#: a rewrite of one node for a warehouse; returns the node itself to leave it alone
Lowering = Callable[[exp.Expr], exp.Expr]


class Dialect:
    """Shared behaviour; each warehouse module overrides data and hooks."""

    #: snowgen's name of the warehouse (the key in ``DIALECTS``)
    name: ClassVar[str]
    #: the sqlglot dialect used to render
    sqlglot_dialect: ClassVar[str]
    #: vendor documentation behind the choices made in the module
    docs: ClassVar[dict[str, str]] = {}

    # -- capabilities (data) -------------------------------------------------------------
    #: logical type -> sqlglot type name (see GENERIC_TYPES)
    types: ClassVar[dict[str, str]] = GENERIC_TYPES
    #: upsert strategies this warehouse runs correctly; a string value refuses with that reason
    upsert_strategies: ClassVar[dict[UpsertStrategy, str | None]] = {"merge": None, "delete_insert": None}
    default_upsert: ClassVar[UpsertStrategy] = "merge"
    #: multi-statement transactions (BEGIN ... COMMIT)
    transactional: ClassVar[bool] = True
    #: QUALIFY clause
    supports_qualify: ClassVar[bool] = True
    #: DELETE ... USING (else a correlated EXISTS)
    delete_using: ClassVar[bool] = False
    #: CREATE OR REPLACE TABLE (else DROP + CREATE inside a transaction)
    create_or_replace_table: ClassVar[bool] = True
    #: UPDATE ... FROM another table (else MERGE ... WHEN MATCHED THEN UPDATE, which sets
    #: the same rows from the same joined table)
    update_from: ClassVar[bool] = True
    #: where Snowplow contexts live: their own tables, or a nested column of the events table
    context_storage: ClassVar[Literal["table", "column"]] = "table"
    #: how the loader names a context's fields: the schema's field name in snake case (a
    #: column of the context's table, a field of a STRUCT), or as the schema spells it (the
    #: keys of a VARIANT object): https://docs.snowplow.io/docs/api-reference/loaders-storage-targets/schemas-in-warehouse/
    context_field_names: ClassVar[Literal["snake_case", "as_in_schema"]] = "snake_case"
    #: BigQuery allows at most four clustering columns; None means no limit
    max_cluster_columns: ClassVar[int | None] = None
    #: unquoted names resolve in upper case (Snowflake); elsewhere in lower case
    folds_to_upper_case: ClassVar[bool] = False
    #: DROP TABLE needs CASCADE when a view reads the table (Postgres, Redshift); BigQuery
    #: and Databricks have no CASCADE for tables, and their views do not block a drop
    drop_cascades: ClassVar[bool] = False
    #: event scans read the run limits from variables bound once per script, not from a join
    #: to the limits table: the warehouse prunes partitions on the one and not the other
    #: (snowgen.build.run_limits)
    run_limits_in_variables: ClassVar[bool] = False
    #: a table filled by CREATE TABLE AS gets an ANALYZE, so the next statements of the run are
    #: planned from its statistics (Postgres; Redshift analyzes CTAS tables itself)
    analyzes_new_tables: ClassVar[bool] = False
    #: an incremental target's indexes (after_create) are created after its upsert, not with
    #: the empty table: on a first fill the index build records the row count for the planner
    indexes_after_first_fill: ClassVar[bool] = False
    #: a step's file goes to the warehouse as one script, not statement by statement: the
    #: variables it declares live for one script (BigQuery); a scheduler's task sends it whole
    step_is_one_script: ClassVar[bool] = False
    #: URL schemes ``snowgen run`` connects with (none: no connector yet)
    url_schemes: ClassVar[tuple[str, ...]] = ()
    #: how ``snowgen run`` opens those URLs: a key of snowgen.runner.connectors.CONNECTORS
    #: (the driver code lives in the runner; None: no connector yet)
    connector: ClassVar[str | None] = None
    #: ``snowgen run --threads N``: None when the steps whose dependencies are done may run
    #: at once, each on a connection of its own; else why the warehouse's steps run one at
    #: a time on one connection
    concurrent_steps: ClassVar[str | None] = None
    #: the n of a sized string counts bytes (Redshift), not characters
    string_length_in_bytes: ClassVar[bool] = False
    #: SQL-standard SIMILAR TO patterns (Postgres, Redshift); elsewhere a body using it is
    #: refused (DuckDB would read the pattern as a whole regular expression)
    supports_similar_to: ClassVar[bool] = True
    #: ORDER BY accepts the json type (else rows are ordered by its text: ``json_text``)
    json_is_orderable: ClassVar[bool] = True
    #: the longest name of each kind: (limit, "bytes" of UTF-8 or "characters"); a kind
    #: missing has no documented limit
    name_limits: ClassVar[dict[NameKind, tuple[int, Literal["bytes", "characters"]]]] = {}
    #: how a run takes the lock row: INSERT ... ON CONFLICT DO UPDATE ... WHERE expired (a
    #: primary key makes it atomic), a MERGE (the warehouse serialises MERGEs on one table,
    #: or fails one with a conflict), or an INSERT where no live row is and a DELETE of the
    #: expired one, in a serializable transaction (snowgen.build.run_lock)
    lock_upsert: ClassVar[LockUpsert] = "merge"
    #: regular expressions matching the warehouse's documented error for a write that lost
    #: to a concurrent one on the same table: the acquire step failing so means another run
    #: took the lock at the same moment, and ``snowgen run`` treats it as the lock held
    #: (waits under --wait, else SG410 and exit 3). Empty where writers wait for each other.
    lock_conflict_errors: ClassVar[tuple[str, ...]] = ()
    #: the lock table's DDL runs inside the acquire's transaction, after :meth:`lock_guard`
    #: (else before it, on its own)
    lock_ddl_in_transaction: ClassVar[bool] = False
    #: a SQL function that fails the statement with its argument as the message (None: the
    #: message is cast to a number, which fails quoting it: :meth:`fail_with`)
    raise_function: ClassVar[str | None] = None
    #: what sqlglot would print wrongly for this warehouse: node type -> its rewrite
    #: (sqlglot's TRANSFORMS habit), applied innermost first by :meth:`lower`
    lowerings: ClassVar[dict[type[exp.Expr], Lowering]] = {}
    #: how the warehouse spells grants (snowgen.dialects.grants); each dialect sets its own
    grants: ClassVar[GrantSpelling]

    # -- types ----------------------------------------------------------------------------
    def data_type(self, logical: str) -> exp.DataType:
        """The warehouse's type for a logical type (a fresh tree the caller may attach)."""
        return _type_cache(type(self), logical).copy()

    def build_data_type(self, logical: str) -> exp.DataType:
        sized = _SIZED_STRING.match(logical)
        if sized:
            return self.sized_string(int(sized.group(1)))
        decimal = _DECIMAL.match(logical)
        if decimal:
            return parameterized(exp.DataType.Type.DECIMAL, int(decimal.group(1)), int(decimal.group(2)))
        return exp.DataType.build(self.types[logical])

    def sized_string(self, length: int) -> exp.DataType:
        return parameterized(exp.DataType.Type.VARCHAR, length)

    def struct_array(self, fields: list[tuple[str, str]]) -> exp.DataType:
        """ARRAY<STRUCT<field type, ...>> (the nested-context column type) of (field, logical type)."""
        columns = [exp.ColumnDef(this=exp.to_identifier(f), kind=self.data_type(t)) for f, t in fields]
        struct = exp.DataType(this=exp.DataType.Type.STRUCT, expressions=columns, nested=True)
        return exp.DataType(this=exp.DataType.Type.ARRAY, expressions=[struct], nested=True)

    # -- expressions ------------------------------------------------------------------------
    def add_interval(self, value: exp.Expr, amount: exp.Expr, unit: str, logical_type: str = "timestamp") -> exp.Expr:
        """``value + amount unit``; ``amount`` may be negative or an expression."""
        return exp.TimestampAdd(this=value, expression=amount, unit=exp.var(unit.upper()))

    def now_utc(self) -> exp.Expr:
        """The current time in UTC as a timestamp without time zone."""
        return exp.CurrentTimestamp()

    def cast(self, value: exp.Expr, logical: str) -> exp.Expr:
        return exp.Cast(this=value, to=self.data_type(logical))

    def timestamp_literal(self, text: str) -> exp.Expr:
        return exp.Cast(this=exp.Literal.string(text), to=self.data_type("timestamp"))

    def regex_contains(self, value: exp.Expr, pattern: str) -> exp.Expr:
        """True when ``pattern`` (a regular expression) matches anywhere in ``value``."""
        return exp.RegexpLike(this=value, expression=exp.Literal.string(pattern))

    def escape_regex(self, text: str) -> str:
        """``text`` as a regular expression matching itself literally.

        Only the metacharacters shared by POSIX ERE/ARE (Postgres, Redshift, Snowflake),
        RE2 (BigQuery, DuckDB) and Java (Databricks) are escaped, each with a backslash,
        which all of them read as "this character". Nothing else is touched: a backslash
        before a letter starts an escape sequence (``\\b`` is a backspace in Postgres and a
        word boundary in RE2), so letters, digits and quotes stay as they are; quotes are
        the SQL literal's business.
        """
        return "".join("\\" + ch if ch in REGEX_METACHARACTERS else ch for ch in text)

    # -- Snowplow contexts ---------------------------------------------------------------------
    def context_table(self, vendor: str, name: str, version: str) -> str:
        """Name of a context's own table (shredded loaders): ``com_acme_thing_1``."""
        return f"{_snake(vendor)}_{_snake(name)}_{version.split('-')[0]}"

    def context_column(self, vendor: str, name: str, version: str) -> str:
        """Name of a context's nested column on the events table (column storage), as the
        current loaders write it: ``contexts_`` + vendor + name + the schema's *major*
        version (Snowflake's RDB and Streaming Loaders, Databricks' RDB and Lake Loaders,
        BigQuery Loader 2.x: https://docs.snowplow.io/docs/api-reference/loaders-storage-targets/schemas-in-warehouse/).
        Older versions of a column (BigQuery Loader 1.x wrote ``..._1_0_0``) are read by
        listing them in the context's ``columns``."""
        return f"contexts_{_snake(vendor)}_{_snake(name)}_{version.split('-')[0]}"

    def context_field(self, field: str) -> str:
        """The name the loader gives a context's ``field`` (as the schema spells it, e.g.
        ``spiderOrRobot``): its column in the context's table, its key in a nested entity."""
        return _snake(field) if self.context_field_names == "snake_case" else field

    def first_context_field(self, column: exp.Expr, field: str, logical: str) -> exp.Expr:
        """``field`` (as the schema spells it) of the first entity in a nested context
        column, as a value of ``logical``."""
        raise Unsupported("stores contexts in their own tables, not in nested columns")

    # -- Snowplow self-describing events (unstruct) ----------------------------------------------
    def event_column(self, vendor: str, name: str, version: str) -> str:
        """Name of a self-describing event's nested column (column storage): ``unstruct_event_``
        + vendor + name + the schema's major version, as the same loaders write it (one record
        per event, where a context's column holds an array of entities)."""
        return f"unstruct_event_{_snake(vendor)}_{_snake(name)}_{version.split('-')[0]}"

    def event_field(self, column: exp.Expr, field: str, logical: str) -> exp.Expr:
        """``field`` (as the schema spells it) of the record in a nested event column, as a
        value of ``logical``; an ``array`` (of strings) as its items joined by
        ARRAY_ITEM_SEPARATOR."""
        raise Unsupported("stores self-describing events in their own tables, not in nested columns")

    def event_column_type(self, fields: list[tuple[str, str]]) -> exp.DataType:
        """Type of a nested event column: one record of ``fields`` ((field as the schema
        spells it, logical type))."""
        raise Unsupported("stores self-describing events in their own tables, not in nested columns")

    def json_array_text(self, value: exp.Expr) -> exp.Expr:
        """An array field of an event's own table (the JSON text of the array, as the shredding
        loaders write it) as its items joined by ARRAY_ITEM_SEPARATOR."""
        raise Unsupported("stores self-describing events in nested columns, not in tables")

    def record_struct(self, fields: list[tuple[str, str]]) -> exp.DataType:
        """STRUCT<field type, ...> of (field as the schema spells it, logical type), named as the
        loader names them, an array as ARRAY<STRING> (a nested event column of BigQuery and
        Databricks)."""
        columns = [
            exp.ColumnDef(this=exp.to_identifier(self.context_field(f)), kind=self._record_field_type(t))
            for f, t in fields
        ]
        return exp.DataType(this=exp.DataType.Type.STRUCT, expressions=columns, nested=True)

    def _record_field_type(self, logical: str) -> exp.DataType:
        if logical == "array":
            return exp.DataType(this=exp.DataType.Type.ARRAY, expressions=[self.data_type("string")], nested=True)
        return self.data_type(logical)

    def struct_field(self, record: exp.Expr, field: str, logical: str) -> exp.Expr:
        """``field`` of a STRUCT (named as the loader names it, typed by the loader): text as it
        is, an array of strings joined, any other type cast to ``logical``."""
        value = exp.Dot(this=record, expression=exp.to_identifier(self.context_field(field)))
        if logical == "array":
            return exp.ArrayToString(this=value, expression=exp.Literal.string(ARRAY_ITEM_SEPARATOR))
        return value if logical == "string" else self.cast(value, logical)

    def context_column_type(self, fields: list[tuple[str, str]]) -> exp.DataType:
        """Type of a nested context column holding entities of ``fields`` ((field as the
        schema spells it, logical type))."""
        raise Unsupported("stores contexts in their own tables, not in nested columns")

    def context_value(self, entities: list[dict[str, ContextValue]], types: dict[str, str]) -> exp.Expr:
        """A value of a nested context column holding ``entities`` (field as the schema spells
        it -> value; ``types``: the logical type of each field), for sample rows and tests."""
        raise Unsupported("stores contexts in their own tables, not in nested columns")

    def struct_array_value(self, entities: list[dict[str, ContextValue]], types: dict[str, str]) -> exp.Expr:
        """A value of :meth:`struct_array`: ARRAY(STRUCT(value AS field, ...), ...)."""
        structs = [
            exp.Struct(
                expressions=[
                    exp.alias_(self._typed(value, types.get(field, "string")), self.context_field(field))
                    for field, value in entity.items()
                ]
            )
            for entity in entities
        ]
        return exp.Array(expressions=structs)

    def _typed(self, value: ContextValue, logical: str) -> exp.Expr:
        # A bare NULL in a STRUCT would take another type than the field's
        if value is None:
            return self.cast(exp.Null(), logical)
        if isinstance(value, bool):
            return exp.Boolean(this=value)
        if isinstance(value, (int, float)):
            return self.cast(exp.Literal.number(value), logical)
        return exp.Literal.string(value)

    # -- statements -------------------------------------------------------------------------
    def session_settings(self) -> list[exp.Expr]:
        """Statements every step's script runs first (after its declarations), so that it means
        the same in any session: the warehouses whose casts and clock read the session's time
        zone pin it to UTC. None by default: the expressions snowgen prints are zone-free there."""
        return []

    def insert_rows(self, target: exp.Schema, rows: list[exp.Tuple]) -> exp.Insert:
        """``INSERT INTO target (columns) VALUES rows``."""
        return exp.Insert(this=target, expression=exp.Values(expressions=rows))

    def in_transaction(self, statements: list[exp.Expr]) -> list[exp.Expr]:
        if not self.transactional:
            return statements
        return [exp.Transaction(), *statements, exp.Commit()]

    def replace_rows(
        self, target: exp.Table, source: exp.Table, columns: list[str], condition: exp.Expr
    ) -> list[exp.Expr]:
        """Replace the rows of ``target`` that match ``condition`` by the rows of ``source``
        that match it (a backfill): a DELETE and an INSERT in one transaction. Both sides
        are filtered by the same condition, so nothing outside it is touched, and no
        correlated subquery is needed."""
        delete = exp.Delete(this=target.copy(), where=exp.Where(this=condition.copy()))
        rows = exp.Select(expressions=[exp.column(c) for c in columns]).from_(source.copy(), copy=False)
        insert = exp.Insert(
            this=exp.Schema(this=target.copy(), expressions=[exp.to_identifier(c) for c in columns]),
            expression=rows.where(condition.copy(), copy=False),
        )
        return self.in_transaction([delete, insert])

    def drop_table(self, table: exp.Table) -> exp.Drop:
        """DROP TABLE IF EXISTS, with CASCADE where views on the table would block it."""
        return exp.Drop(kind="TABLE", exists=True, tables=[table.copy()], cascade=self.drop_cascades)

    def table_properties(self, shape: TableShape, *, scratch: bool) -> list[exp.Expr]:
        """Native CREATE TABLE properties for the layout (nothing by default)."""
        return []

    def after_create(self, shape: TableShape) -> list[exp.Expr]:
        """Statements that complete a table's layout after CREATE (Postgres indexes)."""
        return []

    def layout_columns(self, shape: TableShape) -> list[tuple[str, exp.Expr, str]]:
        """Extra computed columns a layout needs: (name, value, logical type)."""
        return []

    def create_table_like(
        self, table: exp.Table, stage: exp.Table, columns: list[str], properties: list[exp.Expr]
    ) -> exp.Expr:
        """CREATE TABLE IF NOT EXISTS ``table`` with the columns and types of ``stage``."""
        empty = (
            exp.Select(expressions=[exp.column(c) for c in columns])
            .from_(stage.copy(), copy=False)
            .where(exp.EQ(this=exp.Literal.number(1), expression=exp.Literal.number(0)), copy=False)
        )
        return exp.Create(
            kind="TABLE",
            this=table.copy(),
            exists=True,
            expression=empty,
            properties=exp.Properties(expressions=properties) if properties else None,
        )

    def check_layout(self, layout: Layout) -> None:
        """Raise :class:`Unsupported` for a layout this warehouse cannot express."""
        if layout.partition and layout.partition.by not in self.partition_granularities():
            raise Unsupported(
                f"cannot partition by {layout.partition.by}; supported: {', '.join(self.partition_granularities())}",
                ("layout", "partition", "by"),
            )
        limit = self.max_cluster_columns
        if limit is not None and len(self.cluster_columns(layout)) > limit:
            raise Unsupported(
                f"allows at most {limit} clustering columns, got {len(self.cluster_columns(layout))}",
                ("layout", "cluster"),
            )

    def partition_granularities(self) -> tuple[str, ...]:
        return ("day", "hour", "month")

    def cluster_columns(self, layout: Layout) -> tuple[str, ...]:
        return layout.cluster

    def keep_first_row(
        self, query: exp.Query, partition_by: list[exp.Expr], order_by: list[exp.Ordered], columns: list[str]
    ) -> exp.Select:
        """Rows of ``query``, one per ``partition_by`` value: the first in ``order_by``."""
        window = exp.Window(
            this=exp.RowNumber(),
            partition_by=partition_by,
            order=exp.Order(expressions=order_by),
        )
        inner = query.subquery("snowgen_src", copy=False)
        if self.supports_qualify:
            select = exp.Select(expressions=[exp.column(c, table="snowgen_src") for c in columns]).from_(
                inner, copy=False
            )
            select.set("qualify", exp.Qualify(this=exp.EQ(this=window, expression=exp.Literal.number(1))))
            return self.qualify_fixup(select)
        numbered = exp.Select(expressions=[exp.Star(), exp.alias_(window, "snowgen_row_number", copy=False)]).from_(
            inner, copy=False
        )
        return (
            exp.Select(expressions=[exp.column(c, table="snowgen_dedup") for c in columns])
            .from_(numbered.subquery("snowgen_dedup", copy=False), copy=False)
            .where(
                exp.EQ(this=exp.column("snowgen_row_number", table="snowgen_dedup"), expression=exp.Literal.number(1)),
                copy=False,
            )
        )

    def check_name(self, identifier: exp.Identifier) -> None:
        """Raise :class:`NameTooLong` when ``identifier`` is over its kind's limit."""
        kind = _name_kind(identifier)
        limit = self.name_limits.get(kind)
        if limit is None:
            return
        size, unit = limit
        name = identifier.this
        length = len(name.encode("utf-8")) if unit == "bytes" else len(name)
        if length > size:
            shown = name if len(name) <= 80 else name[:77] + "..."
            raise NameTooLong(
                f"{self.name}: {kind} name '{shown}' is {length} {unit} long; {self.name} allows {size}", name
            )

    def sort_key(self, value: exp.Expr, logical: str) -> exp.Expr:
        """``value`` as an ORDER BY key: as it is, but for a JSON value where the warehouse
        cannot order its JSON type (then its text, which orders the same for equal values)."""
        if logical == "json" and not self.json_is_orderable:
            return self.json_text(value)
        return value

    def json_text(self, value: exp.Expr) -> exp.Expr:
        return exp.JSONFormat(this=value)

    def qualify_fixup(self, select: exp.Select) -> exp.Select:
        return select

    # -- the run lock (snowgen.build.run_lock) ------------------------------------------------
    def transaction_now(self) -> exp.Expr:
        """The current UTC time, read the same by every statement of one transaction where the
        warehouse binds values inline (:meth:`bind_values`): the run's id. Postgres' and DuckDB's
        current_timestamp is the transaction's start already."""
        return self.now_utc()

    def database_user(self) -> exp.Expr:
        """The user the session runs as (the lock's holder)."""
        return exp.CurrentUser()

    def lock_guard(self, key: int) -> list[exp.Expr]:
        """Statements opening the acquire's transaction that make concurrent acquires wait for
        each other (``key``: a number for the project); none by default."""
        return []

    def fail_with(self, message: exp.Expr) -> exp.Expr:
        """An expression that fails its statement, the error quoting ``message`` (a string)."""
        if self.raise_function is not None:
            return exp.Anonymous(this=self.raise_function, expressions=[message])
        return exp.Cast(this=message, to=self.data_type("bigint"))

    # -- carrying run-time values between statements ---------------------------------------
    def bind_values(
        self, script: Script, prefix: str, values: dict[str, tuple[str, exp.Expr]], source: exp.Expr | None
    ) -> dict[str, exp.Expr]:
        """Compute ``values`` (name -> (logical type, expression over ``source``)) once and
        return an expression for each that later statements of the script can use.

        Default: inline scalar subqueries, which Postgres, Redshift and DuckDB evaluate once
        per statement (an InitPlan) and which keep the script free of session state.
        """
        refs = {}
        for name, (_, value) in values.items():
            select = exp.Select(expressions=[value])
            if source is not None:
                select = select.from_(source.copy(), copy=False)
            refs[name] = select.subquery(copy=False)
        return refs

    # -- rendering ----------------------------------------------------------------------------
    def fold_and_quote_names(self, statement: exp.Expr) -> None:
        """Quote every identifier; fold plain names to the warehouse's case, while exact
        names keep theirs (snowgen.names). Plain names are stored in lower case, so only an
        upper-casing warehouse changes them.

        (sqlglot's normalize_identifiers would also fold *quoted* names on warehouses that
        compare them case-insensitively, changing the column names users see.)"""
        upper, limited = self.folds_to_upper_case, bool(self.name_limits)
        for ident in statement.find_all(exp.Identifier):
            if limited and len(ident.this) > _SHORTEST_LIMIT:  # the same walk checks the lengths
                self.check_name(ident)
            if ident.args.get("quoted") is True:
                continue  # quoted already (so exact): nothing to fold, nothing to set
            if upper and not ident.quoted:
                name = ident.name
                folded = _upper_unless_exact(name)
                if folded != name:
                    ident.set("this", folded)
            ident.set("quoted", True)

    def refuse_unsupported(self, statement: exp.Expr) -> None:
        """Raise :class:`Unsupported` for a construct the capability flags say is missing."""
        if not self.supports_similar_to and statement.find(exp.SimilarTo) is not None:
            raise Unsupported("has no SIMILAR TO; write the condition with LIKE or a regular expression")

    def lower(self, statement: exp.Expr) -> exp.Expr:
        """Rewrite what sqlglot would print wrongly for this warehouse (:attr:`lowerings`)."""
        if not self.lowerings:
            return statement
        return rewrite_nodes(statement, tuple(self.lowerings), self._lowered)

    def _lowered(self, node: exp.Expr) -> exp.Expr:
        for cls in type(node).__mro__:  # a subclass of a listed type (DataType's) is lowered like it
            rewrite = self.lowerings.get(cls)
            if rewrite is not None:
                return rewrite(node)
        return node

    def render(self, statement: exp.Expr) -> str:
        """Print an already lowered statement (see snowgen.build.steps.build_steps); raises
        :class:`NameTooLong` for a name over the warehouse's limit."""
        self.fold_and_quote_names(statement)
        try:
            # statement.sql(dialect=NAME) would parse NAME and build a new sqlglot Dialect per call
            return _sqlglot_dialect(self.sqlglot_dialect).generate(
                statement,
                copy=False,
                pretty=not isinstance(statement, _ONE_LINERS),
                unsupported_level=ErrorLevel.RAISE,
            )
        except UnsupportedError as exc:
            raise Unsupported(f"cannot print this statement: {exc}") from None
