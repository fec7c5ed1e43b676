"""Multi-run scenarios of the shipped snowplow_web project over generated events
(support/generator.py), on Postgres and DuckDB.

The oracle: after any sequence of incremental runs the derived tables
equal those of one full-refresh run over the same data, except where the documented semantics
of Snowplow's packages say otherwise. Each such exception is
asserted on its own, from the rule that causes it, never hidden by the comparison.

Fixtures share the expensive part (a day-by-day history and a one-run full refresh per engine,
module-scoped, read-only for the tests that use them).
"""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from support import scenarios as sc
from support.generator import BOT_UA, GeneratorConfig, generate
from support.generator_conversions import CONDITION
from support.snowplow_rules import (
    MAX_SESSION_DAYS,
    History,
    last_processed,
    latest_identified,
    session_lookups,
    stale_rows,
    user_lookups,
)

ENGINES = ["postgres", "duckdb"]
START_DATE = "2024-02-29"  # the day before the generated data (GeneratorConfig.start)

#: every special case of the generator at least once, a rotating cookie included
DAY_BY_DAY = GeneratorConfig(
    seed=11, days=3, users=5, long_human_sessions=1, rotating_userid_sessions=1, late_loaded_events=3
)


def fresh(request, name: str):
    return request.getfixturevalue(f"{name}_engine").fresh()


@pytest.fixture(scope="module", params=ENGINES)
def history(request):
    """Day-by-day runs and a one-run full refresh of DAY_BY_DAY (read-only for the tests)."""
    h = History(DAY_BY_DAY, lambda: fresh(request, request.param), START_DATE)
    yield h
    h.close()


# -- 1. incremental = full refresh -----------------------------------------------------------------------
def duplicated_sessions(history) -> dict[str, str]:
    """domain_sessionid -> domain_userid of the sessions the incremental table holds twice."""
    sessions = history.comparable(sc.SESSIONS)[0]
    rows, keys = sessions.by_key("domain_sessionid"), sessions.column("domain_sessionid")
    return {k: rows[k]["domain_userid"] for k in keys if keys.count(k) > 1}


@pytest.mark.parametrize("table", [sc.PAGE_VIEWS, sc.SESSIONS, sc.USERS])
def test_day_by_day_runs_equal_one_full_refresh_run(history, table):
    assert_day_by_day_equals_full_refresh(history, table)


def assert_day_by_day_equals_full_refresh(history, table):
    # Equal, but for old rows an upsert window did not reach (asserted to be exactly those), and
    # for the users of a duplicated session (asserted in the test after the next).
    assert len(history.runs) >= 5
    inc, full = history.comparable(table)
    key = inc.columns.index(sc.DERIVED[table])
    affected = set(duplicated_sessions(history).values()) if table == sc.USERS else set()
    inc, full = (sc.Table(table, t.columns, [r for r in t.rows if r[key] not in affected]) for t in (inc, full))
    stale = stale_rows(inc, full)
    current = sc.Table(table, inc.columns, [r for r in inc.rows if r not in stale])
    assert full.rows and sc.table_differences(current, full, sc.DERIVED[table]) == []
    start = inc.columns.index("start_tstamp")
    assert [r for r in stale if not history.missed_by_an_upsert_window(table, r[key], r[start])] == []


def test_a_session_that_starts_earlier_in_a_later_run_keeps_its_old_row(history):
    # Reference §1.4 (upsert window): the evening session whose first event is loaded with the
    # next day's batch, on the last day, is the latest session of that run's batch: the new start
    # is the batch's max, the stored row is dated after it, so the delete misses it. A one-run
    # full refresh has one row.
    [late] = [e for e in history.data.tagged("late_loaded") if e.batch == history.config.days]
    inc, full = history.comparable(sc.SESSIONS)
    start = inc.columns.index("start_tstamp")
    assert set(duplicated_sessions(history)) == {late.session_id}
    [(_, old)] = [(r[0], r[start]) for r in stale_rows(inc, full)]
    assert old > full.by_key("domain_sessionid")[late.session_id]["start_tstamp"]
    assert history.missed_by_an_upsert_window(sc.SESSIONS, late.session_id, old)


