"""The only code that writes compile output: dialect folders, changed by renames only.

Everything new is written beside what it replaces first (hidden staging names); only when
every folder's changes are staged are they swapped in, by renames. So a path that is not a
folder, a missing permission or a full disk raises SG407 before any output changes, and
leaves nothing behind. A folder that already holds exactly the output is left alone; in
one that does not, only the entries that differ are replaced (a module's folder, plan.json),
and in a replaced module folder the unchanged files are links to the old ones (their time
stamps stay, so tools that compare them see only what changed).
"""

from __future__ import annotations

import difflib
import errno
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from snowgen.emit.render import CompiledProject
from snowgen.errors import SnowgenError
from snowgen.folders import make_missing_dirs, remove_dirs

#: staging entries start with this, so one left by a killed compile is never output
_STAGING_PREFIX = ".snowgen-"


def output_dir(root: Path, compiled: CompiledProject) -> Path:
    return root / compiled.project / compiled.folder


@dataclass
class _Change:
    """How one output folder changes: staged entries to rename in, stale ones to remove."""

    final: Path
    swaps: list[tuple[str, str]] = field(default_factory=list)  # (staged path, final path)
    stale: list[str] = field(default_factory=list)

    def staged(self) -> list[str]:
        return [staged for staged, _ in self.swaps]


def write(root: Path, results: list[CompiledProject]) -> list[Path]:
    """Write each project/dialect folder, replacing what was there (stale files go too);
    see the module's docstring."""
    return _write_folders(root, [(output_dir(root, compiled), compiled.files) for compiled in results])


def write_folder(folder: Path, files: dict[str, str]) -> Path:
    """Write one folder (``snowgen docs``' site) as a dialect folder is written: staged
    beside it, then swapped in; what it held that ``files`` does not have goes."""
    return _write_folders(folder.parent, [(folder, files)])[0]


def _write_folders(root: Path, folders: list[tuple[Path, dict[str, str]]]) -> list[Path]:
    finals = [final for final, _ in folders]
    created: list[Path] = []
    changes: list[_Change] = []
    try:
        for final, files in folders:
            _check_replaceable(final)
            make_missing_dirs(final.parent, created)
            changes.append(_Change(final))  # before staging: a failure takes back what it staged
            _stage_folder(changes[-1], files)
        for change in changes:
            _swap_in(change)
    except BaseException as exc:  # an interrupt, too, must not leave staging entries behind
        for change in changes:
            for staged in change.staged():
                _remove(staged)
        remove_dirs(created)
        if isinstance(exc, OSError):
            raise _cannot_write(root, exc) from None
        raise
    return finals


def _stage_folder(change: _Change, files: dict[str, str]) -> None:
    """Stage what differs between the folder and ``files``: the whole folder when it does not
    exist yet, else each top-level entry (a module's folder, a file) whose files differ."""
    final = change.final
    if not final.is_dir():
        change.swaps.append((_stage_dir(str(final.parent), final.name, files, {}), str(final)))
        return
    top = str(final)
    on_disk = _files_on_disk(top)
    unchanged = {rel for rel, text in files.items() if rel in on_disk and _same_text(top, rel, text)}
    entries: dict[str, dict[str, str]] = {}
    for relative, text in files.items():
        entries.setdefault(_entry(relative), {})[relative] = text
    present: dict[str, set[str]] = {}
    for relative in on_disk:
        present.setdefault(_entry(relative), set()).add(relative)
    for entry, mine in entries.items():
        if present.get(entry) == mine.keys() and mine.keys() <= unchanged:
            continue
        if entry in mine:  # a file at the top of the folder (plan.json, a check)
            staged = _stage_file(top, entry, mine[entry])
        else:
            inside = {rel.split("/", 1)[1]: text for rel, text in mine.items()}
            kept = {rel.split("/", 1)[1]: os.path.join(top, rel) for rel in mine if rel in unchanged}
            staged = _stage_dir(top, entry, inside, kept)
        change.swaps.append((staged, os.path.join(top, entry)))
    change.stale = sorted(os.path.join(top, entry) for entry in present.keys() - entries.keys())


def _entry(relative: str) -> str:
    return relative.split("/", 1)[0]


