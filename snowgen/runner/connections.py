"""Connections for ``snowgen run``: find the dialect whose URL scheme a database URL uses
(each dialect module declares its schemes and how to connect), and run statements."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from snowgen.dialects import DIALECTS, Dialect, Unsupported, get_dialect
from snowgen.errors import SnowgenError


@dataclass
class Connection:
    dialect: Dialect
    url: str
    driver: Any

    def execute(self, statement: str) -> None:
        self.driver.execute(statement)

    def query(self, statement: str) -> list[tuple]:
        return list(self.driver.execute(statement).fetchall())

    def recover(self) -> None:
        """After a failed statement: end the transaction the script opened, so the
        connection, and a later run, start clean."""
        try:
            self.driver.execute("ROLLBACK")
        except Exception:  # noqa: BLE001 - no transaction was open
            pass

    def close(self) -> None:
        self.driver.close()


def dialect_for_url(url: str) -> Dialect:
    scheme = "duckdb" if "://" not in url and url.endswith((".duckdb", ".db")) else urlparse(url).scheme
    for name, cls in DIALECTS.items():
        if scheme in cls.url_schemes:
            return get_dialect(name)
    schemes = sorted(s for cls in DIALECTS.values() for s in cls.url_schemes)
    raise SnowgenError.at("SG405", f"cannot run on '{url}': use one of the URL schemes {', '.join(schemes)}")


def connect(url: str, base: Path) -> Connection:
    """Open ``url``; a relative DuckDB path is relative to ``base`` (the project)."""
    dialect = dialect_for_url(url)
    try:
        return Connection(dialect, url, dialect.connect(url, base))
    except Unsupported as exc:
        raise SnowgenError.at("SG405", f"{dialect.name} {exc}") from None
