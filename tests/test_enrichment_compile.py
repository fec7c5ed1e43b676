"""The shipped snowplow_web project's enrichment options (enable_iab, enable_ua, enable_yauaa)
compiled for every dialect: where each warehouse reads the IAB, UA parser and YAUAA contexts,
under the name its loader gives a field (snake case in a context's table and in BigQuery's
and Databricks' STRUCTs, the schema's own spelling in Snowflake's VARIANT objects) and as the
field's type; and the options off read none of them. Run on engines: test_engines_enrichments
(Postgres, DuckDB), test_scenarios_enrichments.
"""

from __future__ import annotations

import json
import re
from functools import cache

import pytest
from support.generator import SHIPPED_PROJECT
from test_dialect_features import covers_every_dialect
from test_sqlfluff_grammar import SQLFLUFF_DIALECTS, linter, sqlfluff_text

from snowgen.api import CompileOptions, compile_project
from snowgen.dialects import DIALECTS

ON = {"enable_iab": True, "enable_ua": True, "enable_yauaa": True}
IAB = "contexts_com_iab_snowplow_spiders_and_robots_1"
YAUAA = "contexts_nl_basjes_yauaa_context_1"

#: per dialect, what events_this_run reads: IAB's boolean field and YAUAA's device class
READS = covers_every_dialect({
    "redshift": ['FROM "atomic"."com_iab_snowplow_spiders_and_robots_1" AS "c"',
                 '"c"."spider_or_robot" AS "iab_spider_or_robot"',
                 'FROM "atomic"."com_snowplowanalytics_snowplow_ua_parser_context_1" AS "c"',
                 'FROM "atomic"."nl_basjes_yauaa_context_1" AS "c"', '"c"."device_class" AS "yauaa_device_class"'],
    "postgres": ['FROM "atomic"."com_iab_snowplow_spiders_and_robots_1" AS "c"',
                 '"c"."spider_or_robot" AS "iab_spider_or_robot"',
                 'FROM "atomic"."com_snowplowanalytics_snowplow_ua_parser_context_1" AS "c"',
                 'FROM "atomic"."nl_basjes_yauaa_context_1" AS "c"', '"c"."device_class" AS "yauaa_device_class"'],
    "duckdb": ['FROM "atomic"."com_iab_snowplow_spiders_and_robots_1" AS "c"',
               '"c"."spider_or_robot" AS "iab_spider_or_robot"',
               'FROM "atomic"."com_snowplowanalytics_snowplow_ua_parser_context_1" AS "c"',
               'FROM "atomic"."nl_basjes_yauaa_context_1" AS "c"', '"c"."device_class" AS "yauaa_device_class"'],
    "bigquery": [f"`e`.`{IAB}`[SAFE_OFFSET(0)].`spider_or_robot` AS `iab_spider_or_robot`",
                 f"`e`.`{YAUAA}`[SAFE_OFFSET(0)].`device_class` AS `yauaa_device_class`",
                 "`e`.`contexts_com_snowplowanalytics_snowplow_ua_parser_context_1`[SAFE_OFFSET(0)].`os_patch_minor`"],
    "snowflake": [f"CAST(GET_PATH(\"E\".\"{IAB.upper()}\"[0], 'spiderOrRobot') AS BOOLEAN) AS \"IAB_SPIDER_OR_ROBOT\"",
                  f"CAST(GET_PATH(\"E\".\"{YAUAA.upper()}\"[0], 'deviceClass') AS VARCHAR) AS \"YAUAA_DEVICE_CLASS\"",
                  "GET_PATH(\"E\".\"CONTEXTS_COM_SNOWPLOWANALYTICS_SNOWPLOW_UA_PARSER_CONTEXT_1\"[0], 'osPatchMinor')"],
    "databricks": [f"TRY_ELEMENT_AT(`e`.`{IAB}`, 1).`spider_or_robot` AS `iab_spider_or_robot`",
                   f"TRY_ELEMENT_AT(`e`.`{YAUAA}`, 1).`device_class` AS `yauaa_device_class`",
                   "TRY_ELEMENT_AT(`e`.`contexts_com_snowplowanalytics_snowplow_ua_parser_context_1`, 1).`os_patch_minor`"],
})  # fmt: skip


@cache
def files(dialect: str, on: bool) -> dict[str, str]:
    """step id -> its file's text."""
    [project] = compile_project(SHIPPED_PROJECT, [dialect], CompileOptions(vars=ON if on else {}))
    return {s["id"]: project.files[s["file"]] for s in json.loads(project.files["plan.json"])["steps"]}


def step(dialect: str, on: bool, model: str) -> str:
    """The step's text on one line (pretty-printing breaks long expressions)."""
    flat = re.sub(r"\s+", " ", files(dialect, on)[f"snowplow_web_{model}"])
    return flat.replace("( ", "(").replace(" )", ")")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_options_on_read_each_context_where_the_loader_puts_it(dialect):
    text = step(dialect, True, "base_events_this_run")
    for expected in READS[dialect]:
        assert expected in text


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_options_off_read_no_enrichment_context(dialect):
    text = step(dialect, False, "base_events_this_run").lower()
    for context in ("spiders_and_robots", "ua_parser_context", "yauaa_context"):
        assert context not in text


@pytest.mark.parametrize("dialect", DIALECTS)
def test_page_views_and_sessions_take_the_enrichment_columns_only_with_the_options_on(dialect):
    for model in ("page_views_this_run", "sessions_this_run"):
        on, off = step(dialect, True, model).lower(), step(dialect, False, model).lower()
        for column in ("iab_spider_or_robot", "ua_os_family", "yauaa_device_class", "yauaa_agent_name"):
            assert column in on and column not in off


@pytest.mark.parametrize("dialect", SQLFLUFF_DIALECTS)
def test_the_steps_with_the_options_on_parse_with_sqlfluffs_grammar(dialect):
    # The warehouses without an engine here (Redshift) or whose emulator accepts more than the
    # warehouse: the three steps the options change, as test_sqlfluff_grammar checks generated/.
    for model in ("base_events_this_run", "page_views_this_run", "sessions_this_run"):
        text = files(dialect, True)[f"snowplow_web_{model}"]
        parsed = linter(dialect).parse_string(sqlfluff_text(dialect, text))
        assert [str(v) for v in parsed.violations] == [], model
