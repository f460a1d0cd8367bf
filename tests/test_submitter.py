"""Rejected rows go back to whoever delivered the file: a file under `<source>/<district_code>/`
was delivered by that district, and only that district's extract carries its rejections."""

import json

import polars as pl
import pytest

from ingestion.pipeline import landing_files
from tests.conftest import run_cli
from tests.tiny_landing import ENERGY_HEADER, uscc, write_csv, write_tiny_landing

SHANGCHENG, XIHU = "330102", "330106"
AS_OF = "2026-11"
BAD_USCC_SHANGCHENG = uscc("91330102MA2TB0011")[:-1] + "?"  # wrong check character: rejected
BAD_USCC_XIHU = uscc("91330106MA2TB0012")[:-1] + "?"


def _row(firm: str, district: str, month: int) -> list:
    return [firm, "测试企业", district, "1713", f"2021-{month:02d}", "电力", "33", "万千瓦时", 1.0, 0.0,
            f"2021-{month:02d}-10 09:00:00"]


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    root = tmp_path_factory.mktemp("submitter")
    landing = write_tiny_landing(root / "landing")
    energy = landing / "energy_reports"
    # 上城区 delivers a file with one bad row of its own firm and one naming a 西湖区 firm ...
    write_csv(energy / SHANGCHENG / "2021_上城区_月报.csv", ENERGY_HEADER,
              [_row(BAD_USCC_SHANGCHENG, SHANGCHENG, 3), _row(BAD_USCC_XIHU, XIHU, 4)])
    # ... and an empty file (rejected whole)
    (energy / SHANGCHENG / "2021_上城区_空文件.csv").write_bytes(b"")
    # a city-level file (no submitter) with a bad row naming a 西湖区 firm
    write_csv(energy / "2021_市级汇总.csv", ENERGY_HEADER, [_row(BAD_USCC_XIHU, XIHU, 5)])
    # the generator's file list beside the sources is not a delivery
    (landing / "generate_manifest.json").write_text("{}", encoding="utf-8")
    warehouse = root / "warehouse"
    result = run_cli("run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", AS_OF)
    assert result.returncode == 0, result.stdout + result.stderr
    return landing, warehouse / "latest"


def test_landing_files_know_their_submitter(release):
    landing, _ = release
    files = {f.relative: f.submitter for f in landing_files(landing)}
    assert files[f"energy_reports/{SHANGCHENG}/2021_上城区_月报.csv"] == SHANGCHENG
    assert files[f"energy_reports/{SHANGCHENG}/2021_上城区_空文件.csv"] == SHANGCHENG
    assert files["energy_reports/2021_市级汇总.csv"] is None
    assert files["energy_reports/energy_2020.csv"] is None
    assert not any("generate_manifest" in f for f in files)
    # delivery order is the order of the relative paths within a source (deterministic)
    energy = [f.relative for f in landing_files(landing) if f.source == "energy_reports"]
    assert energy == sorted(energy)


def test_rejected_rows_reach_only_the_submitting_district(release):
    _, latest = release
    mine = pl.read_parquet(latest / "districts" / SHANGCHENG / "quarantine.parquet")
    # two bad rows and one whole-file rejection, all from 上城区's own folder
    assert mine.height == 3
    assert set(mine["file"]) == {f"energy_reports/{SHANGCHENG}/2021_上城区_月报.csv",
                                 f"energy_reports/{SHANGCHENG}/2021_上城区_空文件.csv"}
    assert mine["submitter_district_code"].to_list() == [SHANGCHENG] * 3
    whole = mine.filter(pl.col("row_number").is_null())
    assert whole["file"].to_list() == [f"energy_reports/{SHANGCHENG}/2021_上城区_空文件.csv"]
    assert whole["reason"].to_list() == ["unreadable_file"]
    # the row naming a 西湖区 firm went back to 上城区, who delivered it ...
    named_xihu = mine.filter(pl.col("district_code") == XIHU)
    assert [json.loads(r)["统一社会信用代码"] for r in named_xihu["raw"]] == [BAD_USCC_XIHU]
    # ... and to no other district: 西湖区 delivered nothing, so it receives no rejected row
    for code_dir in (latest / "districts").iterdir():
        if code_dir.name != SHANGCHENG:
            assert pl.read_parquet(code_dir / "quarantine.parquet").height == 0, code_dir.name


def test_file_without_submitter_only_in_city_quarantine(release):
    _, latest = release
    city = pl.read_parquet(latest / "restricted" / "quarantine.parquet")
    row = city.filter(pl.col("file") == "energy_reports/2021_市级汇总.csv")
    assert row.height == 1 and row["submitter_district_code"].to_list() == [None]
    assert row["district_code"].to_list() == [XIHU]
    assert city.height == 4


def test_data_quality_records_the_submitter(release):
    _, latest = release
    dq = pl.read_parquet(latest / "restricted" / "data_quality.parquet")
    by_file = dict(zip(dq["file"], dq["submitter_district_code"]))
    assert by_file[f"energy_reports/{SHANGCHENG}/2021_上城区_月报.csv"] == SHANGCHENG
    assert by_file[f"energy_reports/{SHANGCHENG}/2021_上城区_空文件.csv"] == SHANGCHENG
    assert by_file["energy_reports/2021_市级汇总.csv"] is None
    own = dq.filter(pl.col("file") == f"energy_reports/{SHANGCHENG}/2021_上城区_月报.csv").row(0, named=True)
    assert (own["rows_read"], own["accepted"], own["quarantined"]) == (2, 0, 2)
