"""A sensor that starts the job when the landing directory's content changes."""

import hashlib

import dagster as dg

from orchestration.settings import load_settings

SOURCE_FOLDERS = ("energy_reports", "mu_evaluations", "carbon_codes", "enterprise_register", "va_growth")


def landing_fingerprint() -> str:
    """Digest of every landing file's path, size and mtime: cheap, and changes when a file lands."""
    landing = load_settings().landing_dir
    h = hashlib.sha256()
    for folder in SOURCE_FOLDERS:
        d = landing / folder
        if not d.is_dir():
            continue
        for p in sorted(d.iterdir()):
            if p.is_file():
                st = p.stat()
                h.update(f"{folder}/{p.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


@dg.sensor(job_name="hzcarbon_job", minimum_interval_seconds=300,
           default_status=dg.DefaultSensorStatus.STOPPED)
def landing_sensor(context: dg.SensorEvaluationContext):
    fingerprint = landing_fingerprint()
    if fingerprint == context.cursor:
        return dg.SkipReason("no new landing files")
    context.update_cursor(fingerprint)
    return dg.RunRequest(run_key=fingerprint)