def test_users_of_a_duplicated_session_count_it_twice_and_keep_their_old_row(history):
    # The users of the run are recomputed from every row of the sessions table (reference §6.1),
    # the stale copy included: its page views and engaged time count twice (its first-session
    # fields come from either copy). The old users row is dated after the users window ([min, max]
    # of the batch, no lookback, §6.5), so it stays too.
    [user] = duplicated_sessions(history).values()
    sessions, full_sessions = history.comparable(sc.SESSIONS)
    [stale_session] = [dict(zip(sessions.columns, r, strict=True)) for r in stale_rows(sessions, full_sessions)]
    inc, full = history.comparable(sc.USERS)
    rows = [dict(zip(inc.columns, r, strict=True)) for r in inc.rows]
    current, old = sorted((r for r in rows if r["domain_userid"] == user), key=lambda r: r["start_tstamp"])
    expected = full.by_key("domain_userid")[user]
    assert history.missed_by_an_upsert_window(sc.USERS, user, old["start_tstamp"])
    for column in ("page_views", "engaged_time_in_s"):
        assert current[column] == expected[column] + stale_session[column]
    assert (current["start_tstamp"], current["sessions"]) == (expected["start_tstamp"], expected["sessions"])


def test_a_sessions_user_identifier_is_the_max_domain_userid_of_its_first_run(history):
    # Reference §1.2: the cookie of the rotating session changes at midnight ("-a" -> "-z"); the
    # first day-by-day run saw only "-a", the full refresh sees both and takes the max.
    lifecycle = dict(history.inc.query(f"SELECT session_identifier, user_identifier FROM {sc.LIFECYCLE}"))
    assert lifecycle == {s: history.first_run_user(s) for s in lifecycle}
    rotating = {e.session_id for e in history.data.tagged("rotating_userid")}
    assert {u[-2:]: v[-2:] for u, v in history.user_translation().items()} == {"-a": "-z"}
    assert {s for s, u in lifecycle.items() if u in history.user_translation()} == rotating


def test_user_mapping_holds_each_users_latest_identified_event_of_its_last_run(history):
    # Reference §7.1: ids seen in a run get that run's latest identified event, over the events
    # of the run only; a one-run full refresh therefore has the overall latest.
    expected: dict[str, tuple] = {}
    for run in history.runs:
        if run.wrote("snowplow_web_user_mapping"):
            expected.update(latest_identified(run.events))
    translation = history.user_translation()
    inc = {translation.get(u, u): (i, t) for u, i, t in history.inc.table(sc.USER_MAPPING).rows}
    full = {u: (i, t) for u, i, t in history.full.table(sc.USER_MAPPING).rows}
    assert inc == {translation.get(u, u): v for u, v in expected.items()}
    assert full == latest_identified(history.full_run.events)
    differences = {u for u in full if inc.get(u) != full[u]}
    assert differences == {u for u in full if expected.get(u) != full[u]}  # only where the rule says


def test_stitched_user_id_is_the_current_mapping_also_for_sessions_older_runs_wrote(history):
    # Reference §7.2: after every run each session holds its user's mapping as the mapping table
    # holds it now, else its domain_userid, whichever run last wrote the session. The generated
    # user whose user_id changes on the last day has sessions that only earlier runs wrote.
    def mapping_when_last_written(session_id: str, user: str) -> str:
        run = [r for r in history.runs if r.wrote("snowplow_web_sessions") and session_id in r.sessions][-1]
        return run.mapping.get(user, user)

    mapping = {u: row["user_id"] for u, row in history.inc.table(sc.USER_MAPPING).by_key("domain_userid").items()}
    inc = history.inc.table(sc.SESSIONS).by_key("domain_sessionid")
    assert {k: s["stitched_user_id"] for k, s in inc.items()} == {
        k: mapping.get(s["domain_userid"], s["domain_userid"]) for k, s in inc.items()
    }
    full = history.full.table(sc.SESSIONS).by_key("domain_sessionid")
    full_mapping = history.full_run.mapping
    assert {k: s["stitched_user_id"] for k, s in full.items()} == {
        k: full_mapping.get(s["domain_userid"], s["domain_userid"]) for k, s in full.items()
    }
    written = {k: mapping_when_last_written(k, s["domain_userid"]) for k, s in inc.items()}
    restitched = {k for k, s in inc.items() if s["stitched_user_id"] != written[k]}
    assert any("+new@" in inc[k]["stitched_user_id"] for k in restitched), "the data must exercise re-stitching"


