"""``{{ env_var('NAME') }}`` and ``{{ env_var('NAME', 'default') }}`` in a target's connection
settings and ``db`` (dbt's spelling). The spec checks the spelling when it is loaded; the
runner reads the environment when it connects (snowgen.runner.targets), never the compiler.
Nothing else may stand between ``{{`` and ``}}``: these are not Jinja templates."""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_QUOTED = r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\""
#: one reference: env_var('NAME') or env_var('NAME', 'default'), either quote
REFERENCE = re.compile(
    rf"\{{\{{\s*env_var\(\s*(?P<q>['\"])(?P<name>{_NAME})(?P=q)\s*(?:,\s*(?P<default>{_QUOTED})\s*)?\)\s*\}}\}}"
)
_OPENING = re.compile(r"\{\{|\}\}")


@dataclass(frozen=True)
class EnvReference:
    name: str
    default: str | None  # None: the variable must be set


def parts(text: str) -> tuple[str | EnvReference, ...]:
    """``text`` cut into its literal pieces and references, in order; ValueError when a
    ``{{ }}`` in it is not an env_var reference."""
    pieces: list[str | EnvReference] = []
    position = 0
    for found in REFERENCE.finditer(text):
        pieces.append(_literal(text[position : found.start()]))
        default = found.group("default")
        pieces.append(EnvReference(found.group("name"), None if default is None else _unquote(default)))
        position = found.end()
    pieces.append(_literal(text[position:]))
    return tuple(p for p in pieces if p != "")


def has_reference(text: str) -> bool:
    return REFERENCE.search(text) is not None


def is_only_reference(text: str) -> bool:
    """The whole value is one env_var reference (what a secret in the project file must be)."""
    return REFERENCE.fullmatch(text.strip()) is not None


def check_value(text: str) -> str:
    """A pydantic validator: the value's ``{{ }}`` are env_var references."""
    parts(text)
    return text


def _literal(piece: str) -> str:
    if _OPENING.search(piece):
        raise ValueError(
            "only {{ env_var('NAME') }} or {{ env_var('NAME', 'default') }} may stand between {{ and }} "
            "(a name of letters, digits and _, in quotes)"
        )
    return piece


def _unquote(quoted: str) -> str:
    return re.sub(r"\\(.)", r"\1", quoted[1:-1])
