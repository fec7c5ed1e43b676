"""The options of the shipped snowplow_web project (its vars: conversions, passthroughs, event
counts, page-view stitching, custom engagement and content group), switched on over the
hand-made dataset of support/snowplow_dataset.py plus a few events of their own, and the values
they must give, worked out by hand from the reference (§2.3, §2.6, §5.2-§5.5, §6.3-§6.4, §7).

``OPTION_VARS`` switch every option on; ``EVENTS`` is the base dataset and the purchases
below; ``EXPECTED`` maps a table to ``(key, {key: {column: value}})`` as the base dataset does.
"""

from __future__ import annotations

from typing import Any

from support import snowplow_dataset as ds
from support.snowplow_dataset import D1, D2, event, ts

# Conversions (reference §5.4), in this order: purchases with a value (a NULL value counts as
# the default 1) and their event ids; checkout views of any event kind, without a value; a
# signup no event is, with a value and a list: zero, empty lists, no first conversion.
CONVERSIONS = [
    {"name": "purchase", "condition": "event_name = 'event' and se_action = 'purchase'", "value": "se_value",
     "default_value": 1, "list_events": True},
    {"name": "checkout", "condition": "page_urlpath = '/checkout'"},
    {"name": "signup", "condition": "se_action = 'signup'", "value": "se_value", "list_events": True},
]  # fmt: skip
OPTION_VARS: dict[str, Any] = {
    **ds.VARS,
    "conversion_events": CONVERSIONS,
    "total_all_conversions": True,
    "list_event_counts": True,
    "page_view_passthroughs": ["dvce_screenwidth", {"sql": "upper(page_urlpath)", "alias": "upper_path"}],
    "session_passthroughs": ["event_id", {"sql": "event_id || '/' || app_id", "alias": "first_event_app"}],
    # over the sessions' columns, the passthroughs above included (reference §6.3, §6.4)
    "user_first_passthroughs": ["event_id", {"sql": "event_id || '-first'", "alias": "first_marker"}],
    "user_last_passthroughs": ["event_id", {"sql": "first_event_app || '-last'", "alias": "last_marker"}],
    "page_view_stitching": True,
    # three page views, or session s5; any conversion engages too (reference §5.3)
    "engaged_session_sql": "page_views >= 3 or domain_sessionid = 's5'",
    "content_group_sql": "case when page_urlpath like '/list%' then 'listing' else 'other' end",
}

_PURCHASE = dict(se_category="shop", se_action="purchase")
OPTION_EVENTS: list[dict[str, Any]] = [
    # Two purchases in s1 at the same derived time: the device created p2 first, so it comes first
    # in the lists (derived_tstamp, dvce_created_tstamp, event_id); p2 has no value: the default 1.
    event("e-s1-p1", "se", "s1", "u1", D1 + "10:02:30", dvce=D1 + "10:02:29", se_value=20.0, **_PURCHASE),
    event("e-s1-p2", "se", "s1", "u1", D1 + "10:02:30", dvce=D1 + "10:02:28", se_value=None, **_PURCHASE),
    # One purchase in s2, which makes it engaged: two page views alone do not (the custom rule).
    event("e-s2-p1", "se", "s2", "u0-rot", D2 + "09:00:30", se_value=5.5, **_PURCHASE),
    # A session of another app: gone with app_ids [site] (the base module's allow-list).
    event("e-s9-01", "pv", "s9", "u6", D1 + "17:00:00", page_view_id="pv16", app_id="shop",
          page_url="https://shop.example.com/home", page_title="Home"),
]  # fmt: skip
EVENTS = ds.EVENTS + OPTION_EVENTS

_NO_SIGNUP = dict(cv_signup_volume=0, cv_signup_events=[], cv_signup_values=[], cv_signup_total=0,
                  cv_signup_first_conversion=None, cv_signup_converted=False)  # fmt: skip
_NO_PURCHASE = dict(cv_purchase_volume=0, cv_purchase_events=[], cv_purchase_values=[], cv_purchase_total=0,
                    cv_purchase_first_conversion=None, cv_purchase_converted=False)  # fmt: skip
_NO_CHECKOUT = dict(cv_checkout_volume=0, cv_checkout_first_conversion=None, cv_checkout_converted=False)

