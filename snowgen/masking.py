"""Secrets never printed: every secret snowgen handles is registered once and shown as ``***``.

What is registered: a URL's password (in the user part or a ``password`` parameter), every
connection setting whose key names a secret (:func:`is_secret_key`: passwords, tokens,
private keys and their passphrases, client secrets), and every value a target read from an
environment variable through ``env_var``. :func:`mask` replaces each with ``***`` (also its
URL-encoded and decoded spellings). It runs where messages are made (SnowgenError, a failed
step) and once more where everything passes: the command line's output streams
(:func:`masked_streams`), so a driver's error, a warning or a log line that quotes a
connection string back is masked too.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO
from urllib.parse import quote, unquote

MASK = "***"

#: words that make a setting a secret wherever they stand in its key (``client_secret``,
#: ``private_key_file_pwd``, ``aws_secret_access_key``, ``refresh_token``)
SECRET_WORDS = frozenset({"password", "passwd", "pwd", "passphrase", "token", "secret", "credentials"})
#: keys whose value is a key or credentials themselves (a path to them, like
#: ``private_key_file``, is not a secret)
SECRET_KEYS = frozenset({"private_key", "keyfile_json", "service_account_info"})

#: a value from the environment shorter than this is not masked unless its key is a secret
#: (masking every "1" or "on" would garble the output and hide nothing)
SHORTEST_MASKED_VALUE = 4

#: one set per scope (a command, or the process); mask() uses them all
_scopes: list[set[str]] = [set()]


def is_secret_key(key: str) -> bool:
    """Whether a connection setting named ``key`` holds a secret."""
    lowered = key.lower()
    words = set(lowered.replace("-", "_").split("_"))
    return bool(words & SECRET_WORDS) or lowered in SECRET_KEYS


def register(value: Any, *, secret: bool = True) -> None:
    """Mask ``value`` in everything printed from now on. ``secret=False``: a value that is
    masked because of where it came from (the environment), if it is long enough."""
    if not isinstance(value, str) or not value:
        return
    if not secret and len(value) < SHORTEST_MASKED_VALUE:
        return
    _scopes[-1].update({value, unquote(value), quote(value, safe="")} - {""})


def register_settings(settings: dict[str, Any]) -> None:
    """Every value of ``settings`` whose key names a secret (nested mappings too)."""
    for key, value in settings.items():
        if isinstance(value, dict):
            register_settings(value)
        elif is_secret_key(key):
            register(str(value))


def mask(text: str) -> str:
    """``text`` with every registered secret replaced by ``***`` (longest first, so a secret
    that contains another is masked whole)."""
    secrets = set().union(*_scopes)
    for secret in sorted(secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


@contextmanager
def secrets_scope() -> Iterator[None]:
    """Secrets registered inside are forgotten at the end (one command run in-process)."""
    _scopes.append(set())
    try:
        yield
    finally:
        _scopes.pop()


class MaskedStream:
    """A text stream that masks what is written to it. It has no ``buffer``, so nothing
    (click included) can write around it."""

    def __init__(self, stream: TextIO):
        self._stream = stream

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # bytes: the wrapped text stream refuses them as usual
            return self._stream.write(text)
        self._stream.write(mask(text))
        return len(text)

    def writelines(self, lines: list[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self._stream, "encoding", "utf-8")

    @property
    def errors(self) -> str | None:
        return getattr(self._stream, "errors", None)

    @property
    def wrapped(self) -> TextIO:
        return self._stream


@contextmanager
def masked_streams() -> Iterator[None]:
    """sys.stdout and sys.stderr masked for the duration (a command: its progress, results,
    errors, warnings and the logs of the database clients all pass here), in a scope of its
    own."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = MaskedStream(sys.stdout), MaskedStream(sys.stderr)
    try:
        with secrets_scope():
            yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = saved
