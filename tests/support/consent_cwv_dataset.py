"""Hand-made consent and web vitals events for the shipped snowplow_web project's consent and
Core Web Vitals modules, and the values their tables must hold, worked out by hand from the
documented behaviour (docs/snowplow-consent-cwv.md).

Events are atomic.events rows (support.snowplow_dataset.event) of self-describing events; each
carries its record under ``record`` (fields as the Iglu schema names them), which becomes a row
of the event's own table (``records``, as the shredding loaders write it: snake_case columns, an
array as the text of its JSON). One run: start_date 2024-01-30, a 60-day window.

Consent, D1 = 2024-03-01, D2 = 2024-03-02 (user: session):
- u1 (s1, D1): a banner at 10:00:01 (elapsedTime 350.5), allow_all of version 1.0 at 10:00:06
  (version 1.0 goes live); s8, D2: allow_all of version 2.0 at 18:00:05 (the version's latest).
- u2 (s2, D1): a banner at 11:00:01, shown again at 11:00:20, deny_all at 11:00:25: the choice
  belongs to the second banner; gdprApplies absent.
- u3 (s3, D1): a banner at 12:00:01 and no choice; s4, D2: allow_selected at 09:00:05, expired
  at 09:10:00 (version 1.0).
- u4 (s5, D2): allow_all of version 2.0 at 13:00:05: version 2.0 goes live.
- u5 (s6, D2): pending at 14:00:05 (version 2.0).
- u6 (s7, D1): implicit_consent at 15:00:05 (1.0); s9, D2: withdrawn at 16:00:05 (2.0).
- a crawler's banner (bot filter).
Web vitals (page view: url, country, day; lcp, fcp, fid, cls, inp, ttfb):
- A1 /home GB D1: 2000, 900, 50, 0.05, 150, 500, and a second event later (9999, ...: not read)
- A2 /product GB D1: 3000, 1100, -, 0.3, -, 900 (no FID, no INP)
- B1 /home DE D2: 4500, 3000, 350, 0.1, 600, 1900
- B2 /product DE D2: 2500, 1500, 100, 0.25, 200, 800 (on the thresholds)
- B3 /about DE D2: 1000, 400, 10, 0.0, 50, 100
- B4 /faq DE D2: 2000, 700, 500, 0.05, 100, 200 (good but for FID)
- O1 /home GB 2024-01-31: outside the 28 days measured (in snowplow_web_vitals, not measured)
- a crawler's page view, and an event without a page view (not read).
"""

from __future__ import annotations

import json
from typing import Any

from support.snowplow_dataset import BOT_UA, event

VARS = {"start_date": "2024-01-30", "backfill_limit_days": 60, "enable_consent": True, "enable_cwv": True}
D1, D2 = "2024-03-01 ", "2024-03-02 "
SCOPES_V1 = ["necessary", "analytics", "marketing"]
SCOPES_V2 = ["necessary", "analytics", "marketing", "personalisation"]
DOMAINS = ["https://a.example/", "https://c.example/?a=1,2"]  # a comma inside an item
TABLES = {
    "cmp_visible": "com_snowplowanalytics_snowplow_cmp_visible_1",
    "consent_preferences": "com_snowplowanalytics_snowplow_consent_preferences_1",
    "web_vitals": "com_snowplowanalytics_snowplow_web_vitals_1",
}
ARRAYS = {"consentScopes", "domainsApplied"}


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def sde(event_id: str, name: str, session: str, user: str, derived: str, record: dict, **fields) -> dict[str, Any]:
    """A self-describing event ``name`` with its ``record``."""
    row = event(event_id, "se", session, user, derived, **fields)
    row.update(event="unstruct", event_name=name)
    row["record"] = (name, record)
    return row


def banner(event_id: str, session: str, user: str, derived: str, elapsed: float, **fields) -> dict[str, Any]:
    return sde(event_id, "cmp_visible", session, user, derived, {"elapsedTime": elapsed}, **fields)