def test_stitched_user_id_equals_a_full_refresh(history):
    # Reference §7.2: the sessions model's stitch re-sets every row of the table after each run,
    # so stitched_user_id is the latest mapping, as in a full refresh.
    translation = history.user_translation()
    inc = history.inc.table(sc.SESSIONS).by_key("domain_sessionid")
    full = history.full.table(sc.SESSIONS).by_key("domain_sessionid")
    assert {k: translation.get(v["stitched_user_id"], v["stitched_user_id"]) for k, v in inc.items()} == {
        k: v["stitched_user_id"] for k, v in full.items()
    }


def test_manifests_end_at_the_last_processed_event(history):
    # Events beyond a session's cap, sent too late, without a session or deduplicated away are
    # never processed, so last_success stops at the last event that was (§1.9), on both sides.
    assert set(history.inc.manifest().values()) == {last_processed(history.data)}
    assert set(history.full.manifest().values()) == {last_processed(history.data)}


# -- 2. late events, quarantine, duplicates ----------------------------------------------------------------
def runs_with(history, event_id: str) -> list[int]:
    return [i for i, run in enumerate(history.runs) if any(e[0] == event_id for e in run.events)]


def test_events_sent_within_days_late_allowed_are_processed_by_the_next_run(history):
    # Reference §1.5: kept (sent < created + days_late_allowed); the run after their batch
    # re-reads their old session from its first event, and their page view ends with them.
    late = history.data.tagged("late_within")
    assert late and all(e.batch > 0 for e in late)
    for event in late:
        assert runs_with(history, event.event_id)[0] == event.batch
        for w in (history.inc, history.full):
            view = w.table(sc.PAGE_VIEWS).by_key("page_view_id")[event.page_view_id]
            assert view["end_tstamp"] == event.row["derived_tstamp"]


def test_events_sent_beyond_days_late_allowed_are_never_processed(history):
    late = history.data.tagged("late_beyond")
    assert late
    for event in late:
        assert runs_with(history, event.event_id) == []
        assert event.event_id not in {e[0] for e in history.full_run.events}
        for w in (history.inc, history.full):
            [(end,)] = w.query(f"SELECT end_tstamp FROM {sc.LIFECYCLE} WHERE session_identifier = '{event.session_id}'")
            assert end < event.collector_tstamp


@pytest.mark.parametrize("tag", ["long_bot", "long_human"])
def test_a_session_longer_than_max_session_days_is_quarantined_and_capped(history, tag):
    # Reference §1.5 step 3-4 and §1.8: the lifecycle caps the end at start + max_session_days,
    # the session is quarantined, and no run ever reads its events beyond the cap.
    [session] = {e.session_id for e in history.data.tagged(tag)}
    start = min(e.collector_tstamp for e in history.data.session(session))
    for w in (history.inc, history.full):
        assert w.keys(sc.QUARANTINE, "session_identifier") == {
            e.session_id for t in ("long_bot", "long_human") for e in history.data.tagged(t)
        }
        [(end,)] = w.query(f"SELECT end_tstamp FROM {sc.LIFECYCLE} WHERE session_identifier = '{session}'")
        assert end == start + MAX_SESSION_DAYS
    beyond = {e.event_id for e in history.data.session(session) if e.collector_tstamp > start + MAX_SESSION_DAYS}
    assert beyond and all(not runs_with(history, event_id) for event_id in beyond)
    sessions = history.inc.table(sc.SESSIONS).by_key("domain_sessionid")
    if tag == "long_bot":
        assert session not in sessions  # the bot filter
    else:
        assert start <= sessions[session]["end_tstamp"] <= start + MAX_SESSION_DAYS


