"""Creating folders so that a failure can take them back: the writer and the DuckDB
connector promise that a command which fails leaves nothing behind."""

from __future__ import annotations

import errno
from pathlib import Path


def make_missing_dirs(folder: Path, created: list[Path]) -> None:
    """Create ``folder`` and its missing parents, appending each one made to ``created``.
    A file in the way raises ENOTDIR naming it (mkdir alone would say "File exists")."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    if not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a directory", str(folder))
    for path in reversed(missing):
        try:
            path.mkdir()
        except OSError as exc:
            raise OSError(exc.errno, f"cannot create this folder ({exc.strerror})", str(path)) from None
        created.append(path)


def remove_dirs(created: list[Path]) -> None:
    """Take back the folders ``make_missing_dirs`` created, innermost first, where empty."""
    for path in reversed(created):
        try:
            path.rmdir()
        except OSError:
            pass  # something else put a file there meanwhile: leave it
