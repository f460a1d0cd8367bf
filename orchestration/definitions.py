"""The one Dagster Definitions of hzcarbon: `dagster dev -m orchestration.definitions`."""

import dagster as dg

from orchestration.assets import candidate_release, gate_checks, landing_ingest, release
from orchestration.dbt import dbt_resource, hzcarbon_dbt
from orchestration.resources import WarehouseResource
from orchestration.progress import progress_logger
from orchestration.sensors import landing_sensor, unchanged_release_now

# In-process: one run worker holds the warehouse lock for the whole run, and dbt is parsed once
# per run instead of once per step (under `dagster dev`, a multiprocess executor re-parses dbt
# in every step's process).
hzcarbon_job = dg.define_asset_job(
    "hzcarbon_job", selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="Ingest new landing files, build the marts, run the gates, publish a release.",
)

@dg.schedule(name="monthly_release", job=hzcarbon_job, cron_schedule="0 6 5 * *",
             execution_timezone="Asia/Shanghai",
             description="Monthly reports are due by the 4th: build a release on the 5th at 06:00 "
                         "(skipped when nothing is new since the last release).")
def monthly_schedule(context: dg.ScheduleEvaluationContext):
    current = unchanged_release_now()
    if current:
        return dg.SkipReason(f"nothing new since release {current}")
    return dg.RunRequest()

defs = dg.Definitions(
    assets=[landing_ingest, hzcarbon_dbt, candidate_release, release],
    asset_checks=gate_checks,
    jobs=[hzcarbon_job],
    schedules=[monthly_schedule],
    sensors=[landing_sensor],
    resources={"warehouse": WarehouseResource(), "dbt": dbt_resource()},
    # `progress` is what the CLI asks for; the UI and schedules keep Dagster's default console logger.
    loggers={"progress": progress_logger, "console": dg.colored_console_logger},
)