EXPECTED: dict[str, tuple[str, dict[str, dict[str, Any]]]] = {
    "derived.snowplow_web_page_views": ("page_view_id", {
        # the custom content group; a column and an expression passed through; page views
        # stitched as sessions are (u1: alice@z, u2: bob; u3 has no mapping: its domain_userid)
        "pv1": dict(content_group="other", dvce_screenwidth=1920, upper_path="/HOME", stitched_user_id="alice@z"),
        "pv3": dict(content_group="other", dvce_screenwidth=None, upper_path="/CHECKOUT", stitched_user_id="alice@z"),
        "pv5": dict(content_group="listing", upper_path="/LIST/SHOES", stitched_user_id="alice@z"),
        "pv6": dict(content_group="other", upper_path="/PRODUCT/9", stitched_user_id="bob"),
        "pv7": dict(content_group="listing", upper_path="/LIST/HATS", stitched_user_id="bob"),
        "pv10": dict(content_group="other", stitched_user_id="u3"),
        "pv16": dict(content_group="other", stitched_user_id="u6"),
    }),
    "derived.snowplow_web_sessions": ("domain_sessionid", {
        "s1": dict(
            cv_purchase_volume=2, cv_purchase_events=["e-s1-p2", "e-s1-p1"], cv_purchase_values=[1, 20],
            cv_purchase_total=21, cv_purchase_first_conversion=ts(D1 + "10:02:30"), cv_purchase_converted=True,
            # the checkout page view and its ping
            cv_checkout_volume=2, cv_checkout_first_conversion=ts(D1 + "10:03:00"), cv_checkout_converted=True,
            **_NO_SIGNUP, cv__all_volume=4, cv__all_total=21,
            # e-s1-06 twice is one event; the bot filter keeps all of s1
            event_counts={"event": 3, "page_ping": 5, "page_view": 4},
            is_engaged=True, event_id="e-s1-01", first_event_app="e-s1-01/site",
        ),
        "s2": dict(
            cv_purchase_volume=1, cv_purchase_events=["e-s2-p1"], cv_purchase_values=[5.5], cv_purchase_total=5.5,
            cv_purchase_first_conversion=ts(D2 + "09:00:30"), cv_purchase_converted=True, **_NO_CHECKOUT,
            **_NO_SIGNUP, cv__all_volume=1, cv__all_total=5.5,
            event_counts={"event": 3, "page_ping": 2, "page_view": 1},
            # two page views: engaged by its purchase only; its first page event is a ping
            is_engaged=True, event_id="e-s2-02", first_event_app="e-s2-02/site",
        ),
        # two page views and 15 s: engaged by Snowplow's rule, not by the custom one
        "s3": dict(**_NO_PURCHASE, **_NO_CHECKOUT, **_NO_SIGNUP, cv__all_volume=0, cv__all_total=0,
                   event_counts={"page_ping": 2, "page_view": 2}, is_engaged=False, event_id="e-s3-01"),
        "s5": dict(cv__all_volume=0, event_counts={"page_view": 2}, is_engaged=True, event_id="e-s5-02"),
        "s6": dict(event_counts={"page_view": 1}, is_engaged=False, event_id="e-s6-01"),
        "s8": dict(is_engaged=False, event_id="e-s8-01"),
        "s9": dict(app_id="shop", event_counts={"page_view": 1}),
    }),
    "derived.snowplow_web_users": ("domain_userid", {
        # first session s1, last s2 (reference §6.2)
        "u1": dict(first_event_id="e-s1-01", first_marker="e-s1-01-first", last_event_id="e-s2-02",
                   last_marker="e-s2-02/site-last"),
        # first session s6, last s5
        "u3": dict(first_event_id="e-s6-01", first_marker="e-s6-01-first", last_event_id="e-s5-02",
                   last_marker="e-s5-02/site-last"),
        "u2": {}, "u5": {}, "u6": {},
    }),
}  # fmt: skip

#: table -> (its standard columns, event_counts included; the columns the options add after
#: them, in order): reference §4.4, §5.6, §6.4
ADDED_COLUMNS = {
    "derived.snowplow_web_page_views": (107, ["dvce_screenwidth", "upper_path"]),
    "derived.snowplow_web_sessions": (112, [
        "cv_purchase_volume", "cv_purchase_events", "cv_purchase_values", "cv_purchase_total",
        "cv_purchase_first_conversion", "cv_purchase_converted",
        "cv_checkout_volume", "cv_checkout_first_conversion", "cv_checkout_converted",
        "cv_signup_volume", "cv_signup_events", "cv_signup_values", "cv_signup_total",
        "cv_signup_first_conversion", "cv_signup_converted",
        "cv__all_volume", "cv__all_total", "event_id", "first_event_app",
    ]),
    "derived.snowplow_web_users": (56, ["first_event_id", "first_marker", "last_event_id", "last_marker"]),
}  # fmt: skip
