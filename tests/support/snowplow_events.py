"""Synthetic Snowplow-style events for tests (canonical atomic.events columns)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
BOT_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def event_uuid(*parts: object) -> str:
    """A stable id from its parts, so generated data is the same on every run."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(map(str, parts))))


@dataclass
class Event:
    event_id: str
    collector_tstamp: dt.datetime
    domain_sessionid: str | None
    domain_userid: str | None
    event_name: str = "page_view"
    page_view_id: str | None = None
    dvce_created_tstamp: dt.datetime | None = None
    dvce_sent_tstamp: dt.datetime | None = None
    derived_tstamp: dt.datetime | None = None
    useragent: str | None = BROWSER_UA
    app_id: str = "web"
    user_id: str | None = None
    page_url: str | None = "https://example.com/home"
    extra: dict = field(default_factory=dict)

    def columns(self) -> dict:
        created = self.dvce_created_tstamp or self.collector_tstamp
        row = {
            "app_id": self.app_id,
            "platform": "web",
            "collector_tstamp": self.collector_tstamp,
            "dvce_created_tstamp": created,
            "dvce_sent_tstamp": self.dvce_sent_tstamp or created,
            "derived_tstamp": self.derived_tstamp or self.collector_tstamp,
            "event": self.event_name,
            "event_name": self.event_name,
            "event_id": self.event_id,
            "domain_sessionid": self.domain_sessionid,
            "domain_userid": self.domain_userid,
            "user_id": self.user_id,
            "useragent": self.useragent,
            "page_url": self.page_url,
            "v_collector": "ssc-test",
            "v_etl": "snowplow-test",
        }
        row.update(self.extra)
        return row


def insert_events(execute, events: list[Event], *, placeholder: str = "?") -> None:
    """INSERT the events into atomic.events and their web_page contexts into the context table."""
    for event in events:
        row = event.columns()
        names = ", ".join(f'"{k}"' for k in row)
        marks = ", ".join(placeholder for _ in row)
        execute(f'INSERT INTO "atomic"."events" ({names}) VALUES ({marks})', list(row.values()))
        if event.page_view_id is not None:
            execute(
                f'INSERT INTO "atomic"."com_snowplowanalytics_snowplow_web_page_1" ("root_id", "root_tstamp", "id") '
                f"VALUES ({placeholder}, {placeholder}, {placeholder})",
                [event.event_id, event.collector_tstamp, event.page_view_id],
            )
