"""Consent and Core Web Vitals events for ``GeneratorConfig(consent_and_vitals=True)``: the
self-describing events of Snowplow's Enhanced Consent plugin (cmp_visible, consent_preferences:
iglu:com.snowplowanalytics.snowplow/cmp_visible/jsonschema/1-0-0 and
.../consent_preferences/jsonschema/1-0-0) and of its Web Vitals plugin (.../web_vitals/jsonschema/1-0-0),
each event's record under its name in ``Event.entities``, its fields as the schema spells them.

They are added after every other event, from a random stream of their own, so the events of
the same config without them are the same rows (the web model's tables only gain the new events
in each session's event counts). What they exercise:
- a banner (cmp_visible) on the first page view of a visitor's first session, and the choice that
  follows it: allow_all, allow_selected, deny_all, pending, implicit_consent, or none;
- a second banner in some sessions before any choice (the choice belongs to the later banner);
- a later session that withdraws or lets the consent expire;
- consent version "1.0" from the first day, "2.0" going live (its first allow_all) in a session
  of the last day: every visitor's is_latest_version changes in that run;
- a choice sent a day after its banner (within days_late_allowed): it lands in a later batch,
  which re-reads the session and completes the banner's row;
- a banner in a crawler's session (the bot filter drops it); a choice delivered twice;
- one web_vitals event per page view, with metrics missing as real browsers send them (no FID or
  INP when the visitor did not interact), a second, later one for some page views (the first
  counts), and page views with none.
"""

from __future__ import annotations

import datetime as dt
import json
import random

VENDOR = "com.snowplowanalytics.snowplow"
SCOPES = ("necessary", "preferences", "statistics", "marketing")
DOMAINS = ("https://shop.example.com/", "https://blog.example.com/")
NAVIGATION_TYPES = ("navigate", "navigate", "navigate", "reload", "back-forward")
#: the choice after a banner: (event type, weight); None: the visitor closes nothing
CHOICES = (
    ("allow_all", 50),
    ("allow_selected", 20),
    ("deny_all", 12),
    ("pending", 5),
    ("implicit_consent", 5),
    (None, 8),
)


def add_events(builder) -> None:
    """Consent and web vitals events in the regular sessions of ``builder`` (generator._Builder)."""
    rng = random.Random(f"consent-{builder.config.seed}")
    sessions = [s for s in builder.sessions if s.events and not s.events[0].tags and s.events[0].session_id]
    humans = [s for s in sessions if "Googlebot" not in s.useragent]
    bots = [s for s in sessions if "Googlebot" in s.useragent]
    last_day = builder.day(builder.config.days - 1)
    seen: set[str] = set()
    launch = next((s for s in humans if _page_views(s)[0].row["dvce_created_tstamp"] >= last_day), None)
    if launch is not None:  # version 2.0 from the first page view of its launch session on
        last_day = _page_views(launch)[0].row["dvce_created_tstamp"]
    for s in humans:
        first = s.visitor.domain_userid not in seen
        seen.add(s.visitor.domain_userid)
        _vitals(builder, rng, s)
        if s is launch:  # version 2.0 goes live: its first allow_all
            _banner_and_choice(builder, rng, s, last_day, kind="allow_all")
        elif first or rng.random() < 0.3:
            _banner_and_choice(builder, rng, s, last_day)
        elif rng.random() < 0.3:
            _change_of_mind(builder, rng, s, last_day)
    for s in bots[:1]:
        _event(builder, s, _page_views(s)[0], 0.4, "cmp_visible", {"elapsedTime": 900})
    _late_choice(builder, rng, humans)
    _duplicate_choice(builder)


# -- consent ---------------------------------------------------------------------------------------


def _banner_and_choice(builder, rng: random.Random, s, last_day: dt.datetime, kind: str | None = "") -> None:
    """A banner on the session's first page view, sometimes shown twice, then a choice (of
    ``kind``, else a random one)."""
    page = _page_views(s)[0]
    _event(builder, s, page, 0.3, "cmp_visible", {"elapsedTime": rng.randint(80, 2600) + rng.random()})
    after = 0.3 + rng.uniform(1.5, 20.0)
    if rng.random() < 0.15:  # shown again before the visitor chose
        _event(builder, s, page, after, "cmp_visible", {"elapsedTime": rng.randint(80, 900)})
        after += rng.uniform(1.0, 5.0)
    if kind == "":
        kind = rng.choices([c for c, _ in CHOICES], weights=[w for _, w in CHOICES])[0]
    if kind is not None:
        _event(builder, s, page, after, "consent_preferences", _choice(rng, s, kind, _created(page, after), last_day))