def choice(event_id, session, user, derived, kind, version, scopes, *, gdpr: Any = True, **fields) -> dict[str, Any]:
    record = {
        "eventType": kind, "basisForProcessing": "consent", "consentUrl": f"https://a.example/privacy/{version}",
        "consentVersion": version, "consentScopes": scopes, "domainsApplied": DOMAINS[: 1 + (version == "2.0")],
    }  # fmt: skip
    if gdpr is not None:
        record["gdprApplies"] = gdpr
    return sde(event_id, "consent_preferences", session, user, derived, record, **fields)


def vitals(event_id, session, user, derived, page_view_id, url, country, metrics, **fields) -> dict[str, Any]:
    names = ("lcp", "fcp", "fid", "cls", "inp", "ttfb")
    record = {n: v for n, v in zip(names, metrics, strict=True) if v is not None} | {"navigationType": "navigate"}
    return sde(
        event_id, "web_vitals", session, user, derived, record,
        page_view_id=page_view_id, page_url=f"https://a.example{url}", geo_country=country, **fields,
    )  # fmt: skip


def atomic(events: list[dict]) -> list[dict]:
    """The events without their records (atomic.events columns and page_view_id)."""
    return [{k: v for k, v in e.items() if k != "record"} for e in events]


def records(events: list[dict]) -> dict[str, list[dict]]:
    """Each event's own table -> its rows: root_id, root_tstamp, the fields in snake_case."""
    tables: dict[str, list[dict]] = {}
    for e in events:
        name, record = e["record"]
        row = {"root_id": e["event_id"], "root_tstamp": e["collector_tstamp"]}
        row.update({_snake(k): json.dumps(v) if k in ARRAYS else v for k, v in record.items()})
        tables.setdefault(TABLES[name], []).append(row)
    return tables


CONSENT = [
    banner("c1", "s1", "u1", D1 + "10:00:01", 350.5, geo_country="GB"),
    choice("p1", "s1", "u1", D1 + "10:00:06", "allow_all", "1.0", SCOPES_V1, geo_country="GB"),
    banner("c2", "s2", "u2", D1 + "11:00:01", 1200, geo_country="US"),
    banner("c3", "s2", "u2", D1 + "11:00:20", 300, geo_country="US"),
    choice("p2", "s2", "u2", D1 + "11:00:25", "deny_all", "1.0", ["necessary"], gdpr=None, geo_country="US"),
    banner("c4", "s3", "u3", D1 + "12:00:01", 80, geo_country="FR"),
    choice("p3", "s4", "u3", D2 + "09:00:05", "allow_selected", "1.0", ["necessary", "analytics"], geo_country="FR"),
    choice("p4", "s4", "u3", D2 + "09:10:00", "expired", "1.0", ["necessary"], geo_country="FR"),
    choice("p5", "s5", "u4", D2 + "13:00:05", "allow_all", "2.0", SCOPES_V2, geo_country="DE", user_id="four"),
    choice("p6", "s6", "u5", D2 + "14:00:05", "pending", "2.0", ["necessary"], gdpr=False, geo_country="DE"),
    choice("p7", "s8", "u1", D2 + "18:00:05", "allow_all", "2.0", SCOPES_V2, geo_country="DE"),
    choice("p8", "s7", "u6", D1 + "15:00:05", "implicit_consent", "1.0", SCOPES_V1, geo_country="GB"),
    choice("p9", "s9", "u6", D2 + "16:00:05", "withdrawn", "2.0", ["necessary"], geo_country="GB"),
    banner("cbot", "sbot", "ubot", D1 + "10:30:00", 99, useragent=BOT_UA),
]