def _stage_file(parent: str, name: str, text: str) -> str:
    handle, staged = tempfile.mkstemp(prefix=f"{_STAGING_PREFIX}{name}.", dir=parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
    except BaseException:  # (a full disk): nothing left behind
        _remove(staged)
        raise
    return staged


def _stage_dir(parent: str, name: str, files: dict[str, str], kept: dict[str, str]) -> str:
    """A hidden folder in ``parent`` holding ``files`` (paths inside it); those in ``kept``
    are linked from the old file it names instead of written, where the file system can."""
    staged = tempfile.mkdtemp(prefix=f"{_STAGING_PREFIX}{name}.", dir=parent)
    try:
        folders = {staged}
        for inside, text in files.items():
            path = os.path.join(staged, inside)
            folder = os.path.dirname(path)
            if folder not in folders:
                os.makedirs(folder, exist_ok=True)
                folders.add(folder)
            if inside in kept and _linked(kept[inside], path):
                continue
            with open(path, "w", encoding="utf-8", newline="\n") as out:
                out.write(text)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return staged


def _swap_in(change: _Change) -> None:
    """Rename each staged entry over its final one (the old one comes back if that fails),
    then remove the stale entries."""
    for staged, final in change.swaps:
        _rename_over(staged, final)
    for stale in change.stale:
        _remove(stale, strict=True)


def _rename_over(staged: str, final: str) -> None:
    if not os.path.lexists(final):
        os.rename(staged, final)
        return
    if not os.path.isdir(final) or os.path.islink(final):
        if os.path.isdir(staged):
            os.unlink(final)  # a file or a link where the output now has a folder
            os.rename(staged, final)
        else:
            os.replace(staged, final)  # one atomic step for a file
        return
    backup = f"{os.path.dirname(final)}/{_STAGING_PREFIX}old.{os.path.basename(final)}"
    _remove(backup)
    os.rename(final, backup)
    try:
        os.rename(staged, final)
    except OSError:
        os.rename(backup, final)
        raise
    _remove(backup)


def _remove(path: str, strict: bool = False) -> None:
    """Remove a file, link or folder (``strict``: failing raises; else it is left)."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=not strict)
        return
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError:
        if strict:
            raise


def _files_on_disk(top: str) -> set[str]:
    """Every file under ``top`` (links too), by its path from ``top`` with '/' separators.
    (Plain strings and os calls: a big project has thousands of files.)"""
    found = set()
    for folder, dirs, names in os.walk(top):
        prefix = os.path.relpath(folder, top).replace(os.sep, "/")
        found.update(name if prefix == "." else f"{prefix}/{name}" for name in names)
        found.update(
            name if prefix == "." else f"{prefix}/{name}" for name in dirs if os.path.islink(os.path.join(folder, name))
        )
    return found


def _same_text(top: str, relative: str, text: str) -> bool:
    """Does the file hold ``text``? A link never does (it is replaced by a file)."""
    path = os.path.join(top, relative)
    if not _NO_FOLLOW and os.path.islink(path):
        return False
    try:
        handle = os.open(path, os.O_RDONLY | _NO_FOLLOW)
    except OSError:  # missing, unreadable, or a link
        return False
    with open(handle, "rb") as stream:
        return stream.read() == text.encode("utf-8")


#: opening a link fails (POSIX); where the flag does not exist, links are read like files
_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _check_replaceable(final: Path) -> None:
    """Only a real folder is replaced: a file or a link there is not snowgen's output."""
    if final.is_symlink():
        raise OSError(errno.EEXIST, "a symbolic link, not a folder snowgen wrote", str(final))
    if final.exists() and not final.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "a file, not a folder snowgen wrote", str(final))


def _linked(existing: str, path: str) -> bool:
    try:
        os.link(existing, path)
    except OSError:
        return False
    return True


def _cannot_write(root: Path, error: OSError, verb: str = "write") -> SnowgenError:
    where = f"{error.filename}: " if error.filename else ""
    reason = error.strerror or str(error)
    return SnowgenError.at("SG407", f"cannot {verb} the output under {root}: {where}{reason}")


def stale_diff(root: Path, results: list[CompiledProject]) -> str:
    """A unified diff between what is on disk and what the specs compile to ('' if none)."""
    try:
        return "".join(chunk for compiled in results for chunk in _diff_one(output_dir(root, compiled), compiled))
    except OSError as exc:
        raise _cannot_write(root, exc, "read") from None


def _diff_one(folder: Path, compiled: CompiledProject) -> list[str]:
    on_disk = {p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_file()} if folder.exists() else {}
    chunks: list[str] = []
    for relative in sorted(set(on_disk) | set(compiled.files)):
        shown = (folder / relative).as_posix()
        # a file that is not UTF-8 is stale anyway; the diff shows it with replacement characters
        old = on_disk[relative].read_text(encoding="utf-8", errors="replace") if relative in on_disk else ""
        new = compiled.files.get(relative, "")
        if old == new:
            continue
        chunks.extend(
            difflib.unified_diff(
                old.splitlines(keepends=True),
                new.splitlines(keepends=True),
                fromfile=shown if relative in on_disk else "/dev/null",
                tofile=shown if relative in compiled.files else "/dev/null",
            )
        )
    return chunks
