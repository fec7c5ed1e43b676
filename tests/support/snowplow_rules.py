"""The documented rules of Snowplow's incremental logic and web model that make
day-by-day runs differ from one full-refresh run, as predictions the scenario tests compare
with what the runs wrote; and ``History``, the day-by-day runs and the full refresh themselves.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter
from collections.abc import Callable
from functools import cache

from support import scenarios as sc
from support.generator import Dataset, GeneratorConfig, generate

DAYS_LATE_ALLOWED = dt.timedelta(days=3)
MAX_SESSION_DAYS = dt.timedelta(days=3)
SEEDS = sc.PROJECT / "seeds"


def processable(event) -> bool:
    """Passes the base filters that do not depend on the run: a session id and the late filter."""
    row = event.row
    late = row["dvce_sent_tstamp"] > row["dvce_created_tstamp"] + DAYS_LATE_ALLOWED
    return row["domain_sessionid"] is not None and not late


def last_processed(data) -> dt.datetime:
    """The newest collector_tstamp a run can process (reference §1.9: the manifest's final value):
    not the later copy of a duplicated event (dedupe keeps the earliest), not an event beyond
    its session's cap (max_session_days), not one that fails the base filters."""
    starts: dict = {}
    for e in data.events:
        starts[e.session_id] = min(starts.get(e.session_id, e.collector_tstamp), e.collector_tstamp)
    return max(
        e.collector_tstamp for e in data.events
        if processable(e) and "duplicate_other" not in e.tags
        and e.collector_tstamp <= starts[e.session_id] + MAX_SESSION_DAYS
    )  # fmt: skip


class History:
    """Day-by-day runs (``inc``, one run after each batch is loaded, with a record of each run)
    and one full-refresh run over all the data (``full``), on two databases of one engine."""

    def __init__(
        self, config: GeneratorConfig, new_engine: Callable[[], object], start_date: str, options: dict | None = None
    ):
        """``new_engine()``: an isolated empty database (called twice); ``options``: more vars
        of the project (its options) for both plans."""
        self.config = config
        self.data: Dataset = generate(config)
        engine = new_engine()
        options = options or {}
        self.inc = sc.Warehouse(engine, sc.plan(engine.name, start_date=start_date, **options))
        self.runs: list[sc.RunRecord] = []
        for batch in range(self.data.batch_count):
            self.inc.load(self.data.batch(batch))
            self.runs.append(sc.record_run(self.inc))
        engine = new_engine()
        self.full = sc.Warehouse(
            engine, sc.plan(engine.name, start_date=start_date, backfill_limit_days=365, **options)
        )
        self.full.load(self.data.events)
        self.full_run = sc.record_run(self.full)

    def close(self):
        self.inc.engine.close()
        self.full.engine.close()

    # -- the history-dependent values, predicted from the documented rules -------------------------
    def first_run_user(self, session_id: str) -> str:
        """Reference §1.2: a session's user identifier is the max domain_userid among its events
        seen by the first run that processed it; later runs keep it."""
        r = next(i for i, run in enumerate(self.runs) if session_id in run.lifecycle)
        lower, upper = self.runs[r].limits
        return max(
            e.row["domain_userid"] for e in self.data.session(session_id)
            if processable(e) and e.batch <= r and lower <= e.collector_tstamp <= upper
        )  # fmt: skip

    def user_translation(self) -> dict[str, str]:
        """Incremental -> full-refresh domain_userid of the sessions where the two differ."""
        inc = dict(self.inc.query(f"SELECT session_identifier, user_identifier FROM {sc.LIFECYCLE}"))
        full = dict(self.full.query(f"SELECT session_identifier, user_identifier FROM {sc.LIFECYCLE}"))
        return {inc[s]: full[s] for s in inc if inc[s] != full[s]}

    def comparable(self, table: str) -> tuple[sc.Table, sc.Table]:
        """(incremental, full refresh) versions of ``table``, the incremental one with the §1.2
        translation of rotated cookies applied, both without sessions.stitched_user_id (those two
        are asserted on their own below)."""
        inc = sc.replace_values(self.inc.table(table), "domain_userid", self.user_translation())
        full = self.full.table(table)
        return sc.without_columns(inc, {"stitched_user_id"}), sc.without_columns(full, {"stitched_user_id"})

    def missed_by_an_upsert_window(self, table: str, key, start: dt.datetime) -> bool:
        """Reference §1.4, §6.5: a run whose batch held ``key`` replaced the stored rows dated in
        [min(batch) - upsert_lookback_days, max(batch)] only; a row dated outside stays beside the new one."""
        lookback = dt.timedelta(days=sc.UPSERTS[table][1])
        translation = self.user_translation()
        for run in self.runs:
            batch = run.batches[table]
            written = batch and run.wrote(table.split(".")[1]) and key in {translation.get(k, k) for k, _ in batch}
            if written and not min(s for _, s in batch) - lookback <= start <= max(s for _, s in batch):
                return True
        return False


def latest_identified(events: list[tuple]) -> dict[str, tuple]:
    """Reference §7.1 over one run's events: domain_userid -> (user_id of its latest identified
    event by collector_tstamp then event_id, max collector_tstamp of its identified events)."""
    out: dict[str, tuple] = {}
    for _event_id, collector, _session, user, user_id in sorted(events, key=lambda e: (e[1], e[0])):
        if user_id is not None and user is not None:
            out[user] = (user_id, collector)
    return out


def stale_rows(inc: sc.Table, full: sc.Table) -> list[tuple]:
    """The incremental rows a full refresh does not have (a multiset difference)."""
    left = Counter(full.rows)
    stale = []
    for row in inc.rows:
        if left[row]:
            left[row] -= 1
        else:
            stale.append(row)
    return stale


# -- the seed lookups (reference §2.2, §2.4), from the project's CSV files -----------------------------
@cache
def _seed(file: str, key: str) -> dict[str, dict[str, str | None]]:
    """lower(key) -> row (empty cells as None), read with Python's csv module."""
    with open(SEEDS / file, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    table = {row[key].lower(): {k: (v if v != "" else None) for k, v in row.items()} for row in rows}
    assert len(table) == len(rows), f"{file}: a {key} appears twice (the join would add rows)"
    return table


def country(code: str | None) -> tuple[str | None, str | None]:
    """(geo_country_name, geo_continent) of a geo_country: lower(geo_country) = lower(alpha_2)."""
    row = _seed("geo_country_mapping.csv", "alpha_2").get(code.lower()) if code is not None else None
    return (row["name"], row["region"]) if row else (None, None)


def language(tag: str | None) -> str | None:
    """br_lang_name of a br_lang: lower(br_lang) = lower(lang_tag)."""
    row = _seed("rfc_5646_language_mapping.csv", "lang_tag").get(tag.lower()) if tag is not None else None
    return row["name"] if row else None


def source_category(source: str | None) -> str | None:
    """The GA4 category of an mkt_source: lower(trim(mkt_source)) = lower(source)."""
    row = _seed("ga4_source_categories.csv", "source").get(source.strip().lower()) if source is not None else None
    return row["source_category"] if row else None


_SHOP_CAMPAIGN = re.compile(r"(^|[^a-df-z])shop|shopping")
_EMAIL = ("email", "e-mail", "e_mail", "e mail")


def channel_group(source: str | None, medium: str | None, campaign: str | None) -> str:
    """Reference §2.2: the default channel group; the first rule that matches wins, and a
    comparison with NULL matches nothing."""
    src, med, camp = (v.strip().lower() if v is not None else None for v in (source, medium, campaign))
    category = (source_category(source) or "").upper().removeprefix("SOURCE_CATEGORY_")
    shop = category == "SHOPPING" or (camp is not None and _SHOP_CAMPAIGN.search(camp) is not None)
    med_ = med or ""
    if src == "(direct)" and med in ("(not set)", "(none)"):
        return "Direct"
    if "cross-network" in med_:
        return "Cross-network"
    if med is not None and ("cp" in med or med in ("ppc", "retargeting") or med.startswith("paid")):
        if shop:
            return "Paid Shopping"
        return {"SEARCH": "Paid Search", "SOCIAL": "Paid Social", "VIDEO": "Paid Video"}.get(category, "Paid Other")
    if med in ("display", "banner", "expandable", "intersitial", "cpm"):
        return "Display"
    rules = [
        ("Organic Shopping", shop),
        (
            "Organic Social",
            category == "SOCIAL" or med in ("social", "social-network", "sm", "social network", "social media"),
        ),
        ("Organic Video", category == "VIDEO" or "video" in med_),
        ("Organic Search", category == "SEARCH" or med == "organic"),
        ("Referral", med in ("referral", "app", "link")),
        ("Email", src in _EMAIL or med in _EMAIL),
        ("Affiliates", med == "affiliate"),
        ("Audio", med == "audio"),
        ("SMS", src == "sms" or med == "sms"),
        (
            "Mobile Push Notifications",
            med_.endswith("push") or "mobile" in med_ or "notification" in med_ or src == "firebase",
        ),
    ]
    return next((name for name, matches in rules if matches), "Unassigned")


def session_lookups(session: dict) -> dict:
    """The seed-derived columns of a sessions row, from its own geo, language and marketing
    columns (§2.4, §5.5: a last_* name follows its last_* code, falling back with it)."""
    name, continent = country(session["geo_country"])
    last_name, last_continent = country(session["last_geo_country"])
    return {
        "geo_country_name": name, "geo_continent": continent,
        "last_geo_country_name": last_name, "last_geo_continent": last_continent,
        "br_lang_name": language(session["br_lang"]), "last_br_lang_name": language(session["last_br_lang"]),
        "default_channel_group": channel_group(session["mkt_source"], session["mkt_medium"], session["mkt_campaign"]),
    }  # fmt: skip


def user_lookups(user: dict) -> dict:
    """The seed-derived columns of a users row, from its first and last session's codes (§6.3, §6.4)."""
    first_name, first_continent = country(user["first_geo_country"])
    last_name, last_continent = country(user["last_geo_country"])
    return {
        "first_geo_country_name": first_name, "first_geo_continent": first_continent,
        "first_br_lang_name": language(user["first_br_lang"]),
        "last_geo_country_name": last_name, "last_geo_continent": last_continent,
        "last_br_lang_name": language(user["last_br_lang"]),
    }  # fmt: skip
