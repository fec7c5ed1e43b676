"""A deterministic generator of Snowplow-style web events, for scenario tests and benchmarks.

``generate(GeneratorConfig(...))`` returns a ``Dataset``: rows of Snowplow's canonical
``atomic.events`` columns, plus each event's entities: the web_page context (id) of every
event that belongs to a page view, and the enrichment contexts when asked for
(support.generator_enrichments). Every knob of ``GeneratorConfig`` names the part of the
incremental logic it exercises.

Time model. A device creates an event at ``dvce_created_tstamp`` (its clock is right); it sends
it at ``dvce_sent_tstamp``; the collector receives it at ``collector_tstamp`` (arrival, the
session timestamp of the project); ``derived_tstamp`` = collector - (sent - created), as the
Snowplow enricher computes it. Each event has a ``batch``: the index of the load day (0 = the
day of ``start``) on which the loader writes it, normally the day of its collector_tstamp, so
tests can load the data day by day and run the model after each day.

The same config and seed give the same rows, byte for byte (``random.Random(seed)`` only).
``load(engine, events)`` writes events fast: COPY on Postgres and DuckDB, INSERTs
built by ``support.data.insert_rows`` elsewhere; each context where the warehouse keeps it
(support.generator_contexts).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import os
import random
import tempfile
import uuid
from dataclasses import dataclass, field

from support import generator_consent, generator_contexts, generator_conversions, generator_enrichments
from support.generator_contexts import SHIPPED_PROJECT

CONTEXT_TABLE = "com_snowplowanalytics_snowplow_web_page_1"
NULL_MARK = "\\N"

BROWSER_UAS = (
    "Mozilla/5.0 (X11; Linux x86_64; rv:122.0) Gecko/20100101 Firefox/122.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0 Safari/537.36",
)
BOT_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
PAGES = ("/", "/product/1", "/product/2", "/list/shoes", "/blog/post-1", "/checkout", "/about")
REFERRERS = (  # (page_referrer, refr_medium, refr_source, mkt_medium, mkt_source, mkt_campaign)
    (None, None, None, None, None, None),
    ("https://www.google.com/", "search", "Google", None, None, None),
    ("https://www.google.com/", "search", "Google", "cpc", "google", "spring_sale"),
    ("https://www.facebook.com/", "social", "Facebook", "social", "facebook", None),
    (None, None, None, "email", "newsletter", "weekly"),
)
GEOS = (("GB", "London", "England"), ("DE", "Berlin", "Berlin"), ("FR", "Paris", "Ile-de-France"), ("US", None, None))
#: the browser language of a visitor from each country (lower-case "en-us": the seed join ignores case)
LANGUAGES = {"GB": "en-GB", "DE": "de-DE", "FR": "fr", "US": "en-us"}


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate. Counts of special cases are exact (as far as there are candidates)."""

    seed: int = 1
    #: day of batch 0; the data covers ``days`` days from it
    start: dt.date = dt.date(2024, 3, 1)
    days: int = 3
    #: regular visitors; each has a domain_userid (cookie) and a place
    users: int = 5
    #: None: the same ``users`` visitors come back every day (a small loyal audience, every
    #: user's history as long as the data's). A share: each day has ``users`` visitors, each
    #: one an earlier visitor with this probability, else a new one (typical web traffic is
    #: mostly new visitors; the users model re-reads a returning user's whole history)
    returning_share: float | None = None
    #: sessions per user per day, drawn uniformly from this inclusive range
    sessions_per_user_per_day: tuple[int, int] = (0, 2)
    page_views_per_session: tuple[int, int] = (1, 3)
    #: page pings per page view, every ~``ping_interval_s`` of device time (engaged time, scroll depth)
    pings_per_page_view: tuple[int, int] = (0, 4)
    ping_interval_s: float = 10.0
    #: share of sessions sent by a crawler (Googlebot user agent, a cookie of its own): the bot filter
    #: drops them from page_views and sessions, not from user_mapping or the ping scratch tables
    bot_fraction: float = 0.15
    #: share of users who log in: their events after the first page view carry a user_id
    #: (user_mapping; sessions.stitched_user_id)
    identified_fraction: float = 0.5
    #: identified users whose user_id changes on the last day: the mapping changes after their
    #: earlier sessions were processed (stitching is history-dependent, reference §7)
    user_id_changes: int = 1
    #: app_id of each session, chosen among these
    app_ids: tuple[str, ...] = ("site", "shop")
    #: the model's days_late_allowed: the limit the two knobs below straddle
    days_late_allowed: int = 3
    #: pings created in an old session but sent ~1-2 days later (< days_late_allowed): kept; they
    #: reopen the session in a later batch, which must re-read it from its first event
    late_within: int = 2
    #: events sent more than days_late_allowed after creation: dropped by every run
    late_beyond: int = 2
    #: events delivered twice with the same collector_tstamp (identical rows and contexts)
    duplicates_same_tstamp: int = 2
    #: events delivered again 1 min to 2 h later (a collector retry): one row survives, the earliest
    duplicates_other_tstamp: int = 2
    #: sessions that keep pinging for ``long_session_days`` (> max_session_days): quarantine.
    #: Bots are filtered from the derived tables; "human" ones (a kiosk) reach page_views.
    long_bot_sessions: int = 1
    long_human_sessions: int = 0
    long_session_days: float = 5.0
    #: one ping per this interval in long sessions (every 10 s for days would be 40 000 rows)
    long_session_ping_every: dt.timedelta = dt.timedelta(minutes=30)
    #: sessions that start at ~23:50 and go on after midnight: their events are in two batches
    midnight_sessions: int = 1
    #: evening sessions (~22:30, one per day in turn) whose first event, the page view, reaches the
    #: warehouse with the next day's batch: within lookback_window_hours of the previous run, so
    #: the next run sees it and moves the session's start earlier. On the last day the session is
    #: the latest of that run's batch, so the upsert window misses its old row (reference §1.4).
    late_loaded_events: int = 2
    #: events without a domain_sessionid: no session, never processed
    null_session_events: int = 1
    #: sessions of a fresh visitor whose cookie (domain_userid) changes at midnight, from "...-a"
    #: to "...-z": a session's user identifier is the max seen by the first run that processed it
    #: (reference §1.2), so day-by-day runs keep "-a" where one run over all data takes "-z"
    rotating_userid_sessions: int = 0
    #: purchases (structured events with a value) in as many regular sessions: the conversions
    #: of the shipped project's conversion_events (support/generator_conversions.py)
    purchases: int = 0
    #: consent (cmp_visible, consent_preferences) and web_vitals events (support.generator_consent):
    #: off, no event has them and the rows are those of the same config without it
    consent_and_vitals: bool = False
    #: the IAB, UA parser and YAUAA enrichment contexts on the events (support.generator_enrichments):
    #: off, no event has them and the rows are those of the same config without it
    enrichments: bool = False
    #: share of regular page views that show a media player (support.generator_media: plays of
    #: the version 1 and version 2 media schemas, with ads): 0, no media event, and the rows are
    #: those of the same config without it
    media_share: float = 0.0


