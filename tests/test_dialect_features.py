"""One table per feature, every dialect in each (sqlglot's validate_all style).

Each expectation was checked against the vendor documentation linked in the dialect
modules; engine tests (tests/test_engines_*.py) execute what the engines here can run.
"refused: ..." is an allowed answer: the compiler must then fail with a located error.
"""

from __future__ import annotations

import pytest
from sqlglot import exp

from snowgen.build import ddl
from snowgen.build.filters import app_filter, bot_filter
from snowgen.dialects import DIALECTS, get_dialect
from snowgen.dialects.shapes import Layout, Partition, TableShape, Unsupported
from snowgen.spec.models import AppFilterSpec, BotFilterSpec


def covers_every_dialect(table: dict) -> dict:
    assert set(table) == set(DIALECTS), f"table must name all six dialects, missing {set(DIALECTS) - set(table)}"
    return table


LOGICAL_TYPES = [
    "string",
    "string(64)",
    "int",
    "bigint",
    "decimal(38,10)",
    "double",
    "boolean",
    "date",
    "timestamp",
    "timestamptz",
    "json",
]
TYPES = covers_every_dialect({
    "redshift": ["VARCHAR(MAX)", "VARCHAR(64)", "INTEGER", "BIGINT", "DECIMAL(38, 10)", "DOUBLE PRECISION", "BOOLEAN", "DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "SUPER"],
    "bigquery": ["STRING", "STRING(64)", "INT64", "INT64", "BIGNUMERIC(38, 10)", "FLOAT64", "BOOL", "DATE", "TIMESTAMP", "TIMESTAMP", "JSON"],
    "snowflake": ["VARCHAR", "VARCHAR(64)", "INT", "BIGINT", "DECIMAL(38, 10)", "DOUBLE", "BOOLEAN", "DATE", "TIMESTAMP_NTZ", "TIMESTAMPTZ", "VARIANT"],
    "databricks": ["STRING", "STRING", "INT", "BIGINT", "DECIMAL(38, 10)", "DOUBLE", "BOOLEAN", "DATE", "TIMESTAMP", "TIMESTAMP", "STRING"],
    "postgres": ["TEXT", "VARCHAR(64)", "INT", "BIGINT", "DECIMAL(38, 10)", "DOUBLE PRECISION", "BOOLEAN", "DATE", "TIMESTAMP", "TIMESTAMPTZ", "JSONB"],
    "duckdb": ["TEXT", "TEXT", "INT", "BIGINT", "DECIMAL(38, 10)", "DOUBLE", "BOOLEAN", "DATE", "TIMESTAMP", "TIMESTAMPTZ", "JSON"],
})  # fmt: skip


@pytest.mark.parametrize("dialect", DIALECTS)
def test_type_table(dialect):
    d = get_dialect(dialect)
    assert [d.render(d.data_type(t)) for t in LOGICAL_TYPES] == TYPES[dialect]


BOT_FILTER = covers_every_dialect({
    "redshift": 'NOT "ev"."useragent" IS NULL\nAND NOT (\n  LOWER("ev"."useragent") ~ \'bot|a\\\\.b|x\\\\|y\'\n)',
    "bigquery": "NOT `ev`.`useragent` IS NULL\nAND NOT (\n  REGEXP_CONTAINS(LOWER(`ev`.`useragent`), 'bot|a\\\\.b|x\\\\|y')\n)",
    "snowflake": 'NOT "EV"."USERAGENT" IS NULL\nAND NOT (\n  REGEXP_INSTR(LOWER("EV"."USERAGENT"), \'bot|a\\\\.b|x\\\\|y\') > 0\n)',
    "databricks": "NOT `ev`.`useragent` IS NULL\nAND NOT (\n  REGEXP_LIKE(LOWER(`ev`.`useragent`), 'bot|a\\\\.b|x\\\\|y')\n)",
    "postgres": 'NOT "ev"."useragent" IS NULL\nAND NOT (\n  LOWER("ev"."useragent") ~ \'bot|a\\.b|x\\|y\'\n)',
    "duckdb": 'NOT "ev"."useragent" IS NULL\nAND NOT (\n  REGEXP_MATCHES(LOWER("ev"."useragent"), \'bot|a\\.b|x\\|y\')\n)',
})  # fmt: skip


@pytest.mark.parametrize("dialect", DIALECTS)
def test_bot_filter_is_a_substring_match_with_escaped_metacharacters(dialect):
    d = get_dialect(dialect)
    predicate = bot_filter(BotFilterSpec(patterns=["Bot", "a.b", "x|y"]), d, "ev")
    assert d.render(predicate) == BOT_FILTER[dialect]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_bot_filter_switched_off_keeps_every_row(dialect):
    assert get_dialect(dialect).render(bot_filter(None, get_dialect(dialect))) == "TRUE"


APP_FILTER = covers_every_dialect({
    "redshift": "\"app_id\" IN ('web', 'it\\'s')",  # Redshift string literals take backslash escapes
    "bigquery": "`app_id` IN ('web', 'it\\'s')",
    "snowflake": "\"APP_ID\" IN ('web', 'it\\'s')",
    "databricks": "`app_id` IN ('web', 'it\\'s')",
    "postgres": "\"app_id\" IN ('web', 'it''s')",
    "duckdb": "\"app_id\" IN ('web', 'it''s')",
})  # fmt: skip


@pytest.mark.parametrize("dialect", DIALECTS)
def test_app_filter(dialect):
    d = get_dialect(dialect)
    assert d.render(app_filter(AppFilterSpec(allow=["web", "it's", "web"]))) == APP_FILTER[dialect]


NOW_AND_INTERVAL = covers_every_dialect({
    "redshift": ("GETDATE()", '"ts" + INTERVAL \'-6 HOUR\''),
    "bigquery": ("CURRENT_TIMESTAMP()", "TIMESTAMP_ADD(`ts`, INTERVAL -6 HOUR)"),
    "snowflake": ("CAST(CONVERT_TIMEZONE('UTC', CURRENT_TIMESTAMP()) AS TIMESTAMP_NTZ)", 'TIMESTAMPADD(HOUR, -6, "TS")'),
    "databricks": ("CURRENT_TIMESTAMP()", "TIMESTAMPADD(HOUR, -6, `ts`)"),
    "postgres": ("CURRENT_TIMESTAMP AT TIME ZONE 'UTC'", '"ts" + INTERVAL \'-6 HOUR\''),
    "duckdb": ("CURRENT_TIMESTAMP AT TIME ZONE 'UTC'", '"ts" + INTERVAL (-6) HOUR'),
})  # fmt: skip


@pytest.mark.parametrize("dialect", DIALECTS)
def test_now_in_utc_and_timestamp_arithmetic(dialect):
    d = get_dialect(dialect)
    shifted = d.add_interval(exp.column("ts"), exp.Literal.number(-6), "HOUR")
    assert (d.render(d.now_utc()), d.render(shifted)) == NOW_AND_INTERVAL[dialect]


TRANSACTIONS = covers_every_dialect({
    "redshift": ["BEGIN", "X", "COMMIT"],
    "bigquery": ["BEGIN TRANSACTION", "X", "COMMIT TRANSACTION"],
    "snowflake": ["BEGIN TRANSACTION", "X", "COMMIT"],
    "databricks": ["X"],  # no multi-statement transactions
    "postgres": ["BEGIN", "X", "COMMIT"],
    "duckdb": ["BEGIN", "X", "COMMIT"],
})  # fmt: skip


@pytest.mark.parametrize("dialect", DIALECTS)
def test_transaction_wrapping(dialect):
    d = get_dialect(dialect)
    assert [d.render(s) for s in d.in_transaction([exp.var("X")])] == TRANSACTIONS[dialect]


LAYOUT = Layout(partition=Partition("ts"), cluster=("user_id",), unique_key=("id",))
LAYOUT_DDL = covers_every_dialect({
    "redshift": ['CREATE TABLE IF NOT EXISTS "s"."t" (\n  "id" BIGINT,\n  "ts" TIMESTAMP,\n  "user_id" VARCHAR(MAX)\n)\nDISTSTYLE KEY\nDISTKEY("id")\nCOMPOUND SORTKEY("ts")'],
    "bigquery": ["CREATE TABLE IF NOT EXISTS `s`.`t` (\n  `id` INT64,\n  `ts` TIMESTAMP,\n  `user_id` STRING\n)\nPARTITION BY DATE(`ts`)\nCLUSTER BY `user_id`"],
    "snowflake": ['CREATE TABLE IF NOT EXISTS "S"."T" (\n  "ID" BIGINT,\n  "TS" TIMESTAMP_NTZ,\n  "USER_ID" VARCHAR\n)\nCLUSTER BY (TO_DATE("TS"), "USER_ID")'],
    "databricks": ["CREATE TABLE IF NOT EXISTS `s`.`t` (\n  `id` BIGINT,\n  `ts` TIMESTAMP,\n  `user_id` STRING\n)\nUSING DELTA\nCLUSTER BY (`ts`, `user_id`)\nTBLPROPERTIES (\n  'delta.autoOptimize.optimizeWrite'='true',\n  'delta.autoOptimize.autoCompact'='true'\n)"],
    "postgres": ['CREATE TABLE IF NOT EXISTS "s"."t" (\n  "id" BIGINT,\n  "ts" TIMESTAMP,\n  "user_id" TEXT\n)', 'CREATE INDEX IF NOT EXISTS "t__id_idx" ON "s"."t"("id")', 'CREATE INDEX IF NOT EXISTS "t__ts_idx" ON "s"."t"("ts")', 'CREATE INDEX IF NOT EXISTS "t__user_id_idx" ON "s"."t"("user_id")'],
    "duckdb": ['CREATE TABLE IF NOT EXISTS "s"."t" (\n  "id" BIGINT,\n  "ts" TIMESTAMP,\n  "user_id" TEXT\n)'],
})  # fmt: skip


def layout_ddl(dialect: str, layout: Layout) -> list[str]:
    d = get_dialect(dialect)
    table = exp.Table(this=exp.to_identifier("t"), db=exp.to_identifier("s"))
    shape = TableShape(table, layout, ("id", "ts", "user_id"))
    d.check_layout(layout)
    columns = [("id", d.data_type("bigint")), ("ts", d.data_type("timestamp")), ("user_id", d.data_type("string"))]
    columns += [(name, d.data_type(logical)) for name, _, logical in d.layout_columns(shape)]
    create = ddl.create_table_columns(table, columns, d.table_properties(shape, scratch=False))
    return [d.render(s) for s in [create, *d.after_create(shape)]]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_one_logical_layout_renders_each_native_form(dialect):
    assert layout_ddl(dialect, LAYOUT) == LAYOUT_DDL[dialect]


DATE_PARTITION = Layout(partition=Partition("ts"), clustering="partition", unique_key=("id",))
DATE_PARTITION_DDL = covers_every_dialect({
    "redshift": "COMPOUND SORTKEY(\"ts\")",
    "bigquery": "PARTITION BY DATE(`ts`)",
    "snowflake": 'CLUSTER BY (TO_DATE("TS"))',
    "databricks": "`ts_date` DATE\n)\nUSING DELTA\nPARTITIONED BY (\n  `ts_date`\n)",  # Snowplow's <col>_date partition column
    "postgres": 'CREATE INDEX IF NOT EXISTS "t__ts_idx" ON "s"."t"("ts")',
    "duckdb": None,  # no layout clause at all: the same DDL as without a layout
})  # fmt: skip


@pytest.mark.parametrize("dialect", DIALECTS)
def test_date_partition_without_cluster_columns(dialect):
    ddl = layout_ddl(dialect, DATE_PARTITION)
    if DATE_PARTITION_DDL[dialect] is None:
        assert ddl == layout_ddl(dialect, Layout(unique_key=("id",)))
    else:
        assert DATE_PARTITION_DDL[dialect] in "\n".join(ddl)


REFUSED_LAYOUTS = covers_every_dialect({
    "redshift": None,
    "bigquery": "allows at most 4 clustering columns, got 5",
    "snowflake": None,
    "databricks": "allows at most 4 clustering columns, got 6",  # liquid keys: partition column + 5
    "postgres": None,
    "duckdb": None,
})  # fmt: skip


@pytest.mark.parametrize("dialect", DIALECTS)
def test_five_cluster_columns(dialect):
    layout = Layout(partition=Partition("ts"), cluster=("a", "b", "c", "d", "e"))
    expected = REFUSED_LAYOUTS[dialect]
    if expected is None:
        get_dialect(dialect).check_layout(layout)
        return
    with pytest.raises(Unsupported, match=expected):
        get_dialect(dialect).check_layout(layout)


UPSERTS = covers_every_dialect({
    "redshift": ("delete_insert", {"merge": "refused"}),
    "bigquery": ("merge", {}),
    "snowflake": ("merge", {}),
    "databricks": ("merge", {"delete_insert": "refused"}),
    "postgres": ("delete_insert", {}),
    "duckdb": ("delete_insert", {}),
})  # fmt: skip


@pytest.mark.parametrize("dialect", DIALECTS)
def test_upsert_strategies_supported_or_refused_with_reason(dialect):
    d = get_dialect(dialect)
    default, refused = UPSERTS[dialect]
    assert d.default_upsert == default and d.upsert_strategies[default] is None
    answers = {name: ("refused" if reason else "supported") for name, reason in d.upsert_strategies.items()}
    assert answers == {"merge": "supported", "delete_insert": "supported", **refused}


CONTEXT_FIELD = covers_every_dialect({
    "redshift": "table com_snowplowanalytics_snowplow_web_page_1",
    "bigquery": "`e`.`contexts_com_snowplowanalytics_snowplow_web_page_1`[SAFE_OFFSET(0)].`id`",
    "snowflake": 'CAST(GET_PATH("E"."CONTEXTS_COM_SNOWPLOWANALYTICS_SNOWPLOW_WEB_PAGE_1"[0], \'id\') AS VARCHAR)',
    "databricks": "TRY_ELEMENT_AT(`e`.`contexts_com_snowplowanalytics_snowplow_web_page_1`, 1).`id`",
    "postgres": "table com_snowplowanalytics_snowplow_web_page_1",
    "duckdb": "table com_snowplowanalytics_snowplow_web_page_1",
})  # fmt: skip


@pytest.mark.parametrize("dialect", DIALECTS)
def test_snowplow_context_is_a_table_or_a_nested_column(dialect):
    d = get_dialect(dialect)
    vendor, name, version = "com.snowplowanalytics.snowplow", "web_page", "1-0-0"
    if d.context_storage == "table":
        rendered = f"table {d.context_table(vendor, name, version)}"
    else:
        column = exp.column(d.context_column(vendor, name, version), table="e")
        rendered = d.render(d.first_context_field(column, "id", "string"))
    assert rendered == CONTEXT_FIELD[dialect]


SIMILAR_TO = covers_every_dialect({
    "redshift": "SIMILAR TO",
    "postgres": "SIMILAR TO",
    "bigquery": None,  # refused: no SIMILAR TO
    "snowflake": None,
    "databricks": None,
    "duckdb": None,  # refused: DuckDB would read the pattern as a whole regular expression
})  # fmt: skip


@pytest.mark.parametrize("dialect", DIALECTS)
def test_similar_to_renders_where_the_warehouse_has_it_and_is_refused_elsewhere(dialect):
    d = get_dialect(dialect)
    statement = (
        exp.select("a").from_("t").where(exp.SimilarTo(this=exp.column("a"), expression=exp.Literal.string("%x%")))
    )
    if SIMILAR_TO[dialect] is None:
        with pytest.raises(Unsupported, match="has no SIMILAR TO"):
            d.refuse_unsupported(statement)
    else:
        d.refuse_unsupported(statement)
        assert SIMILAR_TO[dialect] in d.render(d.lower(statement))


# The ordered list of a group's non-NULL values and the JSON object of its pairs, in a body's
# Postgres spelling, as each warehouse prints them (snowgen/dialects/shared.py; run on the
# engines in tests/test_engines_ordered_aggregates.py)
ORDERED_LIST = covers_every_dialect({
    "redshift": "COALESCE( SPLIT_TO_ARRAY(LISTAGG(CAST(\"v\" AS VARCHAR(MAX)), ',') WITHIN GROUP (ORDER BY \"a\"), ','), JSON_PARSE('[]') )",
    "bigquery": "ARRAY_AGG(`v` IGNORE NULLS ORDER BY `a` IS NULL ASC, `a` ASC)",
    "snowflake": "ARRAY_AGG(\"V\") WITHIN GROUP (ORDER BY \"A\")",
    "databricks": "FILTER( TRANSFORM( ARRAY_SORT(COLLECT_LIST(STRUCT(`a` IS NULL AS `k0`, `a` AS `k1`, `v` AS `v`))), `_snowgen_element` -> `_snowgen_element`.`v` ), `_snowgen_element` -> NOT `_snowgen_element` IS NULL )",
    "postgres": "ARRAY_REMOVE(ARRAY_AGG(\"v\" ORDER BY \"a\"), NULL)",
    "duckdb": "LIST_FILTER( ARRAY_AGG(\"v\" ORDER BY \"a\"), LAMBDA \"_snowgen_element\" : NOT \"_snowgen_element\" IS NULL )",
})  # fmt: skip
OBJECT_OF_PAIRS = covers_every_dialect({
    "redshift": "JSON_PARSE( '{' || COALESCE( LISTAGG( '\"' || REPLACE(REPLACE(CAST(\"k\" AS VARCHAR(MAX)), '\\\\', '\\\\\\\\'), '\"', '\\\\\"') || '\":' || COALESCE(CAST(\"n\" AS VARCHAR(MAX)), 'null'), ',' ), '' ) || '}' )",
    "bigquery": "PARSE_JSON( CONCAT( '{', STRING_AGG( CONCAT(TO_JSON_STRING(CAST(`k` AS STRING)), ':', TO_JSON_STRING(`n`)), ',' ORDER BY `k` IS NULL ASC, `k` ASC ), '}' ) )",
    "snowflake": "OBJECT_AGG(\"K\", CAST(\"N\" AS VARIANT))",
    "databricks": "MAP_FROM_ENTRIES(ARRAY_SORT(COLLECT_LIST(STRUCT(`k` AS `key`, `n` AS `value`))))",
    "postgres": "JSON_OBJECT_AGG(\"k\", \"n\" ORDER BY \"k\")",
    "duckdb": "TO_JSON(MAP_FROM_ENTRIES(ARRAY_AGG({'key': \"k\", 'value': \"n\"} ORDER BY \"k\")))",
})  # fmt: skip


def _lowered_select(dialect: str, body: str) -> str:
    import sqlglot

    d = get_dialect(dialect)
    return " ".join(d.render(d.lower(sqlglot.parse_one(body, read="postgres")).selects[0]).split())


@pytest.mark.parametrize("dialect", DIALECTS)
def test_ordered_list_of_non_null_values(dialect):
    assert (
        _lowered_select(dialect, "select array_remove(array_agg(v order by a), null) from t") == ORDERED_LIST[dialect]
    )


@pytest.mark.parametrize("dialect", DIALECTS)
def test_object_of_pairs(dialect):
    assert _lowered_select(dialect, "select json_object_agg(k, n order by k) from t") == OBJECT_OF_PAIRS[dialect]