def _change_of_mind(builder, rng: random.Random, s, last_day: dt.datetime) -> None:
    """A returning visitor withdraws, lets the consent expire, or allows all again."""
    page = _page_views(s)[-1]
    kind = rng.choice(("withdrawn", "expired", "allow_all"))
    _event(builder, s, page, 2.0, "consent_preferences", _choice(rng, s, kind, _created(page, 2.0), last_day))


def _late_choice(builder, rng: random.Random, sessions) -> None:
    """A banner whose choice the device sends ~1.2 days later: a later batch holds it."""
    early = [s for s in sessions if _page_views(s)[0].row["dvce_created_tstamp"] < builder.day(builder.config.days - 2)]
    if not early:
        return
    s = early[len(early) // 2]
    page = _page_views(s)[-1]
    _event(builder, s, page, 1.0, "cmp_visible", {"elapsedTime": 1500}, tag="late_choice_banner")
    choice = _choice(rng, s, "allow_all", _created(page, 3.0), builder.day(builder.config.days))
    _event(builder, s, page, 3.0, "consent_preferences", choice, sent_after=dt.timedelta(days=1.2), tag="late_choice")


def _duplicate_choice(builder) -> None:
    """The first choice delivered twice (the same row and record): the run keeps one."""
    first = next((e for e in builder.events if "consent_preferences" in e.entities), None)
    if first is not None:
        copy = type(first)(dict(first.row), first.page_view_id, first.batch, frozenset(["duplicate_choice"]))
        copy.entities.update(first.entities)
        builder.events.append(copy)


def _choice(rng: random.Random, s, kind: str, created: dt.datetime, new_version_from: dt.datetime) -> dict:
    """A consent_preferences record; version 2.0 from the last day on."""
    version = "2.0" if created >= new_version_from else "1.0"
    if kind in ("allow_all", "implicit_consent"):
        scopes = list(SCOPES)
    elif kind == "allow_selected":
        scopes = ["necessary", *rng.sample(SCOPES[1:], rng.randint(1, 2))]
    else:
        scopes = ["necessary"]
    geo = s.visitor.geo[0]
    return {
        "eventType": kind,
        "basisForProcessing": "consent",
        "consentUrl": f"https://shop.example.com/privacy/v{version}",
        "consentVersion": version,
        "consentScopes": scopes,
        "domainsApplied": list(DOMAINS[: 1 + (rng.random() < 0.3)]),
        "gdprApplies": None if geo == "US" and rng.random() < 0.5 else geo != "US",
    }


# -- web vitals ------------------------------------------------------------------------------------


def _vitals(builder, rng: random.Random, s) -> None:
    """One web_vitals event per page view (when the page is left), some twice, some none."""
    for page in _page_views(s):
        if rng.random() < 0.1:
            continue
        after = _page_time(s, page) + 0.5
        _event(builder, s, page, after, "web_vitals", _metrics(rng))
        if rng.random() < 0.1:
            _event(builder, s, page, after + 3.0, "web_vitals", _metrics(rng))


def _metrics(rng: random.Random) -> dict:
    interacted = rng.random() < 0.6
    return {
        "lcp": round(rng.uniform(600, 6500), 1),
        "fcp": round(rng.uniform(200, 3500), 1) if rng.random() < 0.95 else None,
        "fid": round(rng.uniform(1, 450), 1) if interacted and rng.random() < 0.7 else None,
        "cls": round(rng.uniform(0, 0.45), 4),
        "inp": float(rng.randint(24, 720)) if interacted else None,
        "ttfb": round(rng.uniform(80, 2600), 1),
        "navigationType": rng.choice(NAVIGATION_TYPES),
    }


# -- events ----------------------------------------------------------------------------------------


def _page_views(s) -> list:
    return [e for e in s.events if e.row["event_name"] == "page_view"]


def _page_time(s, page_view) -> float:
    """Seconds from the page view to its last ping (its events share the page_view_id)."""
    times = [e.row["dvce_created_tstamp"] for e in s.events if e.page_view_id == page_view.page_view_id]
    return (max(times) - page_view.row["dvce_created_tstamp"]).total_seconds()


def _created(page_view, after: float) -> dt.datetime:
    return page_view.row["dvce_created_tstamp"] + dt.timedelta(seconds=after)


def _event(builder, s, page_view, after: float, name: str, record: dict, sent_after=None, tag=None):
    """A self-describing event ``name`` on ``page_view``'s page, ``after`` seconds after it."""
    row = page_view.row
    page = {"page_view_id": page_view.page_view_id, "index": 2, "path": row["page_urlpath"],
            "title": row["page_title"], "x": 0, "y": 0}  # fmt: skip
    event = builder.event(s, "se", _created(page_view, after), page, sent_after=sent_after, tags=[tag] if tag else ())
    event.row.update(
        event="unstruct", event_name=name, event_vendor=VENDOR, se_category=None, se_action=None,
        page_referrer=None, refr_medium=None, refr_source=None, mkt_medium=None, mkt_source=None, mkt_campaign=None,
    )  # fmt: skip
    event.entities[name] = record
    return event


# -- loading ---------------------------------------------------------------------------------------


#: each self-describing event -> its Iglu schema and its fields' logical types (as the schemas define them)
EVENTS = {
    "cmp_visible": (f"iglu:{VENDOR}/cmp_visible/jsonschema/1-0-0", {"elapsedTime": "double"}),
    "consent_preferences": (
        f"iglu:{VENDOR}/consent_preferences/jsonschema/1-0-0",
        {"eventType": "string", "basisForProcessing": "string", "consentUrl": "string", "consentVersion": "string",
         "consentScopes": "array", "domainsApplied": "array", "gdprApplies": "boolean"},
    ),
    "web_vitals": (
        f"iglu:{VENDOR}/web_vitals/jsonschema/1-0-0",
        {"lcp": "double", "fcp": "double", "fid": "double", "cls": "double", "inp": "double", "ttfb": "double",
         "navigationType": "string"},
    ),
}  # fmt: skip


def event_tables(events, dialect: str) -> list[tuple[str, tuple[list[str], list[tuple]]]]:
    """(table, (columns, rows)) of each self-describing event's own table (Postgres, Redshift,
    DuckDB), empty tables left out."""
    from snowgen.build.sessions_events import iglu_parts
    from snowgen.dialects import get_dialect

    d = get_dialect(dialect)
    tables = []
    for name, (schema, types) in EVENTS.items():
        columns, rows = table_rows(events, name, types, dialect)
        if rows:
            tables.append((d.context_table(*iglu_parts(schema)), (columns, rows)))
    return tables


def nested_values(event, dialect: str) -> dict:
    """The unstruct_event_ column of ``event``'s row -> its record (BigQuery, Snowflake,
    Databricks); empty for an event without one."""
    from snowgen.build.sessions_events import iglu_parts
    from snowgen.dialects import get_dialect

    d = get_dialect(dialect)
    return {
        d.event_column(*iglu_parts(schema)): nested_value(event.entities[name], types, dialect)
        for name, (schema, types) in EVENTS.items()
        if name in event.entities
    }


def table_rows(events, name: str, types: dict[str, str], dialect: str) -> tuple[list[str], list[tuple]]:
    """(columns, rows) of event ``name``'s own table, as a shredding loader writes it: root_id,
    root_tstamp and a column per field in snake case, an array as the text of its JSON."""
    from snowgen.dialects import get_dialect

    d = get_dialect(dialect)
    columns = ["root_id", "root_tstamp", *(d.context_field(f) for f in types)]
    rows = [
        (e.event_id, e.collector_tstamp, *(_stored(record.get(f), t) for f, t in types.items()))
        for e in events
        if (record := e.entities.get(name)) is not None
    ]
    return columns, rows


def _stored(value, logical: str):
    return json.dumps(value, separators=(",", ":")) if logical == "array" and value is not None else value


def nested_value(record: dict, types: dict[str, str], dialect: str):
    """An event's record as the warehouse's loader stores it in its unstruct_event_ column: an
    OBJECT (VARIANT) with the schema's keys on Snowflake, a STRUCT of snake_case fields on
    BigQuery and Databricks (NULL fields typed, arrays of strings)."""
    from sqlglot import exp

    from snowgen.dialects import get_dialect

    d = get_dialect(dialect)
    if d.context_field_names == "as_in_schema":
        return exp.ParseJSON(this=exp.Literal.string(json.dumps(record)))
    fields = [exp.alias_(_typed(d, record.get(f), t), d.context_field(f)) for f, t in types.items()]
    return exp.Struct(expressions=fields)


def _typed(d, value, logical: str):
    from sqlglot import exp

    if logical == "array":
        items = [exp.Literal.string(v) for v in value or []]
        array = exp.Array(expressions=items)
        return array if value else exp.Cast(this=exp.Null(), to=d._record_field_type("array"))
    if value is None:
        return d.cast(exp.Null(), logical)
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float)):
        return d.cast(exp.Literal.number(value), logical)
    return exp.Literal.string(value)
