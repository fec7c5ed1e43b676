"""The spec of data tests: ``tests:`` of a model and of its columns (dbt's data tests).

```yaml
columns:
  page_view_id: {type: string, tests: [unique, not_null]}
tests:
  - unique: {columns: [domain_sessionid, page_view_in_session_index]}
  - accepted_values: {column: device_class, values: [Desktop, Mobile], severity: warn}
  - relationships: {column: domain_sessionid, to: sessions, field: domain_sessionid}
  - row_count: {min: 1}
  - freshness: {column: start_tstamp, warn_after_hours: 6, error_after_hours: 24}
  - sql: "select page_view_id from page_views where end_tstamp < start_tstamp"
```

An item is a test name alone (``unique``) or a one-key mapping from the test name to its
options; the names, ``severity`` (error | warn), ``where`` and the options of
``accepted_values`` and ``relationships`` are dbt's
(https://docs.getdbt.com/reference/resource-properties/data-tests,
https://docs.getdbt.com/reference/resource-configs/severity,
https://docs.getdbt.com/reference/resource-configs/where). These models check shape only;
snowgen.plan.data_tests checks the columns and parses the SQL.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StrictBool, StrictFloat, StrictInt, StrictStr, model_validator

from snowgen.spec.models import Name, SimpleName, Spec

#: a test's name as results and messages show it: its kind and columns by default
TEST_NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_ ().,:>-]{0,199}$"
AcceptedValue = Annotated[StrictStr, Field(max_length=1000)] | StrictBool | StrictInt | StrictFloat


class TestOptions(Spec):
    """What every test takes: its name, severity and a filter of the rows it reads."""

    # dbt calls its own test classes Test*: this one is not a pytest test class
    __test__ = False

    name: Annotated[str, Field(pattern=TEST_NAME_PATTERN)] | None = Field(
        default=None, description="the test's name in results and messages (default: kind and columns)"
    )
    severity: Literal["error", "warn"] = Field(
        default="error",
        description="error: a failure stops the run before the incremental state advances; warn: reported only",
    )
    where: Annotated[str, Field(min_length=1, max_length=10_000)] | None = Field(
        default=None, description="a SQL condition in the body dialect: only the rows matching it are tested"
    )


class ColumnUnique(TestOptions):
    """No two rows share the column's value (NULLs are not compared)."""


class ColumnNotNull(TestOptions):
    """No row holds NULL in the column."""


class ColumnAcceptedValues(TestOptions):
    """Every non-NULL value of the column is one of ``values``."""

    values: Annotated[list[AcceptedValue], Field(min_length=1, max_length=1000)] = Field(
        description="the values allowed (NULL is allowed too)"
    )


class ColumnRelationships(TestOptions):
    """Every non-NULL value of the column is a value of ``field`` of model or source ``to``."""

    to: SimpleName = Field(description="the model or source whose field holds the allowed values")
    field: Name = Field(description="the column of 'to' holding them")


class ColumnOrColumns(TestOptions):
    """A model's test of one column (``column``) or of several (``columns``)."""

    column: Name | None = Field(default=None, description="the column tested")
    columns: Annotated[list[Name], Field(min_length=1, max_length=50)] | None = Field(
        default=None, description="the columns tested (unique: together; not_null: one test each)"
    )

    @model_validator(mode="after")
    def _one_form(self) -> ColumnOrColumns:
        if (self.column is None) == (self.columns is None):
            raise ValueError("give either 'column' or 'columns'")
        return self


class ModelUnique(ColumnOrColumns):
    """unique on a model: of one column, or of a combination of columns (NULLs skipped)."""


class ModelUniqueCombination(TestOptions):
    """dbt_utils' unique_combination_of_columns: no two rows share all of ``columns``."""

    columns: Annotated[list[Name], Field(min_length=1, max_length=50)] = Field(
        description="no two rows share all of these columns"
    )


class ModelNotNull(ColumnOrColumns):
    """not_null on a model: of one column, or of several (one test each)."""


class ModelAcceptedValues(ColumnAcceptedValues):
    """accepted_values on a model: of ``column``."""

    column: Name = Field(description="the column tested")


class ModelRelationships(ColumnRelationships):
    """relationships on a model: of ``column``."""

    column: Name = Field(description="the column tested")


