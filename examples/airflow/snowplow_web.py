"""The snowplow_web model on Airflow: copy this file into your dags folder.

Airflow needs snowgen beside it (``pip install 'snowgen[airflow,postgres]'`` in Airflow's
environment: the DAG file reads the plan when Airflow parses it) and the compiled plan, the
folder ``snowgen compile --dialect postgres`` writes to ``generated/snowplow_web/postgres/``,
shipped with your DAGs (or a path to it in ``SNOWGEN_PLAN``). The tasks connect through the
Airflow connection ``snowplow_warehouse`` (or the id in ``SNOWGEN_CONN_ID``): create it with
your warehouse's connection type (postgres, snowflake, redshift, duckdb, ...).

The DAG: one task per step of plan.json, in the order its ``depends_on`` give; the run lock's
acquire and the run's start as Airflow setup tasks and the release as their teardown (it runs
after a failed task too); two retries per task, which resume the run as ``snowgen run`` does.
"""

import datetime as dt
import os
from pathlib import Path

from snowgen.integrations.airflow import plan_dag

PLAN = os.environ.get("SNOWGEN_PLAN", str(Path(__file__).parent / "snowgen" / "snowplow_web" / "postgres"))
CONN_ID = os.environ.get("SNOWGEN_CONN_ID", "snowplow_warehouse")

dag = plan_dag(
    PLAN,
    conn_id=CONN_ID,
    dag_id="snowplow_web",
    schedule="@hourly",
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=5)},
)
