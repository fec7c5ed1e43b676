"""The build cache (snowgen.emit.cache) never changes a byte of output: a cached compile,
cold or warm, after any edit, gives what a compile without it gives; an edit rebuilds only
the steps that can see it."""

from __future__ import annotations

import random
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from fuzz import mutations
from sqlglot import exp
from support.projects import write_project

from snowgen import api
from snowgen.api import CompileOptions, compile_project, compiling
from snowgen.build import steps
from snowgen.dialects import DIALECTS
from snowgen.emit import cache, workers
from snowgen.emit import store as step_store
from snowgen.errors import SnowgenError
from snowgen.plan import bodies, data
from snowgen.plan.data import BodyNotParsed, StepKind

REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted(p for p in (REPO / "model_specs").iterdir() if (p / "snowgen.yml").is_file())
ALL = sorted(DIALECTS)


def outcome(root: Path, dialects: list[str], **options) -> dict | str:
    """Every file of every dialect, or the errors' text."""
    try:
        return {c.dialect: c.files for c in compile_project(root, dialects, CompileOptions(**options))}
    except SnowgenError as exc:
        return str(exc)


def assert_cache_agrees(root: Path, dialects: list[str] = ALL, **options) -> None:
    """Without the cache, then with it twice (the second compile reads what the first stored)."""
    expected = outcome(root, dialects, **options)
    assert outcome(root, dialects, cache=True, **options) == expected
    assert outcome(root, dialects, cache=True, **options) == expected


@pytest.fixture
def built(monkeypatch) -> list[tuple[str, str]]:
    """(dialect, step id) of every step a cached compile builds instead of reading."""
    seen: list[tuple[str, str]] = []
    real = compiling.build_missing

    def recording(plan, dialect, steps, *, keys):
        seen.extend((dialect.name, step.id) for step in steps)
        return real(plan, dialect, steps, keys=keys)

    monkeypatch.setattr(compiling, "build_missing", recording)
    monkeypatch.setattr(workers, "worker_count", lambda *args: 1)  # the recording lives in this process
    return seen


def copy_of(source: Path, tmp_path: Path) -> Path:
    """``source`` in a copy of model_specs/ (a project that extends another finds it there)."""
    specs = tmp_path / "model_specs"
    if not specs.exists():
        shutil.copytree(source.parent, specs, ignore=shutil.ignore_patterns(step_store.CACHE_FOLDER))
    return specs / source.name


# -- agreement --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("source", SHIPPED, ids=lambda p: p.name)
def test_shipped_projects_compile_the_same_with_the_cache(source, tmp_path):
    assert_cache_agrees(copy_of(source, tmp_path))


def test_the_variants_compile_the_same_with_the_cache(tmp_path):
    web = copy_of(REPO / "model_specs" / "snowplow_web", tmp_path)
    assert_cache_agrees(web, ["postgres", "snowflake"], full_refresh=True)
    assert_cache_agrees(web, ["bigquery", "databricks"], select=("snowplow_web_page_views",))
    deals = copy_of(REPO / "model_specs" / "multi_source_deals", tmp_path)
    backfill = api.parse_backfill("p1", "2024-01-01", "2024-02-01")
    assert_cache_agrees(deals, ["duckdb", "redshift"], backfill=backfill)


NUMBER = re.compile(r"(?<![A-Za-z_])\d+(?![A-Za-z_])")


def bump_a_number(rng: random.Random, root: Path) -> str:
    """A plausible edit: one number in a spec or seed file, one higher (a literal in SQL, a
    var, a date, a type's size, a seed value...); mostly still a valid project. Not a digit
    of a name (``v2_current_time``): that renames a column, which the column checks refuse."""
    candidates = [
        (path, i, line)
        for path in mutations.project_files(root)
        for i, line in enumerate(path.read_text(encoding="utf-8").split("\n"))
        if NUMBER.search(line)
    ]
    path, index, line = rng.choice(candidates)
    numbers = list(NUMBER.finditer(line))
    found = rng.choice(numbers)
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[index] = line[: found.start()] + str(int(found.group()) + 1) + line[found.end() :]
    path.write_text("\n".join(lines), encoding="utf-8")
    return f"{path.relative_to(root)}:{index + 1}: {found.group()} -> {int(found.group()) + 1}"


