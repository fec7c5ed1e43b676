"""A selective backfill: one source (or one instance of it) read again over ``[start, end)``
and its rows replaced downstream, every other source left alone.

A backfill is a *separate plan*, compiled next to the regular one (its own output folder,
see :attr:`Backfill.variant`), for the watermark strategy only. In that plan:

- the watermark models of the backfilled source instance read exactly its rows in
  ``[start, end)``, whatever their watermark says; every other watermark model reads
  nothing (its table of "this run's new rows" is empty);
- incremental models downstream that declare ``backfill`` replace exactly the rows of
  that instance in ``[start, end)`` of their ``upsert_date_key`` (delete + insert, see
  :meth:`snowgen.dialects.base.Dialect.replace_rows`): changed rows change, rows deleted
  from the source go, rows outside the range or of other instances stay;
- the watermark update step is left out: a backfill never moves a watermark, backwards
  or forwards (rows newer than the watermark are still read by the next regular run).
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from snowgen.errors import SnowgenError

if TYPE_CHECKING:
    from snowgen.spec.loader import LoadedProject


@dataclass(frozen=True)
class Backfill:
    """``source``: an instance name (``p1``), ``source.instance`` (``deals.p1``), or a
    source without instances. ``start`` is included, ``end`` excluded; both UTC."""

    source: str
    start: dt.datetime
    end: dt.datetime

    def __post_init__(self) -> None:
        if not self.source:
            raise SnowgenError.at("SG406", "--backfill: name a source instance, e.g. --backfill p1")
        if self.start >= self.end:
            raise SnowgenError.at(
                "SG406",
                f"--from ({_shown(self.start)}) must be before --to ({_shown(self.end)}): the range is [from, to)",
            )

    @property
    def variant(self) -> str:
        """The output folder's suffix: ``<dialect>-backfill-<source>-<from>-<to>``."""
        return f"backfill-{self.source.replace('.', '_')}-{_compact(self.start)}-{_compact(self.end)}"


def parse_backfill(source: str | None, start: str | None, end: str | None) -> Backfill | None:
    """The backfill that ``--backfill SOURCE --from DATE --to DATE`` ask for (None without
    any of them); dates are ``YYYY-MM-DD`` or ISO timestamps (an offset converts to UTC)."""
    if source is None and start is None and end is None:
        return None
    missing = [name for name, value in (("--backfill", source), ("--from", start), ("--to", end)) if value is None]
    if missing:
        raise SnowgenError.at("SG403", f"--backfill, --from and --to go together; missing {', '.join(missing)}")
    return Backfill(source, _timestamp("--from", start), _timestamp("--to", end))


def _timestamp(option: str, text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        expected = "a date YYYY-MM-DD or a timestamp YYYY-MM-DD HH:MM:SS"
        raise SnowgenError.at("SG406", f"{option}: expected {expected}, got '{text}'") from None
    if value.tzinfo is not None:  # snowgen's timestamps are UTC without a zone
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _shown(value: dt.datetime) -> str:
    return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")


def _compact(value: dt.datetime) -> str:
    """A file-name-safe form: ``2024-03-01`` or ``2024-03-01T060000``."""
    return _shown(value).replace(" ", "T").replace(":", "")


def backfill_target(loaded: LoadedProject, backfill: Backfill) -> tuple[str, str | None]:
    """(source, instance) that ``--backfill`` names: ``p1``, ``deals.p1`` or a source
    without instances, among the sources some enabled model reads with a watermark."""
    sources = loaded.spec.sources
    read = sorted({m.spec.watermark for m in loaded.models if m.spec.enabled and m.spec.watermark in sources})
    choices = {s: (s, None) for s in read if not sources[s].instances}
    for s in read:
        choices.update({f"{s}.{i}": (s, i) for i in sources[s].instances})
    matches = {name: target for name, target in choices.items() if backfill.source in (name, name.split(".")[-1])}
    if len(matches) == 1:
        return next(iter(matches.values()))
    if len(matches) > 1:
        names = ", ".join(sorted(matches))
        raise SnowgenError.at("SG406", f"--backfill {backfill.source} is ambiguous: name one of {names}")
    if backfill.source in read:
        known = ", ".join(f"{backfill.source}.{i}" for i in sources[backfill.source].instances)
        message = f"--backfill {backfill.source}: the source has instances; name one of {known}"
        raise SnowgenError.at("SG406", message)
    hint = difflib.get_close_matches(backfill.source, [*choices, *(n.split(".")[-1] for n in choices)], n=1)
    message = f"--backfill: no model reads '{backfill.source}' with a watermark"
    if hint:
        message += f" (did you mean '{hint[0]}'?)"
    elif choices:
        message += f"; choose one of {', '.join(sorted(choices))}"
    raise SnowgenError.at("SG406", message)