@dataclass
class Event:
    """One generated event: its atomic.events row, its web_page context id, its load batch."""

    row: dict
    page_view_id: str | None
    batch: int
    #: what the event exercises (e.g. "late_within", "duplicate_other", "long_bot"); empty if regular
    tags: frozenset[str] = frozenset()
    #: its entities: a context's name in the shipped project -> its fields, as the schema spells
    #: them (support.generator_contexts loads them); web_page's comes from page_view_id
    entities: dict[str, dict] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.page_view_id is not None:
            self.entities.setdefault("web_page", {"id": self.page_view_id})

    @property
    def event_id(self) -> str:
        return self.row["event_id"]

    @property
    def collector_tstamp(self) -> dt.datetime:
        return self.row["collector_tstamp"]

    @property
    def session_id(self) -> str | None:
        return self.row["domain_sessionid"]


@dataclass
class Dataset:
    config: GeneratorConfig
    events: list[Event]

    @property
    def batch_count(self) -> int:
        return max(e.batch for e in self.events) + 1

    def batch(self, index: int) -> list[Event]:
        return [e for e in self.events if e.batch == index]

    def batches(self) -> list[list[Event]]:
        """The events of each load day, in order (one pass: for big volumes)."""
        out: list[list[Event]] = [[] for _ in range(self.batch_count)]
        for event in self.events:
            out[event.batch].append(event)
        return out

    def tagged(self, tag: str) -> list[Event]:
        return [e for e in self.events if tag in e.tags]

    def session(self, session_id: str) -> list[Event]:
        return [e for e in self.events if e.session_id == session_id]

    @property
    def first_collector_tstamp(self) -> dt.datetime:
        return min(e.collector_tstamp for e in self.events)


