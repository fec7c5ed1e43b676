"""Files too big to compile in seconds (SG008), and files a spec names that are not what it
says: a seed that is a folder, a link out of the project, a models folder outside it (SG005,
SG102). Limits: docs/spec.md, "Limits"."""

from __future__ import annotations

import os

from snowgen.spec.file_text import MAX_SEED_FILE_BYTES, MAX_SEED_ROWS, MAX_SEED_VALUES, MAX_SPEC_FILE_BYTES

from .conftest import PROJECT
from .test_seed_errors import with_seed

COMPILE = ("compile", "--dialect", "duckdb")


def test_a_spec_file_over_the_size_limit_is_refused_before_it_is_parsed(proj):
    body = "  select 1 as a\n" + "  -- padding\n" * (MAX_SPEC_FILE_BYTES // 12)
    proj.write("models/page_views.yml", "name: page_views\nsql: |\n" + body)
    assert proj.fail(*COMPILE) == (
        "models/page_views.yml:1:1: SG008 the spec file is larger than 1 MiB, the most snowgen reads "
        "(docs/spec.md, 'Limits')\n"
        " 1 | name: page_views\n"
        "   | ^\n"
    )


def test_a_spec_file_just_under_the_size_limit_compiles(proj):
    padding = "  -- padding\n" * ((MAX_SPEC_FILE_BYTES - 200) // 13)
    proj.write("models/page_views.yml", "name: page_views\nsql: |\n  select 1 as a\n" + padding)
    assert proj.run(*COMPILE).exit_code == 0


def test_a_seed_with_too_many_rows_is_refused_at_the_first_row_over_the_limit(proj):
    rows = "".join(f"{i % 100:02d},Country {i},{i}\n" for i in range(MAX_SEED_ROWS + 5))
    with_seed(proj, "alpha_2,name,population\n" + rows)
    assert proj.fail(*COMPILE) == (
        "seeds/countries.csv:20002:1: SG008 the seed has more than 20,000 rows (docs/spec.md, 'Limits'); "
        "load a bigger table as a source\n"
        " 20002 | 00,Country 20000,20000\n"
        "       | ^\n"
    )


def test_a_seed_of_exactly_the_row_limit_compiles(proj):
    rows = "".join(f"{i % 100:02d},Country {i},{i}\n" for i in range(MAX_SEED_ROWS))
    with_seed(proj, "alpha_2,name,population\n" + rows)
    assert proj.run(*COMPILE).exit_code == 0


def test_a_seed_line_of_many_empty_fields_stops_at_the_value_limit(proj):
    with_seed(proj, "alpha_2,name,population\n" + "," * (MAX_SEED_VALUES + 10) + "\n")
    assert proj.fail(*COMPILE) == (
        "seeds/countries.csv:2:1: SG008 the seed has more than 200,000 values (docs/spec.md, 'Limits'); "
        "load a bigger table as a source\n"
        " 2 | " + "," * 120 + "\n"
        "   | ^\n"
    )


def test_a_seed_file_over_the_size_limit_is_refused(proj):
    with_seed(proj, "alpha_2,name,population\n" + f"NA,{'N' * MAX_SEED_FILE_BYTES},1\n")
    assert proj.fail(*COMPILE) == (
        "seeds/countries.csv:1:1: SG008 the seed file is larger than 4 MiB, the most snowgen reads "
        "(docs/spec.md, 'Limits')\n"
        " 1 | alpha_2,name,population\n"
        "   | ^\n"
    )


def test_a_seed_path_that_is_a_folder(proj):
    with_seed(proj)
    proj.remove("seeds/countries.csv")
    (proj.root / "seeds/countries.csv").mkdir()
    assert proj.fail(*COMPILE) == (
        "snowgen.yml:13:11: SG005 seed 'countries': seeds/countries.csv is a folder; expected a CSV file\n"
        " 13 |     file: seeds/countries.csv\n"
        "    |           ^\n"
    )


def test_a_seed_path_that_links_out_of_the_project(proj, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere") / "countries.csv"
    outside.write_text("alpha_2,name,population\nNA,Namibia,2604172\n", encoding="utf-8")
    with_seed(proj)
    proj.remove("seeds/countries.csv")
    os.symlink(outside, proj.root / "seeds/countries.csv")
    assert proj.fail(*COMPILE).startswith(
        "snowgen.yml:13:11: SG005 seed 'countries': seeds/countries.csv leads outside the project "
        "(through a symbolic link); keep the CSV file inside it\n"
    )


def test_a_seed_path_that_is_a_device(proj):
    with_seed(proj)
    proj.remove("seeds/countries.csv")
    os.symlink("/dev/zero", proj.root / "seeds/countries.csv")
    assert proj.fail(*COMPILE).startswith(
        "snowgen.yml:13:11: SG005 seed 'countries': seeds/countries.csv is not a regular file; expected a CSV file\n"
    )


def test_seed_bytes_that_are_not_utf8_are_located_in_characters_not_bytes(proj):
    with_seed(proj)
    (proj.root / "seeds/countries.csv").write_bytes("alpha_2,name,population\nΩM,Ωmega C".encode() + b"\xf4te,1\n")
    assert proj.fail(*COMPILE) == (
        "seeds/countries.csv:2:11: SG005 the seed file is not UTF-8 text\n 2 | ΩM,Ωmega C\ufffdte,1\n   |           ^\n"
    )


def test_a_utf16_seed_is_named_as_such(proj):
    with_seed(proj)
    (proj.root / "seeds/countries.csv").write_bytes("alpha_2,name,population\nNA,Namibia,1\n".encode("utf-16"))
    assert proj.fail(*COMPILE).startswith(
        "seeds/countries.csv:1:1: SG005 the seed file is UTF-16 text (it starts with a UTF-16 byte order mark); "
        "save it as UTF-8\n"
    )


def test_a_models_path_outside_the_project_is_refused(proj):
    """From '/' every YAML file of the disk was read: the real CLI, so a walk that never ends fails."""
    proj.write("snowgen.yml", PROJECT + "models_path: /\n")
    result = proj.subprocess(*COMPILE)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "snowgen.yml:11:14: SG102 models_path: must be a path inside the project, relative to snowgen.yml "
        "(e.g. models)\n"
        " 11 | models_path: /\n"
        "    |              ^\n"
    )
