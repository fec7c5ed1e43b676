"""The enrichment columns of page views and sessions (reference §2.5), on Postgres and DuckDB:
the shipped snowplow_web project with each of enable_iab, enable_ua and enable_yauaa on (and
all, and none), over hand-made events whose IAB, UA parser and YAUAA contexts sit in their own
tables (atomic.com_iab_snowplow_spiders_and_robots_1, ..._ua_parser_context_1,
atomic.nl_basjes_yauaa_context_1), as Snowplow's loaders write them there.

A column takes its context's field when the option is on, else it is a typed NULL; a page
view takes its own event's value, a session its first page event's (§5.5); an event without
the context, or a field the entity lacks, gives NULL, and device_category 'Other'.
"""

from __future__ import annotations

import datetime as dt

import pytest
from support import scenarios as sc
from support.generator import Event

OPTIONS = {"iab": "enable_iab", "ua_parser": "enable_ua", "yauaa": "enable_yauaa"}
START = dt.datetime(2024, 3, 1, 10)

#: output column -> (context, field as the Iglu schema spells it): the 36 enrichment columns
COLUMNS = {
    "category": ("iab", "category"),
    "primary_impact": ("iab", "primaryImpact"),
    "reason": ("iab", "reason"),
    "spider_or_robot": ("iab", "spiderOrRobot"),
    **{c: ("ua_parser", f) for c, f in {
        "useragent_family": "useragentFamily", "useragent_major": "useragentMajor",
        "useragent_minor": "useragentMinor", "useragent_patch": "useragentPatch",
        "useragent_version": "useragentVersion", "os_family": "osFamily", "os_major": "osMajor",
        "os_minor": "osMinor", "os_patch": "osPatch", "os_patch_minor": "osPatchMinor",
        "os_version": "osVersion", "device_family": "deviceFamily",
    }.items()},
    **{c: ("yauaa", f) for c, f in {
        "device_class": "deviceClass", "agent_class": "agentClass", "agent_name": "agentName",
        "agent_name_version": "agentNameVersion", "agent_name_version_major": "agentNameVersionMajor",
        "agent_version": "agentVersion", "agent_version_major": "agentVersionMajor", "device_brand": "deviceBrand",
        "device_name": "deviceName", "device_version": "deviceVersion", "layout_engine_class": "layoutEngineClass",
        "layout_engine_name": "layoutEngineName", "layout_engine_name_version": "layoutEngineNameVersion",
        "layout_engine_name_version_major": "layoutEngineNameVersionMajor",
        "layout_engine_version": "layoutEngineVersion", "layout_engine_version_major": "layoutEngineVersionMajor",
        "operating_system_class": "operatingSystemClass", "operating_system_name": "operatingSystemName",
        "operating_system_name_version": "operatingSystemNameVersion",
        "operating_system_version": "operatingSystemVersion",
    }.items()},
}  # fmt: skip


# -- the entities --------------------------------------------------------------------------------
def yauaa(device_class: str, **other) -> dict:
    """A YAUAA entity: every field the project reads ("<field> of <class>"), but those in ``other``."""
    fields = {field for context, field in COLUMNS.values() if context == "yauaa"}
    return {**{f: f"{f} of {device_class}" for f in fields}, "deviceClass": device_class, **other}


BROWSER = {"spiderOrRobot": False, "category": "BROWSER", "reason": "PASSED_ALL", "primaryImpact": "NONE"}
LISTED_IP = {"spiderOrRobot": True, "category": "ACTIVE_SPIDER_OR_ROBOT", "reason": "FAILED_IP_EXCLUDE",
             "primaryImpact": "UNKNOWN"}  # fmt: skip
FIREFOX = {  # useragentPatch, osMajor... absent: the parser read no value (NULL)
    "useragentFamily": "Firefox", "useragentMajor": "122", "useragentMinor": "0", "useragentVersion": "Firefox 122.0",
    "osFamily": "Linux", "osVersion": "Linux", "deviceFamily": "Other",
}  # fmt: skip
SAFARI = {
    "useragentFamily": "Mobile Safari", "useragentMajor": "17", "useragentMinor": "2", "useragentPatch": "1",
    "useragentVersion": "Mobile Safari 17.2.1", "osFamily": "iOS", "osMajor": "17", "osMinor": "2", "osPatch": "1",
    "osPatchMinor": "0", "osVersion": "iOS 17.2.1", "deviceFamily": "iPad",
}  # fmt: skip


def event(n: int, session: str, name: str, page_view: str, entities: dict) -> Event:
    """Event ``n`` (n seconds after START) of ``session``, a page_view or page_ping of ``page_view``."""
    t = START + dt.timedelta(seconds=n)
    row = {
        "event_id": f"e{n}", "app_id": "site", "platform": "web", "event": name, "event_name": name,
        "collector_tstamp": t, "dvce_created_tstamp": t, "dvce_sent_tstamp": t, "derived_tstamp": t,
        "domain_sessionid": session, "domain_userid": f"user-of-{session}", "useragent": "Mozilla/5.0 (X11)",
        "page_url": "https://shop.example.com/", "os_family": "atomic os_family (not the UA parser's)",
    }  # fmt: skip
    return Event(row, page_view, batch=0, entities=dict(entities))


