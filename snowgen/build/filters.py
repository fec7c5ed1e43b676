"""The bot filter and the app id allow-list, with one meaning on every warehouse.

Bot filter: keep a row when its user agent is not NULL and contains none of the patterns,
compared case-insensitively as *literal substrings*. The patterns are joined into one
regular expression with every metacharacter escaped for the warehouse's regex flavour, and
matched with the warehouse's substring (not whole-string) operator.

App filter: keep a row when its app id is one of the listed values; an empty list keeps
every row; a NULL app id is dropped whenever the list is not empty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from snowgen.dialects.base import Dialect, rewrite_nodes
from snowgen.spec.models import AppFilterSpec, BotFilterSpec

# Snowplow's list (snowplow-web's filter_bots, lower-case since web 0.16); the two regex
# groups of the original, (browser|screen)shots and 360(spider|user-agent), are spelled out.
SNOWPLOW_BOT_PATTERNS: tuple[str, ...] = (
    "bot", "crawl", "slurp", "spider", "archiv", "spinn", "sniff", "seo", "audit", "survey",
    "pingdom", "worm", "capture", "browsershots", "screenshots", "analyz", "index", "thumb",
    "check", "facebook", "pingdombot", "phantomjs", "yandexbot", "twitterbot", "a_archiver",
    "facebookexternalhit", "bingbot", "bingpreview", "googlebot", "baiduspider", "360spider",
    "360user-agent", "semalt",
)  # fmt: skip


def bot_patterns(spec: BotFilterSpec) -> tuple[str, ...]:
    return SNOWPLOW_BOT_PATTERNS if spec.patterns == "snowplow" else tuple(spec.patterns)


def bot_regex(spec: BotFilterSpec, dialect: Dialect) -> str:
    # Lower-cased here and LOWER() in SQL; duplicates removed, order kept (stable output).
    patterns = dict.fromkeys(p.lower() for p in bot_patterns(spec))
    return "|".join(dialect.escape_regex(p) for p in patterns)


def bot_filter(spec: BotFilterSpec | None, dialect: Dialect, table: str | None = None) -> exp.Expr:
    if spec is None:
        return exp.true()
    column = exp.column(spec.column, table=table)
    is_bot = dialect.regex_contains(exp.Lower(this=column), bot_regex(spec, dialect))
    return exp.and_(
        exp.Not(this=exp.Is(this=column.copy(), expression=exp.Null())), exp.Not(this=exp.Paren(this=is_bot))
    )


def app_filter(spec: AppFilterSpec | None, table: str | None = None) -> exp.Expr:
    if spec is None or not spec.allow:
        return exp.true()
    column = exp.column(spec.column, table=table)
    return exp.In(this=column, expressions=[exp.Literal.string(v) for v in dict.fromkeys(spec.allow)])


def all_of(*conditions: exp.Expr) -> exp.Expr:
    """AND of the conditions, leaving out literal TRUEs (a switched-off filter)."""
    kept = [c for c in conditions if not (isinstance(c, exp.Boolean) and c.this is True)]
    return exp.and_(*kept) if kept else exp.true()


@dataclass(frozen=True)
class MacroContext:
    """What a body macro expands with: the model's filters and the dialect."""

    bot: BotFilterSpec | None
    app: AppFilterSpec | None
    dialect: Dialect


#: body macro -> its expansion (``alias`` is its optional table argument); the names and
#: arities a body may use are ``sqlbody.MACROS``, and a test checks the two list the same macros
EXPANSIONS: dict[str, Callable[[MacroContext, str | None], exp.Expr]] = {
    "bot_filter": lambda ctx, alias: exp.Paren(this=bot_filter(ctx.bot, ctx.dialect, alias)),
    "app_filter": lambda ctx, alias: exp.Paren(this=app_filter(ctx.app, alias)),
    "now_utc": lambda ctx, alias: ctx.dialect.now_utc(),
}


def expand_macros(
    query: exp.Query, bot: BotFilterSpec | None, app: AppFilterSpec | None, dialect: Dialect
) -> exp.Query:
    """Replace each body macro (``bot_filter([alias])``, ``app_filter([alias])``, ``now_utc()``)."""
    ctx = MacroContext(bot, app, dialect)

    def expand(node: exp.Expr) -> exp.Expr:
        expansion = EXPANSIONS.get(str(node.this).lower())
        if expansion is None:
            return node
        return expansion(ctx, node.expressions[0].name if node.expressions else None)

    return rewrite_nodes(query, (exp.Anonymous,), expand)
