"""Conversion events for the generator (support/generator.py), switched on by
``GeneratorConfig.purchases``: structured events ``se_action = 'purchase'`` with a value in
``se_value``, which the shipped project's conversion definitions count (var
``conversion_events``, reference §5.4).

Each purchase comes a few seconds after the last event of a regular session; every fourth has
no value (a conversion's ``default_value``), and a session that buys twice buys again one second
later, so its list of values has an order to keep. ``se_value`` is set (NULL) on every event,
so that every row still names the same columns.
"""

from __future__ import annotations

import datetime as dt

#: what the conversions of the tests match
PURCHASE = {"se_category": "shop", "se_action": "purchase"}
CONDITION = "event_name = 'event' and se_action = 'purchase'"


def add_purchases(builder, regular_sessions) -> None:
    """``builder.config.purchases`` purchases in as many regular sessions (fewer if there are
    fewer), the first session of every three buying twice."""
    count = builder.config.purchases
    if not count:
        return
    sessions = regular_sessions(builder)
    for n, session in enumerate(builder.rng.sample(sessions, min(count, len(sessions)))):
        last = max(session.events, key=lambda e: e.row["dvce_created_tstamp"])
        created = last.row["dvce_created_tstamp"] + dt.timedelta(seconds=builder.rng.randint(2, 9))
        for again in range(2 if n % 3 == 0 else 1):
            value = None if (n + again) % 4 == 3 else round(builder.rng.uniform(5, 200), 2)
            _purchase(builder, session, last, created + dt.timedelta(seconds=again), value)
    for event in builder.events:
        event.row.setdefault("se_value", None)


def _purchase(builder, session, last, created: dt.datetime, value: float | None) -> None:
    page = {"page_view_id": last.page_view_id, "index": 2, "path": last.row["page_urlpath"],
            "title": last.row["page_title"], "x": 0, "y": 0}  # fmt: skip
    event = builder.event(session, "se", created, page, tags=["purchase"])
    event.row.update(PURCHASE, se_value=value)