def test_duplicated_event_ids_leave_one_row_in_every_run_and_one_page_view(history):
    # Reference §7.1: one row per event_id, the earliest collector_tstamp.
    tags = ("duplicate_same_original", "duplicate_other_original")
    originals = {e.event_id: e for tag in tags for e in history.data.tagged(tag)}
    assert len(originals) == history.config.duplicates_same_tstamp + history.config.duplicates_other_tstamp
    for run in [*history.runs, history.full_run]:
        ids = [e[0] for e in run.events]
        assert len(ids) == len(set(ids))
        for event_id, collector, *_ in run.events:
            assert event_id not in originals or collector == originals[event_id].collector_tstamp
    for w in (history.inc, history.full):
        keys = w.table(sc.PAGE_VIEWS).column("page_view_id")
        assert len(keys) == len(set(keys)) and {e.page_view_id for e in originals.values()} <= set(keys)


def test_events_without_a_session_id_are_never_processed(history):
    [event] = history.data.tagged("null_session")
    assert runs_with(history, event.event_id) == []
    assert event.page_view_id not in history.inc.keys(sc.PAGE_VIEWS, "page_view_id")


def test_a_first_event_loaded_a_day_late_moves_its_sessions_start_earlier(history):
    # Its collector_tstamp is within lookback_window_hours of the previous run's last_success,
    # so the next window holds it: the lifecycle start becomes least(old, new) (reference §1.5).
    for event in history.data.tagged("late_loaded"):
        before = history.runs[event.batch - 1].lifecycle[event.session_id]
        assert before > event.collector_tstamp
        assert history.runs[event.batch].lifecycle[event.session_id] == event.collector_tstamp
        assert event.page_view_id in history.inc.keys(sc.PAGE_VIEWS, "page_view_id")


# -- 3. a new model added after three runs -----------------------------------------------------------------
NEW_MODEL = "snowplow_web_session_event_counts"
NEW_MODEL_SPEC = {
    "name": NEW_MODEL, "module": "sessions", "materialization": "incremental",
    "unique_key": "domain_sessionid", "upsert_date_key": "start_tstamp",
    "sql": "select domain_sessionid, min(collector_tstamp) as start_tstamp, count(*) as events,\n"
           "  count(distinct page_view_id) as page_views\n"
           "from snowplow_web_base_events_this_run\ngroup by domain_sessionid\n",
}  # fmt: skip
NEW_MODEL_VARS = {"start_date": "2024-03-01", "backfill_limit_days": 1}  # a one-day window: catching up takes runs
NEW_MODEL_DATA = GeneratorConfig(seed=21, days=3, users=4, long_bot_sessions=0)


class NewModel:
    """Three day-by-day runs, then NEW_MODEL is added to a copy of the project and the plan is
    run until every model's last_success is equal; and a full refresh of the new project."""

    def __init__(self, request, name: str, root):
        data = generate(NEW_MODEL_DATA)
        self.w = sc.Warehouse(fresh(request, name), sc.plan(name, root, **NEW_MODEL_VARS), root)
        for batch in range(3):
            self.w.load(data.batch(batch))
            self.w.run()
        self.before = {t: self.w.table(t, exclude=()) for t in sc.DERIVED}
        (root / "models" / f"{NEW_MODEL}.yml").write_text(yaml.safe_dump(NEW_MODEL_SPEC, sort_keys=False))
        self.w.steps = sc.plan(name, root, **NEW_MODEL_VARS)
        self.runs = [sc.record_run(self.w)]
        self.after_first = {t: self.w.table(t, exclude=()) for t in sc.DERIVED}
        while len(set(self.w.manifest().values())) > 1 and len(self.runs) < 8:
            self.runs.append(sc.record_run(self.w))
        self.runs.append(sc.record_run(self.w))  # one standard run after the catch-up
        one_run = {**NEW_MODEL_VARS, "backfill_limit_days": 365}
        self.full = sc.Warehouse(fresh(request, name), sc.plan(name, root, **one_run), root)
        self.full.load([e for e in data.events if e.batch < 3])
        self.full.run()


