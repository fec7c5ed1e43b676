"""A database URL as it may be printed, and a driver's message without the URL's secrets."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

#: URL parameters that hold a secret: a query's ``?password=``, Spark Connect's ``;token=``
SECRET_PARAMETERS = ("password", "token")


def display_url(url: str) -> str:
    """``url`` as it may be printed: the password (in the user part, a ``password`` or
    ``token`` parameter, or Spark Connect's ``;token=``) replaced by ``***``."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # not a URL that urllib can split (a bad IPv6 host): show no detail
        return url.split("://", 1)[0] + "://..." if "://" in url else "the database"
    query = parse_qsl(parts.query, keep_blank_values=True)
    path = _masked_path_parameters(parts.path)
    if password is None and path == parts.path and all(key not in SECRET_PARAMETERS for key, _ in query):
        return url  # as typed (urlunsplit would drop the empty host of duckdb:///file)
    if password is not None:
        user_info, host = parts.netloc.rsplit("@", 1)
        parts = parts._replace(netloc=f"{user_info.split(':', 1)[0]}:***@{host}")
    hidden = [(k, "***" if k in SECRET_PARAMETERS else v) for k, v in query]
    parts = parts._replace(path=path, query=urlencode(hidden, safe="*", quote_via=quote))
    return urlunsplit(parts)


def _masked_path_parameters(path: str) -> str:
    """Spark Connect keeps its parameters in the path: ``sc://host:port/;token=...;user_id=...``."""
    head, *parameters = path.split(";")
    return ";".join([head, *(_masked_parameter(p) for p in parameters)])


def _masked_parameter(parameter: str) -> str:
    key, equals, _ = parameter.partition("=")
    return f"{key}=***" if equals and key in SECRET_PARAMETERS else parameter


def _secrets_of(url: str) -> list[str]:
    parts = urlsplit(url)
    in_query = [v for k, v in parse_qsl(parts.query) if k in SECRET_PARAMETERS]
    in_path = [p.partition("=")[2] for p in parts.path.split(";")[1:] if p.partition("=")[0] in SECRET_PARAMETERS]
    return [parts.password or "", *in_query, *in_path]


def without_password(message: str, url: str) -> str:
    """``message`` with every spelling of the URL's secrets blanked out (drivers may quote
    the connection string back)."""
    try:
        secrets = _secrets_of(url)
    except ValueError:
        return message
    for secret in secrets:
        for spelling in {secret, unquote(secret)} - {""}:
            message = message.replace(spelling, "***")
    return message
