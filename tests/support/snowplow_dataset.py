"""A hand-made Snowplow web dataset for the shipped ``model_specs/snowplow_web`` project, and the
values its tables must hold, worked out by hand from the documented behaviour of Snowplow's web
model ("§" below: the sections of that description; base module: Snowplow's incremental logic).

Events are raw ``atomic.events`` rows; ``page_view_id`` is not an atomic column, it becomes a row
of the web_page context table (``atomic.com_snowplowanalytics_snowplow_web_page_1``). Every event
passes the late filter (dvce_sent = dvce_created) unless it says otherwise.

Two runs:
- run 1 (``EVENTS``): the first run, window [start_date, start_date + backfill_limit_days];
- run 2 (``RUN2_EVENTS``, added to atomic.events after run 1): late-arriving events of sessions
  s2, s3 and s6; the window starts at run 1's last_success - lookback_window_hours.

Variables: heartbeat (hb) 10, min_visit_length (mvl) 5, days_late_allowed 3, start_date 2024-02-28.

``EXPECTED``/``EXPECTED_RUN2`` map a table to ``(key column, {key: {column: value}})``. The key set
of each table is complete (no other rows may exist); the columns listed per key are the ones
worked out by hand.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

START_DATE = "2024-02-28"
VARS = {"start_date": START_DATE}

UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/122.0"
BOT_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

D1, D2 = "2024-03-01 ", "2024-03-02 "

_SAME = object()


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def event(
    event_id: str,
    kind: str,
    session: str | None,
    user: str,
    derived: str,
    *,
    collector: str | None = None,
    dvce: str | None = None,
    sent: Any = _SAME,
    page_view_id: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """One event: kind pv (page_view), pp (page_ping) or se (structured event). ``user`` is the
    raw atomic domain_userid. ``collector``/``dvce`` default to ``derived``; ``sent`` to ``dvce``."""
    created = ts(dvce or derived)
    row: dict[str, Any] = {
        "app_id": "site",
        "platform": "web",
        "event": {"pv": "page_view", "pp": "page_ping", "se": "struct"}[kind],
        "event_name": {"pv": "page_view", "pp": "page_ping", "se": "event"}[kind],
        "event_vendor": "com.snowplowanalytics.snowplow",
        "event_id": event_id,
        "domain_sessionid": session,
        "domain_userid": user,
        "network_userid": "n-" + user,
        "derived_tstamp": ts(derived),
        "dvce_created_tstamp": created,
        "dvce_sent_tstamp": created if sent is _SAME else (None if sent is None else ts(sent)),
        "collector_tstamp": ts(collector or derived),
        "useragent": UA,
        "user_ipaddress": "10.0.0.1",
        "br_renderengine": "GECKO",
        "os_timezone": "Europe/London",
        "page_urlscheme": "https",
        "page_view_id": page_view_id,
    }
    row.update(fields)
    if row.get("page_url") and "page_urlhost" not in row:
        rest = row["page_url"].split("://", 1)[1]
        host, _, path = rest.partition("/")
        row["page_urlhost"] = host
        row["page_urlpath"] = "/" + path.split("?")[0]
    return row


def variant(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of an event with some columns changed (timestamps as text)."""
    row = dict(base)
    for key, value in changes.items():
        row[key] = ts(value) if key.endswith("_tstamp") and isinstance(value, str) else value
    return row


def atomic_rows(events: list[dict[str, Any]], columns: list[str]) -> list[dict[str, Any]]:
    """The events as atomic.events rows: every row names the same columns (one INSERT)."""
    unknown = {k for e in events for k in e} - set(columns) - {"page_view_id"}
    assert not unknown, f"not atomic.events columns: {sorted(unknown)}"
    used = [c for c in columns if any(c in e for e in events)]
    return [{c: e.get(c) for c in used} for e in events]


