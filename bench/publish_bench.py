"""Time the new month's `release` step (warehouse.release.publish) part by part, outside a run:

    .venv/bin/python bench/publish_bench.py --warehouse W --scratch S

W is a warehouse after a full run and a run with one more month (bench/run_bench.py does both;
its releases .1 and .2). The scratch warehouse S gets release .1 published again from a candidate
made of W's release .1 Parquet (the same bytes) and W's internal/ files (not published, so taken
from W's candidate: the unsuppressed district tables), then W's candidate is published as the
new month and timed: wall and CPU seconds (this process, all threads) of publish and of its parts,
and the files it took from the previous release (docs/outputs.md, "What a new release reuses").
Run it with the code before and after a change, alternating, on the same W."""

import argparse
import functools
import json
import os
import resource
import shutil
import time
from datetime import datetime
from pathlib import Path

import portal.chart_svg
import warehouse.changelog
from warehouse import release as rel

# The snapshot, the changelog and the charts run one after another on a thread beside the district
# extracts (warehouse.release.publish): their wall seconds overlap the extracts', and the CPU
# seconds of a part are the whole process's while it runs.
PARTS = {"snapshot (thread)": (rel.snapshot, "build_snapshot"),
         "district extracts and workbooks": (rel.extracts, "write_district_extracts"),
         "open formats": (rel.opendata, "write_open_formats"),
         "changelog (thread, after the snapshot)": (warehouse.changelog, "write_changelog"),
         "charts (thread, after the changelog)": (portal.chart_svg, "write_release_charts"),
         "hash files": (rel, "_file_entries"),
         "verify": (rel, "verify_release")}


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed(figures: dict, label: str, f):
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        t, c = time.perf_counter(), cpu_s()
        try:
            return f(*args, **kwargs)
        finally:
            figures[label] = {"wall_s": round(time.perf_counter() - t, 2), "cpu_s": round(cpu_s() - c, 2)}
    return wrapper


def previous_candidate(warehouse: Path, release_id: str, out: Path) -> Path:
    """Release ``release_id``'s published Parquet (hard links) with the candidate's internal/."""
    for layer in ("open", "restricted"):
        (out / layer).mkdir(parents=True)
        for p in (warehouse / rel.RELEASES_DIR / release_id / layer).glob("*.parquet"):
            os.link(p, out / layer / p.name)
    shutil.copytree(warehouse / "candidate" / "internal", out / "internal")
    return out


def extra_and_time(warehouse: Path, release_id: str) -> tuple[dict, datetime]:
    m = json.loads((warehouse / rel.RELEASES_DIR / release_id / rel.MANIFEST).read_text(encoding="utf-8"))
    return ({k: v for k, v in m.items() if k not in rel.RESERVED_MANIFEST_KEYS and k != "derived_from"},
            datetime.fromisoformat(m["created_at"].replace("Z", "+00:00")))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--warehouse", type=Path, required=True)
    ap.add_argument("--scratch", type=Path, required=True, help="emptied first")
    args = ap.parse_args()
    ids = rel.list_releases(args.warehouse)
    if len(ids) < 2:
        raise SystemExit(f"{args.warehouse} needs two releases (a full run, then a new month)")
    shutil.rmtree(args.scratch, ignore_errors=True)
    args.scratch.mkdir(parents=True)
    candidate = previous_candidate(args.warehouse, ids[-2], args.scratch / "previous_candidate")
    extra, now = extra_and_time(args.warehouse, ids[-2])
    rel.publish(candidate, args.scratch / "warehouse", extra, now=now, approve_by="bench")
    parts: dict = {}
    for label, (module, name) in PARTS.items():
        setattr(module, name, timed(parts, label, getattr(module, name)))
    extra, now = extra_and_time(args.warehouse, ids[-1])
    t, c = time.perf_counter(), cpu_s()
    new = rel.publish(args.warehouse / "candidate", args.scratch / "warehouse", extra, now=now, approve_by="bench")
    wall, cpu = time.perf_counter() - t, cpu_s() - c
    manifest = json.loads((args.scratch / "warehouse" / rel.RELEASES_DIR / new / rel.MANIFEST).read_text(encoding="utf-8"))
    reused = (manifest.get("derived_from") or {}).get("reused")
    print(f"new month's publish: {wall:.2f} s wall, {cpu:.2f} s CPU, load {os.getloadavg()[0]:.1f}; "
          f"{len(manifest['files'])} files, {'?' if reused is None else len(reused)} taken from the previous release")
    for label, f in parts.items():
        print(f"  {label}: {f['wall_s']} s wall, {f['cpu_s']} s CPU")


if __name__ == "__main__":
    main()