def fresh_copy(source: Path, root: Path) -> None:
    """``root`` as ``source`` again, its cache kept."""
    for item in root.iterdir():
        if item.name != step_store.CACHE_FOLDER:
            shutil.rmtree(item) if item.is_dir() else item.unlink()
    shutil.copytree(source, root, dirs_exist_ok=True)


@pytest.mark.parametrize("source", SHIPPED, ids=lambda p: p.name)
def test_seeded_edits_against_a_warm_cache_never_change_the_output(source, tmp_path):
    """The shipped project edited one way after another (numbers, spec values, SQL, lines,
    new keys), its cache kept throughout: every compile agrees with one without the cache,
    error or not, and most edits still compile."""
    edits = [bump_a_number] * 6 + [mutations.replace_value, mutations.mutate_sql, mutations.edit_lines]
    root = copy_of(source, tmp_path)
    outcome(root, ALL, cache=True)
    rng = random.Random(f"cache:{source.name}")
    compiled = 0
    for number in range(16):
        fresh_copy(source, root)
        done = [rng.choice(edits)(rng, root) for _ in range(rng.choice([1, 1, 2]))]
        dialect = rng.choice(ALL)
        expected = outcome(root, [dialect])
        assert outcome(root, [dialect], cache=True) == expected, f"edit {number}: {done}"
        compiled += not isinstance(expected, str)
    assert compiled >= 6  # the edits exercised the cache, not only the errors


# -- what an edit rebuilds --------------------------------------------------------------------------------

MODELS = [
    {"name": "a", "materialization": "table", "sql": "select e.id, e.amount from events as e"},
    {"name": "b", "materialization": "table", "sql": "select a.id, a.amount * 2 as doubled from a as a"},
    {"name": "c", "materialization": "view", "sql": "select e.id from events as e where e.amount > 0"},
]


def edit_model(root: Path, name: str, old: str, new: str) -> None:
    path = root / "models" / f"{name}.yml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_an_unchanged_project_builds_nothing_again(tmp_path, built):
    root = write_project(tmp_path / "p", MODELS)
    assert_cache_agrees(root)
    built.clear()
    outcome(root, ALL, cache=True)
    assert built == []


def rebuilt_after_edit(tmp_path, built, name: str, old: str, new: str) -> set[str]:
    """The steps a cached compile builds after one edit (its output checked against a
    compile without the cache)."""
    root = write_project(tmp_path / "p", MODELS)
    outcome(root, ALL, cache=True)
    built.clear()
    edit_model(root, name, old, new)
    assert_cache_agrees(root)
    return {step for _, step in built}


def test_an_edited_body_rebuilds_its_own_steps(tmp_path, built):
    assert rebuilt_after_edit(tmp_path, built, "c", "e.amount > 0", "e.amount > 10") == {"c"}


def test_a_changed_output_column_reaches_the_models_that_read_it(tmp_path, built):
    rebuilt = rebuilt_after_edit(tmp_path, built, "a", "e.amount from", "e.amount as amount_total, e.amount from")
    assert {"a", "b"} <= rebuilt


@pytest.fixture
def parsed(monkeypatch) -> list[str]:
    """The text of every body a compile parses."""
    seen: list[str] = []
    real = bodies.parse_body

    def recording(text, ctx):
        seen.append(text)
        return real(text, ctx)

    monkeypatch.setattr(bodies, "parse_body", recording)
    return seen


EXTRA = [{"name": "d", "materialization": "table", "sql": "select a.* from a as a"}]


def test_an_unchanged_project_parses_no_body(tmp_path, parsed):
    root = write_project(tmp_path / "p", [*MODELS, *EXTRA])
    outcome(root, ALL, cache=True)
    assert sorted(parsed) == sorted(model["sql"] for model in [*MODELS, *EXTRA])
    parsed.clear()
    outcome(root, ALL, cache=True)
    assert parsed == []


