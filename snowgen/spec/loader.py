"""Stage 1, load: files -> :class:`LoadedProject` (validated specs plus their YAML positions)."""

from __future__ import annotations

import difflib
import functools
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from snowgen.errors import Diagnostic, Location, SnowgenError
from snowgen.spec.compose import compose
from snowgen.spec.csv_source import CsvDocument, load_csv
from snowgen.spec.document_memo import DocumentMemo, load_remembered
from snowgen.spec.models import SIMPLE_NAME_PATTERN, ModelSpec, ProjectSpec, SeedSpec, VarRef
from snowgen.spec.profiles import TargetPlaces, with_profiles
from snowgen.spec.yaml_source import YamlDocument, YamlPath, load_yaml
from snowgen.text import has_unprintable, one_line

PROJECT_FILE = "snowgen.yml"


@dataclass(frozen=True)
class LoadedModel:
    spec: ModelSpec
    doc: YamlDocument


@dataclass(frozen=True)
class LoadedSeed:
    name: str
    spec: SeedSpec
    csv: CsvDocument


@dataclass(frozen=True)
class ExtendedModules:
    """``extends.modules`` of a project: which modules of the project it extends run
    (snowgen.plan.extends applies it once the vars are known)."""

    project: str  # the extended project
    chosen: tuple[str, ...] | VarRef | None  # module names, the var holding them, or None: all
    where: Location  # the ``modules`` key (or ``extends``)
    models: frozenset[str]  # the extended project's models (its own and those it extends)
    modules: tuple[str, ...]  # their modules, and the module of its incremental strategy


@dataclass(frozen=True)
class LoadedProject:
    root: Path
    spec: ProjectSpec
    doc: YamlDocument
    models: tuple[LoadedModel, ...]
    seeds: tuple[LoadedSeed, ...] = ()
    #: where each target's db and connection settings were written (project or profiles file)
    target_places: TargetPlaces = field(default_factory=TargetPlaces)
    #: ``extends.modules`` of this project and of each project it extends, nearest first
    extended: tuple[ExtendedModules, ...] = ()
    #: the project whose run lock the plan takes: an extending project shares the lock (and
    #: the incremental state) of the project it extends (None: its own)
    lock_owner: str | None = None

    @property
    def lock_project(self) -> str:
        return self.lock_owner or self.spec.project


def project_relative(root: Path, path: Path) -> str:
    """``path`` as written from the project folder ``root``: a file of a project it extends is
    ``../other/models/x.yml`` (shown in every compiled file's header)."""
    try:
        return Path(os.path.relpath(path, root)).as_posix()
    except ValueError:  # another drive on Windows
        return path.name


def is_project_dir(path: Path) -> bool:
    return (path / PROJECT_FILE).is_file()


def discover_projects(path: Path) -> list[Path]:
    """The project at ``path``, or every project directly under ``path/model_specs``."""
    if is_project_dir(path):
        return [path]
    specs = path / "model_specs"
    if specs.is_dir():
        found = sorted(p for p in specs.iterdir() if is_project_dir(p))
        if found:
            return found
    raise SnowgenError.at(
        "SG003",
        f"no {PROJECT_FILE} in {path} and no project under {specs}; pass --project DIR",
    )


