"""Time the district extracts (Parquet + workbooks) of a candidate, e.g. the one a run left in
<warehouse>/candidate:

    .venv/bin/python bench/workbook_bench.py --candidate /tmp/wh/candidate [--workers 1] [--json bench/results/x.json]

Prints wall and CPU seconds (all threads of this process, and any child processes), workbooks,
bytes and cells (of the extract tables, and those the workbooks' sheets show); with --json also
writes them, with the machine's load, to that file."""

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

from warehouse import extracts
from warehouse.workbook import district_sheet_columns


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--candidate", type=Path, required=True)
    ap.add_argument("--workers", type=int, default=None, help="workbook threads (default: the module's)")
    ap.add_argument("--json", type=Path, default=None, help="write the figures to this file")
    args = ap.parse_args()
    if args.workers is not None:
        extracts.WORKBOOK_WORKERS = args.workers
    sources = [extracts._load_source(args.candidate, t) for t in extracts.extract_tables()]
    cells = sum(df.height * df.width for df in sources)
    sheet_cells = sum(df.height * len(district_sheet_columns(t, df.columns))
                      for t, df in zip(extracts.extract_tables(), sources))
    enterprises = next(df["uscc"].n_unique() for t, df in zip(extracts.extract_tables(), sources) if t == "enterprise_year")
    with tempfile.TemporaryDirectory() as d:
        t0, c0 = time.perf_counter(), time.process_time()
        written = extracts.write_district_extracts(args.candidate, Path(d) / "districts")
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        books = [p for files in written.values() for p in files if p.suffix == ".xlsx"]
        figures = {
            "candidate": str(args.candidate), "enterprises": enterprises, "cells": cells,
            "sheet_cells": sheet_cells,
            "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "children_cpu_s": round(children.ru_utime + children.ru_stime, 2),
            "workbooks": len(books), "workbook_mb": round(sum(p.stat().st_size for p in books) / 1e6, 1),
            "workers": extracts.WORKBOOK_WORKERS,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3),
            "load_average": os.getloadavg(), "cores": os.cpu_count(),
        }
    print(f"extracts: {wall:.2f} s wall, {cpu:.2f} s CPU here + {figures['children_cpu_s']:.2f} s in "
          f"child processes; {len(books)} workbooks, {figures['workbook_mb']} MB; {cells:,} cells "
          f"({enterprises:,} enterprises, {sheet_cells:,} on the sheets); peak RSS {figures['peak_rss_mb']} MB")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