@pytest.fixture(scope="module", params=ENGINES)
def new_model(request, tmp_path_factory):
    scenario = NewModel(request, request.param, sc.copy_project(tmp_path_factory.mktemp("new_model")))
    yield scenario
    scenario.w.engine.close()
    scenario.full.engine.close()


def test_a_new_model_backfills_from_start_date(new_model):
    # Reference §1.3 "New Snowplow incremental model": [start_date, least(max_last_success, start_date + B)]
    first = new_model.runs[0]
    assert NEW_MODEL not in first.manifest_before
    start = dt.datetime.fromisoformat(NEW_MODEL_VARS["start_date"])
    assert first.limits == (start, min(max(first.manifest_before.values()), start + dt.timedelta(days=1)))
    assert NEW_MODEL in new_model.w.manifest()


def test_the_other_models_write_nothing_while_the_new_model_backfills(new_model):
    # Reference §1.4: their window is consumed (upper_limit <= last_success); model_tstamp included
    for table, key in sc.DERIVED.items():
        assert sc.table_differences(new_model.after_first[table], new_model.before[table], key) == []


def test_the_new_model_catches_up_then_every_model_is_in_step(new_model):
    # Out of sync: [min - 6 h, least(max, min + B)] until the new model reaches the others (§1.3).
    others = max(new_model.runs[0].manifest_before.values())
    lasts = [run.manifest_before.get(NEW_MODEL) for run in new_model.runs[1:]]
    assert len(lasts) >= 3 and lasts == sorted(lasts) and lasts[-1] == others
    for run, last in zip(new_model.runs[1:-1], lasts, strict=False):
        if last != others:
            assert run.limits == (last - dt.timedelta(hours=6), min(others, last + dt.timedelta(days=1)))
    final = new_model.runs[-1]
    assert set(final.manifest_before.values()) == {others}  # "standard"
    assert final.limits == (others - dt.timedelta(hours=6), others + dt.timedelta(days=1))


def test_the_new_models_table_equals_a_full_refresh(new_model):
    table = f"derived.{NEW_MODEL}"
    inc, full = new_model.w.table(table), new_model.full.table(table)
    assert len(inc.rows) > 5 and sc.table_differences(inc, full, "domain_sessionid") == []


# -- 4. fault injection ------------------------------------------------------------------------------------
CRASH_DATA = GeneratorConfig(
    seed=5, days=3, users=2, identified_fraction=1.0, long_bot_sessions=0, long_human_sessions=1, long_session_days=3.5
)
#: the crashed run leaves its run lock behind: the next run comes after the lock expired
#: (a lock that expires at once; test_run_lock.py covers a lock that has not expired yet)
CRASH_VARS = {"start_date": START_DATE, "lock_timeout_minutes": 0}
#: the plan's step ids (the same on both engines); a crash is simulated after each but the last
STEPS = [step.id for step in sc.plan("duckdb", **CRASH_VARS)]


def crash_setup(w: sc.Warehouse, data) -> None:
    """Run 1 over the first two days; then the rest of the data arrives (the run that crashes
    extends sessions, quarantines the long one, replaces mappings, recomputes users)."""
    w.load([e for e in data.events if e.batch < 2])
    w.run()
    w.load([e for e in data.events if e.batch >= 2])


@pytest.fixture(scope="module", params=ENGINES)
def uninterrupted(request):
    """(engine name, the state after an uninterrupted second run)."""
    w = sc.Warehouse(fresh(request, request.param), sc.plan(request.param, **CRASH_VARS))
    crash_setup(w, generate(CRASH_DATA))
    mapping = w.table(sc.USER_MAPPING).rows
    w.run()
    state = w.snapshot()
    w.engine.close()
    assert state[sc.QUARANTINE].rows and mapping and state[sc.USER_MAPPING].rows != mapping  # what the run does
    yield request.param, state