VITALS = [
    vitals("vA1", "sA", "u7", D1 + "08:00:30", "A1", "/home", "GB", (2000, 900, 50, 0.05, 150, 500)),
    vitals("vA1b", "sA", "u7", D1 + "08:00:40", "A1", "/home", "GB", (9999, 9999, 9999, 9, 9999, 9999)),
    vitals("vA2", "sA", "u7", D1 + "08:01:30", "A2", "/product", "GB", (3000, 1100, None, 0.3, None, 900)),
    vitals("vB1", "sB", "u8", D2 + "08:00:30", "B1", "/home", "DE", (4500, 3000, 350, 0.1, 600, 1900)),
    vitals("vB2", "sB", "u8", D2 + "08:01:30", "B2", "/product", "DE", (2500, 1500, 100, 0.25, 200, 800)),
    vitals("vB3", "sB", "u8", D2 + "08:02:30", "B3", "/about", "DE", (1000, 400, 10, 0.0, 50, 100)),
    vitals("vB4", "sB", "u8", D2 + "08:03:30", "B4", "/faq", "DE", (2000, 700, 500, 0.05, 100, 200)),
    vitals("vO1", "sO", "u9", "2024-01-31 08:00:30", "O1", "/home", "GB", (100, 100, 1, 0.0, 10, 10)),
    vitals("vbot", "sbot2", "ubot2", D1 + "09:00:30", "X1", "/home", "GB", (1, 1, 1, 0, 1, 1), useragent=BOT_UA),
    vitals("vnone", "sA", "u7", D1 + "08:02:00", None, "/home", "GB", (1, 1, 1, 0, 1, 1)),
]

EVENTS = CONSENT + VITALS

# -- expected: consent ---------------------------------------------------------------------------------
NI = "needs improvement"
S1 = "necessary, analytics, marketing"
S2 = "necessary, analytics, marketing, personalisation"
DOM1, DOM2 = "https://a.example/", "https://a.example/, https://c.example/?a=1,2"

#: event_id -> (event_name, event_type, consent_version, consent_scopes, domains_applied, gdpr_applies, cmp_load_time)
CONSENT_LOG = {
    "c1": ("cmp_visible", None, None, None, None, None, 350.5),
    "p1": ("consent_preferences", "allow_all", "1.0", S1, DOM1, True, None),
    "c2": ("cmp_visible", None, None, None, None, None, 1200.0),
    "c3": ("cmp_visible", None, None, None, None, None, 300.0),
    "p2": ("consent_preferences", "deny_all", "1.0", "necessary", DOM1, None, None),
    "c4": ("cmp_visible", None, None, None, None, None, 80.0),
    "p3": ("consent_preferences", "allow_selected", "1.0", "necessary, analytics", DOM1, True, None),
    "p4": ("consent_preferences", "expired", "1.0", "necessary", DOM1, True, None),
    "p5": ("consent_preferences", "allow_all", "2.0", S2, DOM2, True, None),
    "p6": ("consent_preferences", "pending", "2.0", "necessary", DOM2, False, None),
    "p7": ("consent_preferences", "allow_all", "2.0", S2, DOM2, True, None),
    "p8": ("consent_preferences", "implicit_consent", "1.0", S1, DOM1, True, None),
    "p9": ("consent_preferences", "withdrawn", "2.0", "necessary", DOM2, True, None),
}

#: banner -> (cmp_load_time, first_consent_event_tstamp, first_consent_event_type, cmp_interaction_time)
CMP_STATS = {
    "c1": (350.5, D1 + "10:00:06", "allow_all", 5.0),
    "c2": (1200.0, None, None, None),  # shown again before the choice
    "c3": (300.0, D1 + "11:00:25", "deny_all", 5.0),
    "c4": (80.0, None, None, None),  # no choice in its session
}

#: version -> (version_start_tstamp, last_allow_all_event, consent_scopes, consent_url, domains_applied, is_latest_version)
VERSIONS = {
    "1.0": (D1 + "10:00:06", D1 + "10:00:06", S1, "https://a.example/privacy/1.0", DOM1, False),
    "2.0": (D2 + "13:00:05", D2 + "18:00:05", S2, "https://a.example/privacy/2.0", DOM2, True),
}

