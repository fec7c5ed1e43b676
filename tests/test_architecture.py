"""Architecture rules that code review alone would not keep.

(a) Dialects are named in ``snowgen/dialects/`` only: no module outside it branches on a
    dialect's name (``==``, ``in``, ``match``, lookup tables keyed by dialect names).
    Everything else asks the dialect object a question (a capability flag or a hook).
(b) The registries are complete: every dialect answers every capability of
    :class:`snowgen.dialects.base.Dialect`, every step kind has a builder, every strategy
    its SQL, every generated model its query builder.
"""

from __future__ import annotations

import ast
import types
import typing
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

import snowgen
from snowgen.build.steps import BUILDERS
from snowgen.dialects import DIALECTS
from snowgen.dialects.base import GENERIC_TYPES, Dialect, UpsertStrategy
from snowgen.plan.data import StepKind
from snowgen.plan.planner import plan_project
from snowgen.spec.loader import discover_projects, load_project
from snowgen.spec.models import ModelSpec

PACKAGE = Path(snowgen.__file__).resolve().parent
REPO = PACKAGE.parent
DIALECT_NAMES = frozenset(DIALECTS) | {cls.sqlglot_dialect for cls in DIALECTS.values()}


# -- (a) no dialect branching outside snowgen/dialects/ -------------------------------------------