# -- building blocks ---------------------------------------------------------------------------------
@dataclass
class _Visitor:
    domain_userid: str
    user_id: str | None
    new_user_id: str | None  # from the last day on (user_id_changes)
    geo: tuple
    useragent: str
    sessions: int = 0


@dataclass
class _Session:
    """A session being generated: the context shared by its events."""

    visitor: _Visitor
    session_id: str
    app_id: str
    useragent: str
    referrer: tuple
    index: int
    events: list[Event] = field(default_factory=list)


class _Builder:
    def __init__(self, config: GeneratorConfig):
        self.config = config
        self.rng = random.Random(config.seed)
        self.events: list[Event] = []
        self.sessions: list[_Session] = []

    # ids and times
    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def day(self, index: int) -> dt.datetime:
        return dt.datetime.combine(self.config.start, dt.time()) + dt.timedelta(days=index)

    def batch_of(self, collector: dt.datetime) -> int:
        return (collector.date() - self.config.start).days

    def visitor(self, identified: bool) -> _Visitor:
        n = self.rng.getrandbits(24)
        return _Visitor(
            domain_userid=self.uuid(),
            user_id=f"user{n}@example.com" if identified else None,
            new_user_id=None,
            geo=self.rng.choice(GEOS),
            useragent=self.rng.choice(BROWSER_UAS),
        )

    def session(self, visitor: _Visitor, bot: bool = False) -> _Session:
        visitor.sessions += 1
        s = _Session(
            visitor=visitor,
            session_id=self.uuid(),
            app_id=self.rng.choice(self.config.app_ids),
            useragent=BOT_UA if bot else visitor.useragent,
            referrer=self.rng.choice(REFERRERS),
            index=visitor.sessions,
        )
        self.sessions.append(s)
        return s

    def event(self, s: _Session, kind: str, created: dt.datetime, page: dict, *, sent_after=None, tags=()) -> Event:
        """An event of session ``s`` created at ``created``, sent after ``sent_after`` (default: at once)."""
        created = _ms(created)
        if sent_after is None:
            sent_after = dt.timedelta(milliseconds=self.rng.randint(0, 400))
        sent = _ms(created + sent_after)
        collector = _ms(sent + dt.timedelta(milliseconds=self.rng.randint(50, 1500)))
        row = _row(self, s, kind, created, sent, collector, page)
        event = Event(row, page["page_view_id"], self.batch_of(collector), frozenset(tags))
        s.events.append(event)
        self.events.append(event)
        return event


def _ms(t: dt.datetime) -> dt.datetime:
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


