"""The connection settings a warehouse connector reads: the target's settings (already
resolved: environment variables read) and the URL's query parameters, one mapping of known
keys. A key that is misspelt, or a value of the wrong kind, is SG405 naming the key; a
secret's value is never repeated in a message."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from snowgen.errors import SnowgenError

TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")


@dataclass(frozen=True)
class ConnectorSettings:
    """The settings of one connection, by key; ``secrets`` are keys whose values are never shown."""

    warehouse: str
    values: Mapping[str, Any]
    secrets: tuple[str, ...] = ()

    @classmethod
    def merged(
        cls,
        warehouse: str,
        accepted: Iterable[str],
        target: Mapping[str, Any],
        from_url: Mapping[str, Any],
        secrets: tuple[str, ...] = (),
    ) -> ConnectorSettings:
        """The target's settings, then the URL's parameters over them (a URL given with
        ``--db`` is the more specific)."""
        accepted = tuple(accepted)
        values = {**target, **from_url}
        unknown = sorted(key for key in values if key not in accepted)
        if unknown:
            raise SnowgenError.at(
                "SG405",
                f"{warehouse}: unknown connection setting '{unknown[0]}'; the settings are {', '.join(accepted)}",
            )
        return cls(warehouse, values, secrets)

    def text(self, key: str) -> str | None:
        value = self.values.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise self._wrong(key, "a text")
        return str(value)

    def flag(self, key: str) -> bool:
        value = self.values.get(key, False)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in TRUE_WORDS + FALSE_WORDS:
            return value.lower() in TRUE_WORDS
        raise self._wrong(key, "true or false")

    def number(self, key: str) -> float | None:
        """A positive number (seconds, bytes, ...), or None when not set."""
        value = self.values.get(key)
        if value is None or value == "":
            return None
        try:
            number = float(value) if not isinstance(value, bool) else -1.0
        except (TypeError, ValueError):
            number = -1.0
        if not number > 0:
            raise self._wrong(key, "a positive number")
        return number

    def whole_number(self, key: str) -> int | None:
        number = self.number(key)
        if number is not None and number != int(number):
            raise self._wrong(key, "a whole number")
        return None if number is None else int(number)

    def mapping(self, key: str) -> dict[str, str]:
        """A mapping (from a target), or ``k1:v1,k2:v2`` (from a URL)."""
        value = self.values.get(key)
        if value is None or value == "":
            return {}
        if isinstance(value, Mapping):
            return {str(k): "" if v is None else str(v) for k, v in value.items()}
        if isinstance(value, str) and all(":" in pair for pair in value.split(",")):
            return dict(tuple(part.strip() for part in pair.split(":", 1)) for pair in value.split(","))
        raise self._wrong(key, "a mapping, or key:value pairs separated by commas")

    def _wrong(self, key: str, kind: str) -> SnowgenError:
        shown = "" if key in self.secrets else f", not {self.values.get(key)!r}"
        return SnowgenError.at("SG405", f"{self.warehouse}: the connection setting {key} must be {kind}{shown}")