class RowCountTest(TestOptions):
    """The table holds from ``min`` to ``max`` rows (either bound may be left out)."""

    min: Annotated[int, Field(ge=0)] | None = Field(default=None, description="the fewest rows allowed")
    max: Annotated[int, Field(ge=0)] | None = Field(default=None, description="the most rows allowed")

    @model_validator(mode="after")
    def _bounds(self) -> RowCountTest:
        if self.min is None and self.max is None:
            raise ValueError("row_count needs 'min', 'max' or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"row_count: min ({self.min}) is above max ({self.max})")
        return self


class FreshnessTest(TestOptions):
    """The newest value of ``column`` (a timestamp) is at most so many hours old: one bound
    (``max_age_hours``, of the test's severity), or dbt's pair of thresholds, each a test of
    its own (https://docs.getdbt.com/reference/resource-properties/freshness)."""

    column: Name = Field(description="a timestamp column")
    max_age_hours: Annotated[int, Field(ge=1, le=876000)] | None = Field(
        default=None, description="the newest value may be at most this many hours old"
    )
    warn_after_hours: Annotated[int, Field(ge=1, le=876000)] | None = Field(
        default=None, description="older than this: a warn-severity failure"
    )
    error_after_hours: Annotated[int, Field(ge=1, le=876000)] | None = Field(
        default=None, description="older than this: an error-severity failure"
    )

    @model_validator(mode="after")
    def _thresholds(self) -> FreshnessTest:
        pair = self.warn_after_hours is not None or self.error_after_hours is not None
        if (self.max_age_hours is None) == (not pair):
            raise ValueError("freshness takes either max_age_hours or warn_after_hours / error_after_hours")
        if pair and "severity" in self.model_fields_set:
            raise ValueError("warn_after_hours and error_after_hours set the severities; remove 'severity'")
        return self


class SqlTest(TestOptions):
    """A query of the failing rows, in the body dialect; it reads models and sources by name."""

    sql: Annotated[str, Field(min_length=1)] = Field(
        description="a query of the failing rows, in the body dialect (models and sources by name)"
    )


def _test_items(value: Any) -> Any:
    """``- unique`` for ``- unique: {}``, ``- unique:`` (null) too, and ``- sql: TEXT`` for
    ``- sql: {sql: TEXT}``."""
    if not isinstance(value, list):
        return value
    items = []
    for item in value:
        if isinstance(item, str):
            item = {item: {}}
        elif isinstance(item, dict) and len(item) == 1:
            [(kind, options)] = item.items()
            if options is None:
                item = {kind: {}}
            elif kind == "sql" and isinstance(options, str):
                item = {kind: {"sql": options}}
        items.append(item)
    return items


class _OneTest(Spec):
    """One test: exactly one of the keys is set."""

    @model_validator(mode="after")
    def _exactly_one(self) -> _OneTest:
        chosen = [key for key in type(self).model_fields if getattr(self, key) is not None]
        if len(chosen) != 1:
            raise ValueError("a test item names one test, e.g. '- unique' or '- not_null: {where: ...}'")
        return self

    def chosen(self) -> tuple[str, TestOptions]:
        """The test's kind (its key) and options."""
        return next((key, getattr(self, key)) for key in type(self).model_fields if getattr(self, key) is not None)


class ColumnTestItem(_OneTest):
    """One test of a column's values."""

    unique: ColumnUnique | None = None
    """No two rows share the column's value."""
    not_null: ColumnNotNull | None = None
    """No row holds NULL in the column."""
    accepted_values: ColumnAcceptedValues | None = None
    """Every non-NULL value is one of the listed values."""
    relationships: ColumnRelationships | None = None
    """Every non-NULL value is a value of a column of another model or source."""


class ModelTestItem(_OneTest):
    """One test of a model's rows."""

    unique: ModelUnique | None = None
    """No two rows share the value of a column, or of a combination of columns."""
    unique_combination: ModelUniqueCombination | None = None
    """No two rows share all of the columns (dbt_utils' unique_combination_of_columns)."""
    not_null: ModelNotNull | None = None
    """No row holds NULL in the columns."""
    accepted_values: ModelAcceptedValues | None = None
    """Every non-NULL value of a column is one of the listed values."""
    relationships: ModelRelationships | None = None
    """Every non-NULL value of a column is a value of a column of another model or source."""
    row_count: RowCountTest | None = None
    """The table holds between min and max rows."""
    freshness: FreshnessTest | None = None
    """The newest value of a timestamp column is at most so many hours old."""
    sql: SqlTest | None = None
    """A query of the failing rows: the test fails when it returns any."""


# (an item may also be written as the test's name alone: the JSON Schema says so)
ColumnTests = Annotated[
    list[ColumnTestItem],
    BeforeValidator(_test_items, json_schema_input_type=list[ColumnTestItem | Literal["unique", "not_null"]]),
]
ModelTests = Annotated[
    list[ModelTestItem],
    BeforeValidator(
        _test_items, json_schema_input_type=list[ModelTestItem | Literal["row_count"] | dict[Literal["sql"], str]]
    ),
]