def context_rows(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """web_page context rows: one per event with a page_view_id, keyed on (event_id, collector_tstamp)."""
    return [
        {"root_id": e["event_id"], "root_tstamp": e["collector_tstamp"], "id": e["page_view_id"]}
        for e in events
        if e.get("page_view_id") is not None
    ]


# ---------------------------------------------------------------------------------------------
# Run 1
# ---------------------------------------------------------------------------------------------
EVENTS: list[dict[str, Any]] = []
add = EVENTS.append

# Session s1 (user u1): three page views, pings, a page_view_id sent twice, an identified event.
S1_HOME = dict(
    page_url="https://shop.example.com/home", page_title="Home",
    page_urlquery="utm_source=google&utm_medium=cpc&utm_campaign=Summer_Shop&utm_source_platform=SA360",
    mkt_source="Google", mkt_medium="cpc", mkt_campaign="Summer_Shop",
    page_referrer="https://www.google.com/", refr_urlhost="www.google.com", refr_medium="search", refr_source="Google",
    geo_country="GB", geo_city="London", geo_region_name="England", br_lang="en-GB",
    doc_width=1000, doc_height=3000, br_viewwidth=800, br_viewheight=600,
    dvce_screenwidth=1920, dvce_screenheight=1080, domain_sessionidx=1,
)  # fmt: skip
# pv1: derived 10:00:00.900 with pings until 10:00:31.100: absolute time truncates each timestamp
# to the second first (§2.6: 31 - 0 = 31). Medium "cpc" + campaign "Summer_Shop" -> Paid Shopping
# (§2.2 rule 3); utm_source_platform=SA360 -> mkt_source_platform (§5.5); /home -> homepage (§2.3).
add(event("e-s1-01", "pv", "s1", "u1", D1 + "10:00:00.900", collector=D1 + "10:00:01", page_view_id="pv1", **S1_HOME))
# pv1 pings (§4.1): device times :10.5, :12, :25, :31 -> heartbeat buckets 1, 1, 2, 3 -> 3 distinct
# buckets -> 10 * (3 - 1) + 5 = 25 s. Scroll (§4.2, the reference's own example): doc 1000x3000,
# viewport 800x600, x-max 100/50, y-max 900/1500 -> hmax 100, vmax 1500, 90 %, 70 %.
add(event("e-s1-02", "pp", "s1", "u1", D1 + "10:00:10.500", page_view_id="pv1",
          pp_xoffset_min=0, pp_xoffset_max=100, pp_yoffset_min=0, pp_yoffset_max=900, **S1_HOME))  # fmt: skip
add(event("e-s1-03", "pp", "s1", "u1", D1 + "10:00:12", page_view_id="pv1",
          pp_xoffset_min=0, pp_xoffset_max=50, pp_yoffset_min=300, pp_yoffset_max=1500, **S1_HOME))  # fmt: skip
# A ping without offsets (coalesced to 0, §4.2).
add(event("e-s1-04", "pp", "s1", "u1", D1 + "10:00:25", page_view_id="pv1", **S1_HOME))
# Bucketing uses the device-created time (:31 -> bucket 3), end_tstamp the derived time (:31.100).
add(event("e-s1-05", "pp", "s1", "u1", D1 + "10:00:31.100", dvce=D1 + "10:00:31", page_view_id="pv1",
          pp_xoffset_min=0, pp_xoffset_max=0, pp_yoffset_min=0, pp_yoffset_max=0, **S1_HOME))  # fmt: skip
S1_PRODUCT = dict(
    page_url="https://shop.example.com/product/123", page_title="Product 123", doc_width=1200, doc_height=0,
    br_viewwidth=800, br_viewheight=600, geo_country="GB", geo_city="London", geo_region_name="England", br_lang="en-GB",
)  # fmt: skip
# Event-id duplicate (§1.3 dedupe): e-s1-06 arrives twice; the copy with the later collector_tstamp
# (loaded first, and with another title) must lose to the earliest collector_tstamp.
add(event("e-s1-06", "pv", "s1", "u1", D1 + "10:01:00", collector=D1 + "10:01:30", page_view_id="pv2",
          **{**S1_PRODUCT, "page_title": "Product 123 (resent)"}))  # fmt: skip
# pv2: doc_height 0 -> no scroll row, all four scroll columns NULL (§4.3 step 7); no pings ->
# engaged 0, end = start (§4.3 steps 5-6). /product -> PDP. No marketing fields -> Unassigned.
add(event("e-s1-06", "pv", "s1", "u1", D1 + "10:01:00", collector=D1 + "10:01:01", page_view_id="pv2", **S1_PRODUCT))
# page_view_id duplicate (§4.3 step 2): a second page_view event for pv2; the earliest derived wins.
add(event("e-s1-07", "pv", "s1", "u1", D1 + "10:01:05", collector=D1 + "10:01:06", page_view_id="pv2",
          **{**S1_PRODUCT, "page_title": "Product 123 (dupe)"}))  # fmt: skip
# An identified structured event: feeds user_mapping (§7.1) but is older than s2's identified events.
add(event("e-s1-08", "se", "s1", "u1", D1 + "10:02:00", collector=D1 + "10:02:01", page_view_id="pv2",
          user_id="alice@x"))  # fmt: skip
S1_CHECKOUT = dict(
    page_url="https://shop.example.com/checkout?step=1", page_urlpath="/checkout", page_urlhost="shop.example.com",
    page_urlquery="step=1", page_title="Checkout", geo_country="FR", geo_city="Paris", geo_region_name="Ile-de-France",
    br_lang="fr", doc_width=1000, doc_height=2000, br_viewwidth=None, br_viewheight=600,
)  # fmt: skip
# pv3: the last page view of s1 (last_page_*, last_geo_*, last_br_lang, §5.5), carries its own
# user_id (the page view's, §4.4 col 5; not the session's, whose first event has none).
# NULL viewport width -> horizontal 100 % (§4.2); vertical 100 * (1130 + 600) / 2000 = 86.5 -> 87
# (the project rounds half up on every warehouse).
add(event("e-s1-09", "pv", "s1", "u1", D1 + "10:03:00", collector=D1 + "10:03:01", page_view_id="pv3",
          user_id="alice@x", **S1_CHECKOUT))  # fmt: skip
add(event("e-s1-10", "pp", "s1", "u1", D1 + "10:03:08", collector=D1 + "10:03:09", page_view_id="pv3",
          pp_xoffset_min=0, pp_xoffset_max=0, pp_yoffset_min=0, pp_yoffset_max=1130, **S1_CHECKOUT))  # fmt: skip

# Session s2 (user u1, raw domain_userid rotated to "u0-rot" on all but one event): the session's
# user identifier is max(raw domain_userid) = "u1" (§1.2); original_domain_userid keeps the raw one.
# It starts with a structured event, and its first page event is a ping of a page view whose
# page_view event never arrived (§5.2 start adjustment: 08:59:58 - 5 s; page_views counts pv4).
S2_PING = dict(
    page_url="https://shop.example.com/blog/post", page_title="Blog", page_urlquery="utm_source_platform=&x=1",
    mkt_medium=" Email ", mkt_source="newsletter", geo_country="DE", geo_city="Berlin", geo_region_name="Berlin",
    br_lang="de", doc_width=800, doc_height=1600, br_viewwidth=800, br_viewheight=600,
    dvce_screenwidth=390, dvce_screenheight=844, domain_sessionidx=2,
)  # fmt: skip
add(event("e-s2-01", "se", "s2", "u0-rot", D2 + "08:59:58", collector=D2 + "08:59:59"))
# Medium " Email " is trimmed and lowered -> Email (§2.2 rule 10); an empty utm_source_platform
# gives '' (§5.5). Pings at :05 and :16 -> 2 buckets -> 15 s.
add(event("e-s2-02", "pp", "s2", "u0-rot", D2 + "09:00:05", collector=D2 + "09:00:06", page_view_id="pv4",
          pp_yoffset_max=400, **S2_PING))  # fmt: skip
add(event("e-s2-03", "pp", "s2", "u0-rot", D2 + "09:00:16", collector=D2 + "09:00:17", page_view_id="pv4",
          pp_yoffset_max=1000, **S2_PING))  # fmt: skip
# pv5: no geo/lang -> last_geo_* / last_br_lang fall back to the first event's (§5.5). Two
# identified events at the same collector_tstamp (09:01:01): user_mapping's tie-break is the
# greater event_id -> alice@z (§7.1 leaves ties arbitrary). Vertical scroll 100*(0+800)/1000 = 80.
add(event("e-s2-04", "pv", "s2", "u1", D2 + "09:01:00", collector=D2 + "09:01:01", page_view_id="pv5", user_id="alice@y",
          page_url="https://shop.example.com/list/shoes", page_title="Shoes", doc_width=1000, doc_height=1000,
          br_viewwidth=1000, br_viewheight=800, domain_sessionidx=2))  # fmt: skip
add(event("e-s2-05", "se", "s2", "u0-rot", D2 + "09:01:00.500", collector=D2 + "09:01:01", page_view_id="pv5",
          user_id="alice@z"))  # fmt: skip

# Session s3 (user u2): two page views with identical derived and device times (the in-session
# index falls back to event_id, §4.3 step 4; first and last page view of the session, §5.1, both
# pick e-s3-01), pings either side of a heartbeat bucket boundary, and a page view with a NULL
# useragent (dropped by the bot filter, §2.1).
S3_PRODUCT = dict(
    page_url="https://shop.example.com/product/9", page_title="Product 9", mkt_source="(direct)", mkt_medium="(none)",
    doc_width=1000, doc_height=1000, br_viewwidth=1000, br_viewheight=1000, dvce_screenwidth=None, dvce_screenheight=1080,
)  # fmt: skip
# (direct)/(none) -> Direct (§2.2 rule 1); NULL screen width -> NULL screen_resolution (§2.6).
add(event("e-s3-01", "pv", "s3", "u2", D1 + "12:00:00", collector=D1 + "12:00:01", page_view_id="pv6", **S3_PRODUCT))
# pv7: doc 0x0 -> no scroll row (§4.2 filter).
add(event("e-s3-02", "pv", "s3", "u2", D1 + "12:00:00", collector=D1 + "12:00:02", page_view_id="pv7",
          page_url="https://shop.example.com/list/hats", page_title="Hats", doc_width=0, doc_height=0))  # fmt: skip
# 12:00:09.999 and 12:00:10.000 fall in different 10 s buckets -> 15 s.
add(event("e-s3-03", "pp", "s3", "u2", D1 + "12:00:09.999", collector=D1 + "12:00:10.500", page_view_id="pv6",
          **S3_PRODUCT))  # fmt: skip
add(event("e-s3-04", "pp", "s3", "u2", D1 + "12:00:10", collector=D1 + "12:00:11", page_view_id="pv6", **S3_PRODUCT))
add(event("e-s3-05", "pv", "s3", "u2", D1 + "12:05:00", page_view_id="pv9", useragent=None,
          page_url="https://shop.example.com/home"))  # fmt: skip

# Session s4 (user u2): a bot (§2.1). Not in page_views or sessions; still seen by user_mapping and
# by the ping scratch tables, which have no bot filter (§2.1, §7.1).
add(event("e-s4-01", "pv", "s4", "u2", D1 + "13:00:00", collector=D1 + "13:00:01", page_view_id="pv8", user_id="bob",
          useragent=BOT_UA, page_url="https://shop.example.com/home", doc_width=500, doc_height=500,
          br_viewwidth=100, br_viewheight=100))  # fmt: skip
add(event("e-s4-02", "pp", "s4", "u2", D1 + "13:00:10", collector=D1 + "13:00:11", page_view_id="pv8",
          useragent=BOT_UA, page_url="https://shop.example.com/home", doc_width=500, doc_height=500,
          br_viewwidth=100, br_viewheight=100))  # fmt: skip

# Sessions s5 and s6 (user u3) start at the same derived time: the users' first session is the
# greater id, s6 (§6.2).
# A page_view without a web_page context (page_view_id NULL): in no derived table, but counted in
# its session's total_events (§5.1 aggs).
add(event("e-s5-01", "pv", "s5", "u3", D1 + "15:00:00", collector=D1 + "15:00:01",
          page_url="https://blog.example.com/"))  # fmt: skip
# Medium "Social" -> Organic Social (§2.2 rule 6); no /product etc. -> content group "other".
add(event("e-s5-02", "pv", "s5", "u3", D1 + "15:00:10", collector=D1 + "15:00:11", page_view_id="pv10",
          page_url="https://blog.example.com/post", page_title="Post", mkt_source="Facebook", mkt_medium="Social",
          doc_width=0, doc_height=0))  # fmt: skip
# Medium "organic" -> Organic Search (§2.2 rule 8).
add(event("e-s6-01", "pv", "s6", "u3", D1 + "15:00:00", collector=D1 + "15:00:00.500", page_view_id="pv11",
          page_url="https://blog.example.com/about", page_title="About", mkt_source="bing", mkt_medium="organic"))  # fmt: skip

# Session s7 (user u4): base-module filters only (base module §1.5, §1.2).
# Only structured events, so it is in the lifecycle manifest but in no derived table (§5.1).
# Sent exactly days_late_allowed (3 days) after creation: kept (the filter is <=).
add(event("e-s7-01", "se", "s7", "u4", "2024-02-27 08:00:01", dvce="2024-02-27 08:00:00", sent=D1 + "08:00:00",
          collector=D1 + "08:00:01"))  # fmt: skip
# Sent 3 days and 1 s after creation: dropped. It would otherwise move s7's start earlier.
add(event("e-s7-02", "se", "s7", "u4", "2024-02-26 08:00:00", dvce="2024-02-26 07:59:59", sent=D1 + "08:00:00",
          collector=D1 + "08:00:00.500"))  # fmt: skip
# NULL dvce_sent_tstamp: the late filter is NULL, so the event is dropped too.
add(event("e-s7-03", "se", "s7", "u4", D1 + "07:00:00", sent=None, collector=D1 + "07:00:01"))

# Session s8 (user u5): the seed lookups (§2.2, §2.4). The first page view comes from Namibia
# ("NA", which no loader may take for NULL) with br_lang "en-us" (the joins ignore case) and a paid
# click from " Google " (trimmed, lowered: a search source) without a shop campaign -> Paid Search.
# The last page view comes from Antarctica (a country in no region: continent NULL) with a language
# tag no seed row has (its name is NULL, not the first page's).
add(event("e-s8-01", "pv", "s8", "u5", D1 + "16:00:00", collector=D1 + "16:00:01", page_view_id="pv14",
          page_url="https://shop.example.com/home", page_title="Home", mkt_source=" Google ", mkt_medium="cpc",
          mkt_campaign="brand", geo_country="NA", geo_city="Windhoek", br_lang="en-us"))  # fmt: skip
add(event("e-s8-02", "pv", "s8", "u5", D1 + "16:01:00", collector=D1 + "16:01:01", page_view_id="pv15",
          page_url="https://shop.example.com/about", page_title="About", geo_country="AQ", br_lang="x-klingon"))  # fmt: skip

# No session id (§1.2: rows with a NULL session identifier are dropped). It is a page view with a
# context, and the latest event of all: were it processed, page_views would have pv13 and the
# manifest's last_success would be 2024-03-02 12:00:00.
add(event("e-x-01", "pv", None, "u1", D2 + "12:00:00", page_view_id="pv13", user_id="ghost",
          page_url="https://shop.example.com/home"))  # fmt: skip

# ---------------------------------------------------------------------------------------------
# Expected after run 1 (worked out by hand; hb = 10, mvl = 5)
# ---------------------------------------------------------------------------------------------
#: latest collector_tstamp among processed events (e-s2-04 / e-s2-05)
RUN1_LAST_SUCCESS = ts(D2 + "09:01:01")
#: the incremental models downstream of base_events_this_run (one manifest row each)
TRACKED_MODELS = ["snowplow_web_page_views", "snowplow_web_sessions", "snowplow_web_user_mapping", "snowplow_web_users"]

EXPECTED: dict[str, tuple[str, dict[str, dict[str, Any]]]] = {
    # -- base module ---------------------------------------------------------------------------
    "snowplow_manifest.snowplow_web_base_sessions_lifecycle_manifest": ("session_identifier", {
        # user: max(raw domain_userid) of the session; start/end: min/max collector_tstamp
        "s1": dict(user_identifier="u1", start_tstamp=ts(D1 + "10:00:01"), end_tstamp=ts(D1 + "10:03:09")),
        "s2": dict(user_identifier="u1", start_tstamp=ts(D2 + "08:59:59"), end_tstamp=ts(D2 + "09:01:01")),
        "s3": dict(user_identifier="u2", start_tstamp=ts(D1 + "12:00:01"), end_tstamp=ts(D1 + "12:05:00")),
        "s4": dict(user_identifier="u2", start_tstamp=ts(D1 + "13:00:01"), end_tstamp=ts(D1 + "13:00:11")),
        "s5": dict(user_identifier="u3", start_tstamp=ts(D1 + "15:00:01"), end_tstamp=ts(D1 + "15:00:11")),
        "s6": dict(user_identifier="u3", start_tstamp=ts(D1 + "15:00:00.500"), end_tstamp=ts(D1 + "15:00:00.500")),
        # only e-s7-01 passes the late filter
        "s7": dict(user_identifier="u4", start_tstamp=ts(D1 + "08:00:01"), end_tstamp=ts(D1 + "08:00:01")),
        "s8": dict(user_identifier="u5", start_tstamp=ts(D1 + "16:00:01"), end_tstamp=ts(D1 + "16:01:01")),
    }),
    "scratch.snowplow_web_base_events_this_run": ("event_id", {
        # one row per event_id: the copy with the earliest collector_tstamp
        "e-s1-06": dict(collector_tstamp=ts(D1 + "10:01:01"), page_title="Product 123", page_view_id="pv2"),
        # domain_userid is the session's user identifier; the raw one is kept
        "e-s2-01": dict(domain_userid="u1", original_domain_userid="u0-rot", domain_sessionid="s2",
                        original_domain_sessionid="s2", page_view_id=None),
        "e-s1-01": dict(page_view_id="pv1"), "e-s1-02": {}, "e-s1-03": {}, "e-s1-04": {}, "e-s1-05": {},
        "e-s1-07": {}, "e-s1-08": {}, "e-s1-09": {}, "e-s1-10": {},
        "e-s2-02": {}, "e-s2-03": {}, "e-s2-04": dict(original_domain_userid="u1"), "e-s2-05": {},
        "e-s3-01": {}, "e-s3-02": {}, "e-s3-03": {}, "e-s3-04": {}, "e-s3-05": {},
        "e-s4-01": {}, "e-s4-02": {},
        "e-s5-01": dict(page_view_id=None), "e-s5-02": {}, "e-s6-01": {},
        # e-s7-02 (late) and e-s7-03 (no dvce_sent) are dropped; e-x-01 has no session
        "e-s7-01": dict(domain_userid="u4"),
        "e-s8-01": {}, "e-s8-02": {},
    }),
    # -- user mapping ----------------------------------------------------------------------------
    "derived.snowplow_web_user_mapping": ("domain_userid", {
        # latest identified events e-s2-04 (alice@y) and e-s2-05 (alice@z) tie on collector
        # 09:01:01: the greater event_id wins
        "u1": dict(user_id="alice@z", end_tstamp=ts(D2 + "09:01:01")),
        # the bot's event (no bot filter in user_mapping)
        "u2": dict(user_id="bob", end_tstamp=ts(D1 + "13:00:01")),
    }),
    # -- page views ------------------------------------------------------------------------------
    "scratch.snowplow_web_pv_engaged_time": ("page_view_id", {
        "pv1": dict(engaged_time_in_s=25, end_tstamp=ts(D1 + "10:00:31.100")),
        "pv3": dict(engaged_time_in_s=5, end_tstamp=ts(D1 + "10:03:08")),
        "pv4": dict(engaged_time_in_s=15, end_tstamp=ts(D2 + "09:00:16")),
        "pv6": dict(engaged_time_in_s=15, end_tstamp=ts(D1 + "12:00:10")),
        "pv8": dict(engaged_time_in_s=5, end_tstamp=ts(D1 + "13:00:10")),  # the bot: no filter here
    }),
    "scratch.snowplow_web_pv_scroll_depth": ("page_view_id", {
        "pv1": dict(hmax=100, vmax=1500, hmin=0, vmin=0, relative_hmax=90, relative_vmax=70),
        "pv3": dict(hmax=0, vmax=1130, relative_hmax=100, relative_vmax=87),  # 86.5 rounds up
        "pv4": dict(hmax=0, vmax=1000, relative_hmax=100, relative_vmax=100),
        "pv5": dict(hmax=0, vmax=0, relative_hmax=100, relative_vmax=80),
        "pv6": dict(hmax=0, vmax=0, relative_hmax=100, relative_vmax=100),
        "pv8": dict(hmax=0, vmax=0, relative_hmax=20, relative_vmax=20),
    }),
    "derived.snowplow_web_page_views": ("page_view_id", {
        "pv1": dict(event_id="e-s1-01", domain_sessionid="s1", page_view_in_session_index=1, page_views_in_session=3,
                    start_tstamp=ts(D1 + "10:00:00.900"), end_tstamp=ts(D1 + "10:00:31.100"), engaged_time_in_s=25,
                    absolute_time_in_s=31, horizontal_pixels_scrolled=100, vertical_pixels_scrolled=1500,
                    horizontal_percentage_scrolled=90, vertical_percentage_scrolled=70, content_group="homepage",
                    default_channel_group="Paid Shopping", screen_resolution="1920x1080", device_category="Other",
                    stitched_user_id=None, user_id=None, domain_userid="u1", original_domain_userid="u1",
                    doc_width=1000, doc_height=3000),
        "pv2": dict(event_id="e-s1-06", page_title="Product 123", page_view_in_session_index=2, page_views_in_session=3,
                    start_tstamp=ts(D1 + "10:01:00"), end_tstamp=ts(D1 + "10:01:00"), engaged_time_in_s=0,
                    absolute_time_in_s=0, horizontal_pixels_scrolled=None, vertical_pixels_scrolled=None,
                    horizontal_percentage_scrolled=None, vertical_percentage_scrolled=None,
                    content_group="PDP", default_channel_group="Unassigned"),
        "pv3": dict(event_id="e-s1-09", user_id="alice@x", page_view_in_session_index=3, page_views_in_session=3,
                    start_tstamp=ts(D1 + "10:03:00"), end_tstamp=ts(D1 + "10:03:08"), engaged_time_in_s=5,
                    absolute_time_in_s=8, horizontal_pixels_scrolled=0, vertical_pixels_scrolled=1130,
                    horizontal_percentage_scrolled=100, vertical_percentage_scrolled=87,
                    content_group="checkout", br_viewwidth=None),
        "pv5": dict(event_id="e-s2-04", domain_sessionid="s2", domain_userid="u1", original_domain_userid="u1",
                    user_id="alice@y", page_view_in_session_index=1, page_views_in_session=1, engaged_time_in_s=0,
                    absolute_time_in_s=0, horizontal_percentage_scrolled=100, vertical_percentage_scrolled=80,
                    content_group="PLP", default_channel_group="Unassigned"),
        "pv6": dict(event_id="e-s3-01", page_view_in_session_index=1, page_views_in_session=2, engaged_time_in_s=15,
                    end_tstamp=ts(D1 + "12:00:10"), absolute_time_in_s=10, default_channel_group="Direct",
                    screen_resolution=None, horizontal_percentage_scrolled=100, vertical_percentage_scrolled=100),
        "pv7": dict(event_id="e-s3-02", page_view_in_session_index=2, page_views_in_session=2, engaged_time_in_s=0,
                    vertical_percentage_scrolled=None, content_group="PLP"),
        "pv10": dict(domain_sessionid="s5", page_view_in_session_index=1, page_views_in_session=1,
                     default_channel_group="Organic Social", content_group="other"),
        "pv11": dict(domain_sessionid="s6", page_view_in_session_index=1, page_views_in_session=1,
                     default_channel_group="Organic Search", engaged_time_in_s=0),
        # " Google " is a search source in the GA4 seed: a paid click is Paid Search (§2.2 rule 3)
        "pv14": dict(domain_sessionid="s8", page_view_in_session_index=1, page_views_in_session=2,
                     default_channel_group="Paid Search", content_group="homepage"),
        "pv15": dict(domain_sessionid="s8", page_view_in_session_index=2, page_views_in_session=2,
                     default_channel_group="Unassigned", content_group="other"),
    }),
    # -- sessions --------------------------------------------------------------------------------
    "derived.snowplow_web_sessions": ("domain_sessionid", {
        "s1": dict(domain_userid="u1", original_domain_userid="u1", user_id=None, stitched_user_id="alice@z",
                   start_tstamp=ts(D1 + "10:00:00.900"), end_tstamp=ts(D1 + "10:03:08"), absolute_time_in_s=188,
                   page_views=3, engaged_time_in_s=30, total_events=10, is_engaged=True,
                   first_page_title="Home", first_page_url="https://shop.example.com/home",
                   last_page_title="Checkout", last_page_url="https://shop.example.com/checkout?step=1",
                   last_page_urlquery="step=1", referrer="https://www.google.com/", mkt_source_platform="SA360",
                   default_channel_group="Paid Shopping", geo_country="GB", geo_city="London", last_geo_country="FR",
                   last_geo_city="Paris", last_geo_region_name="Ile-de-France", br_lang="en-GB", last_br_lang="fr",
                   screen_resolution="1920x1080", device_category="Other", domain_sessionidx=1,
                   # seed lookups of the first (GB, en-GB) and the last page view (FR, fr), §2.4
                   geo_country_name="United Kingdom of Great Britain and Northern Ireland", geo_continent="Europe",
                   last_geo_country_name="France", last_geo_continent="Europe", br_lang_name="English (United Kingdom)",
                   last_br_lang_name="French"),
        # first page event is a ping: start = min(derived) 08:59:58 - 5 s; absolute 62 + 5
        "s2": dict(domain_userid="u1", original_domain_userid="u0-rot", stitched_user_id="alice@z", user_id=None,
                   start_tstamp=ts(D2 + "08:59:53"), end_tstamp=ts(D2 + "09:01:00.500"), absolute_time_in_s=67,
                   page_views=2, engaged_time_in_s=15, total_events=5, is_engaged=True, first_page_title="Blog",
                   last_page_title="Shoes", last_page_url="https://shop.example.com/list/shoes", mkt_source_platform="",
                   default_channel_group="Email", geo_country="DE", last_geo_country="DE", last_geo_city="Berlin",
                   last_geo_region_name="Berlin", last_br_lang="de", screen_resolution="390x844",
                   # the last page view has no geo and no language: its names fall back too (§5.5)
                   geo_country_name="Germany", geo_continent="Europe", last_geo_country_name="Germany",
                   last_geo_continent="Europe", br_lang_name="German", last_br_lang_name="German"),
        # first and last page view tie: event_id ascending in both directions picks e-s3-01;
        # the NULL-useragent page view is in no set (total_events 4)
        "s3": dict(domain_userid="u2", stitched_user_id="bob", start_tstamp=ts(D1 + "12:00:00"),
                   end_tstamp=ts(D1 + "12:00:10"), absolute_time_in_s=10, page_views=2, engaged_time_in_s=15,
                   total_events=4, is_engaged=True, first_page_title="Product 9", last_page_title="Product 9",
                   default_channel_group="Direct", mkt_source_platform=None, screen_resolution=None,
                   last_geo_country=None, geo_country_name=None, geo_continent=None, last_geo_country_name=None,
                   br_lang_name=None),
        # no mapping for u3: stitched_user_id is the domain_userid
        "s5": dict(domain_userid="u3", stitched_user_id="u3", start_tstamp=ts(D1 + "15:00:00"),
                   end_tstamp=ts(D1 + "15:00:10"), absolute_time_in_s=10, page_views=1, engaged_time_in_s=0,
                   total_events=2, is_engaged=False, first_page_title="Post", last_page_title="Post",
                   default_channel_group="Organic Social"),
        "s6": dict(domain_userid="u3", start_tstamp=ts(D1 + "15:00:00"), end_tstamp=ts(D1 + "15:00:00"),
                   absolute_time_in_s=0, page_views=1, engaged_time_in_s=0, total_events=1, is_engaged=False,
                   default_channel_group="Organic Search"),
        "s8": dict(domain_userid="u5", stitched_user_id="u5", start_tstamp=ts(D1 + "16:00:00"),
                   end_tstamp=ts(D1 + "16:01:00"), absolute_time_in_s=60, page_views=2, engaged_time_in_s=0,
                   total_events=2, is_engaged=True, default_channel_group="Paid Search", geo_country="NA",
                   geo_country_name="Namibia", geo_continent="Africa", last_geo_country="AQ",
                   last_geo_country_name="Antarctica", last_geo_continent=None, br_lang="en-us",
                   br_lang_name="English (United States)", last_br_lang="x-klingon", last_br_lang_name=None),
    }),
    # -- users -----------------------------------------------------------------------------------
    "scratch.snowplow_web_users_aggs": ("domain_userid", {
        "u1": dict(first_domain_sessionid="s1", last_domain_sessionid="s2", page_views=5, sessions=2, engaged_time_in_s=45),
        "u2": dict(first_domain_sessionid="s3", last_domain_sessionid="s3", page_views=2, sessions=1, engaged_time_in_s=15),
        # s5 and s6 both start at 15:00:00: the greater id is the first session
        "u3": dict(first_domain_sessionid="s6", last_domain_sessionid="s5", page_views=2, sessions=2, engaged_time_in_s=0),
        "u5": dict(first_domain_sessionid="s8", last_domain_sessionid="s8", page_views=2, sessions=1, engaged_time_in_s=0),
    }),
    "derived.snowplow_web_users": ("domain_userid", {
        "u1": dict(user_id=None, original_domain_userid="u1", start_tstamp=ts(D1 + "10:00:00.900"),
                   end_tstamp=ts(D2 + "09:01:00.500"), page_views=5, sessions=2, engaged_time_in_s=45,
                   first_page_title="Home", first_geo_country="GB", first_geo_city="London",
                   first_geo_region_name="England", first_br_lang="en-GB", last_page_title="Shoes",
                   last_geo_country="DE", last_geo_city="Berlin", last_br_lang="de", referrer="https://www.google.com/",
                   mkt_source_platform="SA360", default_channel_group="Paid Shopping",
                   first_geo_country_name="United Kingdom of Great Britain and Northern Ireland", first_geo_continent="Europe",
                   first_br_lang_name="English (United Kingdom)", last_geo_country_name="Germany",
                   last_geo_continent="Europe", last_br_lang_name="German"),
        "u2": dict(start_tstamp=ts(D1 + "12:00:00"), end_tstamp=ts(D1 + "12:00:10"), page_views=2, sessions=1,
                   engaged_time_in_s=15, first_page_title="Product 9", last_page_title="Product 9",
                   default_channel_group="Direct"),
        "u3": dict(start_tstamp=ts(D1 + "15:00:00"), end_tstamp=ts(D1 + "15:00:10"), page_views=2, sessions=2,
                   engaged_time_in_s=0, first_page_title="About", last_page_title="Post",
                   default_channel_group="Organic Search"),
        "u5": dict(start_tstamp=ts(D1 + "16:00:00"), end_tstamp=ts(D1 + "16:01:00"), page_views=2, sessions=1,
                   default_channel_group="Paid Search", first_geo_country="NA", first_geo_country_name="Namibia",
                   first_geo_continent="Africa", first_br_lang="en-us", first_br_lang_name="English (United States)",
                   last_geo_country="AQ", last_geo_country_name="Antarctica", last_geo_continent=None,
                   last_br_lang="x-klingon", last_br_lang_name=None),
    }),
}  # fmt: skip

#: column counts of the final tables (reference §4.4: 107; §5.6: 111; §6.4: 56)
EXPECTED_COLUMN_COUNTS = {
    "derived.snowplow_web_page_views": 107,
    "derived.snowplow_web_sessions": 111,
    "derived.snowplow_web_users": 56,
    "derived.snowplow_web_user_mapping": 3,
}

# ---------------------------------------------------------------------------------------------
# Run 2: late-arriving events, appended to atomic.events after run 1. The window starts at
# last_success - 6 h = 2024-03-02 03:01:01, so only sessions with events in it are processed:
# s2, s3 and s6. Each is re-read from its first event (§1.3); s1, s4, s5 and s7 are not touched.
# ---------------------------------------------------------------------------------------------
_E = {e["event_id"]: e for e in EVENTS}
RUN2_EVENTS: list[dict[str, Any]] = [
    # A ping of pv7 created offline on 03-01, collected on 03-02: pv7 gets engaged time and an end.
    variant(_E["e-s3-02"], event_id="e-s3-06", event="page_ping", event_name="page_ping",
            derived_tstamp=D1 + "12:00:30", dvce_created_tstamp=D1 + "12:00:30",
            dvce_sent_tstamp=D2 + "10:00:00", collector_tstamp=D2 + "10:00:01"),
    # A new page view in s3 (index 3), identified as bob2, with a greater raw domain_userid: the
    # session keeps the user identifier of its first processing, u2 (§1.2).
    variant(_E["e-s3-02"], event_id="e-s3-07", page_view_id="pv12", page_title="Gloves",
            page_url="https://shop.example.com/list/gloves", page_urlpath="/list/gloves", user_id="bob2",
            domain_userid="u9", derived_tstamp=D1 + "12:01:00", dvce_created_tstamp=D1 + "12:01:00",
            dvce_sent_tstamp=D2 + "10:00:01", collector_tstamp=D2 + "10:00:02"),
    # A ping of pv11 (s6, user u3): u3 is recomputed from its whole history, s5 included (§6.1),
    # and s6 now ends last, so it becomes u3's last session too.
    variant(_E["e-s6-01"], event_id="e-s6-02", event="page_ping", event_name="page_ping",
            derived_tstamp=D1 + "15:00:12", dvce_created_tstamp=D1 + "15:00:12",
            dvce_sent_tstamp=D2 + "10:00:03", collector_tstamp=D2 + "10:00:04"),
    # A newly identified event for u1 in s2: u1's mapping changes to alice@new (§7.1).
    event("e-s2-06", "se", "s2", "u0-rot", D2 + "10:00:05", user_id="alice@new"),
]  # fmt: skip

RUN2_LAST_SUCCESS = ts(D2 + "10:00:05")
RUN2_SESSIONS_THIS_RUN = ["s2", "s3", "s6"]

EXPECTED_RUN2: dict[str, tuple[str, dict[str, dict[str, Any]]]] = {
    "snowplow_manifest.snowplow_web_base_sessions_lifecycle_manifest": ("session_identifier", {
        "s1": dict(end_tstamp=ts(D1 + "10:03:09")),
        "s2": dict(user_identifier="u1", end_tstamp=ts(D2 + "10:00:05")),
        # max(raw domain_userid) of the new events is u9, but the stored u2 wins
        "s3": dict(user_identifier="u2", start_tstamp=ts(D1 + "12:00:01"), end_tstamp=ts(D2 + "10:00:02")),
        "s4": {}, "s5": {},
        "s6": dict(start_tstamp=ts(D1 + "15:00:00.500"), end_tstamp=ts(D2 + "10:00:04")),
        "s7": {}, "s8": {},
    }),
    "derived.snowplow_web_user_mapping": ("domain_userid", {
        "u1": dict(user_id="alice@new", end_tstamp=ts(D2 + "10:00:05")),
        "u2": dict(user_id="bob2", end_tstamp=ts(D2 + "10:00:02")),  # replaced by run 2's latest
    }),
    "derived.snowplow_web_page_views": ("page_view_id", {
        "pv1": dict(page_views_in_session=3, engaged_time_in_s=25),
        "pv2": {}, "pv3": {}, "pv5": {}, "pv10": {}, "pv14": {}, "pv15": {},
        "pv6": dict(page_view_in_session_index=1, page_views_in_session=3, engaged_time_in_s=15),
        "pv7": dict(page_view_in_session_index=2, page_views_in_session=3, engaged_time_in_s=5,
                    end_tstamp=ts(D1 + "12:00:30"), absolute_time_in_s=30),
        "pv12": dict(page_view_in_session_index=3, page_views_in_session=3, user_id="bob2", domain_userid="u2",
                     original_domain_userid="u9", content_group="PLP"),
        "pv11": dict(engaged_time_in_s=5, end_tstamp=ts(D1 + "15:00:12"), absolute_time_in_s=12),
    }),
    "derived.snowplow_web_sessions": ("domain_sessionid", {
        "s1": dict(page_views=3, total_events=10),
        # e-s2-06 is the latest event: end moves, absolute 3607 + 5 (ping-first adjustment)
        "s2": dict(stitched_user_id="alice@new", page_views=2, total_events=6, end_tstamp=ts(D2 + "10:00:05"),
                   absolute_time_in_s=3612),
        "s3": dict(stitched_user_id="bob2", page_views=3, total_events=6, engaged_time_in_s=20,
                   end_tstamp=ts(D1 + "12:01:00"), absolute_time_in_s=60, last_page_title="Gloves",
                   first_page_title="Product 9"),
        "s5": dict(page_views=1), "s8": dict(page_views=2, geo_country_name="Namibia"),
        "s6": dict(page_views=1, total_events=2, engaged_time_in_s=5, end_tstamp=ts(D1 + "15:00:12"),
                   absolute_time_in_s=12, is_engaged=False),
    }),
    "derived.snowplow_web_users": ("domain_userid", {
        "u1": dict(page_views=5, sessions=2, engaged_time_in_s=45, end_tstamp=ts(D2 + "10:00:05")),
        "u2": dict(page_views=3, sessions=1, engaged_time_in_s=20, end_tstamp=ts(D1 + "12:01:00"),
                   last_page_title="Gloves"),
        "u3": dict(page_views=2, sessions=2, engaged_time_in_s=5, first_page_title="About", last_page_title="About",
                   start_tstamp=ts(D1 + "15:00:00"), end_tstamp=ts(D1 + "15:00:12")),
        "u5": dict(page_views=2, sessions=1),
    }),
}  # fmt: skip
