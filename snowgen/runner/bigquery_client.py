"""``snowgen run`` on BigQuery, through google-cloud-bigquery (``pip install 'snowgen[bigquery]'``).

Each step's file goes as ONE query job, a multi-statement script: its DECLARE/SET variables
live for one script
(https://cloud.google.com/bigquery/docs/reference/standard-sql/procedural-language). Every job
runs in the connection's location and carries labels: the user's, ``snowgen_project``,
``snowgen_step`` and ``snowgen_run`` (one value for all the jobs of a run), so that
INFORMATION_SCHEMA.JOBS finds a run's jobs and their cost
(https://cloud.google.com/bigquery/docs/labels-intro#requirements).

URL ``bigquery://PROJECT[/DATASET][?location=EU&...]`` (the form sqlalchemy-bigquery reads);
its query parameters and the target's settings are the same keys, :data:`SETTINGS`.
Credentials: a service-account key file (``keyfile``), else Application Default Credentials
(``gcloud auth application-default login``, a VM's service account, ...), optionally
impersonating a service account; ``anonymous`` sends none (a local emulator, with
``api_endpoint``).
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from sqlglot import exp

from snowgen.errors import SnowgenError
from snowgen.runner.connector_settings import ConnectorSettings
from snowgen.runner.driver import Driver, OpenDatabase, Settings, first_line
from snowgen.runner.url_display import display_url

#: the keys of a target's settings and of the URL's query, and what each does
SETTINGS = {
    "project": "the project that runs (and pays for) the jobs; the URL's host",
    "dataset": "the default dataset of unqualified names; the URL's path",
    "location": "where the jobs run (EU, US, europe-west1, ...)",
    "labels": "labels of every job, besides snowgen's own (a mapping; key:value,... in a URL)",
    "keyfile": "a service-account JSON key file (relative: to the project folder)",
    "impersonate_service_account": "run as this service account (needs the Token Creator role)",
    "anonymous": "send no credentials (a local emulator)",
    "api_endpoint": "the API's address (a local emulator), e.g. http://127.0.0.1:9050",
    "job_timeout": "seconds after which BigQuery cancels a step's job",
    "maximum_bytes_billed": "a job that would bill more bytes fails instead",
    "connect_timeout": "seconds to keep trying to reach BigQuery when opening (default 60)",
}
SCOPES = ("https://www.googleapis.com/auth/bigquery", "https://www.googleapis.com/auth/cloud-platform")
DEFAULT_CONNECT_TIMEOUT = 60.0
#: BigQuery's label rules: lowercase letters, digits, _ and -, at most 63 characters, a key
#: starting with a letter
LABEL_LENGTH = 63
_NOT_IN_A_LABEL = re.compile(r"[^a-z0-9_-]")
INSTALL_HINT = "BigQuery needs google-cloud-bigquery to run: pip install 'snowgen[bigquery]'"


class BigQueryJobFailed(Exception):
    """A job that BigQuery ran and failed: its message (first line) and the job's id."""


def label_value(text: str) -> str:
    """``text`` as a label value: lowercase, other characters as ``_``, at most 63 long."""
    return _NOT_IN_A_LABEL.sub("_", text.lower())[:LABEL_LENGTH]


def label_key(text: str) -> str:
    value = label_value(text)
    return value if value[:1].isalpha() else label_value(f"l_{value}")


def run_label() -> str:
    """One value for every job of a run: its UTC start and a random part (two runs that
    start in the same second differ)."""
    return f"{time.strftime('%Y%m%dt%H%M%Sz', time.gmtime())}-{secrets.token_hex(3)}"


class BigQueryDriver(Driver):
    def __init__(self, client: Any, labels: dict[str, str], job_timeout: float | None):
        super().__init__(client)
        self.client = client
        self.labels = {**labels, "snowgen_run": run_label()}
        self.job_timeout = job_timeout

    def starting_step(self, project: str, step: str) -> None:
        self.labels = {**self.labels, "snowgen_project": label_value(project), "snowgen_step": label_value(step)}

    def same_run_as(self, other: Driver) -> None:
        """The jobs of every connection of a run carry one ``snowgen_run`` label."""
        if isinstance(other, BigQueryDriver):
            self.labels = {**self.labels, "snowgen_run": other.labels["snowgen_run"]}

    def execute(self, statement: str) -> int | None:
        """One script job; the rows its DML statements wrote where BigQuery says."""
        job = self._run(statement)
        if job.statement_type != "SCRIPT":
            return job.num_dml_affected_rows
        if not job.num_child_jobs:
            return None
        children = self.client.list_jobs(parent_job=job)
        written = [getattr(child, "num_dml_affected_rows", None) for child in children]
        known = [rows for rows in written if rows is not None]
        return sum(known) if known else None

    def query(self, statement: str) -> list[tuple]:
        return [tuple(row.values()) for row in self._run(statement).result()]

    def rollback(self) -> None:
        """Nothing to do: BigQuery rolls back a transaction that a failed script left open."""

    def close(self) -> None:
        self.client.close()

    def _run(self, script: str) -> Any:
        from google.api_core.exceptions import GoogleAPICallError
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(labels=dict(self.labels))
        if self.job_timeout is not None:
            config.job_timeout_ms = int(self.job_timeout * 1000)
        job = None
        try:
            job = self.client.query(script, job_config=config, job_id_prefix="snowgen_")
            job.result()
        except GoogleAPICallError as exc:
            raise BigQueryJobFailed(job_failure(exc, job)) from None
        return job


