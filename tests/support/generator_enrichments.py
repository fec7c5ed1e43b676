"""The enrichment contexts Snowplow's enricher attaches to events, for
``GeneratorConfig(enrichments=True)``: IAB spiders and robots
(iglu:com.iab.snowplow/spiders_and_robots/jsonschema/1-0-0), the UA parser
(iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0) and YAUAA
(iglu:nl.basjes/yauaa_context/jsonschema/1-0-*), each an entity of fields named as the Iglu
schemas name them.

Everything here is a function of the generated rows (the user agent, the ids), never of the
generator's random stream, so switching the enrichments on changes no other value:
- a session browses from a phone or a tablet for some values of its session id (its
  events' ``useragent`` becomes a mobile browser's; crawlers keep theirs);
- each event gets the entities of its user agent; IAB flags the crawler's user agent, and the
  sessions of a few session ids as seen from a listed IP address (a browser's user agent that
  the bot filter keeps);
- some events lack an entity (an enrichment switched on later, a failed lookup): they have
  no row in its table, or no entity in its column; a field a parser could not read is absent
  (NULL in the warehouse).
"""

from __future__ import annotations

FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:122.0) Gecko/20100101 Firefox/122.0"
SAFARI_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1"
)
CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0 Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Mobile/15E148 Safari/604.1"
)
TABLET = "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0 Safari/537.36"

#: session id -> phone when its number % SESSIONS_PER_DEVICE is 0, tablet when 1, else unchanged
SESSIONS_PER_DEVICE = 5
#: an event lacks the entity when its id's number % this is 0 (a prime each, so they differ)
MISSING_EVERY = {"iab": 11, "ua_parser": 7, "yauaa": 13}
#: sessions flagged by IAB's IP list: session number % this == 2
FLAGGED_SESSIONS_EVERY = 17


def _ua(family, major, minor, patch, os_family, os_major, os_minor, device) -> dict:
    """A UA parser entity (useragentVersion / osVersion as the parser joins the parts)."""
    version = ".".join(p for p in (major, minor, patch) if p is not None)
    os_version = ".".join(p for p in (os_major, os_minor) if p is not None)
    entity = {
        "useragentFamily": family, "useragentMajor": major, "useragentMinor": minor, "useragentPatch": patch,
        "useragentVersion": f"{family} {version}".strip(), "osFamily": os_family, "osMajor": os_major,
        "osMinor": os_minor, "osPatch": None, "osPatchMinor": None,
        "osVersion": f"{os_family} {os_version}".strip(), "deviceFamily": device,
    }  # fmt: skip
    return {k: v for k, v in entity.items() if v is not None}


def _yauaa(device, brand, name, os_class, os_name, os_version, engine, engine_version, agent, agent_version, **extra):
    """A YAUAA entity: its *NameVersion and *VersionMajor fields joined from the parts."""
    major, engine_major = agent_version.split(".")[0], engine_version.split(".")[0]
    entity = {
        "deviceClass": device, "deviceBrand": brand, "deviceName": name,
        "operatingSystemClass": os_class, "operatingSystemName": os_name, "operatingSystemVersion": os_version,
        "operatingSystemNameVersion": f"{os_name} {os_version}",
        "layoutEngineClass": "Browser", "layoutEngineName": engine, "layoutEngineVersion": engine_version,
        "layoutEngineVersionMajor": engine_major, "layoutEngineNameVersion": f"{engine} {engine_version}",
        "layoutEngineNameVersionMajor": f"{engine} {engine_major}",
        "agentClass": "Browser", "agentName": agent, "agentVersion": agent_version, "agentVersionMajor": major,
        "agentNameVersion": f"{agent} {agent_version}", "agentNameVersionMajor": f"{agent} {major}",
    }  # fmt: skip
    return {**entity, **extra}


