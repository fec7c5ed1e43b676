"""The watermark strategy's spec mistakes (located in the YAML) and bad --backfill requests."""

from __future__ import annotations

import pytest

COMPILE = ("compile", "--dialect", "duckdb")
BACKFILL = ("--from", "2024-03-01", "--to", "2024-03-05")

PROJECT = """\
project: demo
incremental:
  strategy: watermark
sources:
  deals:
    schema: mt5_p1
    table: deals
    timestamp: ts
    instances: {p1: {schema: mt5_p1}, p2: {schema: mt5_p2}}
  events:
    schema: atomic
    table: events
"""
STAGING = """\
name: stg
for_each: deals
watermark: deals
sql: select {{ instance }} as server, id, ts from deals
"""
MERGED = """\
name: merged
materialization: incremental
unique_key: [server, id]
upsert_date_key: ts
backfill:
  instance_column: server
sql: select server, id, ts from stg
"""


@pytest.fixture
def wm(proj):
    proj.remove("models/page_views.yml")
    proj.write("snowgen.yml", PROJECT)
    proj.write("models/stg.yml", STAGING)
    proj.write("models/merged.yml", MERGED)
    return proj


def test_the_project_compiles(wm):
    assert wm.run(*COMPILE).exit_code == 0
    assert wm.run(*COMPILE, "--backfill", "p1", *BACKFILL).exit_code == 0
    assert (wm.root / "generated/demo/duckdb-backfill-p1-2024-03-01-2024-03-05/plan.json").is_file()


# -- the spec --------------------------------------------------------------------------------------


def test_watermark_on_an_unknown_source(wm):
    wm.write("models/stg.yml", STAGING.replace("watermark: deals", "watermark: deal"))
    assert wm.fail(*COMPILE) == (
        "models/stg.yml:3:12: SG201 watermark: unknown source 'deal' (did you mean 'deals'?)\n"
        " 3 | watermark: deal\n"
        "   |            ^\n"
    )


def test_watermark_on_a_source_without_timestamp(wm):
    wm.write("snowgen.yml", PROJECT.replace("    timestamp: ts\n", ""))
    assert wm.fail(*COMPILE) == (
        "snowgen.yml:5:3: SG103 source 'deals' needs 'timestamp': model 'stg' reads it with a watermark\n"
        " 5 |   deals:\n"
        "   |   ^\n"
    )


def test_watermark_model_that_is_not_a_table(wm):
    wm.write("models/stg.yml", STAGING.replace("for_each: deals\n", "for_each: deals\nmaterialization: view\n"))
    assert wm.fail(*COMPILE) == (
        "models/stg.yml:3:18: SG102 a watermark model must be materialization: table (this run's new rows of its "
        "source, from which its watermark advances)\n"
        " 3 | materialization: view\n"
        "   |                  ^\n"
    )


def test_watermark_on_a_source_with_instances_without_for_each(wm):
    wm.write("models/stg.yml", "name: stg\nwatermark: deals\nsql: select id, ts from deals\n")
    wm.write("models/merged.yml", MERGED.replace("server, ", "").replace("[id]", "id"))
    assert wm.fail(*COMPILE) == (
        "models/stg.yml:2:1: SG102 source 'deals' has instances (p1, p2): a model reading it with a watermark "
        "needs 'for_each: deals', so that each instance keeps its own watermark\n"
        " 2 | watermark: deals\n"
        "   | ^\n"
    )


def test_watermark_model_without_the_source_timestamp_in_its_output(wm):
    wm.write("models/stg.yml", STAGING.replace("id, ts from", "id, ts as t from"))
    assert wm.fail(*COMPILE) == (
        "models/stg.yml:3:12: SG207 column 'ts' is not an output column of model 'stg'; a watermark model outputs "
        "the timestamp of its source 'deals' (did you mean 't'?)\n"
        " 3 | watermark: deals\n"
        "   |            ^\n"
    )


