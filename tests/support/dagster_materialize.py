"""One ``dagster.materialize()`` of a plan's assets, in the Dagster venv (.venv-dagster,
scripts/setup-engines); started as a process by tests/test_integrations_dagster.py, which reads
the JSON this writes to ``--result``: whether the run succeeded, the assets materialized (in
order, with their metadata), the retries, and the asset graph.

``--fault`` is test set-up, named here: the user mapping is taken away in the middle of the
sessions step (support.faults, wrapping the runner's connector as the emulator bridges do),
so the first try fails with a real database error, and put back when the retry connects.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import dagster as dg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for support.faults

from snowgen import api
from snowgen.integrations.dagster import SnowgenResource, plan_assets
from snowgen.runner.connections import dialect_for_url
from support.faults import TakenAwayOnce


def main() -> None:
    args = _arguments()
    options = api.CompileOptions(vars=json.loads(args.vars)) if args.vars else None
    assets = plan_assets(args.plan, options=options, retry_policy=dg.RetryPolicy(max_retries=1))
    if args.fault:
        TakenAwayOnce(put_back_on_reconnect=True).install(dialect_for_url(args.db).connector)
    result = dg.materialize([assets], resources={"snowgen": SnowgenResource(db=args.db)}, raise_on_error=False)
    Path(args.result).write_text(json.dumps(_summary(assets, result)), encoding="utf-8")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plan", required=True, help="a project folder or a compiled folder")
    parser.add_argument("--db", required=True)
    parser.add_argument("--vars", help="compile options' vars, JSON (a project only)")
    parser.add_argument("--fault", action="store_true")
    parser.add_argument("--result", required=True)
    return parser.parse_args()


def _summary(assets: dg.AssetsDefinition, result: dg.ExecuteInProcessResult) -> dict:
    materialized = [
        {"asset": event.asset_key.to_user_string(), "metadata": _plain(event.materialization.metadata)}
        for event in result.get_asset_materialization_events()
    ]
    failures = [event.event_specific_data.error.message for event in result.all_events if event.is_step_failure]
    retries = sum(1 for event in result.all_events if event.event_type_value == "STEP_UP_FOR_RETRY")
    graph = {key.to_user_string(): sorted(d.to_user_string() for d in deps) for key, deps in assets.asset_deps.items()}
    return {"success": result.success, "materialized": materialized, "failures": failures, "retries": retries,
            "graph": graph}  # fmt: skip


def _plain(metadata: dict) -> dict:
    return {key: getattr(value, "value", value) for key, value in metadata.items()}


if __name__ == "__main__":
    main()