def test_an_edit_parses_the_edited_body_and_those_it_reaches(tmp_path, parsed, built):
    root = write_project(tmp_path / "p", [*MODELS, *EXTRA])
    outcome(root, ALL, cache=True)
    parsed.clear()
    built.clear()
    edit_model(root, "a", "e.amount from", "e.amount, e.ts from")
    expected = outcome(root, ALL)
    parsed.clear()
    assert outcome(root, ALL, cache=True) == expected
    # b and d read a, whose columns changed: their steps are built again (so their bodies are
    # parsed), as is the schemas step, which reads every model; c keeps its step and its
    # unparsed body
    assert {step for _, step in built} == {"a", "b", "d", "create_schemas"}
    assert set(parsed) == {
        MODELS[0]["sql"].replace("e.amount from", "e.amount, e.ts from"),
        MODELS[1]["sql"],
        EXTRA[0]["sql"],
    }


def test_a_new_model_parses_only_itself(tmp_path, parsed):
    root = write_project(tmp_path / "p", MODELS)
    outcome(root, ALL, cache=True)
    parsed.clear()
    write_project(tmp_path / "p", [*MODELS, *EXTRA])
    expected = outcome(root, ALL)
    parsed.clear()
    assert outcome(root, ALL, cache=True) == expected
    assert parsed == [EXTRA[0]["sql"]]


def test_a_deleted_model_fails_its_readers_as_without_the_cache(tmp_path):
    root = write_project(tmp_path / "p", MODELS)
    outcome(root, ALL, cache=True)
    (root / "models" / "a.yml").unlink()
    failed = outcome(root, ["postgres"], cache=True)
    assert isinstance(failed, str) and "SG201" in failed
    assert failed == outcome(root, ["postgres"])


def test_a_project_var_rebuilds_everything(tmp_path, built):
    root = write_project(tmp_path / "p", MODELS)
    outcome(root, ["postgres"], cache=True)
    built.clear()
    assert_cache_agrees(root, ["postgres"], vars={"upsert_lookback_days": 5})
    assert {step for _, step in built} == {"acquire_lock", "create_schemas", "start_run", "a", "b", "c", "release_lock"}


def test_other_code_never_matches(tmp_path, built, monkeypatch):
    root = write_project(tmp_path / "p", MODELS)
    outcome(root, ["duckdb"], cache=True)
    built.clear()
    monkeypatch.setattr(cache, "code_fingerprint", lambda: "another snowgen or sqlglot")
    outcome(root, ["duckdb"], cache=True)
    assert {step for _, step in built} == {"acquire_lock", "create_schemas", "start_run", "a", "b", "c", "release_lock"}


# -- the store ----------------------------------------------------------------------------------------------


def test_the_store_sits_beside_the_project_file_and_git_ignores_it(tmp_path):
    root = write_project(tmp_path / "p", MODELS)
    outcome(root, ["postgres"], cache=True)
    assert (root / step_store.CACHE_FOLDER / step_store.STORE_FILE).is_file()
    assert (root / step_store.CACHE_FOLDER / ".gitignore").read_text(encoding="utf-8").splitlines()[-1] == "*"


def test_without_the_cache_nothing_is_stored(tmp_path):
    root = write_project(tmp_path / "p", MODELS)
    outcome(root, ["postgres"])
    assert not (root / step_store.CACHE_FOLDER).exists()


def test_a_compile_that_fails_stores_nothing(tmp_path):
    root = write_project(tmp_path / "p", [*MODELS, {"name": "bad", "sql": "select nope from"}])
    assert isinstance(outcome(root, ["postgres"], cache=True), str)
    assert not (root / step_store.CACHE_FOLDER).exists()


