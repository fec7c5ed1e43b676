"""Media player events for the generator (``GeneratorConfig(media_share=...)``), as Snowplow's
media tracking sends them, for the snowplow_media_player project's tests.

A share of the regular page views shows a media player; each such page view gets one play,
its kind taken in turn (so every kind appears once there are a few plays):

- version 1 (the HTML5 and YouTube plugins): ``media_player_event`` events (ready, play,
  percentprogress at each boundary reached, seeked, pause or ended) with the media player
  entity 1-0-0 and the YouTube entity or the HTML5 media (and video) element entities; one
  seek event in each such play lacks its media player entity (a missing context);
- version 2 (the media plugin): one event per type (ready_event, play_event,
  percent_progress_event, seek_end_event, pause_event or end_event) with the media player
  entity 2-0-0 and the media session entity (the tracker's running play time), some with a
  pre-roll ad break (ad_break_start, ad_start, quartiles, ad_skip or ad_complete, ad_click,
  ad_break_end, with the ad and ad break entities), some without the media session entity
  (their play time is then estimated as for version 1);
- an impression: a ready event and nothing else.

A play on the first page view of the first session that crosses midnight plays a 10-minute
audio across it, so its events load with two batches.

Every value is the entity's field as the schema spells it; ``load_media`` writes them to the
context tables of the media project (Postgres and DuckDB, which keep contexts in tables).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

from snowgen.build.sessions_events import iglu_parts
from snowgen.dialects import get_dialect
from snowgen.spec.loader import load_project
from support import generator

MEDIA_PROJECT = Path(__file__).resolve().parents[2] / "model_specs" / "snowplow_media_player"
V1_VENDOR, V2_VENDOR = "com.snowplowanalytics.snowplow", "com.snowplowanalytics.snowplow.media"
BOUNDARIES = (10, 25, 50, 75)
#: the kinds of play, taken in turn
KINDS = ("v1_youtube", "v2_ads", "v1_html5_video", "v2", "impression", "v1_html5_audio", "v2_no_session")
WATCHED = (0.05, 0.3, 0.6, 0.9, 1.0)  # shares of the media a play reaches, drawn per play


@dataclass(frozen=True)
class Media:
    label: str
    duration: float
    media_type: str  # video | audio
    player_id: str
    source: str


MEDIA = {
    "v1_youtube": Media("Product tour", 120.0, "video", "yt-tour", "https://www.youtube.com/watch?v=tour"),
    "v1_html5_video": Media("How to size shoes", 200.0, "video", "html5-sizes", "https://shop.example.com/sizes.mp4"),
    "v1_html5_audio": Media("Shop podcast 4", 600.0, "audio", "html5-podcast", "https://shop.example.com/pod4.mp3"),
    "v2": Media("Behind the seams", 300.0, "video", "", ""),
    "v2_ads": Media("Spring campaign", 80.0, "video", "", ""),
    "v2_no_session": Media("Spring campaign", 80.0, "video", "", ""),
    "impression": Media("Behind the seams", 300.0, "video", "", ""),
}


def add_media_plays(b) -> None:
    """Plays on ``media_share`` of the regular page views (and one across midnight)."""
    share = b.config.media_share
    views = [e for s in generator._regular(b) for e in s.events if e.row["event_name"] == "page_view"]
    sessions = {id(e): s for s in generator._regular(b) for e in s.events}
    turn = 0
    for view in views:
        if b.rng.random() < share:
            _play(b, sessions[id(view)], view, KINDS[turn % len(KINDS)])
            turn += 1
    midnight = [s for s in b.sessions if s.events and "midnight" in s.events[0].tags]
    if midnight:
        _play(b, midnight[0], midnight[0].events[0], "v1_html5_audio", watched=1.0)


class _Play:
    """One play being generated: its session, page view, media and running state."""

    def __init__(self, b, session, view, kind: str, watched: float):
        self.b, self.session, self.kind, self.media = b, session, kind, MEDIA[kind]
        self.page = {"page_view_id": view.page_view_id, "index": 2, "path": view.row["page_urlpath"],
                     "title": view.row["page_title"], "x": 0, "y": 0}  # fmt: skip
        self.start = view.row["dvce_created_tstamp"] + dt.timedelta(seconds=b.rng.randint(2, 9))
        self.watched = watched
        self.muted = b.rng.random() < 0.3
        self.session_id = b.uuid()
        self.counters = {"ads": 0, "adsClicked": 0, "adsSkipped": 0, "adBreaks": 0, "timeSpentAds": 0.0}
        self.offset = 0.0  # seconds of ads before the content starts

    def at(self, position: float) -> dt.datetime:
        """The device time when the content is at ``position`` seconds (1 s after the start)."""
        return self.start + dt.timedelta(seconds=1 + self.offset + position)

    def event(self, created: dt.datetime, name: str, vendor: str, entities: dict) -> None:
        event = self.b.event(self.session, "pp", created, self.page, tags=["media", self.kind])
        for column in ("pp_xoffset_min", "pp_xoffset_max", "pp_yoffset_min", "pp_yoffset_max"):
            event.row[column] = None
        event.row.update({"event": "unstruct", "event_vendor": vendor, "event_name": name})
        event.entities.update(entities)


def _play(b, session, view, kind: str, watched: float | None = None) -> None:
    play = _Play(b, session, view, kind, watched if watched is not None else b.rng.choice(WATCHED))
    if kind.startswith("v1"):
        _v1_play(play)
    else:
        _v2_play(play)


# -- version 1 --------------------------------------------------------------------------------------
def _v1_play(play: _Play) -> None:
    duration = play.media.duration
    _v1_event(play, "ready", 0.0, created=play.start)
    _v1_event(play, "play", 0.0)
    seek_at = play.b.rng.choice(BOUNDARIES) if play.b.rng.random() < 0.5 else None
    for boundary in [b for b in BOUNDARIES if b <= play.watched * 100]:
        _v1_event(play, "percentprogress", duration * boundary / 100, percent=boundary)
        if boundary == seek_at:
            _v1_event(play, "seeked", duration * boundary / 100, lost_player=True)
    if play.watched >= 1.0:
        _v1_event(play, "percentprogress", duration, percent=100)
        _v1_event(play, "ended", duration)
    else:
        _v1_event(play, "pause", duration * play.watched)


def _v1_event(play: _Play, kind: str, position: float, *, percent=None, created=None, lost_player=False) -> None:
    media = play.media
    entities = {"media_player_event": {"type": kind, "label": media.label}}
    if not lost_player:
        entities["media_player_v1"] = {
            "currentTime": position, "duration": media.duration, "isLive": False, "muted": play.muted,
            "paused": kind in ("ready", "pause", "ended"), "percentProgress": percent, "playbackRate": 1.0,
        }  # fmt: skip
    if play.kind == "v1_youtube":
        entities["youtube"] = {"playerId": media.player_id, "url": media.source, "playbackQuality": "hd720"}
    else:
        element = {"htmlId": media.player_id, "mediaType": media.media_type.upper(), "currentSrc": media.source}
        entities["html5_media_element"] = element
        if media.media_type == "video":
            entities["html5_video_element"] = {"videoWidth": 1280, "videoHeight": 720}
    play.event(created or play.at(position), "media_player_event", V1_VENDOR, entities)


# -- version 2 --------------------------------------------------------------------------------------
def _v2_play(play: _Play) -> None:
    duration = play.media.duration
    _v2_event(play, "ready", 0.0, created=play.start)
    if play.kind == "impression":
        return
    if play.kind == "v2_ads":
        _ad_break(play)
    _v2_event(play, "play", 0.0)
    for boundary in [b for b in BOUNDARIES if b <= play.watched * 100]:
        _v2_event(play, "percent_progress", duration * boundary / 100, percent=boundary)
    if play.watched >= 0.6:
        _v2_event(play, "seek_end", duration * 0.55)
    if play.watched >= 1.0:
        _v2_event(play, "percent_progress", duration, percent=100)
        _v2_event(play, "end", duration)
    else:
        _v2_event(play, "pause", duration * play.watched)


def _ad_break(play: _Play) -> None:
    """A pre-roll ad break of one 15-second ad, skipped after the midpoint or watched to its end."""
    b = play.b
    ad_break = {"breakId": f"break-{play.session_id[:8]}", "name": "pre-roll", "breakType": "linear"}
    ad = {"adId": b.rng.choice(("ad-shoes", "ad-socks")), "name": "Spring sale", "creativeId": "cr-1",
          "podPosition": 1, "duration": 15.0, "skippable": True}  # fmt: skip
    skipped, clicked = b.rng.random() < 0.5, b.rng.random() < 0.4
    play.counters["adBreaks"] += 1
    _ad_event(play, "ad_break_start", 0.0, {"media_ad_break": ad_break})
    play.counters["ads"] += 1
    steps = [("ad_start", 0.0), ("ad_first_quartile", 3.75), ("ad_midpoint", 7.5)]
    if clicked:
        steps.append(("ad_click", 8.0))
    steps += [("ad_skip", 9.0)] if skipped else [("ad_third_quartile", 11.25), ("ad_complete", 15.0)]
    for name, second in steps:
        play.counters["adsClicked"] += name == "ad_click"
        play.counters["adsSkipped"] += name == "ad_skip"
        _ad_event(play, name, second, {"media_ad": ad, "media_ad_break": ad_break})
    play.offset = steps[-1][1] + 1
    play.counters["timeSpentAds"] = play.offset - 1
    _ad_event(play, "ad_break_end", play.offset - 1, {"media_ad_break": ad_break})


def _ad_event(play: _Play, name: str, second: float, entities: dict) -> None:
    created = play.start + dt.timedelta(seconds=1 + second)
    play.event(created, f"{name}_event", V2_VENDOR, {**_v2_entities(play, 0.0, paused=True), **entities})


def _v2_event(play: _Play, kind: str, position: float, *, percent=None, created=None) -> None:
    entities = _v2_entities(play, position, paused=kind in ("ready", "pause", "end"))
    if percent is not None:
        entities["media_percent_progress_event"] = {"percentProgress": percent}
    play.event(created or play.at(position), f"{kind}_event", V2_VENDOR, entities)


def _v2_entities(play: _Play, position: float, paused: bool) -> dict:
    media = play.media
    player = {
        "currentTime": position, "duration": media.duration, "label": media.label, "livestream": False,
        "mediaType": media.media_type, "muted": play.muted, "playbackRate": 1.0, "playerType": "com.vimeo-vimeo",
    }  # fmt: skip
    entities = {"media_player_v2": player}
    if play.kind != "v2_no_session":
        entities["media_session"] = {
            "mediaSessionId": play.session_id, "timePlayed": position, "timePlayedMuted": position if play.muted else 0.0,
            "timePaused": 0.0, "contentWatched": position, "timeBuffering": 0.0, "avgPlaybackRate": 1.0,
            **play.counters,
        }  # fmt: skip
        del entities["media_session"]["timeSpentAds"]
    return entities


# -- loading ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Context:
    name: str
    schema: str
    fields: tuple[str, ...]


@functools.cache
def media_contexts() -> tuple[_Context, ...]:
    """The contexts the media project adds to the web project's (web_page is loaded with the events)."""
    contexts = load_project(MEDIA_PROJECT).spec.incremental.contexts
    return tuple(_Context(c.name, c.schema_, tuple(c.fields)) for c in contexts if c.name != "web_page")


def media_rows(events, context: _Context, dialect: str) -> tuple[list[str], list[tuple]]:
    """(columns, rows) of ``context``'s own table: root_id, root_tstamp and a column per field
    (as the loader names it), one row per event that has the entity; values as text."""
    d = get_dialect(dialect)
    columns = ["root_id", "root_tstamp", *(d.context_field(f) for f in context.fields)]
    rows = [
        (event.event_id, event.collector_tstamp, *(_text(entity.get(f)) for f in context.fields))
        for event in events
        if (entity := event.entities.get(context.name)) is not None
    ]
    return columns, rows


def context_table(context: _Context, dialect: str) -> str:
    return get_dialect(dialect).context_table(*iglu_parts(context.schema))


def load_media(engine, events, schema: str = "atomic") -> None:
    """The media entities of ``events`` into their tables (Postgres and DuckDB)."""
    copy = generator._copy_postgres if engine.name == "postgres" else generator._copy_duckdb
    for context in media_contexts():
        columns, rows = media_rows(events, context, engine.name)
        if rows:
            copy(engine.conn, schema, context_table(context, engine.name), columns, rows)


def _text(value) -> str | None:
    """A field's value as the text a context table of text columns holds (JSON's spelling)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
