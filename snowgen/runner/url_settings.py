"""A database URL's query parameters as connection settings.

``snowflake://user@account/db/schema?warehouse=W&role=R&login_timeout=30`` passes
``warehouse``, ``role`` and ``login_timeout`` on to the client as keyword arguments, so the
URL alone can point a real client at any server (the tests point them at local ones). A
query value is text, except that ``true``/``false`` become booleans and whole numbers become
integers (timeouts, ports), as the clients expect; a secret's value (snowgen.masking) always
stays text. The URL's settings win over the target's, as the command line's do.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from snowgen.masking import is_secret_key
from snowgen.runner.url_display import display_url

_INTEGER = re.compile(r"^-?[0-9]+$")


def query_settings(url: str) -> dict[str, Any]:
    """The URL's query parameters, typed as above (the last of a repeated key wins)."""
    return {key: typed_value(key, value) for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True)}


def typed_value(key: str, text: str) -> Any:
    if is_secret_key(key):
        return text
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if _INTEGER.match(text) and not (len(text) > 1 and text.lstrip("-").startswith("0")):
        return int(text)  # "007" stays text: an identifier, not a number
    return text


def user_and_password(url: str) -> dict[str, str]:
    """The URL's user and password, percent-decoded (what is given)."""
    parts = urlsplit(url)
    found = {}
    if parts.username:
        found["user"] = unquote(parts.username)
    if parts.password is not None:
        found["password"] = unquote(parts.password)
    return found


def path_names(url: str) -> list[str]:
    """The URL's path as names: ``/database/schema`` -> ['database', 'schema']."""
    return [unquote(part) for part in urlsplit(url).path.split("/") if part]


def host_text(url: str) -> str:
    """The URL's host as written (``urlsplit().hostname`` folds it to lower case), without
    the user part and the port."""
    host = urlsplit(url).netloc.rsplit("@", 1)[-1]
    if host.startswith("["):  # an IPv6 address
        return host.split("]", 1)[0] + "]"
    return unquote(host.split(":", 1)[0])


def described(url: str, arguments: dict[str, Any], host_key: str) -> str:
    """The database as messages name it: the URL without its password, or, for a URL of a
    scheme alone (``snowflake://``), the same form made of the settings (never a secret)."""
    parts = urlsplit(url)
    if parts.netloc or not parts.scheme:
        return display_url(url)
    user = f"{arguments['user']}@" if arguments.get("user") else ""
    port = f":{arguments['port']}" if arguments.get("port") else ""
    database = f"/{arguments['database']}" if arguments.get("database") else ""
    return f"{parts.scheme}://{user}{arguments.get(host_key, '')}{port}{database}"