def test_a_broken_store_is_started_again(tmp_path, built):
    root = write_project(tmp_path / "p", MODELS)
    store = root / step_store.CACHE_FOLDER / step_store.STORE_FILE
    store.parent.mkdir()
    store.write_bytes(b"not a database at all" * 100)
    assert_cache_agrees(root, ["postgres"])
    built.clear()
    outcome(root, ["postgres"], cache=True)
    assert built == []
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT count(*) FROM texts").fetchone()[0] >= 4


def test_entries_no_recent_compile_used_are_dropped(tmp_path):
    root = write_project(tmp_path / "p", MODELS)
    outcome(root, ["postgres"], cache=True)
    store = root / step_store.CACHE_FOLDER / step_store.STORE_FILE
    with sqlite3.connect(store) as db:
        first = {key for (key,) in db.execute("SELECT key FROM texts")}
    edit_model(root, "c", "e.amount > 0", "e.amount > 1")
    for _ in range(step_store.KEEP_COMPILES):
        outcome(root, ["postgres"], cache=True)
    with sqlite3.connect(store) as db:
        last = {key for (key,) in db.execute("SELECT key FROM texts")}
    assert len(first - last) == 2  # c's step of the first version: its text, and what its statements touch
    assert len(last) == len(first)


# -- keys and blinding ----------------------------------------------------------------------------------------


def test_a_plan_value_of_an_unknown_type_has_no_fingerprint():
    with pytest.raises(TypeError, match="no fingerprint for object"):
        cache.fingerprint({"x": object()})


def test_equal_plan_data_has_equal_fingerprints_in_any_order():
    assert cache.fingerprint({"a": 1, "b": frozenset({"x", "y"})}) == cache.fingerprint(
        {"b": frozenset({"y", "x"}), "a": 1}
    )
    assert cache.fingerprint({"a": 1}) != cache.fingerprint({"a": "1"})


@pytest.mark.parametrize(
    "use",
    [
        lambda blind: blind.name,
        lambda blind: isinstance(blind, str),
        lambda blind: bool(blind),
        lambda blind: blind == 1,
        lambda blind: list(blind),
        lambda blind: str(blind),
        lambda blind: {blind},
    ],
)
def test_any_use_of_a_blinded_field_is_refused(use):
    with pytest.raises(cache.BlindRead):
        use(cache._BLIND)


def test_a_blinded_read_is_not_an_exception_a_builder_could_swallow():
    assert not issubclass(cache.BlindRead, Exception)


def test_a_store_of_another_layout_is_started_again(tmp_path, built):
    root = write_project(tmp_path / "p", MODELS)
    path = root / step_store.CACHE_FOLDER / step_store.STORE_FILE
    path.parent.mkdir()
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE steps (key TEXT PRIMARY KEY, text TEXT)")
        db.execute("INSERT INTO steps VALUES ('k', 'select 1')")
    assert_cache_agrees(root, ["postgres"])
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == step_store.LAYOUT
        assert "steps" not in {name for (name,) in db.execute("SELECT name FROM sqlite_master")}


def test_a_step_that_reads_another_models_body_gets_it_parsed(tmp_path, monkeypatch, built):
    """A builder reading a body its key does not cover is built with the whole plan; if that
    body was planned from remembered facts, every body is parsed and the step built again."""
    real = steps.BUILDERS[StepKind.VIEW]

    def reads_a(plan, step, dialect):
        assert plan.models["a"].query.find(exp.Column) is not None  # another model's body
        return real(plan, step, dialect)

    monkeypatch.setitem(steps.BUILDERS, StepKind.VIEW, reads_a)
    root = write_project(tmp_path / "p", MODELS)
    outcome(root, ["postgres"], cache=True)
    edit_model(root, "c", "e.amount > 0", "e.amount > 2")  # c (the view) is built again; a is not parsed
    built.clear()
    assert_cache_agrees(root, ["postgres"])
    assert "c" in {step for _, step in built}


def test_an_unparsed_body_refuses_any_use():
    # (read from its module here: a module-level name would be probed by pytest's collector)
    with pytest.raises(BodyNotParsed):
        bool(data.UNPARSED)
    with pytest.raises(BodyNotParsed):
        isinstance(data.UNPARSED, exp.Select)
