"""The BigQuery and Spark Connect connectors of ``snowgen run`` when something is wrong: a
client that is not installed names the extra, a server out of reach is SG405 with the URL's
secrets masked, a failing step is SG408 naming it; and the pieces they are made of (settings,
labels, rows written)."""

from __future__ import annotations

import re
import socket
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from support import generator
from support.warehouse_runs import bigquery_url, bridge_bigquery, bridge_sail, spark_url

from snowgen import api
from snowgen.cli import main
from snowgen.errors import SnowgenError
from snowgen.runner.bigquery_client import BigQueryDriver, label_key, label_value
from snowgen.runner.connections import connect
from snowgen.runner.connectors import display_url, without_password
from snowgen.runner.spark_client import rows_written
from snowgen.spec.loader import load_project

PROJECT = str(generator.SHIPPED_PROJECT)
SECRET = "dapi-s3cr3t/token"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def opening_error(url: str, settings: dict | None = None) -> str:
    with pytest.raises(SnowgenError) as caught:
        connect(url, Path("."), settings or {})
    return caught.value.format()


@pytest.mark.parametrize(
    ("url", "module", "extra"),
    [("bigquery://p", "google.cloud.bigquery", "bigquery"), ("sc://localhost:15002", "pyspark.errors", "databricks")],
)
def test_a_missing_client_names_the_extra(monkeypatch, url, module, extra):
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    assert f"pip install 'snowgen[{extra}]'" in opening_error(url)


def test_a_workspace_url_without_databricks_connect_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "databricks.connect", None)
    message = opening_error(f"databricks://token:{quote(SECRET, safe='')}@adb-1.azuredatabricks.net?cluster_id=c1")
    assert "SG405" in message and "databricks-connect" in message and SECRET not in message


def test_bigquery_out_of_reach_is_sg405_naming_the_url():
    url = f"bigquery://p1?api_endpoint=http://127.0.0.1:{closed_port()}&anonymous=true&connect_timeout=1"
    message = opening_error(url)
    assert message.startswith(f"snowgen: SG405 cannot connect to {url}: ") and "Connection refused" in message


def test_spark_connect_out_of_reach_is_sg405_with_the_token_masked():
    port = closed_port()
    message = opening_error(f"sc://127.0.0.1:{port}/;token={SECRET};user_id=me", {"connect_timeout": 1})
    assert message.startswith(f"snowgen: SG405 cannot connect to sc://127.0.0.1:{port}/;token=***;user_id=me: ")
    assert SECRET not in message and "token" in message


def test_a_token_from_the_settings_is_never_shown():
    message = opening_error(f"sc://127.0.0.1:{closed_port()}", {"token": SECRET, "connect_timeout": 1})
    assert "SG405" in message and SECRET not in message


@pytest.mark.parametrize(
    ("url", "settings", "expected"),
    [
        ("bigquery://p?locaton=EU", {}, "bigquery: unknown connection setting 'locaton'; the settings are project, "),
        ("bigquery://p", {"job_timeout": "soon"}, "bigquery: the connection setting job_timeout must be a positive number, not 'soon'"),
        ("bigquery://p", {"anonymous": "maybe"}, "bigquery: the connection setting anonymous must be true or false"),
        ("sc://h:1", {"cluster_id": "c1"}, "spark connect: unknown connection setting 'cluster_id'"),
        ("databricks://h", {"token": 7, "serverless": "perhaps"}, "databricks workspace: the connection setting serverless must be true or false"),
    ],
)  # fmt: skip
def test_a_wrong_setting_is_sg405_naming_it(url, settings, expected):
    assert opening_error(url, settings).startswith(f"snowgen: SG405 {expected}")


def test_a_wrong_secret_setting_does_not_repeat_its_value():
    message = opening_error("databricks://h", {"token": ["a", SECRET]})
    assert "the connection setting token must be a text" in message and SECRET not in message


def test_display_url_masks_the_secrets_of_warehouse_urls():
    assert display_url(f"sc://h:443/;token={SECRET};use_ssl=true") == "sc://h:443/;token=***;use_ssl=true"
    in_user_part = quote(SECRET, safe="")  # a / in a URL's password is written %2F
    assert display_url(f"databricks://token:{in_user_part}@h?cluster_id=c") == "databricks://token:***@h?cluster_id=c"
    assert display_url("bigquery://p/d?location=EU") == "bigquery://p/d?location=EU"
    assert without_password(f"no {SECRET} here", f"sc://h/;token={SECRET}") == "no *** here"


