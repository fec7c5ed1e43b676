"""The bot filter and the app filter on real engines, with sample user agents: the same
rows survive on every engine that can run them here."""

from __future__ import annotations

import pytest
from sqlglot import exp

from snowgen.build.filters import app_filter, bot_filter
from snowgen.dialects import get_dialect
from snowgen.spec.models import AppFilterSpec, BotFilterSpec

AGENTS = {
    "chrome": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "googlebot": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "facebook": "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "upper_case_spider": "BAIDUSPIDER-render/2.0",
    "pingdom": "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)",
    "safari": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile Safari",
    "missing": None,
}
ENGINES = ["postgres", "duckdb", "snowflake", "bigquery", "databricks"]


def survivors(engine, predicate: exp.Expr, rows: dict[str, str | None]) -> list[str]:
    d = get_dialect(engine.name)
    values = [
        exp.Tuple(expressions=[exp.Literal.string(k), exp.Literal.string(v) if v is not None else exp.Null()])
        for k, v in rows.items()
    ]
    union = None
    for row in values:
        select = exp.Select(
            expressions=[
                exp.alias_(row.expressions[0], "name"),
                exp.alias_(exp.Cast(this=row.expressions[1], to=d.data_type("string")), "useragent"),
            ]
        )
        union = select if union is None else exp.Union(this=union, expression=select, distinct=False)
    query = (
        exp.Select(expressions=[exp.column("name", table="ev")])
        .from_(union.subquery("ev"))
        .where(predicate)
        .order_by(exp.column("name", table="ev"))
    )
    return [row[0] for row in engine.query(d.render(query))]


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_snowplow_list_drops_bots_and_null_user_agents(engine):
    predicate = bot_filter(BotFilterSpec(), get_dialect(engine.name), "ev")
    assert survivors(engine, predicate, AGENTS) == ["chrome", "safari"]


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_patterns_are_literal_substrings_not_regular_expressions(engine):
    rows = {"dot": "a.b", "any": "axb", "star": "x*", "quote": "it's", "backslash": "c:\\d", "plain": "zzz"}
    spec = BotFilterSpec(patterns=["a.b", "x*", "'", "\\"])
    predicate = bot_filter(spec, get_dialect(engine.name), "ev")
    assert survivors(engine, predicate, rows) == ["any", "plain"]


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_app_filter_keeps_listed_apps_and_drops_null(engine):
    rows = {"web": "web", "shop": "shop", "other": "other", "none": None}
    predicate = app_filter(AppFilterSpec(column="useragent", allow=["web", "shop"]), "ev")
    assert survivors(engine, predicate, rows) == ["shop", "web"]