def test_a_late_data_horizon_within_the_lookback(wm):
    wm.write(
        "snowgen.yml",
        PROJECT.replace(
            "  strategy: watermark\n", "  strategy: watermark\n  lookback_hours: 6\n  late_data_horizon_hours: 6\n"
        ),
    )
    assert wm.fail(*COMPILE) == (
        "snowgen.yml:5:28: SG102 late_data_horizon_hours (6) must be larger than lookback_hours (6): rows within the "
        "lookback are read again anyway, late rows are found between the two (or set late_data: off)\n"
        " 5 |   late_data_horizon_hours: 6\n"
        "   |                            ^\n"
    )
    wm.write(
        "snowgen.yml",
        PROJECT.replace("  strategy: watermark\n", "  strategy: watermark\n  lookback_hours: 6\n  late_data: off\n"),
    )
    result = wm.run(*COMPILE)
    assert result.exit_code == 0, result.output


def test_an_unknown_late_data_choice(wm):
    wm.write("snowgen.yml", PROJECT.replace("  strategy: watermark\n", "  strategy: watermark\n  late_data: ignore\n"))
    message = wm.fail(*COMPILE)
    assert message.startswith("snowgen.yml:4:14: SG102 ") and "'reprocess', 'report' or 'off'" in message


def test_strategy_keys_without_the_watermark_strategy(wm):
    wm.write("snowgen.yml", PROJECT.replace("incremental:\n  strategy: watermark\n", ""))
    wm.remove("models/merged.yml")
    assert wm.fail(*COMPILE) == (
        "models/stg.yml:3:1: SG102 'watermark' needs the project's 'incremental: {strategy: watermark}'\n"
        " 3 | watermark: deals\n"
        "   | ^\n"
    )


def test_backfill_instance_column_that_is_not_an_output_column(wm):
    wm.write("models/merged.yml", MERGED.replace("instance_column: server", "instance_column: srv"))
    assert wm.fail(*COMPILE) == (
        "models/merged.yml:6:20: SG207 column 'srv' is not an output column of model 'merged' (did you mean 'server'?)\n"
        " 6 |   instance_column: srv\n"
        "   |                    ^\n"
    )


def test_backfill_without_upsert_date_key(wm):
    wm.write("models/merged.yml", MERGED.replace("upsert_date_key: ts\n", ""))
    assert wm.fail(*COMPILE) == (
        "models/merged.yml:4:1: SG103 'backfill' needs 'upsert_date_key': the column whose [from, to) range a "
        "backfill replaces\n"
        " 4 | backfill:\n"
        "   | ^\n"
    )


def test_backfill_on_a_table_model(wm):
    wm.write(
        "models/merged.yml", "name: merged\nbackfill: {instance_column: server}\nsql: select server, id, ts from stg\n"
    )
    assert wm.fail(*COMPILE) == (
        "models/merged.yml:2:1: SG102 'backfill' only applies to materialization: incremental\n"
        " 2 | backfill: {instance_column: server}\n"
        "   | ^\n"
    )


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (
            "  strategy: watermarks\n",
            "snowgen.yml:3:13: SG102 incremental.strategy: expected one of 'sessions', 'watermark', got 'watermarks'\n"
            " 3 |   strategy: watermarks\n"
            "   |             ^\n",
        ),
        (
            "  lookback_hours: 2\n",
            "snowgen.yml:2:1: SG103 missing required key 'strategy'\n 2 | incremental:\n   | ^\n",
        ),
        (
            "  strategy: watermark\n  lookback_hours: -1\n",
            "snowgen.yml:4:19: SG102 incremental.lookback_hours: input should be greater than or equal to 0\n"
            " 4 |   lookback_hours: -1\n"
            "   |                   ^\n",
        ),
        (
            "  strategy: watermark\n  stale_after: 3\n",
            "snowgen.yml:4:3: SG101 unknown key 'stale_after' (did you mean 'stale_after_hours'?)\n"
            " 4 |   stale_after: 3\n"
            "   |   ^\n",
        ),
    ],
    ids=["unknown-strategy", "no-strategy-key", "negative-lookback", "unknown-key"],
)
def test_strategy_block_shape(wm, block, expected):
    wm.write("snowgen.yml", PROJECT.replace("  strategy: watermark\n", block))
    assert wm.fail(*COMPILE) == expected


