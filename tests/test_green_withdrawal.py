"""A withdrawn product_energy file (docs/green.md) leaves the next release and is accounted for in
data_quality as the three older sources' files are: rows_read = accepted + quarantined +
superseded + withdrawn + total_rows."""

import hashlib

import polars as pl

from tests.conftest import run_cli
from tests.test_ingestion_support import uscc, write_csv
from tests.tiny_landing import write_tiny_landing

AS_OF = "2026-11"
FIRM = uscc("91330109MA2C77002")
HEADER = ["统一社会信用代码", "单位详细名称", "行政区划代码", "行业代码", "报告期", "产品名称", "产量",
          "产量计量单位", "单位产品综合能耗", "能耗计量单位", "上报时间"]
ROWS = [[FIRM, "杭州萧山示例水泥有限公司", "330109", "3011", year, "水泥熟料", "1000", "吨", "100", "kgce/t",
         "2024-01-20 10:00:00"] for year in ("2022", "2023", "2024")]
FILE = "product_energy/单位产品能耗.csv"


def _release(landing, wh) -> str:
    result = run_cli("run", "--landing", str(landing), "--warehouse", str(wh), "--as-of", AS_OF)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    return (wh / "LATEST").read_text().strip()


def _restricted(wh, rid: str, table: str) -> pl.DataFrame:
    return pl.read_parquet(wh / "releases" / rid / "restricted" / f"{table}.parquet")


def test_withdrawn_product_file_is_counted_and_leaves_the_release(tmp_path):
    landing, wh = write_tiny_landing(tmp_path / "landing"), tmp_path / "wh"
    path = write_csv(landing / FILE, HEADER, ROWS)
    before = _release(landing, wh)
    assert _restricted(wh, before, "product_efficiency").filter(pl.col("uscc") == FIRM).height == 3
    first = _restricted(wh, before, "data_quality").filter(pl.col("file") == FILE)
    assert first.select("rows_read", "accepted", "withdrawn").rows() == [(3, 3, 0)]  # staged rows are in staging

    withdraw = run_cli("withdraw", "--file", hashlib.sha256(path.read_bytes()).hexdigest(), "--reason",
                       "产品能耗报表有误", "--by", "王五", "--warehouse", str(wh))
    assert withdraw.returncode == 0, withdraw.stderr
    after = _release(landing, wh)
    assert after != before

    rows = {r["file"]: r for r in _restricted(wh, after, "data_quality").iter_rows(named=True)}
    product = rows[FILE]
    assert (product["source"], product["rows_read"], product["accepted"], product["withdrawn"]) == (
        "product_energy", 3, 0, 3)
    for r in rows.values():
        assert r["rows_read"] == r["accepted"] + r["quarantined"] + r["superseded"] + r["withdrawn"] + r["total_rows"]
    assert _restricted(wh, after, "product_efficiency").filter(pl.col("uscc") == FIRM).height == 0