def _row(b: _Builder, s: _Session, kind: str, created, sent, collector, page: dict) -> dict:
    """The atomic.events row (the same columns for every event, so one INSERT/COPY fits all)."""
    v = s.visitor
    name = {"pv": "page_view", "pp": "page_ping", "se": "event"}[kind]
    first_page = page["index"] == 1
    user_id = v.new_user_id if v.new_user_id and created >= b.day(b.config.days - 1) else v.user_id
    ref = s.referrer if first_page and kind == "pv" else REFERRERS[0]
    return {
        "app_id": s.app_id, "platform": "web", "etl_tstamp": collector + dt.timedelta(minutes=2),
        "collector_tstamp": collector, "dvce_created_tstamp": created, "dvce_sent_tstamp": sent,
        "derived_tstamp": collector - (sent - created), "event": {"se": "struct"}.get(kind, name), "event_id": b.uuid(),
        "event_vendor": "com.snowplowanalytics.snowplow", "event_name": name, "event_format": "jsonschema",
        "event_version": "1-0-0", "event_fingerprint": b.uuid().replace("-", ""),
        "name_tracker": "sp", "v_tracker": "js-3.21.0", "v_collector": "ssc-3.0.0-kinesis",
        "v_etl": "snowplow-enrich-4.0.0",
        "user_id": None if first_page and kind == "pv" else user_id, "user_ipaddress": "10.0.0.1",
        "domain_userid": v.domain_userid, "domain_sessionidx": s.index, "network_userid": "n-" + v.domain_userid,
        "domain_sessionid": s.session_id, "geo_country": v.geo[0], "geo_city": v.geo[1], "geo_region_name": v.geo[2],
        "page_url": "https://shop.example.com" + page["path"], "page_title": page["title"],
        "page_urlscheme": "https", "page_urlhost": "shop.example.com", "page_urlport": 443,
        "page_urlpath": page["path"],
        "page_referrer": ref[0], "refr_medium": ref[1], "refr_source": ref[2],
        "mkt_medium": ref[3], "mkt_source": ref[4], "mkt_campaign": ref[5],
        "se_category": "shop" if kind == "se" else None, "se_action": "add_to_cart" if kind == "se" else None,
        "pp_xoffset_min": 0 if kind == "pp" else None, "pp_xoffset_max": page["x"] if kind == "pp" else None,
        "pp_yoffset_min": 0 if kind == "pp" else None, "pp_yoffset_max": page["y"] if kind == "pp" else None,
        "useragent": s.useragent, "br_lang": LANGUAGES[v.geo[0]], "br_viewwidth": 1200, "br_viewheight": 800,
        "br_renderengine": "GECKO", "br_cookies": True, "os_timezone": "Europe/London",
        "dvce_screenwidth": 1920, "dvce_screenheight": 1080, "doc_width": 1200, "doc_height": 3000,
        "load_tstamp": None,  # set by generate(), from the batch
    }  # fmt: skip


# -- sessions ---------------------------------------------------------------------------------------
def _page(b: _Builder, index: int) -> dict:
    path = b.rng.choice(PAGES)
    return {"page_view_id": b.uuid(), "index": index, "path": path, "title": path.strip("/") or "home",
            "x": 0, "y": b.rng.randint(0, 2200)}  # fmt: skip


def _browse(b: _Builder, s: _Session, start: dt.datetime) -> dt.datetime:
    """Page views from ``start``, each with its pings every ~ping_interval_s (and a login event on
    the first page for identified users); returns the device time after the last event."""
    c = b.config
    t = start
    for index in range(1, b.rng.randint(*c.page_views_per_session) + 1):
        page = _page(b, index)
        b.event(s, "pv", t, page)
        for _ in range(b.rng.randint(*c.pings_per_page_view)):
            t += dt.timedelta(seconds=c.ping_interval_s, milliseconds=b.rng.randint(-300, 300))
            b.event(s, "pp", t, page)
        if s.visitor.user_id and index == 1:
            t += dt.timedelta(seconds=b.rng.randint(2, 8))
            b.event(s, "se", t, page)
        t += dt.timedelta(seconds=b.rng.randint(5, 40))
    return t