def _is_name(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in DIALECT_NAMES


def _names_in_literal(node: ast.AST) -> bool:
    """A tuple/list/set literal holding a dialect name, or a dict literal keyed by one, at
    any depth (per-dialect settings nested in a data literal count too)."""
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(_is_name(e) or _names_in_literal(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return any(k is not None and _is_name(k) for k in node.keys) or any(_names_in_literal(v) for v in node.values)
    return False


def _target_names(node: ast.Assign | ast.AnnAssign) -> list[str]:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    names = []
    for target in targets:
        if isinstance(target, ast.Name):
            names.append(target.id)
        elif isinstance(target, ast.Attribute):
            names.append(target.attr)
    return names


def _ref_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def dialect_branches(source: str, filename: str = "<string>") -> list[str]:
    """Places in ``source`` that decide something by a dialect's name, as 'file:line: what'."""
    tree = ast.parse(source, filename)
    # Names bound to a literal holding dialect names: membership or lookup tables.
    tables = {
        name
        for node in ast.walk(tree)
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and _names_in_literal(node.value)
        for name in _target_names(node)
    }
    found: list[str] = []

    def report(node: ast.AST, what: str) -> None:
        found.append(f"{filename}:{node.lineno}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for operand in (node.left, *node.comparators):
                if _is_name(operand):
                    report(node, f"compares with the dialect name {operand.value!r}")
                elif _names_in_literal(operand):
                    report(node, "tests membership in a literal of dialect names")
            if any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
                for operand in node.comparators:
                    if _ref_name(operand) in tables:
                        report(node, f"tests membership in {_ref_name(operand)}, a table of dialect names")
        elif isinstance(node, ast.match_case):
            for sub in ast.walk(node.pattern):
                if isinstance(sub, ast.MatchValue) and _is_name(sub.value):
                    report(sub, f"matches the dialect name {sub.value.value!r}")
                elif isinstance(sub, ast.MatchMapping) and any(_is_name(k) for k in sub.keys):
                    report(sub, "matches a mapping keyed by dialect names")
        elif isinstance(node, ast.Subscript):
            if _names_in_literal(node.value) or _ref_name(node.value) in tables:
                report(node, "looks up a table keyed by dialect names")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and (_names_in_literal(node.func.value) or _ref_name(node.func.value) in tables)
        ):
            report(node, "looks up a table keyed by dialect names")
    return sorted(set(found))


def _modules_outside_dialects() -> list[Path]:
    files = sorted(PACKAGE.rglob("*.py"))
    return [p for p in files if (PACKAGE / "dialects") not in p.parents]


def test_no_module_outside_dialects_holds_per_dialect_data():
    found = []
    for path in _modules_outside_dialects():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [
            f"{path.relative_to(REPO)}:{node.lineno}"
            for node in ast.walk(tree)
            if isinstance(node, (ast.Assign, ast.AnnAssign))
            and node.value is not None
            and _names_in_literal(node.value)
        ]
    assert found == []


def test_no_module_outside_dialects_branches_on_a_dialect_name():
    found = []
    for path in _modules_outside_dialects():
        found += dialect_branches(path.read_text(encoding="utf-8"), str(path.relative_to(REPO)))
    assert found == []


def test_the_scan_covers_the_compiler():
    scanned = {p.relative_to(PACKAGE).as_posix() for p in _modules_outside_dialects()}
    assert {
        "plan/planner.py",
        "build/steps.py",
        "build/materialize.py",
        "emit/render.py",
        "cli/compiling.py",
    } <= scanned
    assert not any(name.startswith("dialects/") for name in scanned)


PLANTED = '''
"""Docstrings may say bigquery; so may messages and defaults."""
MESSAGE = "bigquery cannot do that"
DEFAULT = "postgres"
WAREHOUSES_WITH_QUALIFY = {"snowflake", "bigquery"}
SPECIAL = {"redshift": 1}

def choose(dialect, other):
    print(f"compiling for {dialect.name}")
    if dialect.name == "bigquery":                      # 10
        pass
    if "snowflake" != dialect.name:                     # 12
        pass
    if dialect.name in ("redshift", "postgres"):        # 14
        pass
    if dialect.name not in WAREHOUSES_WITH_QUALIFY:     # 16
        pass
    value = SPECIAL.get(dialect.name)                   # 18
    value = {"duckdb": 1}[dialect.name]                 # 19
    match dialect.name:
        case "databricks":                              # 21
            pass
        case "trino" | "spark":
            pass
    if dialect.supports_qualify and other == "sessions":
        pass
    return value
'''


def test_checker_catches_planted_violations():
    found = dialect_branches(PLANTED, "planted.py")
    assert [f.split(":")[1] for f in found] == ["10", "12", "14", "16", "18", "19", "21"], found


CLEAN = '''
"""Docstrings may say bigquery; so may messages, defaults and keyword arguments."""
MESSAGE = "bigquery cannot do that"
DEFAULT = "postgres"
STRATEGIES = {"sessions": 1, "watermark": 2}

def choose(dialect, name, strategy):
    """Only snowflake... (a docstring)."""
    print(f"compiling for {dialect.name}", "duckdb")
    parse(name, read="postgres")
    if dialect.supports_qualify and dialect.max_cluster_columns == 4:
        pass
    if strategy == "sessions" or name in STRATEGIES or name in ("merge", "delete_insert"):
        pass
    match strategy:
        case "watermark":
            pass
    return STRATEGIES.get(name), STRATEGIES[name]
'''


def test_checker_ignores_docstrings_messages_defaults_and_capabilities():
    assert dialect_branches(CLEAN, "clean.py") == []


# -- (b) registry completeness ---------------------------------------------------------------------------


def _capabilities() -> dict[str, typing.Any]:
    """Dialect's class-level declarations: name -> declared type (inside ClassVar)."""
    hints = typing.get_type_hints(Dialect)
    return {
        name: typing.get_args(hint)[0] for name, hint in hints.items() if typing.get_origin(hint) is typing.ClassVar
    }


def _conforms(value: typing.Any, declared: typing.Any) -> bool:
    origin = typing.get_origin(declared)
    if origin is typing.Literal:
        return value in typing.get_args(declared)
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, option) for option in typing.get_args(declared))
    if declared is type(None):
        return value is None
    if origin is not None:
        return isinstance(value, origin)
    return isinstance(value, declared) and not (declared is int and isinstance(value, bool))


def test_the_capability_list_is_what_the_base_class_declares():
    assert {
        "name",
        "sqlglot_dialect",
        "upsert_strategies",
        "default_upsert",
        "transactional",
        "supports_qualify",
        "delete_using",
        "create_or_replace_table",
        "max_cluster_columns",
        "types",
        "run_limits_in_variables",
        "analyzes_new_tables",
    } <= set(_capabilities())


@pytest.mark.parametrize("name", list(DIALECTS))
def test_dialect_answers_every_capability(name):
    cls = DIALECTS[name]
    assert issubclass(cls, Dialect) and cls.name == name
    wrong = {
        cap: getattr(cls, cap, "<missing>")
        for cap, declared in _capabilities().items()
        if not _conforms(getattr(cls, cap, _Missing), declared)
    }
    assert wrong == {}
    sqlglot.Dialect.get_or_raise(cls.sqlglot_dialect)


class _Missing:
    pass


@pytest.mark.parametrize("name", list(DIALECTS))
def test_dialect_answers_every_upsert_strategy(name):
    cls = DIALECTS[name]
    assert set(cls.upsert_strategies) == set(typing.get_args(UpsertStrategy))
    for strategy, refusal in cls.upsert_strategies.items():
        assert refusal is None or (isinstance(refusal, str) and refusal.strip()), (strategy, refusal)
    assert cls.upsert_strategies[cls.default_upsert] is None, "the default upsert must be supported"


@pytest.mark.parametrize("name", list(DIALECTS))
def test_dialect_has_a_type_for_every_logical_type(name):
    dialect = DIALECTS[name]()
    for logical in [*GENERIC_TYPES, "string(40)", "decimal(18,2)"]:
        data_type = dialect.data_type(logical)
        assert isinstance(data_type, exp.DataType)
        assert data_type.sql(dialect=dialect.sqlglot_dialect)


def test_every_step_kind_has_a_builder_and_every_builder_a_kind():
    assert set(BUILDERS) == set(StepKind)
    assert all(callable(builder) for builder in BUILDERS.values())


def test_every_materialization_is_a_step_kind():
    materializations = typing.get_args(ModelSpec.model_fields["materialization"].annotation)
    assert {StepKind(m) for m in materializations} <= set(StepKind)


def _example_plans():
    plans = [plan_project(load_project(root)) for root in discover_projects(REPO)]
    assert plans, "no example project under model_specs/"
    return plans


def test_every_step_of_the_shipped_plans_has_a_step_kind():
    kinds = [step.kind for plan in _example_plans() for step in plan.steps]
    assert kinds and all(isinstance(kind, StepKind) for kind in kinds)


def _step_kind_arguments() -> list[tuple[str, ast.expr]]:
    """Every ``kind=`` given to ``Step(...)`` in snowgen, with where it is."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Step":
                found += [(f"{path.name}:{node.lineno}", k.value) for k in node.keywords if k.arg == "kind"]
    return found


def _is_step_kind(node: ast.expr, tables: set[str]) -> bool:
    """``StepKind.X``, ``StepKind(...)``, or a lookup in a table whose values are all StepKind.X."""
    if isinstance(node, ast.Attribute):
        return isinstance(node.value, ast.Name) and node.value.id == "StepKind"
    if isinstance(node, ast.Call):
        return getattr(node.func, "id", None) == "StepKind"
    return isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in tables


def _step_kind_tables() -> set[str]:
    """Names bound to a dict literal whose values are all ``StepKind.X``."""
    names = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            is_table = isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict) and node.value.values
            if is_table and all(_is_step_kind(v, set()) for v in node.value.values):
                names.update(_target_names(node))
    return names


def test_every_step_the_source_makes_has_a_step_kind():
    """A step kind spelled as a string would escape the registry: every ``Step(kind=...)``
    passes a StepKind member."""
    arguments = _step_kind_arguments()
    assert len(arguments) >= 8, arguments  # the scan sees the steps the planner and strategies make
    tables = _step_kind_tables()
    assert [where for where, node in arguments if not _is_step_kind(node, tables)] == []


def test_the_step_kind_scan_catches_a_string_kind():
    planted = ast.parse('Step(id="x", kind="schemas")').body[0].value
    assert not _is_step_kind(planted.keywords[1].value, set())


def test_every_generated_model_has_a_query_builder_and_every_builder_is_used():
    from snowgen.build.strategies import GENERATED_QUERIES

    used = {m.generated for plan in _example_plans() for m in plan.models.values() if m.generated}
    assert used == set(GENERATED_QUERIES)


def test_every_strategy_has_its_sql_registered():
    from snowgen.build.strategies import STRATEGY_SQL
    from snowgen.plan.data import StrategyPlan
    from snowgen.plan.sessions import SessionsPlan
    from snowgen.plan.strategies import STRATEGIES
    from snowgen.plan.watermark import WatermarkPlan

    kinds = {StrategyPlan.kind, SessionsPlan.kind, WatermarkPlan.kind}
    assert set(STRATEGY_SQL) == kinds == {"none", *STRATEGIES}
    assert {plan.strategy.kind for plan in _example_plans()} == set(STRATEGIES)


def test_every_incremental_strategy_has_a_registered_builder():
    from snowgen.plan.strategies import STRATEGIES
    from snowgen.spec.models import IncrementalSpec

    union = typing.get_args(IncrementalSpec)[0]
    keys = {typing.get_args(spec.model_fields["strategy"].annotation)[0] for spec in typing.get_args(union)}
    assert keys == set(STRATEGIES)


def test_every_upsert_strategy_has_a_builder_and_every_dialect_answers_it():
    from snowgen.build.materialize import UPSERTS
    from snowgen.spec.models import ModelSpec as Model

    asked = {a for a in typing.get_args(Model.model_fields["upsert"].annotation) if a is not type(None)}
    strategies = set(typing.get_args(asked.pop())) if len(asked) == 1 else asked
    assert strategies == set(UPSERTS)
    for name, dialect in DIALECTS.items():
        assert set(dialect.upsert_strategies) == strategies, name
        assert dialect.default_upsert in strategies and dialect.upsert_strategies[dialect.default_upsert] is None, name


def test_every_body_macro_a_body_may_call_has_an_expansion():
    from snowgen.build.filters import EXPANSIONS
    from snowgen.plan.sqlbody import MACROS

    assert set(MACROS) == set(EXPANSIONS)


def test_the_layout_keys_are_one_list():
    import dataclasses

    from snowgen.dialects.shapes import LAYOUT_KEYS, Layout
    from snowgen.spec.models import LayoutOverride, LayoutSpec

    assert tuple(LayoutOverride.model_fields) == LAYOUT_KEYS
    assert set(LayoutSpec.model_fields) == {*LAYOUT_KEYS, "dialects"}
    assert tuple(f.name for f in dataclasses.fields(Layout)) == (*LAYOUT_KEYS, "unique_key")


def test_the_dialect_names_are_the_registry():
    from snowgen.dialects import BODY_DIALECTS, NAMES

    assert tuple(DIALECTS) == NAMES
    assert {cls.sqlglot_dialect for cls in DIALECTS.values()} <= set(BODY_DIALECTS)
    for name in BODY_DIALECTS:
        sqlglot.Dialect.get_or_raise(name)
