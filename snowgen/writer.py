"""The only code that writes compile output: whole dialect folders, replaced at once."""

from __future__ import annotations

import difflib
import shutil
import tempfile
from pathlib import Path

from snowgen.api import CompiledProject


def output_dir(root: Path, compiled: CompiledProject) -> Path:
    return root / compiled.project / compiled.folder


def write(root: Path, results: list[CompiledProject]) -> list[Path]:
    """Write each project/dialect folder, replacing what was there (stale files go too)."""
    written = []
    for compiled in results:
        final = output_dir(root, compiled)
        final.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{compiled.folder}.", dir=final.parent))
        try:
            for relative, text in compiled.files.items():
                path = staging / relative
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8", newline="\n")
            backup = final.with_name(f".{compiled.folder}.old")
            if backup.exists():
                shutil.rmtree(backup)
            if final.exists():
                final.rename(backup)
            staging.rename(final)
            if backup.exists():
                shutil.rmtree(backup)
        finally:
            if staging.exists():
                shutil.rmtree(staging)
        written.append(final)
    return written


def stale_diff(root: Path, results: list[CompiledProject]) -> str:
    """A unified diff between what is on disk and what the specs compile to ('' if none)."""
    chunks: list[str] = []
    for compiled in results:
        folder = output_dir(root, compiled)
        on_disk = {p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_file()} if folder.exists() else {}
        for relative in sorted(set(on_disk) | set(compiled.files)):
            shown = (folder / relative).as_posix()
            old = on_disk[relative].read_text(encoding="utf-8") if relative in on_disk else ""
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
    return "".join(chunks)