def _regular_sessions(b: _Builder) -> None:
    c = b.config
    visitors = [b.visitor(b.rng.random() < c.identified_fraction) for _ in range(c.users)]
    for v in [v for v in visitors if v.user_id][: c.user_id_changes]:
        v.new_user_id = v.user_id.replace("@", "+new@")
    seen = list(visitors)
    for day in range(c.days):
        if c.returning_share is not None and day > 0:
            visitors = [_returning_or_new(b, seen) for _ in range(c.users)]
        for v in visitors:
            count = b.rng.randint(*c.sessions_per_user_per_day)
            if v.new_user_id and day in (0, c.days - 1):  # a session before and one after the change
                count = max(count, 1)
            for hour in sorted(b.rng.sample(range(1, 21), count)):
                bot = b.rng.random() < c.bot_fraction
                visitor = b.visitor(False) if bot else v
                s = b.session(visitor, bot=bot)
                _browse(b, s, b.day(day) + dt.timedelta(hours=hour, minutes=b.rng.randint(0, 50)))


def _returning_or_new(b: _Builder, seen: list[_Visitor]) -> _Visitor:
    if b.rng.random() < b.config.returning_share:
        return b.rng.choice(seen)
    visitor = b.visitor(b.rng.random() < b.config.identified_fraction)
    seen.append(visitor)
    return visitor


def _long_sessions(b: _Builder) -> None:
    c = b.config
    kinds = [("long_bot", True)] * c.long_bot_sessions + [("long_human", False)] * c.long_human_sessions
    for n, (tag, bot) in enumerate(kinds):
        s = b.session(b.visitor(False), bot=bot)
        start = b.day(0) + dt.timedelta(hours=9, minutes=7 * n)
        page = _page(b, 1)
        b.event(s, "pv", start, page, tags=[tag])
        t = start
        while t + c.long_session_ping_every <= start + dt.timedelta(days=c.long_session_days):
            t += c.long_session_ping_every
            b.event(s, "pp", t, page, tags=[tag])


def _midnight_sessions(b: _Builder, count: int, tag: str, rotate: bool = False) -> None:
    """Sessions from ~23:50 of one day to after midnight (a rotating one changes cookie at midnight)."""
    c = b.config
    for n in range(count):
        day = n % max(c.days - 1, 1)
        v = b.visitor(False)
        if rotate:
            v.domain_userid = v.domain_userid[:-2] + "-a"
        s = b.session(v)
        t = b.day(day + 1) - dt.timedelta(minutes=10 - n)
        while t < b.day(day + 1) + dt.timedelta(minutes=8):
            if rotate and t >= b.day(day + 1):
                v.domain_userid = v.domain_userid[:-2] + "-z"
            page = _page(b, len({e.page_view_id for e in s.events}) + 1)
            b.event(s, "pv", t, page, tags=[tag])
            for _ in range(6):
                t += dt.timedelta(seconds=c.ping_interval_s, milliseconds=b.rng.randint(-300, 300))
                b.event(s, "pp", t, page, tags=[tag])
            t += dt.timedelta(seconds=30)


def _evening_sessions_loaded_late(b: _Builder) -> None:
    """Sessions at ~22:30 whose first event (the page view) reaches the warehouse with the next
    day's batch: the first run sees the session without it, the next run moves its start earlier."""
    c = b.config
    for n in range(c.late_loaded_events):
        s = b.session(b.visitor(False))
        end = _browse(b, s, b.day(n % c.days) + dt.timedelta(hours=22, minutes=30 + 5 * n))
        if len(s.events) == 1:  # the session must exist without its first event
            b.event(s, "pp", end, {**_page(b, 1), "page_view_id": s.events[0].page_view_id})
        first = s.events[0]
        first.batch += 1
        first.tags = first.tags | {"late_loaded"}


def _regular(b: _Builder) -> list[_Session]:
    """Sessions of regular (non-bot, untagged) visitors, to which special events are added."""
    return [s for s in b.sessions if s.useragent != BOT_UA and s.events and not s.events[0].tags]


