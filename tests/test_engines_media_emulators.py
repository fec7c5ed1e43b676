"""The shipped snowplow_media_player project alone (the base and media modules) on the
Snowflake, BigQuery and Databricks emulators, against DuckDB on the same generated media
plays, run after run.

There the media entities are nested columns of the events table (a VARIANT, an ARRAY of
STRUCT; a self-describing event one VARIANT object or one STRUCT, in the loaders'
``unstruct_event_`` column) where DuckDB joins tables of their own: agreement here is agreement
of the two forms, and of every media table's SQL in each dialect.
"""

from __future__ import annotations

import json
from functools import cache

import pytest
from sqlglot import exp
from support import generator
from support.generator import GeneratorConfig
from support.generator_media import MEDIA_PROJECT, load_media, media_contexts
from support.runs import run_compiled
from test_engines_sessions_emulators import rows

from snowgen.api import CompileOptions, compile_loaded
from snowgen.build.sessions_events import iglu_parts
from snowgen.build.sources import source_ddl
from snowgen.dialects import get_dialect
from snowgen.spec.loader import load_project

ENGINES = ["snowflake", "bigquery", "databricks"]
VARS = {"start_date": "2024-03-01", "backfill_limit_days": 30, "web_modules": []}
#: each media table by columns that exercise its parts (the play and media ids are hashes)
TABLES = {
    "base": "SELECT play_id, media_identifier, media_type, media_player_type, play_time_secs, "
            "play_time_muted_secs, content_watched_percent, seeks, ads, is_played, is_valid_play, "
            "is_complete_play, percent_progress_reached FROM derived.snowplow_media_player_base",
    "media_stats": "SELECT media_identifier, impressions, plays, complete_plays, play_time_mins "
                   "FROM derived.snowplow_media_player_media_stats",
    "session_stats": "SELECT domain_sessionid, impressions, video_plays, audio_plays, play_time_secs "
                     "FROM derived.snowplow_media_player_session_stats",
    "user_stats": "SELECT domain_userid, sessions, impressions, play_time_secs FROM derived.snowplow_media_player_user_stats",
    "ad_views": "SELECT media_ad_view_id, clicked, skipped, percent_reached_75 FROM derived.snowplow_media_player_media_ad_views",
}  # fmt: skip


@cache
def batches() -> list[list[generator.Event]]:
    return generator.generate(GeneratorConfig(seed=7, days=2, users=4, media_share=0.9, long_bot_sessions=0)).batches()


@cache
def compiled(dialect: str) -> tuple[list[str], dict[str, str]]:
    loaded = load_project(MEDIA_PROJECT)
    d = get_dialect(dialect)
    [project] = compile_loaded(loaded, [dialect], CompileOptions(vars=VARS))
    return [d.render(s) for s in source_ddl(loaded.spec, d)], project.files


@cache
def events_columns(dialect: str) -> list[str]:
    d = get_dialect(dialect)
    for statement in source_ddl(load_project(MEDIA_PROJECT).spec, d):
        if isinstance(statement, exp.Create) and statement.this.this.name == "events":
            return [column.name for column in statement.this.expressions]
    raise AssertionError("no atomic.events in the source DDL")


def nested_value(dialect: str, kind: str, entity: dict) -> exp.Expr:
    """An entity (or a self-describing event's data) as the loader nests it, every field text."""
    d = get_dialect(dialect)
    text = {
        field: None if v is None else ("true" if v is True else "false" if v is False else str(v))
        for field, v in entity.items()
    }
    if kind == "entity":
        return d.context_value([text], {})
    if dialect == "snowflake":
        return exp.ParseJSON(this=exp.Literal.string(json.dumps(text)))
    values = [
        exp.alias_(exp.Literal.string(v) if v is not None else exp.Null(), d.context_field(f)) for f, v in text.items()
    ]
    return exp.Struct(expressions=values)


def load(engine, events: list[generator.Event]) -> None:
    """Every column of each events row (Sail takes full rows only), the web_page and media
    entities nested in their columns."""
    from support.data import insert_rows

    d = get_dialect(engine.name)
    columns = events_columns(engine.name)
    contexts = [
        (
            "web_page",
            "entity",
            d.context_column(*iglu_parts("iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0")),
        )
    ]
    for context in media_contexts():
        spec = next(c for c in load_project(MEDIA_PROJECT).spec.incremental.contexts if c.name == context.name)
        column = (d.event_column if spec.kind == "event" else d.context_column)(*iglu_parts(context.schema))
        contexts.append((context.name, spec.kind, column))
    rows_ = []
    for event in events:
        row = {column: event.row.get(column) for column in columns}
        entities = {"web_page": {"id": event.page_view_id}} if event.page_view_id else {}
        for name, kind, column in contexts:
            entity = entities.get(name) or event.entities.get(name)
            if entity is not None:
                row[column] = nested_value(engine.name, kind, entity)
        rows_.append(row)
    for statement in insert_rows(engine.name, "atomic", "events", rows_):
        engine.execute(statement)


def runs(engine):
    ddl, files = compiled(engine.name)
    for statement in ddl:
        engine.execute(statement)
    for batch in batches():
        if engine.name == "duckdb":
            generator.load(engine, batch)
            load_media(engine, batch)
        else:
            load(engine, batch)
        run_compiled(engine, files)
        yield {name: rows(engine, query) for name, query in TABLES.items()}


@pytest.fixture(scope="module")
def duckdb_runs(duckdb_engine):
    engine = duckdb_engine.fresh()
    results = list(runs(engine))
    engine.close()
    assert all(result["base"] for result in results) and results[-1]["ad_views"]
    return results


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_media_tables_agree_with_duckdb_run_after_run(engine, duckdb_runs):
    for number, tables in enumerate(runs(engine)):
        for name, expected in duckdb_runs[number].items():
            assert tables[name] == expected, f"run {number + 1}: {name}"
