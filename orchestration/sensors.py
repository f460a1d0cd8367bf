"""A sensor that starts the job when the landing directory's content changes."""

import hashlib

import dagster as dg

from orchestration.settings import load_settings

SOURCE_FOLDERS = ("energy_reports", "mu_evaluations", "carbon_codes", "enterprise_register")


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
           default_status=dg.DefaultSensorStatus.STOPPED,
           description="Every 5 minutes, starts hzcarbon_job when a file in the landing directory's source "
                       "folders was added, replaced or removed (paths, sizes and modification times). Off by default.")
def landing_sensor(context: dg.SensorEvaluationContext):
    fingerprint = landing_fingerprint()
    if fingerprint == context.cursor:
        return dg.SkipReason("no new landing files")
    context.update_cursor(fingerprint)
    current = unchanged_release_now()
    if current:  # a file touched or copied again with the same content: nothing to build
        return dg.SkipReason(f"nothing new since release {current}")
    return dg.RunRequest(run_key=fingerprint)


def unchanged_release_now() -> str | None:
    """The release a run would only rebuild now (warehouse.provenance.nothing_new), or None."""
    from warehouse.provenance import nothing_new

    s = load_settings()
    if not s.warehouse_dir.is_dir():
        return None
    return nothing_new(s.landing_dir, s.warehouse_dir, s.as_manifest())