def _late_events(b: _Builder, count: int, tag: str, delay: tuple[float, float]) -> None:
    """A ping created 5 s after a session's last event and sent ``delay`` days (a range) later."""
    sessions = _regular(b)
    for s in b.rng.sample(sessions, min(count, len(sessions))):
        last = max(s.events, key=lambda e: e.row["dvce_created_tstamp"])
        page = {"page_view_id": last.page_view_id, "index": 2, "path": last.row["page_urlpath"],
                "title": last.row["page_title"], "x": 0, "y": 100}  # fmt: skip
        sent_after = dt.timedelta(days=b.rng.uniform(*delay))
        created = last.row["dvce_created_tstamp"] + dt.timedelta(seconds=5)
        b.event(s, "pp", created, page, sent_after=sent_after, tags=[tag])


def _duplicates(b: _Builder) -> None:
    c = b.config
    candidates = [e for s in _regular(b) for e in s.events if e.page_view_id and not e.tags]
    picked = b.rng.sample(candidates, min(c.duplicates_same_tstamp + c.duplicates_other_tstamp, len(candidates)))
    for n, original in enumerate(picked):
        row = dict(original.row)
        if n < c.duplicates_same_tstamp:
            tag = "duplicate_same"
        else:
            tag = "duplicate_other"
            delay = dt.timedelta(seconds=b.rng.randint(60, 7200))
            row["collector_tstamp"] += delay
            row["etl_tstamp"] += delay
            row["derived_tstamp"] = row["collector_tstamp"] - (row["dvce_sent_tstamp"] - row["dvce_created_tstamp"])
        copy = Event(row, original.page_view_id, b.batch_of(row["collector_tstamp"]), frozenset([tag]))
        original.tags = original.tags | {tag + "_original"}
        b.events.append(copy)


def _null_session_events(b: _Builder) -> None:
    for n in range(b.config.null_session_events):
        s = b.session(b.visitor(False))
        event = b.event(s, "pv", b.day(0) + dt.timedelta(hours=12, minutes=n), _page(b, 1), tags=["null_session"])
        event.row["domain_sessionid"] = None


def generate(config: GeneratorConfig = GeneratorConfig()) -> Dataset:
    """The events of ``config``, in generation order (deterministic)."""
    b = _Builder(config)
    _regular_sessions(b)
    _long_sessions(b)
    _midnight_sessions(b, config.midnight_sessions, "midnight")
    _midnight_sessions(b, config.rotating_userid_sessions, "rotating_userid", rotate=True)
    _evening_sessions_loaded_late(b)
    allowed = config.days_late_allowed
    _late_events(b, config.late_within, "late_within", (1.0, allowed - 1.0))
    _late_events(b, config.late_beyond, "late_beyond", (allowed + 0.05, allowed + 0.5))
    _duplicates(b)
    _null_session_events(b)
    generator_conversions.add_purchases(b, _regular)
    if config.consent_and_vitals:
        generator_consent.add_events(b)
    if config.enrichments:
        generator_enrichments.enrich(b.events)
    if config.media_share:
        from support.generator_media import add_media_plays

        add_media_plays(b)
    for event in b.events:
        event.row["load_tstamp"] = b.day(event.batch + 1) + dt.timedelta(minutes=5)
    return Dataset(config, b.events)


# -- loading --------------------------------------------------------------------------------------------
def event_rows(events: list[Event]) -> tuple[list[str], list[tuple]]:
    """(columns, rows) of atomic.events: the columns any generated row names, in the order they
    first appear (a kind of event added on request may set a column the others leave out: NULL)."""
    columns = list(dict.fromkeys(c for e in events for c in e.row))
    return columns, [tuple(e.row.get(c) for c in columns) for e in events]


def context_rows(events: list[Event]) -> tuple[list[str], list[tuple]]:
    """(columns, rows) of the web_page context table (root_id, root_tstamp, id)."""
    [web_page] = [c for c in generator_contexts.contexts() if c.name == "web_page"]
    return generator_contexts.table_rows(events, web_page, "postgres")


