"""The only code that writes compile output: whole dialect folders, replaced at once."""

from __future__ import annotations

import difflib
import errno
import os
import shutil
import tempfile
from pathlib import Path

from snowgen.emit.render import CompiledProject
from snowgen.errors import SnowgenError
from snowgen.folders import make_missing_dirs, remove_dirs


def output_dir(root: Path, compiled: CompiledProject) -> Path:
    return root / compiled.project / compiled.folder


def write(root: Path, results: list[CompiledProject]) -> list[Path]:
    """Write each project/dialect folder, replacing what was there (stale files go too).

    Every folder is written to a staging folder beside it first; only when all of them are
    written do they replace the old folders. So a path that is not a folder, a missing
    permission or a full disk raises SG407 before any output changes, and leaves nothing behind.
    A folder that already holds exactly these files is left alone, and a file whose text is
    unchanged is linked into the staging folder instead of written again (its time stamp
    stays, so tools that compare them see only what changed)."""
    finals = [output_dir(root, compiled) for compiled in results]
    created: list[Path] = []
    staged: list[tuple[Path, Path]] = []
    try:
        for compiled, final in zip(results, finals, strict=True):
            _check_replaceable(final)
            unchanged = _unchanged_files(final, compiled.files)
            if unchanged is None:
                continue
            make_missing_dirs(final.parent, created)
            staged.append((_stage(final, compiled.files, unchanged), final))
        for staging, final in staged:
            _replace(final, staging)
    except BaseException as exc:  # an interrupt, too, must not leave staging folders behind
        for staging, _ in staged:
            shutil.rmtree(staging, ignore_errors=True)
        remove_dirs(created)
        if isinstance(exc, OSError):
            raise _cannot_write(root, exc) from None
        raise
    return finals


def _unchanged_files(final: Path, files: dict[str, str]) -> set[str] | None:
    """The files already in ``final`` with the same text; None when the folder holds
    exactly ``files`` (nothing to write). (Plain strings and os calls: a big project has
    thousands of files, and pathlib's objects cost more than reading them.)"""
    if not final.is_dir():
        return set()
    top = str(final)
    on_disk = set()
    for folder, _, names in os.walk(top):
        prefix = os.path.relpath(folder, top).replace(os.sep, "/")
        on_disk.update(name if prefix == "." else f"{prefix}/{name}" for name in names)
    unchanged = {
        relative for relative, text in files.items() if relative in on_disk and _same_text(top, relative, text)
    }
    return None if unchanged == on_disk == set(files) else unchanged


def _same_text(top: str, relative: str, text: str) -> bool:
    path = os.path.join(top, relative)
    try:
        if os.path.islink(path):
            return False
        with open(path, "rb") as handle:
            return handle.read() == text.encode("utf-8")
    except OSError:
        return False


def _check_replaceable(final: Path) -> None:
    """Only a real folder is replaced: a file or a link there is not snowgen's output."""
    if final.is_symlink():
        raise OSError(errno.EEXIST, "a symbolic link, not a folder snowgen wrote", str(final))
    if final.exists() and not final.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "a file, not a folder snowgen wrote", str(final))


def _stage(final: Path, files: dict[str, str], unchanged: set[str]) -> Path:
    """A hidden folder next to ``final`` holding ``files``: those in ``unchanged`` linked
    from ``final`` (written where the file system cannot link), the others written."""
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    top, old = str(staging), str(final)
    try:
        folders = {top}
        for relative, text in files.items():
            path = os.path.join(top, relative)
            folder = os.path.dirname(path)
            if folder not in folders:
                os.makedirs(folder, exist_ok=True)
                folders.add(folder)
            if relative in unchanged and _linked(os.path.join(old, relative), path):
                continue
            with open(path, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def _linked(existing: str, path: str) -> bool:
    try:
        os.link(existing, path)
    except OSError:
        return False
    return True


def _replace(final: Path, staging: Path) -> None:
    """Swap ``staging`` in for ``final`` by renames; the old folder comes back if the swap fails."""
    backup = final.with_name(f".{final.name}.old")
    if backup.exists():
        shutil.rmtree(backup)
    if final.exists():
        final.rename(backup)
    try:
        staging.rename(final)
    except OSError:
        if backup.exists():
            backup.rename(final)
        raise
    if backup.exists():
        shutil.rmtree(backup)


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
