"""Run the shipped snowplow_media_player project (model_specs/snowplow_media_player) over
generated events with media plays (support.generator_media), the way a scheduler would: a
``Warehouse`` of support.scenarios whose source tables are the media project's (the web
project's events and web_page context, and the media entities' tables)."""

from __future__ import annotations

import json

from support import generator, scenarios
from support.generator_media import MEDIA_PROJECT, load_media

#: the media project's derived tables and their unique keys
BASE = "derived.snowplow_media_player_base"
MEDIA_STATS = "derived.snowplow_media_player_media_stats"
SESSION_STATS = "derived.snowplow_media_player_session_stats"
USER_STATS = "derived.snowplow_media_player_user_stats"
AD_VIEWS = "derived.snowplow_media_player_media_ad_views"
ADS = "derived.snowplow_media_player_media_ads"
MEDIA_DERIVED = {
    BASE: "play_id", MEDIA_STATS: "media_identifier", SESSION_STATS: "domain_sessionid",
    USER_STATS: "domain_userid", AD_VIEWS: "media_ad_view_id", ADS: "media_ad_id",
}  # fmt: skip
PLAYS_BY_PAGEVIEW = "derived.snowplow_media_player_plays_by_pageview"
#: the media models, as the manifest names them
MEDIA_MODELS = tuple(name.split(".")[1] for name in MEDIA_DERIVED)
#: the web project's tracked models
WEB_MODELS = ("snowplow_web_page_views", "snowplow_web_sessions", "snowplow_web_user_mapping", "snowplow_web_users")


def plan(dialect: str, **cli_vars) -> list:
    """The media project's compiled plan (cached per dialect and vars)."""
    return list(scenarios._plan(MEDIA_PROJECT, dialect, json.dumps(cli_vars, sort_keys=True)))


class Warehouse(scenarios.Warehouse):
    """An isolated database with the media project's source tables; loads media entities too."""

    def __init__(self, engine, steps):
        super().__init__(engine, steps, MEDIA_PROJECT)

    def load(self, events: list[generator.Event]) -> None:
        generator.load(self.engine, events)
        load_media(self.engine, events)

    def media_snapshot(self) -> dict[str, scenarios.Table]:
        return {name: self.table(name) for name in MEDIA_DERIVED}