# -- --backfill ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("--backfill", "p4", *BACKFILL),
            "snowgen: SG406 --backfill: no model reads 'p4' with a watermark; choose one of deals.p1, deals.p2\n",
        ),
        (
            ("--backfill", "deals.p3", *BACKFILL),
            "snowgen: SG406 --backfill: no model reads 'deals.p3' with a watermark (did you mean 'deals.p2'?)\n",
        ),
        (
            ("--backfill", "deals", *BACKFILL),
            "snowgen: SG406 --backfill deals: the source has instances; name one of deals.p1, deals.p2\n",
        ),
        (
            ("--backfill", "events", *BACKFILL),
            "snowgen: SG406 --backfill: no model reads 'events' with a watermark; choose one of deals.p1, deals.p2\n",
        ),
        (
            ("--backfill", "p1", "--from", "2024-03-05", "--to", "2024-03-01"),
            "snowgen: SG406 --from (2024-03-05) must be before --to (2024-03-01): the range is [from, to)\n",
        ),
        (
            ("--backfill", "p1", "--from", "2024-03-01 10:00", "--to", "2024-03-01 10:00"),
            "snowgen: SG406 --from (2024-03-01 10:00:00) must be before --to (2024-03-01 10:00:00): the range is [from, to)\n",
        ),
        (
            ("--backfill", "p1", "--from", "2024-13-01", "--to", "2024-03-05"),
            "snowgen: SG406 --from: expected a date YYYY-MM-DD or a timestamp YYYY-MM-DD HH:MM:SS, got '2024-13-01'\n",
        ),
        (
            ("--backfill", "p1", "--from", "2024-03-01"),
            "snowgen: SG403 --backfill, --from and --to go together; missing --to\n",
        ),
        (
            ("--to", "2024-03-01"),
            "snowgen: SG403 --backfill, --from and --to go together; missing --backfill, --from\n",
        ),
    ],
    ids=[
        "unknown",
        "unknown-instance",
        "source-with-instances",
        "not-read-with-a-watermark",
        "reversed",
        "empty",
        "bad-date",
        "no-to",
        "no-backfill",
    ],
)
def test_bad_backfill_options(wm, args, expected):
    assert wm.fail(*COMPILE, *args) == expected


def test_backfill_of_a_project_without_the_watermark_strategy(proj):
    assert proj.fail(*COMPILE, "--backfill", "p1", *BACKFILL) == (
        "snowgen: SG406 --backfill needs the watermark strategy; project 'demo' has no incremental strategy\n"
    )


def test_backfill_needs_one_project(wm):
    wm.remove("snowgen.yml")  # no project here, two under model_specs/
    for name in ("a", "b"):
        wm.write(f"model_specs/{name}/snowgen.yml", f"project: {name}\n")
    assert wm.fail(*COMPILE, "--backfill", "p1", *BACKFILL) == (
        "snowgen: SG403 several projects here and this command works on one: pass --project with one of "
        "model_specs/a, model_specs/b\n"
    )


def test_backfill_of_instances_into_a_model_that_cannot_tell_them_apart(wm):
    wm.write("models/merged.yml", MERGED.replace("backfill:\n  instance_column: server\n", "backfill: {}\n"))
    assert wm.run(*COMPILE).exit_code == 0  # a regular plan does not need it
    assert wm.fail(*COMPILE, "--backfill", "p1", *BACKFILL) == (
        "models/merged.yml:5:1: SG406 --backfill deals.p1: model 'merged' cannot tell the rows of instance 'p1' "
        "apart; set backfill.instance_column to the column holding the instance name\n"
        " 5 | backfill: {}\n"
        "   | ^\n"
    )


def test_backfill_range_with_a_time_of_day_on_a_date_column(wm):
    wm.write(
        "models/merged.yml",
        MERGED.replace("upsert_date_key: ts", "upsert_date_key: d")
        .replace("server, id, ts from", "server, id, ts, cast(ts as date) as d from")
        .replace("unique_key", "columns: {server: string, id: bigint, ts: timestamp, d: date}\nunique_key"),
    )
    assert wm.fail(*COMPILE, "--backfill", "p1", "--from", "2024-03-01 06:00", "--to", "2024-03-02") == (
        "snowgen: SG406 --from/--to: column 'd' is a date, so the range takes dates, got 2024-03-01 06:00:00\n"
    )