def load_project(root: Path, memo: DocumentMemo | None = None, _extending: tuple[Path, ...] = ()) -> LoadedProject:
    """Read the project file and every model file; report all shape errors at once.
    ``memo``: spec files remembered from earlier compiles (snowgen.spec.document_memo).
    A project that ``extends`` another is composed with it (snowgen.spec.compose);
    ``_extending``: the folders of the projects that extend this one, nearest last."""
    if not is_project_dir(root):
        raise SnowgenError.at("SG003", f"no {PROJECT_FILE} in {root}")
    load = load_yaml if memo is None else functools.partial(load_remembered, memo=memo)
    doc = load(root / PROJECT_FILE)
    diagnostics: list[Diagnostic] = []
    project = _validate(ProjectSpec, doc, diagnostics)
    base: LoadedProject | None = None
    if project is not None and project.extends is not None:
        base = _load_extended(root, project, doc, memo, _extending)
        doc, clashes = compose(doc, base.doc)
        diagnostics += clashes
        project = None if clashes else _validate(ProjectSpec, doc, diagnostics)
    places = TargetPlaces()
    if project is not None:
        project, places, found = with_profiles(project, doc, _validate)
        diagnostics += found
    models: list[LoadedModel] = []
    models_dir = root / (project.models_path if project else "models")
    for path in _model_files(models_dir):
        if _unprintable_name(root, path, diagnostics):
            continue
        try:
            model_doc = load(path)
        except SnowgenError as exc:
            diagnostics.extend(exc.diagnostics)
            continue
        spec = _validate(ModelSpec, model_doc, diagnostics)
        if spec is not None:
            models.append(LoadedModel(spec, model_doc))
    inherited = set(base.spec.seeds) if base else set()
    seeds = _load_seeds(root, project, doc, diagnostics, inherited) if project else []
    if diagnostics or project is None:
        raise SnowgenError(diagnostics)
    if base is not None:
        models = [*_extended_models(base, project), *models]
        seeds = [*base.seeds, *seeds]
    _check_duplicate_models(models)
    return LoadedProject(
        root=root, spec=project, doc=doc, models=tuple(models), seeds=tuple(seeds), target_places=places,
        extended=_extended_modules(project, doc, base), lock_owner=base.lock_project if base else None,
    )  # fmt: skip


# -- extends -------------------------------------------------------------------------------------------


def _load_extended(
    root: Path, project: ProjectSpec, doc: YamlDocument, memo: DocumentMemo | None, extending: tuple[Path, ...]
) -> LoadedProject:
    """The project ``extends`` names, loaded on its own (its errors point at its files)."""
    assert project.extends is not None
    where = doc.location(("extends", "project"))
    folder = Path(os.path.normpath(root / project.extends.project))
    chain = (*extending, Path(os.path.abspath(root)))
    if Path(os.path.abspath(folder)) in chain:
        names = " -> ".join(p.name for p in (*chain, folder))
        raise SnowgenError.at("SG242", f"extends: projects extend each other in a cycle: {names}", where)
    if not is_project_dir(folder):
        what = "is not a folder" if not folder.is_dir() else f"holds no {PROJECT_FILE}"
        raise SnowgenError.at("SG242", f"extends: {project.extends.project} {what}", where)
    return load_project(folder, memo, chain)


def _extended_models(base: LoadedProject, project: ProjectSpec) -> list[LoadedModel]:
    """The extended project's models; their bodies stay in the extended project's SQL dialect."""
    if project.sql_dialect == base.spec.sql_dialect:
        return list(base.models)
    own_dialect = {"sql_dialect": base.spec.sql_dialect}
    return [
        LoadedModel(m.spec.model_copy(update=own_dialect), m.doc) if m.spec.sql_dialect is None else m
        for m in base.models
    ]


def _extended_modules(project: ProjectSpec, doc: YamlDocument, base: LoadedProject | None) -> tuple:
    if base is None or project.extends is None:
        return ()
    chosen = project.extends.modules
    key = ("extends", "modules") if "modules" in project.extends.model_fields_set else ("extends",)
    modules = {m.spec.module for m in base.models}
    incremental = base.spec.incremental
    if incremental is not None and hasattr(incremental, "module"):
        modules.add(incremental.module)
    own = ExtendedModules(
        project=base.spec.project, chosen=tuple(chosen) if isinstance(chosen, list) else chosen,
        where=doc.location(key), models=frozenset(m.spec.name for m in base.models), modules=tuple(sorted(modules)),
    )  # fmt: skip
    return (own, *base.extended)


def _load_seeds(
    root: Path, project: ProjectSpec, doc: YamlDocument, out: list[Diagnostic], inherited: set[str]
) -> list[LoadedSeed]:
    """Every seed's CSV file, parsed (its values are checked against the columns later);
    ``inherited``: seeds of the extended project, loaded with it from its folder."""
    seeds = []
    for name, spec in project.seeds.items():
        if name in inherited:
            continue
        path = root / spec.file
        if has_unprintable(spec.file):
            out.append(unprintable_diagnostic(spec.file, doc.location(("seeds", name, "file"))))
            continue
        problem = file_path_problem(root, path, spec.file)
        if problem is not None:
            out.append(Diagnostic("SG005", f"seed '{name}': {problem}", doc.location(("seeds", name, "file"))))
            continue
        try:
            seeds.append(LoadedSeed(name, spec, load_csv(path)))
        except SnowgenError as exc:
            out.extend(exc.diagnostics)
    return seeds