def test_labels_follow_bigquerys_rules():
    assert label_value("Snowplow Web.Step#1") == "snowplow_web_step_1"
    assert label_value("x" * 100) == "x" * 63
    assert label_key("1st Team") == "l_1st_team"


class _Row:
    def __init__(self, **values):
        self.values = values

    def asDict(self):
        return self.values


def test_rows_written_are_spark_num_affected_rows():
    merge = _Row(num_affected_rows=3, num_updated_rows=1, num_deleted_rows=0, num_inserted_rows=2)
    assert rows_written([merge]) == 3
    assert rows_written([]) is None and rows_written([_Row(result=True)]) is None


def run_cli(url: str):
    return CliRunner().invoke(
        main, ["run", "--project", PROJECT, "--db", url, "--vars", '{"start_date": "2024-03-01"}']
    )


def assert_step_failed(result, reason: str) -> None:
    assert result.exit_code == 1, result.output
    assert re.search(r"^snowgen: SG408 step \w+ failed \(\S+\.sql\):$", result.stderr, re.M), result.stderr
    assert re.search(reason, result.stderr), result.stderr
    assert "Traceback" not in result.output


def test_a_failing_bigquery_step_is_sg408_with_the_jobs_message(bigquery_db, monkeypatch):
    """No source tables: the first step that reads the events fails, as one script job."""
    bridge_bigquery(monkeypatch)
    result = run_cli(bigquery_url(bigquery_db))
    assert_step_failed(result, r"atomic.*\(job snowgen_[\w-]+\)")


def test_a_failing_spark_step_is_sg408_with_sparks_message(databricks_db, monkeypatch):
    bridge_sail(monkeypatch)
    result = run_cli(spark_url(databricks_db))
    assert_step_failed(result, r"(?i)not found.*events")


def test_every_bigquery_job_of_a_run_carries_its_labels(bigquery_db, monkeypatch):
    """The labels as the emulator echoes each inserted job (it keeps none to list later);
    the run stops at the first step that reads the missing events."""
    from google.cloud import bigquery

    jobs = []
    send = bigquery.Client.query

    def recording(client, *args, **kwargs):
        jobs.append(send(client, *args, **kwargs))
        return jobs[-1]

    monkeypatch.setattr(bigquery.Client, "query", recording)
    bridge_bigquery(monkeypatch)
    prepared = api.prepare_run(
        load_project(Path(PROJECT)), api.RunOptions(db=bigquery_url(bigquery_db) + "&labels=Team:Web")
    )
    with api.run_session(prepared) as session, pytest.raises(api.StepFailed) as failed:
        list(session.steps())
    ran = [job for job in jobs if not job.dry_run]
    steps = [step.id for step in prepared.steps]
    labelled = list(
        dict.fromkeys(job.labels["snowgen_step"] for job in ran)
    )  # a step's script, and the queries after it
    assert labelled == steps[: steps.index(failed.value.step.id) + 1]
    assert {job.labels["snowgen_project"] for job in ran} == {"snowplow_web"}
    assert {job.labels["team"] for job in ran} == {"web"} and len({job.labels["snowgen_run"] for job in ran}) == 1


class _Job:
    def __init__(self, statement_type: str, rows: int | None = None, children: int = 0):
        self.statement_type, self.num_dml_affected_rows, self.num_child_jobs = statement_type, rows, children
        self.job_id = "j1"

    def result(self):
        return []


class _Client:
    """What BigQuery answers for a script whose child jobs report their rows (bqemulator
    keeps no child jobs, so this part cannot run there)."""

    def __init__(self, job: _Job, children: list[_Job]):
        self.job, self.children = job, children

    def query(self, script, job_config, job_id_prefix):
        return self.job

    def list_jobs(self, parent_job):
        assert parent_job is self.job
        return iter(self.children)


@pytest.mark.parametrize(
    ("job", "children", "rows"),
    [
        (_Job("SCRIPT", children=3), [_Job("MERGE", 2), _Job("SELECT"), _Job("DELETE", 5)], 7),
        (_Job("SCRIPT", children=1), [_Job("CREATE_TABLE_AS_SELECT")], None),
        (_Job("SCRIPT"), [], None),
        (_Job("INSERT", 4), [], 4),
    ],
)
def test_a_bigquery_step_reports_the_rows_its_child_jobs_wrote(job, children, rows):
    assert BigQueryDriver(_Client(job, children), {}, None).execute("...") == rows
