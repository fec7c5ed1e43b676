"""What ``snowgen run`` does around the plan's run-lock steps (their SQL is compiled with
the plan: snowgen.build.run_lock).

- The acquire step fails with a message holding ``snowgen_run_lock_held`` when another run
  holds the lock: with ``--wait SECONDS`` the runner tries it again until the time is up,
  then stops with SG410 (exit 3), saying who holds the lock, since and until when. Where
  the warehouse fails one of two writers that meet on the lock table at the same moment
  (``Dialect.lock_conflict_errors``: BigQuery, Databricks, Redshift), that failure of the
  acquire step means the same: another run took the lock.
- Once it holds the lock, the runner reads the lock row: its run id, and whether it took
  over the expired lock of a run that died (a warning).
- After a failed step (or an interrupted run) the runner runs the release step before it
  stops, so the next run need not wait for the expiry; before releasing, it checks the row
  still names its run (a run longer than the lock's timeout may have lost it).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from snowgen.masking import mask

#: plan.json kinds of the lock's steps (snowgen.plan.data.StepKind)
ACQUIRE_KIND = "acquire_lock"
RELEASE_KIND = "release_lock"
#: how the acquire step's failure starts when another run holds the lock
HELD_MARKER = "snowgen_run_lock_held"
_HELD = re.compile(HELD_MARKER + r": ([^\"'\n]*)")
#: seconds between two tries while waiting
POLL_SECONDS = 0.5


def held_by_another(error: BaseException, conflict_errors: tuple[str, ...] = ()) -> str | None:
    """What the acquire step's error says of the run holding the lock, if that is why it
    failed: the lock check's message, or the warehouse's conflict with a concurrent writer
    (one of the ``conflict_errors`` patterns)."""
    text = str(error)
    found = _HELD.search(text)
    if found:
        return found.group(1).strip()
    if any(re.search(pattern, text) for pattern in conflict_errors):
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        return f"another run took it at the same moment; the warehouse said: {mask(first)}"
    return None


@dataclass
class Deadline:
    """How long a run may wait for the lock (``--wait``)."""

    seconds: float
    ends: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(seconds, time.monotonic() + seconds)

    def wait_a_little(self) -> bool:
        """Sleep before the next try; False when the time is up."""
        left = self.ends - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(POLL_SECONDS, left))
        return True

    def advice(self) -> str:
        if self.seconds > 0:
            return f"still held after waiting {self.seconds:g} s"
        return "run again later, or wait for it with --wait SECONDS"


@dataclass(frozen=True)
class LockRow:
    """The lock row as the lock-status query reads it."""

    run_id: object
    holder: object
    acquired_at: object
    expires_at: object
    previous_run_id: object = None
    previous_holder: object = None
    previous_expires_at: object = None

    def takeover_warning(self) -> str | None:
        if self.previous_run_id is None:
            return None
        return (
            f"took over the run lock of run {self.previous_run_id} ({self.previous_holder}), which expired at "
            f"{self.previous_expires_at} without being released: that run stopped early; check its tables"
        )


def lock_held_message(detail: str, deadline: Deadline) -> str:
    return f"another run holds the lock ({detail}); {deadline.advice()}"


def lost_lock_warning(mine: LockRow, now: LockRow | None) -> str:
    holder = f"run {now.run_id} ({now.holder})" if now is not None else "nobody"
    return (
        f"the run lock of run {mine.run_id} expired during the run and is now held by {holder}; "
        "left as it is (raise var lock_timeout_minutes above the longest run)"
    )
