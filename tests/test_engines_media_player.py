"""The media player tables on hand-worked events, on Postgres and DuckDB: every value below is
worked out by hand from the events (docs of each column: the models' descriptions).

Two sessions of user u1 and one of user u2, on 2024-05-01:
- S1, page view P1: play A (version 1, HTML5 video of 200 s: play, 10 %, 25 %, a seek whose
  media player entity is missing, 50 % muted, pause), play B (version 1, YouTube video of
  120 s watched to its end), C (version 1, HTML5 audio of 600 s: shown, never played);
- S2 (u2), P2: play D (version 2 with a media session: a pre-roll ad break with one ad that is
  clicked and watched to its end, then 10 %, 25 %, a seek and a pause; the tracker reports
  46.5 s played, 40 s watched, 1.25 s buffering, playback rate 1.25);
- S3 (u1), P3: play E (version 2 without a media session, 300 s watched to its end, muted).
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from support import media_scenarios as ms
from support.generator import Event

DAY = dt.datetime(2024, 5, 1)
VARS = {"start_date": "2024-05-01", "backfill_limit_days": 365, "web_modules": []}
U1, U2 = "u1-cookie", "u2-cookie"
S1, S2, S3 = "s1-session", "s2-session", "s3-session"
P1, P2, P3 = "p1-view", "p2-view", "p3-view"
V1, V2 = "com.snowplowanalytics.snowplow", "com.snowplowanalytics.snowplow.media"


def at(clock: str) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time.fromisoformat(clock))


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def event(n: int, clock: str, session: str, view: str, name: str, vendor: str = V1, **entities) -> Event:
    user = U2 if session == S2 else U1
    t = at(clock)
    row = {
        "app_id": "shop", "platform": "web", "collector_tstamp": t, "dvce_created_tstamp": t, "dvce_sent_tstamp": t,
        "derived_tstamp": t, "etl_tstamp": t, "load_tstamp": t, "event": "unstruct", "event_id": f"e{n:03d}",
        "event_vendor": vendor, "event_name": name, "event_format": "jsonschema", "event_version": "1-0-0",
        "user_id": "u1@example.com" if user == U1 else None, "domain_userid": user, "domain_sessionid": session,
        "domain_sessionidx": 1, "page_url": f"https://shop.example.com/{view}", "page_urlpath": f"/{view}",
        "useragent": "Mozilla/5.0 (X11; Linux x86_64; rv:122.0) Gecko/20100101 Firefox/122.0",
        "geo_region_name": "England", "br_name": "Firefox", "os_name": "Linux", "dvce_type": "Computer",
    }  # fmt: skip
    if name == "page_view":
        row["event"], row["event_vendor"] = "page_view", V1
    return Event(row, view, 0, entities=entities)


# -- version 1 ----------------------------------------------------------------------------------------
def v1(n, clock, kind, media, position, *, percent=None, muted=False, lost_player=False):
    label, duration, player, player_id, source = media
    entities = {"media_player_event": {"type": kind, "label": label}}
    if not lost_player:
        entities["media_player_v1"] = {
            "currentTime": position, "duration": duration, "isLive": False, "muted": muted,
            "paused": kind in ("ready", "pause", "ended"), "percentProgress": percent, "playbackRate": 1.0,
        }  # fmt: skip
    if player == "youtube":
        entities["youtube"] = {"playerId": player_id, "url": source, "playbackQuality": "hd720"}
    else:
        media_type = "VIDEO" if source.endswith(".mp4") else "AUDIO"
        entities["html5_media_element"] = {"htmlId": player_id, "mediaType": media_type, "currentSrc": source}
        if media_type == "VIDEO":
            entities["html5_video_element"] = {"videoWidth": 1280, "videoHeight": 720}
    return event(n, clock, S1, P1, "media_player_event", **entities)


SIZES = ("How to size shoes", 200.0, "html5", "html5-sizes", "https://shop.example.com/sizes.mp4")
TOUR = ("Product tour", 120.0, "youtube", "yt-tour", "https://www.youtube.com/watch?v=tour")
PODCAST = ("Shop podcast 4", 600.0, "html5", "html5-podcast", "https://shop.example.com/pod4.mp3")


def session_one() -> list[Event]:
    return [
        event(1, "10:00:00", S1, P1, "page_view"),
        v1(2, "10:00:05", "ready", SIZES, 0.0),
        v1(3, "10:00:06", "play", SIZES, 0.0),
        v1(4, "10:00:26", "percentprogress", SIZES, 20.0, percent=10),
        v1(5, "10:00:56", "percentprogress", SIZES, 50.0, percent=25),
        v1(6, "10:01:10", "seeked", SIZES, 90.0, lost_player=True),
        v1(7, "10:01:46", "percentprogress", SIZES, 100.0, percent=50, muted=True),
        v1(8, "10:01:56", "pause", SIZES, 110.0),
        v1(9, "10:02:00", "ready", TOUR, 0.0),
        v1(10, "10:02:01", "play", TOUR, 0.0),
        *[v1(10 + i, clock, "percentprogress", TOUR, 120.0 * p / 100, percent=p) for i, (clock, p) in
          enumerate([("10:02:13", 10), ("10:02:31", 25), ("10:03:01", 50), ("10:03:31", 75), ("10:04:01", 100)], 1)],
        v1(16, "10:04:01.500", "ended", TOUR, 120.0),
        v1(17, "10:04:30", "ready", PODCAST, 0.0),
    ]  # fmt: skip


# -- version 2 ----------------------------------------------------------------------------------------
def v2(
    n,
    clock,
    session,
    view,
    kind,
    *,
    label,
    duration,
    position=0.0,
    muted=False,
    percent=None,
    media_session=None,
    **extra,
):
    player = {
        "currentTime": position, "duration": duration, "label": label, "livestream": False, "mediaType": "video",
        "muted": muted, "playbackRate": 1.25 if media_session else 1.0, "playerType": "com.vimeo-vimeo",
    }  # fmt: skip
    entities = {"media_player_v2": player, **extra}
    if media_session is not None:
        entities["media_session"] = media_session
    if percent is not None:
        entities["media_percent_progress_event"] = {"percentProgress": percent}
    return event(n, clock, session, view, f"{kind}_event", V2, **entities)


def counters(played=0.0, watched=0.0, ads=0, clicked=0, breaks=0, buffering=0.0) -> dict:
    return {
        "mediaSessionId": "ms-d", "timePlayed": played, "timePlayedMuted": 0.0, "timePaused": 0.0,
        "contentWatched": watched, "timeBuffering": buffering, "ads": ads, "adsClicked": clicked, "adsSkipped": 0,
        "adBreaks": breaks, "avgPlaybackRate": 1.25,
    }  # fmt: skip


AD_BREAK = {"breakId": "b1", "name": "pre-roll", "breakType": "linear"}
AD = {
    "adId": "ad-shoes",
    "name": "Spring sale",
    "creativeId": "cr-1",
    "podPosition": 1,
    "duration": 15.0,
    "skippable": True,
}


def session_two() -> list[Event]:
    d = {"label": "Spring campaign", "duration": 80.0}
    ad = {"media_ad": AD, "media_ad_break": AD_BREAK}
    return [
        event(30, "11:00:00", S2, P2, "page_view"),
        v2(31, "11:00:01", S2, P2, "ready", **d, media_session=counters()),
        v2(32, "11:00:02", S2, P2, "ad_break_start", **d, media_session=counters(breaks=1), media_ad_break=AD_BREAK),
        v2(33, "11:00:02.500", S2, P2, "ad_start", **d, media_session=counters(ads=1, breaks=1), **ad),
        v2(34, "11:00:06", S2, P2, "ad_first_quartile", **d, media_session=counters(ads=1, breaks=1), **ad),
        v2(35, "11:00:10", S2, P2, "ad_midpoint", **d, media_session=counters(ads=1, breaks=1), **ad),
        v2(36, "11:00:11", S2, P2, "ad_click", **d, media_session=counters(ads=1, clicked=1, breaks=1), **ad),
        v2(37, "11:00:13", S2, P2, "ad_third_quartile", **d, media_session=counters(ads=1, clicked=1, breaks=1), **ad),
        v2(38, "11:00:17", S2, P2, "ad_complete", **d, media_session=counters(ads=1, clicked=1, breaks=1), **ad),
        v2(39, "11:00:18", S2, P2, "ad_break_end", **d, media_session=counters(ads=1, clicked=1, breaks=1), media_ad_break=AD_BREAK),
        v2(40, "11:00:19", S2, P2, "play", **d, media_session=counters(ads=1, clicked=1, breaks=1)),
        v2(41, "11:00:27", S2, P2, "percent_progress", **d, position=8.0, percent=10,
           media_session=counters(8.0, 8.0, 1, 1, 1)),
        v2(42, "11:00:39", S2, P2, "percent_progress", **d, position=20.0, percent=25,
           media_session=counters(20.0, 20.0, 1, 1, 1)),
        v2(43, "11:00:45", S2, P2, "seek_end", **d, position=30.0, media_session=counters(26.0, 20.0, 1, 1, 1, 1.25)),
        v2(44, "11:01:05", S2, P2, "pause", **d, position=40.0, media_session=counters(46.5, 40.0, 1, 1, 1, 1.25)),
    ]  # fmt: skip


def session_three() -> list[Event]:
    d = {"label": "Behind the seams", "duration": 300.0, "muted": True}
    steps = [("12:00:31", 10), ("12:01:16", 25), ("12:02:31", 50), ("12:03:46", 75), ("12:05:01", 100)]
    return [
        event(50, "12:00:00", S3, P3, "page_view"),
        v2(51, "12:00:01", S3, P3, "play", **d),
        *[v2(51 + i, clock, S3, P3, "percent_progress", **d, position=3.0 * p, percent=p) for i, (clock, p) in enumerate(steps, 1)],
        v2(57, "12:05:02", S3, P3, "end", **d, position=300.0),
    ]  # fmt: skip


@pytest.fixture(scope="module", params=["postgres", "duckdb"])
def media(request):
    w = ms.Warehouse(request.getfixturevalue(f"{request.param}_engine").fresh(), ms.plan(request.param, **VARS))
    w.load(session_one() + session_two() + session_three())
    w.run()
    yield w
    w.engine.close()


def rows(w, table: str, key: str) -> dict:
    return w.table(table).by_key(key)


def assert_values(actual: dict, expected: dict) -> None:
    """Each expected column equals the actual one (numbers as numbers: engines return decimals,
    floats or integers for the same value)."""

    def same(a, e):
        if isinstance(e, float) and not isinstance(e, bool) and a is not None:
            return float(a) == pytest.approx(e, abs=1e-9)
        return a == e

    wrong = {c: (actual[c], e) for c, e in expected.items() if not same(actual[c], e)}
    assert wrong == {}


MEDIA_A = md5("org.whatwg-media_element-html5-sizes-How to size shoes")
MEDIA_B = md5("com.youtube-youtube-yt-tour-Product tour")
MEDIA_C = md5("org.whatwg-media_element-html5-podcast-Shop podcast 4")
MEDIA_D = md5("com.vimeo-vimeo--Spring campaign")
MEDIA_E = md5("com.vimeo-vimeo--Behind the seams")
PLAY_A, PLAY_B, PLAY_C = (md5(f"{P1}-{m}") for m in (MEDIA_A, MEDIA_B, MEDIA_C))
PLAY_E = md5(f"{P3}-{MEDIA_E}")

BASE = {
    PLAY_A: {
        "page_view_id": P1, "media_identifier": MEDIA_A, "player_id": "html5-sizes", "media_label": "How to size shoes",
        "domain_sessionid": S1, "domain_userid": U1, "user_id": "u1@example.com", "media_type": "video",
        "media_player_type": "org.whatwg-media_element", "source_url": "https://shop.example.com/sizes.mp4",
        "video_width": 1280, "start_tstamp": at("10:00:05"), "end_tstamp": at("10:01:56"), "duration_secs": 200.0,
        # 10 % + 15 % + 25 % of 200 s; the 50 % boundary was reached muted (25 % of 200 s)
        "play_time_secs": 100.0, "play_time_muted_secs": 50.0, "paused_time_secs": None, "buffering_time_secs": None,
        "content_watched_secs": 100.0, "content_watched_percent": 0.5, "avg_playback_rate": 1.0, "seeks": 1,
        "ads": 0, "is_played": True, "is_valid_play": True, "is_complete_play": False,
        "percent_progress_reached": "10,25,50", "percent_reached_50": True, "percent_reached_75": False,
    },
    PLAY_B: {
        "player_id": "yt-tour", "media_player_type": "com.youtube-youtube", "playback_quality": "hd720",
        "start_tstamp": at("10:02:00"), "end_tstamp": at("10:04:01.500"), "play_time_secs": 120.0,
        "play_time_muted_secs": 0.0, "content_watched_percent": 1.0, "is_complete_play": True,
        "percent_progress_reached": "10,25,50,75,100", "percent_reached_100": True, "seeks": 0,
    },
    PLAY_C: {
        "media_type": "audio", "duration_secs": 600.0, "play_time_secs": 0.0, "content_watched_percent": 0.0,
        "is_played": False, "is_valid_play": False, "is_complete_play": False, "percent_progress_reached": None,
        "start_tstamp": at("10:04:30"), "end_tstamp": at("10:04:30"),
    },
    "ms-d": {
        "page_view_id": P2, "media_identifier": MEDIA_D, "player_id": None, "media_label": "Spring campaign",
        "domain_userid": U2, "user_id": None, "media_player_type": "com.vimeo-vimeo", "duration_secs": 80.0,
        # what the media session reports at the last event
        "play_time_secs": 46.5, "play_time_muted_secs": 0.0, "paused_time_secs": 0.0, "buffering_time_secs": 1.25,
        "content_watched_secs": 40.0, "content_watched_percent": 0.5, "avg_playback_rate": 1.25, "seeks": 1,
        "ads": 1, "ads_clicked": 1, "ads_skipped": 0, "ad_breaks": 1, "is_played": True, "is_valid_play": True,
        "is_complete_play": False, "percent_progress_reached": "10,25", "start_tstamp": at("11:00:01"),
    },
    PLAY_E: {
        # no media session: estimated as for version 1, every boundary reached muted
        "domain_sessionid": S3, "play_time_secs": 300.0, "play_time_muted_secs": 300.0, "content_watched_secs": 300.0,
        "content_watched_percent": 1.0, "is_complete_play": True, "ads": 0, "paused_time_secs": None,
    },
}  # fmt: skip


@pytest.mark.parametrize("play", list(BASE), ids=["A", "B", "C", "D", "E"])
def test_each_play(media, play):
    assert_values(rows(media, ms.BASE, "play_id")[play], BASE[play])


def test_one_row_per_play_and_the_played_ones_per_page_view(media):
    assert set(rows(media, ms.BASE, "play_id")) == set(BASE)
    assert set(rows(media, ms.PLAYS_BY_PAGEVIEW, "play_id")) == set(BASE) - {PLAY_C}


MEDIA_STATS = {
    MEDIA_A: {
        "impressions": 1, "plays": 1, "valid_plays": 1, "complete_plays": 0, "first_play": at("10:00:05"),
        "last_play": at("10:00:05"), "play_time_mins": 100 / 60, "avg_play_time_mins": 100 / 60,
        "avg_content_watched_mins": 100 / 60, "avg_percent_played": 0.5, "play_rate": 1.0,
        "completion_rate_by_plays": 0.0, "unique_users": 1, "seeks": 1, "percent_reached_10": 1,
        "percent_reached_75": 0, "last_base_tstamp": at("10:01:56"),
    },
    MEDIA_C: {
        "impressions": 1, "plays": 0, "first_play": None, "last_play": None, "play_rate": 0.0,
        "avg_play_time_mins": None, "completion_rate_by_plays": None, "media_type": "audio",
    },
    MEDIA_D: {"plays": 1, "ads": 1, "ads_clicked": 1, "ad_breaks": 1, "play_time_mins": 46.5 / 60, "avg_playback_rate": 1.25},
    MEDIA_E: {"complete_plays": 1, "completion_rate_by_plays": 1.0, "percent_reached_100": 1},
}  # fmt: skip


@pytest.mark.parametrize("medium", list(MEDIA_STATS), ids=["A", "C", "D", "E"])
def test_media_stats(media, medium):
    stats = rows(media, ms.MEDIA_STATS, "media_identifier")
    assert set(stats) == {MEDIA_A, MEDIA_B, MEDIA_C, MEDIA_D, MEDIA_E}
    assert_values(stats[medium], MEDIA_STATS[medium])


SESSION_STATS = {
    S1: {
        "domain_userid": U1, "start_tstamp": at("10:00:05"), "end_tstamp": at("10:04:30"), "impressions": 3,
        "videos_played": 2, "audio_played": 0, "video_plays": 2, "audio_plays": 0, "valid_video_plays": 2,
        "valid_audio_plays": 0, "complete_plays": 1, "seeks": 1, "play_time_secs": 220.0, "play_time_muted_secs": 50.0,
        "avg_play_time_secs": 110.0, "avg_content_watched_secs": 110.0, "ads": 0,
    },
    S2: {"domain_userid": U2, "impressions": 1, "video_plays": 1, "play_time_secs": 46.5, "ads": 1, "ads_clicked": 1},
    S3: {"complete_plays": 1, "play_time_secs": 300.0, "play_time_muted_secs": 300.0},
}  # fmt: skip


@pytest.mark.parametrize("session", list(SESSION_STATS))
def test_session_stats(media, session):
    assert_values(rows(media, ms.SESSION_STATS, "domain_sessionid")[session], SESSION_STATS[session])


USER_STATS = {
    U1: {
        "user_id": "u1@example.com", "first_play": at("10:00:05"), "last_play": at("12:00:01"), "sessions": 2,
        "impressions": 4, "video_plays": 3, "audio_plays": 0, "valid_video_plays": 3, "complete_plays": 2, "seeks": 1,
        "play_time_secs": 520.0, "play_time_muted_secs": 350.0, "avg_session_play_time_secs": 260.0,
        "avg_content_watched_secs": 520 / 3,
    },
    U2: {"user_id": None, "sessions": 1, "impressions": 1, "play_time_secs": 46.5, "first_play": at("11:00:01")},
}  # fmt: skip


@pytest.mark.parametrize("user", list(USER_STATS))
def test_user_stats(media, user):
    users = rows(media, ms.USER_STATS, "domain_userid")
    assert set(users) == {U1, U2}
    assert_values(users[user], USER_STATS[user])


def test_ad_views_and_ads(media):
    [view] = rows(media, ms.AD_VIEWS, "media_ad_view_id").values()
    assert_values(view, {
        "media_ad_view_id": md5("ms-d-b1-ad-shoes-1"), "media_ad_id": md5(f"{MEDIA_D}-ad-shoes"), "play_id": "ms-d",
        "ad_break_id": "b1", "ad_break_name": "pre-roll", "ad_break_type": "linear", "ad_id": "ad-shoes",
        "name": "Spring sale", "creative_id": "cr-1", "pod_position": 1, "duration_secs": 15.0, "is_skippable": True,
        "clicked": True, "skipped": False, "percent_reached_25": True, "percent_reached_100": True,
        "viewed_at": at("11:00:02.500"), "last_event": at("11:00:17"),
    })  # fmt: skip
    [ad] = rows(media, ms.ADS, "media_ad_id").values()
    assert_values(ad, {
        "media_identifier": MEDIA_D, "ad_id": "ad-shoes", "views": 1, "unique_users": 1, "clicks": 1, "skips": 0,
        "percent_reached_75": 1, "first_view": at("11:00:02.500"), "last_view": at("11:00:02.500"),
    })  # fmt: skip


@pytest.mark.parametrize("engine", ["postgres", "duckdb"], indirect=True)
def test_a_switched_off_entity_leaves_its_columns_null(engine):
    # enable_youtube: false: the YouTube entity is not read; play B keeps its other values
    w = ms.Warehouse(engine, ms.plan(engine.name, **VARS, enable_youtube=False))
    w.load(session_one())
    w.run()
    tour = md5(f"{P1}-" + md5("--Product tour"))
    assert_values(rows(w, ms.BASE, "play_id")[tour], {
        "player_id": None, "media_player_type": None, "playback_quality": None, "play_time_secs": 120.0,
        "is_complete_play": True,
    })  # fmt: skip


@pytest.mark.parametrize("engine", ["postgres", "duckdb"], indirect=True)
def test_a_run_of_the_web_project_holds_off_a_run_of_the_media_project(engine):
    # they share the base module's tables and the manifest, so they share the run lock
    from engines.base import EngineError
    from support import scenarios as sc

    web, media = sc.plan(engine.name), ms.plan(engine.name)
    [web_acquire] = [s for s in web if s.id == "acquire_lock"]
    [media_acquire] = [s for s in media if s.id == "acquire_lock"]
    for statement in web_acquire.statements:
        engine.execute(statement)
    with pytest.raises(EngineError, match=r"snowgen_run_lock_held.*run lock of snowplow_web"):
        for statement in media_acquire.statements:
            engine.execute(statement)
