"""A plan's step dependencies, derived from what each step's statements read and write.

Each step's built statements are summarised as an :class:`Access` (snowgen.build.access makes
it): the relations it reads, those it writes and how, the schemas it creates, the views it
defines. Two steps of the plan, in plan order, must run in that order when they touch one
relation and at least one of them changes it in a way the other can see:

- a later step that reads a relation waits for every earlier step that writes it (creates,
  replaces, drops, changes or appends rows);
- a later step that creates, replaces, drops or changes rows of a relation waits for every
  earlier step that reads or writes it (a reader must not see the new state early);
- a later step that only appends rows waits for earlier steps that read the relation or
  create or change it, but not for earlier steps that append too: appends commute (every
  recorded step appends its start and end rows to the run metadata);
- a step touching any relation of a schema waits for the steps that create the schema.

A read of a view is a read of what the view reads, too (through every view on the way).

Some statements touch only some rows of a relation, named by their builder (:func:`with_rows`:
the incremental manifest's rows of the models a step gates or completes). A read and a
write of disjoint rows do not conflict (every warehouse here reads a consistent snapshot
while another session writes); two writes always do (warehouses lock, queue or fail
concurrent changes of one table).

``CREATE TABLE | INDEX IF NOT EXISTS`` with no query (an *ensure*) after a step that
created the relation changes nothing: it waits for that step only.

On top of the data, the run's protocol: the step that takes the run lock comes before every
other step (it is added to the steps that would wait for nothing), and the step that gives
it back after every step (it waits for every step that nothing else waits for). The plan's
own dependencies (what each model's body reads, the complete steps after their models) are
kept as well: the statements show them too, and the plan knows why.

The list of a step holds every step it conflicts with, not only the nearest: a scheduler
reading one step's ``depends_on`` sees why it waits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlglot import exp

#: how a statement writes a relation
CREATE = "create"  # creates, replaces or drops it (or its definition)
CHANGE = "change"  # updates, deletes or merges rows, or overwrites them
APPEND = "append"  # inserts rows, reading nothing of the relation
ENSURE = "ensure"  # creates it if it is missing (CREATE TABLE | INDEX IF NOT EXISTS, no query)
#: strongest first: a relation a step both appends to and changes counts as changed
_STRENGTH = {CREATE: 4, CHANGE: 3, APPEND: 2, ENSURE: 1}
#: the key of a table node's ``meta`` naming the rows a statement touches (:func:`with_rows`)
ROWS_META = "snowgen_rows"


def with_rows(table: exp.Table, rows: Iterable[str]) -> exp.Table:
    """``table``, marked as touching only the rows ``rows`` name (the models of an
    incremental manifest): snowgen.build.access reads the mark."""
    table.meta[ROWS_META] = tuple(sorted(rows))
    return table


@dataclass(frozen=True)
class Access:
    """What one step's statements touch. Relations are ``schema.name`` in lower case (a
    relation without a schema: its name alone)."""

    reads: frozenset[str] = frozenset()
    writes: Mapping[str, str] = field(default_factory=dict)  # relation -> CREATE | CHANGE | APPEND
    schemas: frozenset[str] = frozenset()  # schemas it creates
    views: Mapping[str, frozenset[str]] = field(default_factory=dict)  # view it defines -> what it reads
    #: relation -> the only rows the step touches (a relation not here: all of them)
    rows: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: 1-based numbers of the statements opening and closing each transaction of the file
    transactions: tuple[tuple[int, int], ...] = ()
    statements: int = 0
    #: whether running the step again after it failed part way leaves the same data (see
    #: snowgen.build.access.retry_safe)
    retry_safe: bool = True

    def to_json(self) -> dict:
        return {
            "reads": sorted(self.reads),
            "writes": dict(sorted(self.writes.items())),
            "schemas": sorted(self.schemas),
            "views": {name: sorted(read) for name, read in sorted(self.views.items())},
            "rows": {name: sorted(keys) for name, keys in sorted(self.rows.items())},
            "transactions": [list(pair) for pair in self.transactions],
            "statements": self.statements,
            "retry_safe": self.retry_safe,
        }

    @classmethod
    def from_json(cls, data: dict) -> Access:
        return cls(
            reads=frozenset(data["reads"]),
            writes=dict(data["writes"]),
            schemas=frozenset(data["schemas"]),
            views={name: frozenset(read) for name, read in data["views"].items()},
            rows={name: frozenset(keys) for name, keys in data["rows"].items()},
            transactions=tuple((begin, end) for begin, end in data["transactions"]),
            statements=data["statements"],
            retry_safe=data["retry_safe"],
        )


def merged_write(old: str | None, new: str) -> str:
    """How a relation is written by a step that writes it ``old`` and ``new`` ways."""
    return new if old is None or _STRENGTH[new] > _STRENGTH[old] else old


def schema_of(relation: str) -> str | None:
    return relation.rsplit(".", 1)[0] if "." in relation else None


@dataclass(frozen=True)
class LockSteps:
    acquire: str
    release: str


def derive(
    order: Sequence[str],
    accesses: Mapping[str, Access],
    declared: Mapping[str, Sequence[str]],
    lock: LockSteps | None = None,
) -> dict[str, tuple[str, ...]]:
    """Every step's dependencies (step ids in plan order), from ``accesses`` (step id ->
    Access), ``declared`` (the plan's own dependencies) and the run lock's steps."""
    position = {step: i for i, step in enumerate(order)}
    view_reads = _view_reads(accesses.values())
    history = _History()
    found: dict[str, set[str]] = {}
    for step in order:
        if lock is not None and step == lock.release:
            continue  # last, after everything: below
        access = accesses[step]
        needed = history.conflicts(access, view_reads)
        needed.update(d for d in declared.get(step, ()) if d in position and position[d] < position[step])
        if lock is not None and step != lock.acquire and not needed:
            needed.add(lock.acquire)
        found[step] = needed
        history.record(step, access, view_reads)
    if lock is not None:
        found[lock.release] = _release_needs(order, found, lock, history.conflicts(accesses[lock.release], view_reads))
    return {step: tuple(sorted(found[step], key=position.__getitem__)) for step in order}


def _release_needs(order: Sequence[str], found: Mapping[str, set[str]], lock: LockSteps, own: set[str]) -> set[str]:
    """The release waits for every step nothing else waits for (so, for every step), and
    for the steps its own statements conflict with (``own``)."""
    others = [s for s in order if s != lock.release]
    awaited = {d for s in others for d in found[s]}
    return {s for s in others if s not in awaited} | own


def _view_reads(accesses: Iterable[Access]) -> dict[str, frozenset[str]]:
    """Every view defined in the plan -> every relation it reads, through other views too."""
    direct: dict[str, frozenset[str]] = {}
    for access in accesses:
        direct.update(access.views)
    closed: dict[str, frozenset[str]] = {}

    def expand(view: str, seen: frozenset[str]) -> frozenset[str]:
        if view in closed:
            return closed[view]
        reads = set(direct[view])
        for read in direct[view]:
            if read in direct and read not in seen:
                reads |= expand(read, seen | {view})
        closed[view] = frozenset(reads)
        return closed[view]

    for view in direct:
        expand(view, frozenset({view}))
    return closed


def _all_reads(access: Access, view_reads: Mapping[str, frozenset[str]]) -> set[str]:
    reads = set(access.reads)
    for read in access.reads:
        reads |= view_reads.get(read, frozenset())
    return reads


class _History:
    """What the steps so far did to each relation and schema: relation -> step -> the rows
    it touched (None: all)."""

    def __init__(self) -> None:
        self.readers: dict[str, dict[str, frozenset[str] | None]] = {}
        self.appenders: dict[str, dict[str, frozenset[str] | None]] = {}
        self.changers: dict[str, dict[str, frozenset[str] | None]] = {}  # CREATE or CHANGE
        self.creators: dict[str, set[str]] = {}
        self.schema_makers: dict[str, set[str]] = {}

    def record(self, step: str, access: Access, view_reads: Mapping[str, frozenset[str]]) -> None:
        for relation in _all_reads(access, view_reads):
            self.readers.setdefault(relation, {})[step] = access.rows.get(relation)
        for relation, how in access.writes.items():
            if how == ENSURE and relation in self.creators:
                continue  # it exists already: nothing changes
            if how in (CREATE, ENSURE):
                self.creators.setdefault(relation, set()).add(step)
            table = self.appenders if how == APPEND else self.changers
            table.setdefault(relation, {})[step] = access.rows.get(relation)
        for schema in access.schemas:
            self.schema_makers.setdefault(schema, set()).add(step)

    def conflicts(self, access: Access, view_reads: Mapping[str, frozenset[str]]) -> set[str]:
        """The earlier steps ``access`` must wait for (the module's docstring)."""
        needed: set[str] = set()
        reads = _all_reads(access, view_reads)
        for relation in reads:
            rows = access.rows.get(relation)
            needed |= _overlapping(self.changers.get(relation, {}), rows)
            needed |= _overlapping(self.appenders.get(relation, {}), rows)
        for relation, how in access.writes.items():
            if how == ENSURE and relation in self.creators:
                needed |= self.creators[relation]
                continue
            rows = access.rows.get(relation)
            needed |= set(self.changers.get(relation, {})) | _overlapping(self.readers.get(relation, {}), rows)
            if how != APPEND:
                needed |= set(self.appenders.get(relation, {}))
        touched = reads | set(access.writes) | set(access.views)
        for schema in {schema_of(r) for r in touched} | set(access.schemas):
            if schema is not None:
                needed |= self.schema_makers.get(schema, set())
        return needed


def _overlapping(steps: Mapping[str, frozenset[str] | None], rows: frozenset[str] | None) -> set[str]:
    """The steps whose rows may be among ``rows`` (None: all rows)."""
    return {step for step, theirs in steps.items() if rows is None or theirs is None or rows & theirs}