def job_failure(error: Any, job: Any) -> str:
    """The job's own error message (first line), and the job to look up."""
    reported = [e.get("message", "") for e in getattr(error, "errors", None) or [] if isinstance(e, dict)]
    message = next((first_line(Exception(m)) for m in reported if m.strip()), first_line(error))
    return f"{message} (job {job.job_id})" if job is not None and job.job_id else message


@dataclass(frozen=True)
class BigQueryOptions:
    """The connection's settings, every one checked before anything connects."""

    project: str | None
    dataset: str | None
    location: str | None
    labels: dict[str, str]
    keyfile: str | None
    impersonate_service_account: str | None
    anonymous: bool
    api_endpoint: str | None
    job_timeout: float | None
    maximum_bytes_billed: int | None
    connect_timeout: float

    @classmethod
    def read(cls, config: ConnectorSettings) -> BigQueryOptions:
        labels = {label_key(k): label_value(v) for k, v in config.mapping("labels").items()}
        return cls(
            project=config.text("project"),
            dataset=config.text("dataset"),
            location=config.text("location"),
            labels=labels,
            keyfile=config.text("keyfile"),
            impersonate_service_account=config.text("impersonate_service_account"),
            anonymous=config.flag("anonymous"),
            api_endpoint=config.text("api_endpoint"),
            job_timeout=config.number("job_timeout"),
            maximum_bytes_billed=config.whole_number("maximum_bytes_billed"),
            connect_timeout=config.number("connect_timeout") or DEFAULT_CONNECT_TIMEOUT,
        )


def open_bigquery_project(url: str, base: Path, settings: Settings) -> OpenDatabase:
    try:
        import google.cloud.bigquery  # noqa: F401 - the client this connector needs
        from google.api_core.exceptions import GoogleAPIError
    except ImportError:
        raise SnowgenError.at("SG405", INSTALL_HINT) from None
    options = BigQueryOptions.read(ConnectorSettings.merged("bigquery", SETTINGS, settings, url_settings(url)))
    client = make_client(url, base, options)
    reach(client, url, options.connect_timeout)
    driver = BigQueryDriver(client, options.labels, options.job_timeout)
    return OpenDatabase(driver, (BigQueryJobFailed, GoogleAPIError), whole_scripts=True)


def url_settings(url: str) -> dict[str, str]:
    """``bigquery://PROJECT/DATASET?key=value``: the project and dataset, then the parameters."""
    parts = urlsplit(url)
    found = dict(parse_qsl(parts.query, keep_blank_values=True))
    if parts.hostname:
        found["project"] = unquote(parts.netloc)  # a project id keeps its case (hostname lowers it)
    if parts.path.strip("/"):
        found["dataset"] = unquote(parts.path.strip("/"))
    return found


def make_client(url: str, base: Path, options: BigQueryOptions) -> Any:
    from google.api_core.client_options import ClientOptions
    from google.auth.exceptions import GoogleAuthError
    from google.cloud import bigquery

    try:
        credentials, default_project = credentials_of(options, base)
        project = options.project or default_project
        return bigquery.Client(
            project=project,
            credentials=credentials,
            location=options.location,
            client_options=ClientOptions(api_endpoint=options.api_endpoint) if options.api_endpoint else None,
            default_query_job_config=default_job_config(options, project),
        )
    except (GoogleAuthError, OSError, ValueError) as exc:
        raise SnowgenError.at("SG405", f"cannot connect to {display_url(url)}: {first_line(exc)}") from None


def credentials_of(options: BigQueryOptions, base: Path) -> tuple[Any, str | None]:
    """(credentials, the project they name if any)."""
    import google.auth
    from google.auth.credentials import AnonymousCredentials

    if options.anonymous:
        credentials, project = AnonymousCredentials(), None
    elif options.keyfile is not None:
        from google.oauth2 import service_account

        path = Path(options.keyfile).expanduser()
        path = path if path.is_absolute() else base / path
        credentials = service_account.Credentials.from_service_account_file(str(path), scopes=SCOPES)
        project = credentials.project_id
    else:
        credentials, project = google.auth.default(scopes=SCOPES)
    if options.impersonate_service_account is not None:
        from google.auth import impersonated_credentials

        credentials = impersonated_credentials.Credentials(
            source_credentials=credentials,
            target_principal=options.impersonate_service_account,
            target_scopes=list(SCOPES),
        )
    return credentials, project


def default_job_config(options: BigQueryOptions, project: str | None) -> Any:
    from google.cloud import bigquery

    job_config = bigquery.QueryJobConfig()
    dataset = options.dataset
    if dataset is not None:
        job_config.default_dataset = dataset if "." in dataset or project is None else f"{project}.{dataset}"
    if options.maximum_bytes_billed is not None:
        job_config.maximum_bytes_billed = options.maximum_bytes_billed
    return job_config


def reach(client: Any, url: str, timeout: float) -> None:
    """A dry run of ``SELECT 1`` (free): the credentials, the project and the API answer,
    or SG405 before any step runs."""
    from google.api_core.exceptions import GoogleAPIError
    from google.auth.exceptions import GoogleAuthError
    from google.cloud import bigquery
    from google.cloud.bigquery.retry import DEFAULT_RETRY

    probe = exp.select(exp.Literal.number(1)).sql("bigquery")
    try:
        client.query(
            probe,
            job_config=bigquery.QueryJobConfig(dry_run=True),
            retry=DEFAULT_RETRY.with_timeout(timeout),
            timeout=timeout,  # each request's own
            job_retry=None,  # a dry run has no job to retry
        )
    except (GoogleAPIError, GoogleAuthError, OSError) as exc:
        client.close()
        message = job_failure(exc, None)
        raise SnowgenError.at("SG405", f"cannot connect to {display_url(url)}: {message}") from None
