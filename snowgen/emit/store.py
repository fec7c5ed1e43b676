"""Where the build cache keeps what it learned: one SQLite file per project.

``<project>/.snowgen-cache/steps.sqlite`` (the folder holds a ``.gitignore`` of ``*``):
step texts, body facts and parsed spec files by key, and for every key the number of the
last compile that used it, in a small table of its own (marking thousands of keys used must
not rewrite the texts). Entries that none of the last :data:`KEEP_COMPILES` compiles used
are dropped.

Nothing in it is trusted beyond being text: a key is a hash the compile computes itself,
and a value is only ever returned for its own key. Every failure of the file (missing,
locked, torn, another format) reads as an empty store and the compile builds everything;
a file that is not this store's is replaced.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from snowgen.plan.data import BodyFacts
from snowgen.plan.facts import facts_from_json, facts_to_json
from snowgen.plan.fingerprint import digest

CACHE_FOLDER = ".snowgen-cache"
STORE_FILE = "steps.sqlite"
#: entries that none of this many compiles of the project used are dropped
KEEP_COMPILES = 8
#: the layout of the file (SQLite's user_version); a file of another layout is started again
LAYOUT = 5

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS texts (key TEXT PRIMARY KEY, text TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS facts (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS documents (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS uses (key TEXT PRIMARY KEY, used INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS compiles (number INTEGER NOT NULL)",
)
#: what planning remembers beside the step texts, each read whole on first use: body facts
#: (snowgen.plan.facts) and parsed spec files (snowgen.spec.document_memo); memo -> (read, write)
_MEMOS = {
    "facts": ("SELECT key, value FROM facts", "INSERT OR REPLACE INTO facts (key, value) VALUES (?, ?)"),
    "documents": ("SELECT key, value FROM documents", "INSERT OR REPLACE INTO documents (key, value) VALUES (?, ?)"),
}
#: the keys travel as one JSON array: one statement, whatever their number
_SELECT_TEXTS = "SELECT key, text FROM texts WHERE key IN (SELECT value FROM json_each(?))"
_MARK_USED = "INSERT OR REPLACE INTO uses (key, used) SELECT value, ? FROM json_each(?)"
#: stale entries dropped per compile at most: a new snowgen version leaves a whole compile's
#: worth behind, whose removal is spread over the next compiles instead of one
_PRUNE_AT_MOST = 2000
_STALE = "SELECT key FROM uses WHERE used <= ? LIMIT ?"
_DROP_STALE = (
    "DELETE FROM texts WHERE key IN (SELECT value FROM json_each(?))",
    "DELETE FROM facts WHERE key IN (SELECT value FROM json_each(?))",
    "DELETE FROM documents WHERE key IN (SELECT value FROM json_each(?))",
    "DELETE FROM uses WHERE key IN (SELECT value FROM json_each(?))",
)


def cache_path(project_root: Path) -> Path:
    return project_root / CACHE_FOLDER / STORE_FILE


class StepStore:
    """Step texts by key, and the memos planning consults (body facts, parsed spec files);
    see the module's docstring."""

    def __init__(self, path: Path | None, code: str):
        self.path = path
        self.code = code  # the code's fingerprint: the memos are the parser's, so they are keyed by it
        self._db: sqlite3.Connection | None = None
        self.used: set[str] = set()
        self.added: dict[str, str] = {}
        self._recalled: dict[str, dict[str, str]] = {}  # memo -> what the file holds
        self._kept: dict[str, dict[str, str]] = {memo: {} for memo in _MEMOS}  # memo -> new this compile

    # -- what planning remembers (snowgen.plan.facts.BodyMemo, snowgen.spec.document_memo.DocumentMemo) ----

    def facts(self, key: str) -> BodyFacts | None:
        stored = self._recall("facts", key)
        return None if stored is None else facts_from_json(stored)

    def remember(self, key: str, facts: BodyFacts) -> None:
        self._keep("facts", key, facts_to_json(facts))

    def document(self, key: str) -> str | None:
        return self._recall("documents", key)

    def remember_document(self, key: str, text: str) -> None:
        self._keep("documents", key, text)

    def _recall(self, memo: str, key: str) -> str | None:
        """A planning memo's value (its keys are the plan stage's, made this code's own)."""
        if memo not in self._recalled:
            self._recalled[memo] = self._all(_MEMOS[memo][0])
        key = digest(self.code, key)
        stored = self._recalled[memo].get(key)
        if stored is not None:
            self.used.add(key)
        return stored

    def _keep(self, memo: str, key: str, text: str) -> None:
        key = digest(self.code, key)
        self._kept[memo][key] = text
        self.used.add(key)

    def _all(self, query: str) -> dict[str, str]:
        db = self._open()
        if db is None:
            return {}
        try:
            return dict(db.execute(query).fetchall())
        except sqlite3.Error:
            return {}

    # -- step texts ------------------------------------------------------------------------------

    def get_many(self, keys: Iterable[str]) -> dict[str, str]:
        keys = list(keys)
        db = self._open()
        if db is None or not keys:
            return {}
        try:
            rows = db.execute(_SELECT_TEXTS, (json.dumps(keys),)).fetchall()
            found = {key: text for key, text in rows if isinstance(text, str)}
        except sqlite3.Error:
            return {}
        self.used.update(found)
        return found

    def add(self, key: str, text: str) -> None:
        self.added[key] = text
        self.used.add(key)

    def save(self) -> None:
        """Store what this compile made, mark what it used, drop what no recent compile used."""
        db = self._open(create=True)
        if db is None:
            return
        try:
            db.execute("BEGIN IMMEDIATE")
            (number,) = db.execute("UPDATE compiles SET number = number + 1 RETURNING number").fetchone()
            db.executemany("INSERT OR REPLACE INTO texts (key, text) VALUES (?, ?)", sorted(self.added.items()))
            for memo, (_, write) in _MEMOS.items():
                db.executemany(write, sorted(self._kept[memo].items()))
            db.execute(_MARK_USED, (number, json.dumps(sorted(self.used))))
            stale = json.dumps([key for (key,) in db.execute(_STALE, (number - KEEP_COMPILES, _PRUNE_AT_MOST))])
            for statement in _DROP_STALE:
                db.execute(statement, (stale,))
            db.execute("COMMIT")
        except sqlite3.Error:
            return
        finally:
            self.close()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _open(self, create: bool = False) -> sqlite3.Connection | None:
        if self._db is not None or self.path is None:
            return self._db
        if not create and not self.path.exists():
            return None
        try:
            if create:
                _make_folder(self.path.parent)
            self._db = _connect(self.path)
        except sqlite3.DatabaseError:  # not a database, or not this store: start again
            try:
                self.path.unlink()
                self._db = _connect(self.path)
            except (sqlite3.Error, OSError):
                return None
        except OSError:
            return None
        return self._db


def _make_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# snowgen's build cache: safe to delete\n*\n", encoding="utf-8")


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=10, isolation_level=None)
    try:
        # a cache: losing the last write to a crash costs a rebuild, never wrong output (a
        # torn file fails to open and is started again)
        db.execute("PRAGMA synchronous = OFF")
        (layout,) = db.execute("PRAGMA user_version").fetchone()
        if layout not in (0, LAYOUT) or (layout == 0 and _has_tables(db)):
            raise sqlite3.DatabaseError(f"a store of layout {layout}")
        for statement in _SCHEMA:
            db.execute(statement)
        db.execute("PRAGMA user_version = 5")  # LAYOUT
        if db.execute("SELECT count(*) FROM compiles").fetchone()[0] == 0:
            db.execute("INSERT INTO compiles VALUES (0)")
    except BaseException:
        db.close()
        raise
    return db


def _has_tables(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
