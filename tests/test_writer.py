"""The writer replaces whole output folders, and touches only what changed."""

from __future__ import annotations

import shutil

from snowgen.api import write_output
from snowgen.emit.render import CompiledProject

FILES = {"plan.json": "{}\n", "01_setup/01_create_schemas.sql": "create schema x;\n", "02_m/01_a.sql": "select 1;\n"}


def written(root, files) -> dict[str, str]:
    write_output(root, [CompiledProject("p", "postgres", files)])
    folder = root / "p" / "postgres"
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8") for p in folder.rglob("*") if p.is_file()}


def identity(path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns


def test_a_folder_holding_exactly_the_output_is_left_alone(tmp_path):
    written(tmp_path, FILES)
    folder = tmp_path / "p" / "postgres"
    before = {name: identity(folder / name) for name in FILES} | {".": identity(folder)}
    assert written(tmp_path, FILES) == FILES
    assert {name: identity(folder / name) for name in FILES} | {".": identity(folder)} == before
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == ["postgres"]  # no staging left


def test_unchanged_files_keep_their_identity_and_stale_files_go(tmp_path):
    written(tmp_path, {**FILES, "02_m/02_gone.sql": "select 2;\n"})
    folder = tmp_path / "p" / "postgres"
    kept = identity(folder / "01_setup/01_create_schemas.sql")
    changed = {**FILES, "02_m/01_a.sql": "select 3;\n"}
    assert written(tmp_path, changed) == changed
    assert identity(folder / "01_setup/01_create_schemas.sql") == kept
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == ["postgres"]


def test_an_extra_file_alone_makes_the_folder_stale(tmp_path):
    written(tmp_path, FILES)
    (tmp_path / "p" / "postgres" / "notes.txt").write_text("mine", encoding="utf-8")
    assert written(tmp_path, FILES) == FILES


def test_a_link_in_place_of_an_output_file_is_replaced_by_the_file(tmp_path):
    written(tmp_path, FILES)
    target = tmp_path / "elsewhere.sql"
    target.write_text("select 1;\n", encoding="utf-8")
    link = tmp_path / "p" / "postgres" / "02_m" / "01_a.sql"
    link.unlink()
    link.symlink_to(target)
    assert written(tmp_path, FILES) == FILES
    assert not link.is_symlink()
    assert target.read_text(encoding="utf-8") == "select 1;\n"


def test_only_the_entries_that_changed_are_replaced(tmp_path):
    written(tmp_path, FILES)
    folder = tmp_path / "p" / "postgres"
    setup, plan = identity(folder / "01_setup"), identity(folder / "plan.json")
    changed = {**FILES, "02_m/01_a.sql": "select 3;\n"}
    assert written(tmp_path, changed) == changed
    assert identity(folder / "01_setup") == setup  # the same folder, untouched
    assert identity(folder / "plan.json") == plan


def test_a_module_that_is_gone_goes_and_a_new_one_comes(tmp_path):
    written(tmp_path, FILES)
    renamed = {k.replace("02_m/", "02_n/"): v for k, v in FILES.items()}
    assert written(tmp_path, renamed) == renamed
    assert not (tmp_path / "p" / "postgres" / "02_m").exists()


def test_what_a_killed_compile_left_is_removed(tmp_path):
    written(tmp_path, FILES)
    folder = tmp_path / "p" / "postgres"
    (folder / ".snowgen-02_m.abc").mkdir()
    (folder / ".snowgen-02_m.abc" / "01_a.sql").write_text("half", encoding="utf-8")
    (folder / ".snowgen-plan.json.xyz").write_text("half", encoding="utf-8")
    assert written(tmp_path, FILES) == FILES


def test_a_file_where_a_module_folder_goes_is_replaced(tmp_path):
    written(tmp_path, FILES)
    folder = tmp_path / "p" / "postgres"
    shutil.rmtree(folder / "02_m")
    (folder / "02_m").write_text("not a folder", encoding="utf-8")
    assert written(tmp_path, FILES) == FILES