def load(engine, events: list[Event], schema: str = "atomic") -> None:
    """Append ``events`` to <schema>.events and their entities to each context's table.
    Postgres: COPY FROM STDIN (psycopg 3); DuckDB: COPY from a CSV file; any other engine:
    INSERTs built by support.data.insert_rows (slow, fine for small data, see _insert)."""
    if engine.name not in ("postgres", "duckdb"):
        _insert(engine, events, schema)
        return
    copy = _copy_postgres if engine.name == "postgres" else _copy_duckdb
    tables = [("events", event_rows(events))]
    tables += [
        (c.table(engine.name), generator_contexts.table_rows(events, c, engine.name))
        for c in generator_contexts.contexts()
    ]
    for table, (columns, rows) in tables + generator_consent.event_tables(events, engine.name):
        if rows:
            copy(engine.conn, schema, table, columns, rows)


def _insert(engine, events: list[Event], schema: str) -> None:
    """Rows naming every column of the events table as the shipped project creates it (Sail's
    INSERT takes full rows only), NULL where the generator has no value; each context nested
    in its column where the warehouse keeps it there, else in its own table."""
    from snowgen.dialects import get_dialect
    from support.data import insert_rows

    every = _source_columns(engine.name)
    nested = get_dialect(engine.name).context_storage == "column"
    rows = []
    for event in events:
        row = {column: event.row.get(column) for column in every}
        if nested:
            row.update(generator_contexts.nested_values(event, engine.name, every))
            row.update(generator_consent.nested_values(event, engine.name))
        rows.append(row)
    statements = insert_rows(engine.name, schema, "events", rows)
    if not nested:
        for context in generator_contexts.contexts():
            rows = generator_contexts.table_dicts(events, context, engine.name)
            statements += insert_rows(engine.name, schema, context.table(engine.name), rows) if rows else []
        for table, (columns, table_rows) in generator_consent.event_tables(events, engine.name):
            statements += insert_rows(
                engine.name, schema, table, [dict(zip(columns, r, strict=True)) for r in table_rows]
            )
    for statement in statements:
        engine.execute(statement)


def _nested_context(dialect: str, page_view_id: str):
    """One web_page entity as the warehouse's loader stores it: a VARIANT array of objects on
    Snowflake, an ARRAY of STRUCT on BigQuery and Databricks."""
    from snowgen.dialects import get_dialect

    return get_dialect(dialect).context_value([{"id": page_view_id}], {"id": "string"})


@functools.cache
def _source_columns(dialect: str) -> list[str]:
    """The columns of atomic.events as the shipped project creates it in this dialect."""
    from sqlglot import exp

    from snowgen.build.sources import source_ddl
    from snowgen.dialects import get_dialect
    from snowgen.spec.loader import load_project

    d = get_dialect(dialect)
    for statement in source_ddl(load_project(SHIPPED_PROJECT).spec, d):
        if isinstance(statement, exp.Create) and statement.this.this.name == "events":
            return [column.name for column in statement.this.expressions]
    raise AssertionError("no atomic.events in the source DDL")


def _quoted(schema: str, table: str, columns: list[str]) -> tuple[str, str]:
    return f'"{schema}"."{table}"', ", ".join(f'"{c}"' for c in columns)


def _copy_postgres(conn, schema: str, table: str, columns: list[str], rows: list[tuple]) -> None:
    target, names = _quoted(schema, table, columns)
    with conn.cursor() as cursor, cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _copy_duckdb(conn, schema: str, table: str, columns: list[str], rows: list[tuple]) -> None:
    """Through a CSV file: ~20x faster than executemany (which binds row by row), pandas-free.
    NULL is written as \\N (the generator makes no such string)."""
    target, names = _quoted(schema, table, columns)
    with tempfile.TemporaryDirectory(prefix="snowgen-load-") as folder:
        path = os.path.join(folder, "rows.csv")
        with open(path, "w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            for row in rows:
                writer.writerow([NULL_MARK if v is None else v for v in row])
        conn.execute(f"COPY {target} ({names}) FROM '{path}' (FORMAT csv, HEADER false, NULLSTR '{NULL_MARK}')")