EVENTS = [
    # s1: a desktop browser; its second page view has other entities (a page view takes its own)
    event(1, "s1", "page_view", "pv1", {"iab": BROWSER, "ua_parser": FIREFOX, "yauaa": yauaa("Desktop", deviceVersion=None)}),
    event(2, "s1", "page_ping", "pv1", {"iab": BROWSER, "ua_parser": FIREFOX, "yauaa": yauaa("Desktop")}),
    event(30, "s1", "page_view", "pv2", {"iab": LISTED_IP, "ua_parser": SAFARI, "yauaa": yauaa("Phone")}),
    # s2: its first page event has no context at all; the next has every one
    event(100, "s2", "page_view", "pv3", {}),
    event(130, "s2", "page_view", "pv4", {"iab": LISTED_IP, "ua_parser": SAFARI, "yauaa": yauaa("Tablet")}),
    # s3: a page ping comes first (its entities are the session's); a class that is no category
    event(200, "s3", "page_ping", "pv5", {"yauaa": yauaa("Watch"), "ua_parser": {"useragentFamily": "Other"}}),
    event(201, "s3", "page_view", "pv5", {"iab": BROWSER, "yauaa": yauaa("Phone")}),
]  # fmt: skip
#: page view -> its event (each page view's earliest page_view event); session -> its first page event
PAGE_VIEW_EVENTS = {"pv1": 0, "pv2": 2, "pv3": 3, "pv4": 4, "pv5": 6}
SESSION_FIRSTS = {"s1": 0, "s2": 3, "s3": 5}
#: device_category, worked out by hand from each row's device_class (with YAUAA on)
PAGE_VIEW_CATEGORIES = {"pv1": "Desktop", "pv2": "Mobile", "pv3": "Other", "pv4": "Tablet", "pv5": "Mobile"}
SESSION_CATEGORIES = {"s1": "Desktop", "s2": "Other", "s3": "Other"}

#: which options are on: none, each alone, all
CASES = {"none": (), "iab": ("iab",), "ua": ("ua_parser",), "yauaa": ("yauaa",), "all": tuple(OPTIONS)}


# -- the runs ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module", params=[(e, c) for e in ("postgres", "duckdb") for c in CASES], ids="-".join)
def run(request):
    """(options on, page views by id, sessions by id) after one run over EVENTS."""
    engine_name, case = request.param
    on = CASES[case]
    engine = request.getfixturevalue(f"{engine_name}_engine").fresh()
    try:
        switches = {OPTIONS[name]: name in on for name in OPTIONS}
        w = sc.Warehouse(engine, sc.plan(engine.name, start_date="2024-02-29", **switches))
        w.load(EVENTS)
        w.run()
        yield on, w.table(sc.PAGE_VIEWS).by_key("page_view_id"), w.table(sc.SESSIONS).by_key("domain_sessionid"), w
    finally:
        engine.close()


def expected(on: tuple[str, ...], source: Event) -> dict:
    """Each enrichment column of a row taken from ``source``: its context's field when the
    option is on and the event has the entity, else NULL."""
    return {
        column: (source.entities.get(context) or {}).get(field) if context in on else None
        for column, (context, field) in COLUMNS.items()
    }


def test_page_views_take_their_own_events_values(run):
    on, page_views, _, _ = run
    assert sorted(page_views) == sorted(PAGE_VIEW_EVENTS)
    for page_view, index in PAGE_VIEW_EVENTS.items():
        actual = {c: page_views[page_view][c] for c in COLUMNS}
        assert actual == expected(on, EVENTS[index]), page_view


def test_sessions_take_their_first_page_events_values(run):
    on, _, sessions, _ = run
    assert sorted(sessions) == sorted(SESSION_FIRSTS)
    for session, index in SESSION_FIRSTS.items():
        actual = {c: sessions[session][c] for c in COLUMNS}
        assert actual == expected(on, EVENTS[index]), session


def test_device_category_comes_from_yauaas_device_class_else_other(run):
    on, page_views, sessions, _ = run
    other = "yauaa" not in on
    assert {k: r["device_category"] for k, r in page_views.items()} == (
        dict.fromkeys(PAGE_VIEW_CATEGORIES, "Other") if other else PAGE_VIEW_CATEGORIES
    )
    assert {k: r["device_category"] for k, r in sessions.items()} == (
        dict.fromkeys(SESSION_CATEGORIES, "Other") if other else SESSION_CATEGORIES
    )


def test_spider_or_robot_is_a_boolean_and_the_users_table_has_no_enrichment_column(run):
    on, page_views, _, w = run
    assert page_views["pv2"]["spider_or_robot"] is (True if "iab" in on else None)
    types = {table: kind.lower() for table, kind in w.query(
        "SELECT table_name, data_type FROM information_schema.columns WHERE table_schema = 'derived' "
        "AND column_name = 'spider_or_robot'"
    )}  # fmt: skip
    assert types == dict.fromkeys(["snowplow_web_page_views", "snowplow_web_sessions"], "boolean")
    assert not set(COLUMNS) & set(w.table(sc.USERS).columns)
