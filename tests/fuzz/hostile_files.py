"""Mutations that attack the reader rather than the spec: alias bombs, deep nesting, huge
values and seeds, files that are deleted, renamed, turned into folders or symbolic links.
Same contract as ``mutations``: ``(rng, root) -> description``."""

from __future__ import annotations

import os
import random
from pathlib import Path

from .mutations import pick

# Around the reader's limits (snowgen.spec.file_text, yaml_source.MAX_NESTING_DEPTH) and far past them.
NESTING_DEPTHS = [10, 63, 64, 65, 200, 5_000, 100_000]
SPEC_FILE_SIZES = [200_000, 1024 * 1024 - 200, 1024 * 1024 + 1, 3_000_000]
SEED_ROWS = [19_999, 20_000, 20_001, 60_000]


def alias_bomb(rng: random.Random, root: Path) -> str:
    """The classic "billion laughs": each level a list of nine aliases of the one before."""
    path = pick(rng, root, (".yml",))
    if path is None:
        return "no YAML file"
    depth = rng.choice([3, 9, 12])
    lines = ["bomb0: &bomb0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"bomb{i}: &bomb{i} [" + ", ".join([f"*bomb{i - 1}"] * 9) + "]" for i in range(1, depth)]
    path.write_bytes(path.read_bytes() + ("\n" + "\n".join(lines) + "\n").encode())
    return f"alias bomb of depth {depth} appended to {path.relative_to(root)}"


def self_alias(rng: random.Random, root: Path) -> str:
    path = pick(rng, root, (".yml",))
    if path is None:
        return "no YAML file"
    form = rng.choice(["loop: &loop [*loop]", "loop: &loop {self: *loop}", "vars: &v {again: *v}"])
    path.write_bytes(path.read_bytes() + f"\n{form}\n".encode())
    return f"self-referencing alias {form!r} in {path.relative_to(root)}"


def deep_nesting(rng: random.Random, root: Path) -> str:
    path = pick(rng, root, (".yml",))
    if path is None:
        return "no YAML file"
    depth = rng.choice(NESTING_DEPTHS)
    if rng.random() < 0.5:
        value = "[" * depth + "]" * depth
    else:
        value = "".join("\n" + "  " * (level + 1) + f"k{level}:" for level in range(min(depth, 2_000))) + " x"
    path.write_bytes(path.read_bytes() + f"\nnested: {value}\n".encode())
    return f"nesting {depth} deep in {path.relative_to(root)}"


def huge_spec(rng: random.Random, root: Path) -> str:
    """A model file padded with a long SQL comment, around and beyond the size limit."""
    path = pick(rng, root, (".yml",))
    if path is None:
        return "no YAML file"
    size = rng.choice(SPEC_FILE_SIZES)
    data = path.read_bytes()
    padding = max(0, size - len(data))
    if b"sql: |" in data:  # inside the body: still a valid model
        data = data.replace(b"sql: |\n", b"sql: |\n  -- " + b"x" * padding + b"\n", 1)
    else:
        data += b"\n# " + b"x" * padding + b"\n"
    path.write_bytes(data)
    return f"{path.relative_to(root)} padded to {len(data):,} bytes"


def huge_seed(rng: random.Random, root: Path) -> str:
    """Rows copied until a seed is around or beyond its row limit, or one line of many fields."""
    path = pick(rng, root, (".csv",))
    if path is None:
        return "no seed"
    lines = path.read_bytes().split(b"\n")
    header, rows = lines[0], [line for line in lines[1:] if line] or [b""]
    if rng.random() < 0.3:
        path.write_bytes(header + b"\n" + b"," * rng.choice([199_999, 200_001, 1_000_000]) + b"\n")
        return f"{path.relative_to(root)}: one row of many empty fields"
    count = rng.choice(SEED_ROWS)
    path.write_bytes(b"\n".join([header] + [rows[i % len(rows)] for i in range(count)]) + b"\n")
    return f"{path.relative_to(root)}: {count:,} rows"


# -- files -------------------------------------------------------------------------------------


def delete_file(rng: random.Random, root: Path) -> str:
    path = pick(rng, root)
    if path is None:
        return "no file"
    path.unlink()
    return f"delete {path.relative_to(root)}"


def rename_file(rng: random.Random, root: Path) -> str:
    path = pick(rng, root)
    if path is None:
        return "no file"
    target = path.with_name(rng.choice(["renamed", "Renamed.yml", "x.YML", ".hidden.yml", "a b.csv", "ü.yml"]))
    path.rename(target)
    return f"rename {path.relative_to(root)} to {target.name}"


def replace_with_folder(rng: random.Random, root: Path) -> str:
    """A seed, a model or the models folder's place taken by something else."""
    path = pick(rng, root)
    if path is None:
        return "no file"
    path.unlink()
    path.mkdir()
    (path / "inside.yml").write_text("name: inside\nsql: select 1 as a\n")
    return f"{path.relative_to(root)} is now a folder"


def symlink_out(rng: random.Random, root: Path) -> str:
    """A file replaced by a symbolic link: out of the project, to a device, to itself, to nothing."""
    path = pick(rng, root)
    if path is None:
        return "no file"
    outside = root.parent / "outside.csv"
    outside.write_text("alpha_2,name\nNA,Namibia\n")
    target = rng.choice([str(outside), "/dev/zero", "/dev/null", path.name, "missing.csv", "/"])
    path.unlink()
    os.symlink(target, path)
    shown = "a CSV file outside the project" if target == str(outside) else target  # same text in any tmp dir
    return f"{path.relative_to(root)} -> symbolic link to {shown}"


def models_folder(rng: random.Random, root: Path) -> str:
    """``models_path`` pointed somewhere odd: outside, absolute, the project itself, a file."""
    project = root / "snowgen.yml"
    if project.is_symlink() or not project.is_file():  # an earlier mutation's link may lead to /dev/zero
        return "no project file"
    value = rng.choice(["/", "..", "../..", "/etc", ".", "snowgen.yml", "missing", "models/../..", "~"])
    project.write_bytes(project.read_bytes() + f"\nmodels_path: {value}\n".encode())
    return f"models_path: {value}"
