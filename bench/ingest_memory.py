"""Peak memory and speed of ingesting a large energy export.

    .venv/bin/python bench/ingest_memory.py --million-rows 10

Writes N million synthetic energy rows as one UTF-8 CSV (firms x months x energy types, valid
USCCs, a few rows of every quarantine kind mixed in), then ingests it in a child process and
prints the child's peak RSS and rows per second. The child is measured alone, so generating
the file does not count. Files go to bench/work/ (git-ignored) unless --work-dir is given.
"""

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ENERGIES = [  # (code, name, unit as written, typical monthly quantity)
    ("01", "原煤", "吨", 400.0), ("15", "天然气", "万立方米", 8.0), ("33", "电力", "万千瓦时", 120.0),
    ("21", "柴油", "吨", 5.0), ("32", "热力", "吉焦", 900.0), ("09", "焦炭", "吨", 30.0),
    ("19", "汽油", "吨", 2.0), ("24", "液化石油气", "吨", 1.0), ("23", "燃料油", "吨", 3.0),
    ("39", "其他能源", "吨标准煤", 10.0),
]
DISTRICTS = ["330102", "330105", "330106", "330108", "330109", "330110", "330111", "330112", "330113",
             "330114", "330122", "330127", "330182"]
INDUSTRIES = ["1713", "3011", "2614", "2211", "3311", "3891", "2929", "1811"]
HEADER = ["统一社会信用代码", "单位详细名称", "行政区划代码", "行业代码", "报告期", "能源名称", "能源代码",
          "计量单位", "工业生产消费量", "其中：用作原材料", "上报时间"]


def firm_ids(count: int) -> list[str]:
    from ingestion.uscc import check_character

    bodies = [f"91330{100 + i % 90:03d}MA{i:08d}"[:17] for i in range(count)]
    return [b + check_character(b) for b in bodies]


def generate(path: Path, rows: int) -> None:
    months = 24
    firms = max(1, rows // (months * len(ENERGIES)))
    firm = pl.LazyFrame({"firm": pl.Series(firm_ids(firms))}).with_row_index("i")
    month = pl.LazyFrame({"m": list(range(months))})
    energy = pl.LazyFrame(ENERGIES, schema=["code", "name", "unit", "q"], orient="row")
    frame = (
        firm.join(month, how="cross").join(energy, how="cross")
        .with_row_index("n")
        .select(
            pl.col("firm").alias(HEADER[0]),
            pl.format("企业{}", pl.col("i")).alias(HEADER[1]),
            pl.lit(pl.Series(DISTRICTS)).gather(pl.col("i") % len(DISTRICTS)).alias(HEADER[2]),
            pl.lit(pl.Series(INDUSTRIES)).gather(pl.col("i") % len(INDUSTRIES)).alias(HEADER[3]),
            pl.format("{}-{}", 2022 + pl.col("m") // 12, (pl.col("m") % 12 + 1).cast(pl.String).str.zfill(2)).alias(HEADER[4]),
            pl.col("name").alias(HEADER[5]),
            # Every 1000th row loses its code's leading zero; every 5000th has a bad check digit.
            pl.when(pl.col("n") % 1000 == 7).then(pl.col("code").str.strip_chars_start("0")).otherwise("code").alias(HEADER[6]),
            pl.col("unit").alias(HEADER[7]),
            (pl.col("q") * (1 + (pl.col("n") % 97) / 100)).round(2).cast(pl.String).alias(HEADER[8]),
            pl.lit("0").alias(HEADER[9]),
            pl.format("{}-{}-10 09:00:00", 2022 + (pl.col("m") + 1) // 12,
                      ((pl.col("m") + 1) % 12 + 1).cast(pl.String).str.zfill(2)).alias(HEADER[10]),
            pl.col("n"),
        )
        .with_columns(pl.when(pl.col("n") % 5000 == 11).then(pl.lit("91330100MA00000000"))
                      .otherwise(pl.col(HEADER[0])).alias(HEADER[0]))
        .drop("n")
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.sink_csv(path)


def ingest_child(landing: Path, warehouse: Path) -> None:
    from ingestion import ingest_landing

    started = time.perf_counter()
    result = ingest_landing(landing, warehouse, as_of="2024-12", run_id="bench")
    seconds = time.perf_counter() - started
    counts = result.summary_by_source()["energy_reports"]
    print(json.dumps({"seconds": seconds, **counts}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--million-rows", type=float, default=10.0)
    parser.add_argument("--work-dir", type=Path, default=REPO / "bench" / "work")
    parser.add_argument("--child", nargs=2, metavar=("LANDING", "WAREHOUSE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        ingest_child(Path(args.child[0]), Path(args.child[1]))
        return
    rows = int(args.million_rows * 1_000_000)
    landing, warehouse = args.work_dir / f"landing_{rows}", args.work_dir / "warehouse"
    csv = landing / "energy_reports" / "energy.csv"
    if not csv.exists():
        started = time.perf_counter()
        generate(csv, rows)
        print(f"generated {csv} ({csv.stat().st_size / 2**30:.2f} GiB) in {time.perf_counter() - started:.0f} s")
    shutil.rmtree(warehouse, ignore_errors=True)
    child = subprocess.run([sys.executable, __file__, "--child", str(landing), str(warehouse)],
                           capture_output=True, text=True, check=True)
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    peak_gib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # KiB on Linux
    print(f"rows read {figures['rows_read']:,}: staged {figures['staged']:,}, quarantined {figures['quarantined']:,}")
    print(f"ingest time {figures['seconds']:.1f} s, {figures['rows_read'] / figures['seconds']:,.0f} rows/s")
    print(f"peak RSS of the ingesting process {peak_gib:.2f} GiB")


if __name__ == "__main__":
    main()