#: user agent -> (UA parser entity, YAUAA entity): what the two parsers make of it
PARSED = {
    FIREFOX_LINUX: (
        _ua("Firefox", "122", "0", None, "Linux", None, None, "Other"),
        _yauaa("Desktop", "Unknown", "Linux Desktop", "Desktop", "Linux", "??", "Gecko", "122.0", "Firefox", "122.0"),
    ),
    SAFARI_MAC: (
        _ua("Safari", "17", "2", None, "Mac OS X", "14", "2", "Mac"),
        _yauaa("Desktop", "Apple", "Apple Macintosh", "Desktop", "Mac OS", "14.2", "AppleWebKit", "605.1.15",
               "Safari", "17.2"),
    ),
    CHROME_WINDOWS: (
        _ua("Chrome", "121", "0", None, "Windows", "10", None, "Other"),
        _yauaa("Desktop", "Unknown", "Desktop", "Desktop", "Windows NT", "10.0", "Blink", "121.0", "Chrome", "121.0"),
    ),
    PHONE: (
        _ua("Mobile Safari", "17", "2", None, "iOS", "17", "2", "iPhone"),
        _yauaa("Phone", "Apple", "Apple iPhone", "Mobile", "iOS", "17.2", "AppleWebKit", "605.1.15", "Safari", "17.2"),
    ),
    TABLET: (
        _ua("Chrome", "121", "0", None, "Android", "14", None, "Samsung SM-X710"),
        _yauaa("Tablet", "Samsung", "Samsung SM-X710", "Mobile", "Android", "14", "Blink", "121.0", "Chrome", "121.0",
               deviceVersion="SM-X710"),
    ),
    GOOGLEBOT: (
        _ua("Googlebot", "2", "1", None, "Other", None, None, "Spider"),
        {**_yauaa("Robot", "Google", "Google", "Cloud", "Cloud", "??", "Unknown", "??", "Googlebot", "2.1"),
         "agentClass": "Robot", "layoutEngineClass": "Robot"},
    ),
}  # fmt: skip
BROWSER = {"spiderOrRobot": False, "category": "BROWSER", "reason": "PASSED_ALL", "primaryImpact": "NONE"}
LISTED_UA = {"spiderOrRobot": True, "category": "SPIDER_OR_ROBOT", "reason": "FAILED_UA_INCLUDE",
             "primaryImpact": "PAGE_AND_AD_IMPRESSIONS"}  # fmt: skip
LISTED_IP = {"spiderOrRobot": True, "category": "ACTIVE_SPIDER_OR_ROBOT", "reason": "FAILED_IP_EXCLUDE",
             "primaryImpact": "UNKNOWN"}  # fmt: skip


def enrich(events) -> None:
    """Give each event its enrichment entities (``Event.entities``), in place."""
    for event in events:
        _on_a_device(event)
        ua_parser, yauaa = PARSED[event.row["useragent"]]
        found = {"iab": _iab(event), "ua_parser": ua_parser, "yauaa": yauaa}
        for name, entity in found.items():
            if _number(event.event_id) % MISSING_EVERY[name]:
                event.entities[name] = dict(entity)


def _on_a_device(event) -> None:
    """Phones and tablets: a session's events all move to one device (not the crawlers')."""
    session = event.row["domain_sessionid"]
    if session is None or event.row["useragent"] == GOOGLEBOT:
        return
    device = {0: PHONE, 1: TABLET}.get(_number(session) % SESSIONS_PER_DEVICE)
    if device is not None:
        event.row["useragent"] = device


def _iab(event) -> dict:
    if event.row["useragent"] == GOOGLEBOT:
        return LISTED_UA
    session = event.row["domain_sessionid"]
    return LISTED_IP if session is not None and _number(session) % FLAGGED_SESSIONS_EVERY == 2 else BROWSER


def _number(uuid_text: str) -> int:
    """A generated id (a UUID from the generator's seeded stream) as a number."""
    return int(uuid_text.replace("-", ""), 16)
