"""Targets outside the repository: the profiles file, as dbt's profiles.yml.

``$SNOWGEN_PROFILES_DIR/profiles.yml``, else ``~/.snowgen/profiles.yml``, holds one entry per
project (by its ``project:`` name) with targets that add to or override the project file's:

    snowplow_web:
      targets:
        prod: {connection: {user: etl, password: "..."}}     # adds to the project's prod
        ci: {dialect: postgres, db: "postgresql://ci@db/ci"} # a target of its own

Over a target of the project, ``dialect`` and ``db`` replace the project's and connection
settings replace it key by key; ``vars`` and ``allow_refresh`` stay in the project (what a
target compiles and may drop is reviewed in the repository). Secrets may be written here
literally; the committed project file must read them from the environment (SG107).

The file is read with the project (stage 1); the environment variables that settings refer
to are read only when snowgen connects (snowgen.runner.targets).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from snowgen.errors import Diagnostic, Location
from snowgen.masking import is_secret_key, register
from snowgen.spec.env_vars import EnvReference, is_only_reference, parts
from snowgen.spec.models import ProfileSpec, ProjectSpec, TargetSpec
from snowgen.spec.yaml_source import YamlDocument, YamlPath, load_yaml

PROFILES_DIR_ENV = "SNOWGEN_PROFILES_DIR"
PROFILES_FILE = "profiles.yml"

#: a setting of a target: ("db",), ("connection", key) or ("connection", key, inner key)
SettingPath = tuple[str, ...]


@dataclass(frozen=True)
class TargetPlaces:
    """Where each target's ``db`` and connection settings were written (the project file or
    the profiles file), for the errors of reading them at run time."""

    places: Mapping[str, Mapping[SettingPath, Location]] = field(default_factory=dict)

    def of(self, target: str, setting: SettingPath) -> Location | None:
        return self.places.get(target, {}).get(setting)


def profiles_path() -> Path:
    folder = os.environ.get(PROFILES_DIR_ENV)
    return Path(folder) / PROFILES_FILE if folder else Path.home() / ".snowgen" / PROFILES_FILE


def with_profiles(
    project: ProjectSpec, doc: YamlDocument, validate: Any
) -> tuple[ProjectSpec, TargetPlaces, list[Diagnostic]]:
    """``project`` with the profiles file's targets merged in, where each setting came from,
    and the errors found (the project file's literal secrets too). ``validate(cls, doc, out)``
    is the loader's located pydantic validation."""
    out = list(literal_secrets(project, doc))
    places = {name: dict(_settings_at(spec, doc, ("targets", name))) for name, spec in project.targets.items()}
    path = profiles_path()
    if not path.is_file():
        if PROFILES_DIR_ENV in os.environ:  # asked for by name: a missing file is a mistake
            out.append(Diagnostic("SG003", f"no {PROFILES_FILE} in {PROFILES_DIR_ENV}={path.parent}"))
        return project, TargetPlaces(places), out
    profiles = load_yaml(path)
    if project.project not in profiles.data:
        return project, TargetPlaces(places), out
    entry = _subdocument(profiles, (project.project,))
    profile = validate(ProfileSpec, entry, out)
    if profile is None:
        return project, TargetPlaces(places), out
    targets = dict(project.targets)
    for name, override in profile.targets.items():
        merged = _merged(targets.get(name), override, entry, name, out)
        if merged is not None:
            targets[name] = merged
            places[name] = {**places.get(name, {}), **dict(_settings_at(override, entry, ("targets", name)))}
    return project.model_copy(update={"targets": targets}), TargetPlaces(places), out


def _merged(
    base: TargetSpec | None, override: Any, entry: YamlDocument, name: str, out: list[Diagnostic]
) -> TargetSpec | None:
    if base is None:
        if override.dialect is None:
            message = f"missing required key 'dialect' (target '{name}' is not in the project file)"
            out.append(Diagnostic("SG103", message, entry.location(("targets", name), key=True)))
            return None
        return TargetSpec(dialect=override.dialect, db=override.db, connection=override.connection)
    update: dict[str, Any] = {"connection": {**base.connection, **override.connection}}
    if override.dialect is not None:
        update["dialect"] = override.dialect
    if override.db is not None:
        update["db"] = override.db
    return base.model_copy(update=update)


def _settings_at(spec: Any, doc: YamlDocument, prefix: YamlPath) -> Iterator[tuple[SettingPath, Location]]:
    if spec.db is not None:
        yield ("db",), doc.location((*prefix, "db"))
    for key, value in spec.connection.items():
        yield ("connection", key), doc.location((*prefix, "connection", key))
        if isinstance(value, dict):
            for inner in value:
                yield ("connection", key, inner), doc.location((*prefix, "connection", key, inner))


def _subdocument(doc: YamlDocument, prefix: YamlPath) -> YamlDocument:
    """The part of ``doc`` under ``prefix``, with its positions (for located validation)."""

    def under(table: dict[YamlPath, Any]) -> dict[YamlPath, Any]:
        return {path[len(prefix) :]: value for path, value in table.items() if path[: len(prefix)] == prefix}

    data = doc.data
    for part in prefix:
        data = data[part]
    return YamlDocument(
        doc.path, data, under(doc.key_positions), under(doc.value_positions), under(doc.texts), doc.lines
    )


# -- secrets in the committed project file -----------------------------------------------------------


def literal_secrets(project: ProjectSpec, doc: YamlDocument) -> Iterator[Diagnostic]:
    """SG107 for each password, token or key written in the project file itself: it is
    committed, so a secret must come from the environment (``{{ env_var('NAME') }}``) or the
    profiles file. The value is registered as a secret first, so the error's source line
    shows ``***``."""
    for name, target in project.targets.items():
        for path, value in _secret_values(target):
            if _read_from_environment(value):
                continue
            register(str(value))
            yield Diagnostic("SG107", _secret_message(name, path), doc.location(("targets", name, *path)))


def _read_from_environment(value: Any) -> bool:
    """One env_var reference without a default (a default would be a secret in the file)."""
    if not isinstance(value, str) or not is_only_reference(value):
        return False
    [reference] = [p for p in parts(value.strip()) if isinstance(p, EnvReference)]
    return reference.default is None


def _secret_values(target: TargetSpec) -> Iterator[tuple[YamlPath, Any]]:
    for key, value in target.connection.items():
        if isinstance(value, dict):
            yield from ((("connection", key, k), v) for k, v in value.items() if is_secret_key(k))
        elif is_secret_key(key):
            yield ("connection", key), value
    if target.db is not None:
        yield from ((("db",), secret) for secret in _url_passwords(target.db))


def _url_passwords(url: str) -> list[str]:
    try:
        parts = urlsplit(url)
        return [p for p in [parts.password, *(v for k, v in parse_qsl(parts.query) if is_secret_key(k))] if p]
    except ValueError:
        return []


def _secret_message(target: str, path: YamlPath) -> str:
    where = ".".join(("targets", target, *map(str, path)))
    return (
        f"{where}: a password, token or key must not be written in the project file; write "
        "\"{{ env_var('NAME') }}\" and set NAME when you run, or put the value in the profiles "
        f"file ({PROFILES_DIR_ENV} or ~/.snowgen/{PROFILES_FILE})"
    )