#: user -> (user_id, geo_country, cmp_events, consent_events, last_cmp_event_tstamp, last_consent_event_tstamp,
#:          last_consent_event_type, last_consent_scopes, last_consent_version, last_processed_event, is_latest_version)
USERS = {
    "u1": (None, "DE", 1, 2, D1 + "10:00:01", D2 + "18:00:05", "allow_all", S2, "2.0", D2 + "18:00:05", True),
    "u2": (None, "US", 2, 1, D1 + "11:00:20", D1 + "11:00:25", "deny_all", "necessary", "1.0", D1 + "11:00:25", False),
    "u3": (None, "FR", 1, 2, D1 + "12:00:01", D2 + "09:10:00", "expired", "necessary", "1.0", D2 + "09:10:00", False),
    "u4": ("four", "DE", 0, 1, None, D2 + "13:00:05", "allow_all", S2, "2.0", D2 + "13:00:05", True),
    "u5": (None, "DE", 0, 1, None, D2 + "14:00:05", "pending", "necessary", "2.0", D2 + "14:00:05", True),
    "u6": (None, "GB", 0, 2, None, D2 + "16:00:05", "withdrawn", "necessary", "2.0", D2 + "16:00:05", True),
}

#: version -> (total_visitors, allow_all, allow_selected, allow, pending, denied, expired, withdrawn,
#:             implicit_consent, expires_in_six_months)
TOTALS = {
    # visitors whose last event falls in [10:00:06 D1, 13:00:05 D2): u2, u3; last choices of 1.0: u2, u3
    "1.0": (2, 0, 0, 0, 0, 1, 1, 0, 0, 0),
    # from 13:00:05 D2: u1, u4, u5, u6; allows over six months old: u1, u4
    "2.0": (4, 2, 0, 0, 1, 0, 0, 1, 0, 2),
}

#: the scopes of the last choices of u1, u2, u4 (allow_all, deny_all, allow_all)
SCOPE_STATUS = {"necessary": 3, "analytics": 2, "marketing": 2, "personalisation": 2}

# -- expected: web vitals ----------------------------------------------------------------------------------
#: page view -> (event_id, lcp_result, fid_result, cls_result, ttfb_result, inp_result)
VITALS_ROWS = {
    "A1": ("vA1", "good", "good", "good", "good", "good"),
    "A2": ("vA2", NI, None, "poor", NI, None),
    "B1": ("vB1", "poor", "poor", "good", "poor", "poor"),
    "B2": ("vB2", "good", "good", NI, "good", "good"),
    "B3": ("vB3", "good", "good", "good", "good", "good"),
    "B4": ("vB4", "good", "poor", "good", "good", "good"),
    "O1": ("vO1", "good", "good", "good", "good", "good"),
}

_OVERALL = (6, 2875, 350, 0.2125, 875, 200, NI, "poor", NI, NI, "good", 0)
_GB = (2, 2750, 50, 0.2375, 800, 150, NI, "good", NI, "good", "good", 0)
_DE = (4, 3000, 387.5, 0.1375, 1075, 300, NI, "poor", NI, NI, NI, 0)
#: compound_key -> (page_view_count, lcp_75p, fid_75p, cls_75p, ttfb_75p, inp_75p,
#:                  lcp_result, fid_result, cls_result, ttfb_result, inp_result, passed)
MEASUREMENTS = {
    "overall||||": _OVERALL,
    "by_device||||": _OVERALL,  # no YAUAA: every page view's device_class is NULL
    "by_url|https://a.example/home|||": (2, 3875, 275, 0.0875, 1550, 487.5, NI, NI, "good", NI, NI, 0),
    "by_url|https://a.example/product|||": (2, 2875, 100, 0.2875, 875, 200, NI, "good", "poor", NI, "good", 0),
    "by_url|https://a.example/about|||": (1, 1000, 10, 0.0, 100, 50, "good", "good", "good", "good", "good", 1),
    "by_url|https://a.example/faq|||": (1, 2000, 500, 0.05, 200, 100, "good", "poor", "good", "good", "good", 0),
    "by_country|||GB|": _GB,
    "by_country|||DE|": _DE,
    "by_day||||2024-03-01": _GB,
    "by_day||||2024-03-02": _DE,
}