def assert_same_state(actual: dict, expected: dict) -> None:
    keys = {**sc.DERIVED, **sc.STATE}
    problems = {t: sc.table_differences(actual[t], expected[t], keys[t]) for t in expected}
    assert {t: p for t, p in problems.items() if p} == {}


@pytest.mark.parametrize("k", range(1, len(STEPS)), ids=[f"after-{step}" for step in STEPS[:-1]])
def test_a_run_stopped_after_any_step_then_run_again_equals_an_uninterrupted_run(request, uninterrupted, k):
    name, expected = uninterrupted
    w = sc.Warehouse(fresh(request, name), sc.plan(name, **CRASH_VARS))
    try:
        crash_setup(w, generate(CRASH_DATA))
        w.run(w.steps[:k])  # the scheduler dies here
        w.run()
        assert_same_state(w.snapshot(), expected)
    finally:
        w.engine.close()


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_the_same_complete_run_twice_changes_nothing(engine):
    w = sc.Warehouse(engine, sc.plan(engine.name, start_date=START_DATE))
    crash_setup(w, generate(CRASH_DATA))
    w.run()
    first = w.snapshot()
    w.run()
    assert_same_state(w.snapshot(), first)


# -- 5. empty windows -------------------------------------------------------------------------------------
SMALL = dict(
    days=1, users=3, long_bot_sessions=0, late_within=0, late_beyond=0, midnight_sessions=0, late_loaded_events=0
)


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_runs_reach_data_that_starts_more_than_backfill_limit_days_after_start_date(engine):
    # Reference §1.9 caveat: upstream loops forever on the empty first window; snowgen moves the
    # manifest to the first later event, and the next (standard) run processes the data.
    data = generate(GeneratorConfig(seed=3, **SMALL))
    w = sc.Warehouse(engine, sc.plan(engine.name, start_date="2024-01-01", backfill_limit_days=30))
    w.load(data.events)
    w.run()
    assert w.limits() == (dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 31))
    assert set(w.manifest().values()) == {data.first_collector_tstamp}
    assert w.run_until_stable(max_runs=4) <= 3
    assert set(w.manifest().values()) == {last_processed(data)}
    views = {e.page_view_id for e in data.events if e.row["event"] == "page_view" and e.row["useragent"] != BOT_UA}
    assert w.keys(sc.PAGE_VIEWS, "page_view_id") == views - {e.page_view_id for e in data.tagged("null_session")}


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_runs_cross_a_gap_in_the_data_longer_than_backfill_limit_days(engine):
    before = generate(GeneratorConfig(seed=3, **SMALL))
    after = generate(GeneratorConfig(seed=4, start=dt.date(2024, 3, 10), **SMALL))
    w = sc.Warehouse(engine, sc.plan(engine.name, start_date=START_DATE, backfill_limit_days=2))
    w.load(before.events + after.events)
    w.run_until_stable(max_runs=8)
    assert set(w.manifest().values()) == {last_processed(after)}


# -- 6. seed lookups ----------------------------------------------------------------------------------------
def rows_of(table: sc.Table) -> list[dict]:
    return [dict(zip(table.columns, row, strict=True)) for row in table.rows]


@pytest.mark.parametrize("run", ["inc", "full"])
def test_session_names_continents_and_channel_groups_follow_the_seeds(history, run):
    # Reference §2.2, §2.4: recomputed in Python from the seed CSVs and each row's own codes and
    # marketing fields (support/snowplow_rules.py), for every session of both histories.
    sessions = rows_of(getattr(history, run).table(sc.SESSIONS))
    for session in sessions:
        expected = session_lookups(session)
        assert {c: session[c] for c in expected} == expected, session["domain_sessionid"]
    # the generated data exercises the lookups: several countries and languages, a paid search click
    assert len({s["geo_country_name"] for s in sessions}) >= 3 and len({s["br_lang_name"] for s in sessions}) >= 3
    assert {"Paid Search", "Organic Social", "Email"} <= {s["default_channel_group"] for s in sessions}


