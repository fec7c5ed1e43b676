"""The one reachability walk the planner and the strategies share (snowgen.plan.dag)."""

from __future__ import annotations

from snowgen.plan.dag import downstream, reachable

EDGES = {"page_views": ["events"], "sessions": ["page_views"], "users": ["sessions"], "seed": []}


def test_reachable_holds_the_starts_and_everything_they_depend_on():
    assert reachable(EDGES, {"sessions"}) == {"sessions", "page_views", "events"}
    assert reachable(EDGES, set()) == set()


def test_reachable_ends_on_a_cycle():
    assert reachable({"a": ["b"], "b": ["a"]}, {"a"}) == {"a", "b"}


def test_downstream_holds_what_depends_on_a_root_through_at_least_one_edge():
    assert downstream(EDGES, {"events"}) == {"page_views", "sessions", "users"}
    assert downstream(EDGES, {"users"}) == set()
    assert downstream({"a": ["b"], "b": ["a"]}, {"a"}) == {"a", "b"}  # a reads b, which reads a
