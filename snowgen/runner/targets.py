"""A target's connection at run time: its ``db`` and connection settings with every
``{{ env_var('NAME') }}`` read from the environment (never at compile time), and the values
read that way registered as secrets (snowgen.masking).

One rule names the database of a target: its ``db`` if it has one; else, when it has
connection settings, ``<scheme>://`` of its dialect (``snowflake://``, ``redshift://``, the
first of ``Dialect.url_schemes``), the settings saying the rest; else the project's DuckDB
file. A URL's own parts and query parameters are settings as well, and win over the target's
(snowgen.runner.url_settings).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from snowgen.dialects import get_dialect
from snowgen.errors import Location, SnowgenError
from snowgen.masking import is_secret_key, register
from snowgen.spec.env_vars import EnvReference, has_reference, parts
from snowgen.spec.loader import LoadedProject
from snowgen.spec.models import TargetSpec


def target_spec(loaded: LoadedProject, target: str) -> TargetSpec:
    spec = loaded.spec.targets.get(target)
    if spec is None:
        raise SnowgenError.at("SG303", f"unknown target '{target}'", loaded.doc.location(("targets",), key=True))
    return spec


def target_url(loaded: LoadedProject, target: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The target's database URL by the rule above (None: it names no database)."""
    spec = target_spec(loaded, target)
    if spec.db:
        return resolved(spec.db, loaded, target, ("db",), environ)
    if spec.connection:
        schemes = get_dialect(spec.dialect).url_schemes
        if not schemes:
            raise SnowgenError.at(
                "SG405",
                f"{spec.dialect} has no connector for snowgen run yet; run the compiled files with your scheduler",
            )
        return f"{schemes[0]}://"
    return None


def target_settings(
    loaded: LoadedProject, target: str | None, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The target's connection settings, environment variables read (none without a target)."""
    if target is None:
        return {}
    settings: dict[str, Any] = {}
    for key, value in target_spec(loaded, target).connection.items():
        if isinstance(value, dict):
            settings[key] = {
                inner: resolved(v, loaded, target, ("connection", key, inner), environ) for inner, v in value.items()
            }
        else:
            settings[key] = resolved(value, loaded, target, ("connection", key), environ)
    return settings


def resolved(
    value: Any, loaded: LoadedProject, target: str, setting: tuple[str, ...], environ: Mapping[str, str] | None
) -> Any:
    """``value`` with its env_var references read; a variable that is not set (and has no
    default) is SG304 at the value, naming the variable."""
    if not isinstance(value, str) or not has_reference(value):
        return value
    environ = os.environ if environ is None else environ
    text = []
    for part in parts(value):
        if not isinstance(part, EnvReference):
            text.append(part)
            continue
        found = environ.get(part.name)
        if found is None and part.default is None:
            raise _not_set(part.name, target, setting, loaded.target_places.of(target, setting))
        if found is not None:  # a default is written in the project: not a secret
            register(found, secret=is_secret_key(setting[-1]))
        text.append(found if found is not None else part.default or "")
    return "".join(text)


def _not_set(name: str, target: str, setting: tuple[str, ...], where: Location | None) -> SnowgenError:
    dotted = ".".join(("targets", target, *setting))
    return SnowgenError.at(
        "SG304",
        f"{dotted}: the environment variable {name} is not set; set it, or give a default: "
        f"{{{{ env_var('{name}', 'default') }}}}",
        where,
    )