def file_path_problem(root: Path, path: Path, written: str) -> str | None:
    """Why a CSV file the project names (a seed's ``file:``, a sample) cannot be read, or
    None. The spec only holds relative paths without '..'; a symbolic link can still lead out
    of the project, whose output must not depend on files elsewhere."""
    if path.is_dir():
        return f"{written} is a folder; expected a CSV file"
    if not path.exists():
        return f"file not found: {written}"
    if not path.is_file():
        return f"{written} is not a regular file; expected a CSV file"
    if not path.resolve().is_relative_to(root.resolve()):
        return f"{written} leads outside the project (through a symbolic link); keep the CSV file inside it"
    return None


def _unprintable_name(root: Path, path: Path, out: list[Diagnostic]) -> bool:
    """A model file whose path (from the project) holds a line break or another invisible
    character is refused: its name is printed in every compiled file's header comment."""
    relative = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()
    if not has_unprintable(relative):
        return False
    out.append(unprintable_diagnostic(relative, Location(path, 1, 1, "")))
    return True


def unprintable_diagnostic(name: str, where: Location) -> Diagnostic:
    message = f"'{one_line(name)}' holds a control or invisible character; rename it to printable characters"
    return Diagnostic("SG106", message, where)


def _model_files(models_dir: Path) -> list[Path]:
    if not models_dir.is_dir():
        return []
    files = [p for p in models_dir.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file()]
    return sorted(files, key=lambda p: p.relative_to(models_dir).as_posix())


def _check_duplicate_models(models: list[LoadedModel]) -> None:
    seen: dict[str, LoadedModel] = {}
    for model in models:
        first = seen.get(model.spec.name)
        if first is not None:
            where = first.doc.location(("name",))
            raise SnowgenError.at(
                "SG203",
                f"model '{model.spec.name}' is already defined in {where.display_file()}:{where.line}",
                model.doc.location(("name",)),
            )
        seen[model.spec.name] = model


# -- pydantic errors -> located diagnostics ----------------------------------------------------


def _validate(cls: type[BaseModel], doc: YamlDocument, out: list[Diagnostic]) -> Any:
    try:
        return cls.model_validate(doc.data)
    except ValidationError as exc:
        out.extend(_diagnostics(cls, doc, exc))
        return None


def _diagnostics(cls: type[BaseModel], doc: YamlDocument, exc: ValidationError) -> list[Diagnostic]:
    located = [_locate(doc.data, error) for error in exc.errors(include_url=False)]
    # A union (e.g. `bool | BotFilterSpec`) reports one error per member. Where the value is
    # a mapping the user meant the mapping form: keep the errors found inside it only.
    deep_union_points = {p for p, path, _ in located if p is not None and len(path) > len(p)}
    kept, seen = [], set()
    for union_point, path, error in located:
        if union_point in deep_union_points and len(path) <= len(union_point):
            continue
        if union_point is not None and len(path) == len(union_point):
            key = (path, "union")
            error = {**error, "msg": "value has the wrong type for this key"}
        else:
            key = (path, error["type"], error["msg"])
        if key in seen:
            continue
        seen.add(key)
        kept.append(_diagnostic(cls, doc, path, error))
    return kept


def _locate(data: Any, error: dict) -> tuple[YamlPath | None, YamlPath, dict]:
    """Split a pydantic ``loc`` into the YAML path and the first union branch label."""
    path: list[str | int] = []
    union_point: YamlPath | None = None
    current = data
    for part in error["loc"]:
        if (isinstance(current, dict) and part in current) or (
            isinstance(current, list) and isinstance(part, int) and part < len(current)
        ):
            current = current[part]
            path.append(part)
        elif error["type"] in ("extra_forbidden", "missing") and part == error["loc"][-1]:
            path.append(part)
        elif not isinstance(current, (dict, list)) and error["type"] == "value_error":
            break  # a shorthand scalar (`col: type`) validated as its long form: blame the scalar
        elif union_point is None:
            union_point = tuple(path)
    return union_point, tuple(path), error