@pytest.mark.parametrize("run", ["inc", "full"])
def test_user_names_and_continents_follow_the_seeds(history, run):
    users = rows_of(getattr(history, run).table(sc.USERS))
    for user in users:
        expected = user_lookups(user)
        assert {c: user[c] for c in expected} == expected, user["domain_userid"]
    assert len({u["first_geo_continent"] for u in users} - {None}) >= 2


# -- 7. the project's options on ------------------------------------------------------------------------
#: purchases (support/generator_conversions.py) beside every special case of DAY_BY_DAY
OPTIONS_DATA = GeneratorConfig(
    seed=11, days=3, users=5, long_human_sessions=1, rotating_userid_sessions=1, late_loaded_events=3, purchases=8
)
#: every option of the project on (docs/spec.md, "The shipped snowplow_web project's options")
OPTIONS = {
    "conversion_events": [
        {"name": "purchase", "condition": CONDITION, "value": "se_value", "default_value": 1, "list_events": True},
        {"name": "checkout", "condition": "page_urlpath = '/checkout'", "list_events": True},
    ],
    "total_all_conversions": True,
    "list_event_counts": True,
    "page_view_passthroughs": ["v_collector", {"sql": "event_id || '/' || page_urlpath", "alias": "event_path"}],
    "session_passthroughs": ["event_id", {"sql": "page_urlpath || '?' || app_id", "alias": "landing"}],
    "user_first_passthroughs": ["event_id", {"sql": "landing || '-first'", "alias": "first_landing"}],
    "user_last_passthroughs": ["landing"],
    "page_view_stitching": True,
    "engaged_session_sql": "page_views >= 2 and engaged_time_in_s >= 10",
    "content_group_sql": "case when page_urlpath like '/product%' then 'product' else page_urlpath end",
}


@pytest.fixture(scope="module", params=ENGINES)
def options_history(request):
    """Day-by-day runs and a one-run full refresh of OPTIONS_DATA with OPTIONS (read-only)."""
    h = History(OPTIONS_DATA, lambda: fresh(request, request.param), START_DATE, OPTIONS)
    yield h
    h.close()


@pytest.mark.parametrize("table", [sc.PAGE_VIEWS, sc.SESSIONS, sc.USERS])
def test_with_every_option_on_day_by_day_runs_equal_one_full_refresh_run(options_history, table):
    assert_day_by_day_equals_full_refresh(options_history, table)


def test_the_options_columns_hold_values_in_both_histories(options_history):
    # The comparison above is not of empty columns: purchases with and without a value, a
    # session that bought twice, event counts, passthroughs of every kind.
    for warehouse in (options_history.inc, options_history.full):
        sessions = rows_of(warehouse.table(sc.SESSIONS))
        bought = [s for s in sessions if s["cv_purchase_converted"]]
        assert len(bought) >= 4 and any(len(s["cv_purchase_events"]) == 2 for s in bought)
        assert any(1 in s["cv_purchase_values"] for s in bought)  # a purchase without a value
        assert all(s["cv__all_volume"] == s["cv_purchase_volume"] + s["cv_checkout_volume"] for s in sessions)
        assert all(s["event_counts"] and s["landing"] for s in sessions)
        users = rows_of(warehouse.table(sc.USERS))
        assert all(u["first_landing"].endswith("-first") and u["last_landing"] for u in users)


def test_with_page_view_stitching_page_views_hold_the_current_mapping(options_history):
    # Reference §7.2: as sessions, every page view takes its user's current mapping, else its
    # domain_userid, whichever run wrote it.
    for warehouse in (options_history.inc, options_history.full):
        mapping = {u: r["user_id"] for u, r in warehouse.table(sc.USER_MAPPING).by_key("domain_userid").items()}
        rows = rows_of(warehouse.table(sc.PAGE_VIEWS))
        assert [r for r in rows if r["stitched_user_id"] != mapping.get(r["domain_userid"], r["domain_userid"])] == []
        assert any(r["domain_userid"] in mapping for r in rows)
