"""Time the district extracts (Parquet + workbooks) of a candidate, e.g. the one a benchmark run
left in <warehouse>/candidate:

    .venv/bin/python bench/workbook_bench.py --candidate /tmp/wh/candidate [--workers 1]

Prints wall and CPU seconds (this process and its workers), workbooks, bytes and cells."""

import argparse
import resource
import tempfile
import time
from pathlib import Path

from warehouse import extracts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--candidate", type=Path, required=True)
    ap.add_argument("--workers", type=int, default=None, help="workbook processes (default: the module's)")
    args = ap.parse_args()
    if args.workers is not None:
        extracts.WORKBOOK_WORKERS = args.workers
    cells = sum(df.height * df.width for df in (extracts._load_source(args.candidate, t) for t in extracts.extract_tables()))
    with tempfile.TemporaryDirectory() as d:
        t0, c0 = time.perf_counter(), time.process_time()
        written = extracts.write_district_extracts(args.candidate, Path(d) / "districts")
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        books = [p for files in written.values() for p in files if p.suffix == ".xlsx"]
        print(f"extracts: {wall:.2f} s wall, {cpu:.2f} s CPU here + {children.ru_utime + children.ru_stime:.2f} s in "
              f"workers; {len(books)} workbooks, {sum(p.stat().st_size for p in books) / 1e6:.1f} MB; "
              f"{cells:,} cells; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3:.0f} MB")


if __name__ == "__main__":
    main()