def _diagnostic(cls: type[BaseModel], doc: YamlDocument, path: YamlPath, error: dict) -> Diagnostic:
    kind = error["type"]
    dotted = ".".join(str(p) for p in path)
    if kind == "extra_forbidden":
        key = str(path[-1])
        allowed = _allowed_keys(cls, error["loc"][:-1])
        hint = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        message = f"unknown key '{key}'"
        if hint:
            message += f" (did you mean '{hint[0]}'?)"
        elif allowed:
            message += f"; allowed keys: {', '.join(sorted(allowed))}"
        # a key that stands for a scalar (a data test's name alone, ``- uniq``): the scalar
        where = doc.location(path, key=True) if tuple(path) in doc.key_positions else doc.location(path)
        return Diagnostic("SG101", message, where)
    if kind == "missing":
        parent = path[:-1]
        return Diagnostic("SG103", f"missing required key '{path[-1]}'", _mapping_start(doc, parent))
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return _tag_diagnostic(doc, path, error)
    if kind == "string_pattern_mismatch" and error.get("ctx", {}).get("pattern") == SIMPLE_NAME_PATTERN:
        return Diagnostic(
            "SG104",
            f"{dotted}: '{error['input']}' is not a valid name: use letters, digits and underscores, "
            "not starting with a digit",
            doc.location(path),
        )
    message = error["msg"]
    message = message[0].lower() + message[1:] if message else "invalid value"
    if message.startswith("value error, "):
        message = message[len("value error, ") :]
    return Diagnostic("SG102", f"{dotted or 'file'}: {message}", doc.location(path))


def _tag_diagnostic(doc: YamlDocument, path: YamlPath, error: dict) -> Diagnostic:
    """A block told apart by a key (``incremental: {strategy: ...}``) without a known value there."""
    key = error["ctx"]["discriminator"].strip("'")
    if error["type"] == "union_tag_not_found":
        return Diagnostic("SG103", f"missing required key '{key}'", _mapping_start(doc, path))
    dotted = ".".join(str(p) for p in (*path, key))
    message = f"{dotted}: expected one of {error['ctx']['expected_tags']}, got '{error['ctx']['tag']}'"
    return Diagnostic("SG102", message, doc.location((*path, key)))


def _mapping_start(doc: YamlDocument, path: YamlPath) -> Location:
    if path and path in doc.key_positions:
        return doc.location(path, key=True)
    return doc.location(path)


def _allowed_keys(cls: type[BaseModel], loc: tuple) -> list[str]:
    candidates = _models_at(cls, loc)
    keys: set[str] = set()
    for model in candidates:
        for name, info in model.model_fields.items():
            keys.add(info.alias or name)
    return sorted(keys)


def _models_at(cls: type[BaseModel], loc: tuple) -> list[type[BaseModel]]:
    """The model classes that a pydantic ``loc`` points into (following union labels)."""
    current: list[Any] = [cls]
    for part in loc:
        following: list[Any] = []
        for node in current:
            following.extend(_step(node, part))
        current = following
    return [c for c in _flatten(current) if isinstance(c, type) and issubclass(c, BaseModel)]


def _step(node: Any, part: Any) -> list[Any]:
    options = _flatten([node])
    result: list[Any] = []
    for option in options:
        if isinstance(option, type) and issubclass(option, BaseModel):
            field = _field_by_key(option, part)
            if field is not None:
                result.append(field.annotation)
            elif option.__name__ == part or _discriminator_matches(option, part):
                result.append(option)
        else:
            origin = typing.get_origin(option)
            if origin in (list, tuple) and isinstance(part, int):
                result.extend(typing.get_args(option)[:1])
            elif origin is dict:
                result.extend(typing.get_args(option)[1:2])
    return result


def _field_by_key(model: type[BaseModel], key: Any):
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info
    return None


def _discriminator_matches(model: type[BaseModel], tag: Any) -> bool:
    field = model.model_fields.get("strategy")
    return field is not None and tag in typing.get_args(field.annotation)


def _flatten(nodes: list[Any]) -> list[Any]:
    out: list[Any] = []
    for node in nodes:
        origin = typing.get_origin(node)
        if origin is typing.Annotated:
            out.extend(_flatten([typing.get_args(node)[0]]))
        elif origin in (typing.Union, types.UnionType):
            out.extend(_flatten(list(typing.get_args(node))))
        else:
            out.append(node)
    return out
