"""The bot filter keeps a row exactly when the Python oracle does:

    ua is not None and not any(p.lower() in ua.lower() for p in patterns)

Patterns are literal substrings, so regex metacharacters, quotes, % and _ must match
themselves. Patterns and user agents are printable ASCII (plus tab): case folding of
non-ASCII text differs between Python, DuckDB and Postgres (e.g. 'İ'.lower() has two
characters in Python), and that is not what this test is about."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from snowgen.build.filters import bot_regex
from snowgen.dialects import DIALECTS, get_dialect
from snowgen.spec.models import BotFilterSpec

from .conftest import compile_specs, examples, fresh_duckdb, ordered_sql, parse_back, quote

META = ".*+?()[]{}|^$\\"
ASCII = st.characters(min_codepoint=32, max_codepoint=126) | st.just("\t")
PATTERN_CHAR = st.sampled_from(list(META + "'\"%_ -/")) | ASCII
PATTERNS = st.lists(st.text(PATTERN_CHAR, min_size=1, max_size=6), min_size=1, max_size=5)
SCHEMAS = {"source": "bots_src", "derived": "bots_derived", "scratch": "bots_scratch"}


def oracle(ua: str | None, patterns: list[str]) -> bool:
    return ua is not None and not any(p.lower() in ua.lower() for p in patterns)


def any_case(text: str):
    flags = st.lists(st.booleans(), min_size=len(text), max_size=len(text))
    return flags.map(lambda up: "".join(c.upper() if u else c.lower() for c, u in zip(text, up, strict=False)))


@st.composite
def cases(draw):
    """Patterns and user agents, many of which contain a pattern (in any case)."""
    patterns = draw(PATTERNS)
    fragment = st.text(ASCII, max_size=5) | st.sampled_from(patterns).flatmap(any_case)
    user_agent = st.lists(fragment, max_size=4).map("".join)
    user_agents = draw(st.lists(st.none() | user_agent, min_size=1, max_size=10))
    return patterns, user_agents


def spec(patterns: list[str]) -> tuple[dict, list[dict]]:
    project = {
        "project": "bots",
        "schemas": {"derived": SCHEMAS["derived"], "scratch": SCHEMAS["scratch"]},
        "sources": {"uas": {"schema": SCHEMAS["source"], "table": "uas"}},
        "bot_filter": {"column": "useragent", "patterns": patterns},
    }
    return project, [{"name": "kept", "materialization": "view", "sql": "select id from uas where bot_filter()\n"}]


def load(execute, executemany, user_agents: list[str | None]) -> None:
    execute(f"create schema {quote(SCHEMAS['source'])}")
    execute(f"create table {quote(SCHEMAS['source'])}.uas (id integer, useragent varchar)")
    executemany(f"insert into {quote(SCHEMAS['source'])}.uas values (%s, %s)", list(enumerate(user_agents)))


def kept_ids(execute_all, fetch, dialect: str, patterns: list[str]) -> set[int]:
    compiled = compile_specs(*spec(patterns), dialects=[dialect])[dialect]
    for _, text in ordered_sql(compiled):
        execute_all(text)
    return {row[0] for row in fetch(f"select id from {quote(SCHEMAS['derived'])}.kept")}


def expected(patterns, user_agents) -> set[int]:
    return {i for i, ua in enumerate(user_agents) if oracle(ua, patterns)}


SETTINGS = settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
EXAMPLE = (
    ["a.c", "(x)", "%", "_", "[", "\\", "'", "^$", "|"],
    ["ABC", "aXc", "A.C x", "(X)", "50%", "a_b", "[", None, "\\n", "it's", "^$", "a|b", ""],
)


@SETTINGS
@given(case=cases())
@example(case=EXAMPLE)
def test_bot_filter_on_duckdb_matches_the_oracle(case):
    patterns, user_agents = case
    con = fresh_duckdb()
    load(con.execute, lambda q, rows: con.executemany(q.replace("%s", "?"), rows), user_agents)
    got = kept_ids(con.execute, lambda q: con.execute(q).fetchall(), "duckdb", patterns)
    assert got == expected(patterns, user_agents)


@SETTINGS
@given(case=cases())
@example(case=EXAMPLE)
def test_bot_filter_on_postgres_matches_the_oracle(pg_scratch_db, case):
    patterns, user_agents = case
    db = pg_scratch_db
    try:
        load(db.execute, lambda q, rows: db.cursor().executemany(q, rows), user_agents)
        got = kept_ids(db.execute, lambda q: db.execute(q).fetchall(), "postgres", patterns)
    finally:
        for schema in SCHEMAS.values():
            db.execute(f"drop schema if exists {quote(schema)} cascade")
    assert got == expected(patterns, user_agents)


@SETTINGS
@given(patterns=PATTERNS)
@example(patterns=EXAMPLE[0])
def test_bot_filter_regex_survives_every_dialects_string_escaping(patterns):
    """Where no engine runs here, the regex literal must at least parse back unchanged."""
    outputs = compile_specs(*spec(patterns))
    assert set(outputs) == set(DIALECTS)
    for dialect, compiled in outputs.items():
        [text] = [t for f, t in ordered_sql(compiled) if f.endswith("_kept.sql")]
        literals = [lit.this for s in parse_back(text, dialect) for lit in s.find_all(exp.Literal) if lit.is_string]
        assert bot_regex(BotFilterSpec(patterns=patterns), get_dialect(dialect)) in literals, dialect
