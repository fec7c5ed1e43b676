"""Seed mistakes: each is located in the CSV itself (file:line:col of the bad row or value) or at
the seed's key in snowgen.yml, with its code, and compiles nothing."""

from __future__ import annotations

from .conftest import PROJECT

COMPILE = ("compile", "--dialect", "duckdb")
SEEDS = """\
seeds:
  countries:
    file: seeds/countries.csv
    columns: {alpha_2: string(2), name: string, population: int}
"""
GOOD_CSV = "alpha_2,name,population\nNA,Namibia,2604172\n"


def with_seed(proj, csv_text: str = GOOD_CSV, seeds: str = SEEDS) -> None:
    proj.write("snowgen.yml", PROJECT + seeds)
    proj.write("seeds/countries.csv", csv_text)


def test_a_missing_seed_file_is_located_at_its_file_key(proj):
    with_seed(proj)
    proj.remove("seeds/countries.csv")
    assert proj.fail(*COMPILE) == (
        "snowgen.yml:13:11: SG005 seed 'countries': file not found: seeds/countries.csv\n"
        " 13 |     file: seeds/countries.csv\n"
        "    |           ^\n"
    )


def test_an_unclosed_quote_is_located_where_the_field_starts(proj):
    with_seed(proj, 'alpha_2,name,population\nNA,"Namibia,2604172\n')
    assert proj.fail(*COMPILE) == (
        "seeds/countries.csv:2:4: SG005 invalid CSV: a quoted field is not closed\n"
        ' 2 | NA,"Namibia,2604172\n'
        "   |    ^\n"
    )


def test_a_file_that_is_not_utf8(proj):
    with_seed(proj)
    (proj.root / "seeds/countries.csv").write_bytes(b"alpha_2,name,population\nCI,C\xf4te,1\n")
    assert proj.fail(*COMPILE).startswith("seeds/countries.csv:2:5: SG005 the seed file is not UTF-8 text\n")


def test_a_header_that_does_not_match_the_declared_columns(proj):
    with_seed(proj, "code,name,population\nNA,Namibia,2604172\n")
    assert proj.fail(*COMPILE) == (
        "seeds/countries.csv:1:1: SG213 the header of seed 'countries' does not match its columns "
        "(missing: alpha_2; not declared: code); declared: alpha_2, name, population\n"
        " 1 | code,name,population\n"
        "   | ^\n"
    )


def test_bad_rows_and_values_are_reported_together_at_their_csv_positions(proj):
    csv_text = "alpha_2,name,population\nGB,United Kingdom,67,000,000\nFRA,France,68170000\nDE,Germany,84 million\n"
    with_seed(proj, csv_text)
    assert proj.fail(*COMPILE) == (
        "seeds/countries.csv:2:1: SG213 this row of seed 'countries' has 5 fields; the header has 3\n"
        " 2 | GB,United Kingdom,67,000,000\n"
        "   | ^\n"
        "seeds/countries.csv:3:1: SG214 seed 'countries', column 'alpha_2': the value 'FRA' is 3 characters "
        "long; the column is string(2)\n"
        " 3 | FRA,France,68170000\n"
        "   | ^\n"
        "seeds/countries.csv:4:12: SG214 seed 'countries', column 'population': the value '84 million' is not "
        "a whole number (int)\n"
        " 4 | DE,Germany,84 million\n"
        "   |            ^\n"
    )


def test_a_value_after_a_multiline_field_is_located_on_its_own_line(proj):
    with_seed(proj, 'alpha_2,name,population\nNA,"two\nlines",x\n')
    assert proj.fail(*COMPILE).startswith(
        "seeds/countries.csv:3:8: SG214 seed 'countries', column 'population': the value 'x' is not a whole number (int)\n"
        ' 3 | lines",x\n'
    )


def test_an_integer_out_of_range(proj):
    with_seed(proj, "alpha_2,name,population\nCN,China,9999999999\n")
    assert (
        "SG214 seed 'countries', column 'population': the value 9999999999 is out of range for int (32-bit)"
        in proj.fail(*COMPILE)
    )


def test_a_seed_named_like_a_model(proj):
    with_seed(proj, seeds=SEEDS.replace("  countries:", "  page_views:"))
    assert proj.fail(*COMPILE) == (
        "snowgen.yml:12:3: SG215 seed 'page_views' has the name of model 'page_views' (models/page_views.yml:1); "
        "rename the seed\n"
        " 12 |   page_views:\n"
        "    |   ^\n"
    )


def test_a_seed_named_like_a_source(proj):
    with_seed(proj, seeds=SEEDS.replace("  countries:", "  events:"))
    assert "snowgen.yml:12:3: SG215 seed 'events' has the name of source 'events'; rename the seed" in proj.fail(
        *COMPILE
    )


def test_a_seed_column_without_a_literal_form(proj):
    with_seed(proj, seeds=SEEDS.replace("population: int", "population: json"))
    assert proj.fail(*COMPILE).startswith(
        "snowgen.yml:14:14: SG102 seeds.countries.columns: column 'population' is json; a seed column is "
        "string, string(n), int, bigint, decimal(p,s), double, boolean, date or timestamp\n"
    )


def test_a_seed_file_outside_the_project(proj):
    with_seed(proj, seeds=SEEDS.replace("seeds/countries.csv", "../countries.csv"))
    assert proj.fail(*COMPILE).startswith(
        "snowgen.yml:13:11: SG102 seeds.countries.file: must be a path inside the project, relative to snowgen.yml"
    )


def test_a_string_too_long_in_bytes_for_redshift(proj):
    # Redshift's VARCHAR(n) holds n bytes: 14 characters, 16 bytes in UTF-8. Other warehouses count characters.
    csv = "alpha_2,name,population\nCI,Côte d’Ivoire,1\n"  # noqa: RUF001 - the country's name, with its apostrophe
    with_seed(proj, csv, SEEDS.replace("name: string", "name: string(14)"))
    assert proj.run("compile", "--dialect", "postgres").exit_code == 0
    assert proj.fail("compile", "--dialect", "redshift") == (
        "seeds/countries.csv:2:4: SG214 seed 'countries', column 'name': the value is 16 bytes long in UTF-8; "
        "redshift counts the length of string(14) in bytes\n"
        " 2 | CI,Côte d’Ivoire,1\n"  # noqa: RUF001
        "   |    ^\n"
    )


def test_a_body_reading_a_seed_that_does_not_exist(proj):
    with_seed(proj)
    proj.write(
        "models/page_views.yml",
        "name: page_views\nsql: select e.event_id from events as e join countrys as c on true\n",
    )
    assert "SG201 table 'countrys' is neither a model nor a source (did you mean 'countries'?)" in proj.fail(*COMPILE)
