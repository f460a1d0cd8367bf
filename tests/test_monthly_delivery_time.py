"""A report row without 上报时间 counts as submitted when its file was delivered (docs/monthly.md,
"Reporting status"): the ingest ledger records each file's delivery time (its modification time
when first seen, Asia/Shanghai), and reporting_status judges such rows by it. Through the real
pipeline, with the register example of tests/fixtures/examples (A, B, C expected in March 2024,
due at the end of 2024-04-10)."""

import os
import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from tests.tiny_landing import ENERGY_HEADER, uscc, write_csv

EXAMPLES = Path(__file__).parent / "fixtures" / "examples"
REGISTER = "enterprise_register/规上工业企业名录_2024-03.csv"
A, B, C = "91330110MA2B77001G", "91330109MA2C77002Q", "91330114MA2D77003M"
SHANGHAI = ZoneInfo("Asia/Shanghai")
# Two more firms beside A and two beside C (not in the register: `unexpected`), with their own
# 上报时间, so that no annual cell is thin enough to be suppressed.
OTHERS = [(uscc(f"91330110MA2M0E00{i}"), "330110") for i in (1, 2)] + \
    [(uscc(f"91330114MA2M0E00{i}"), "330114") for i in (3, 4)]


def _march_row(firm: str, district: str, submitted: str = "") -> list:
    return [firm, f"企业{firm[-4:]}", district, "1713", "2024-03", "电力", "33", "万千瓦时", 100.0, 0.0, submitted]


def _delivered(path: Path, when: datetime) -> None:
    stamp = when.replace(tzinfo=SHANGHAI).timestamp()
    os.utime(path, (stamp, stamp))


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("delivery")
    landing = root / "landing"
    (landing / "enterprise_register").mkdir(parents=True)
    shutil.copy(EXAMPLES / REGISTER, landing / REGISTER)
    for folder in ("mu_evaluations", "carbon_codes"):
        (landing / folder).mkdir()
    late = write_csv(landing / "energy_reports" / "a_late.csv", ENERGY_HEADER, [_march_row(A, "330110")])
    _delivered(late, datetime(2024, 4, 12, 9, 0, 0))  # two days after the due date
    on_time = write_csv(landing / "energy_reports" / "c_on_time.csv", ENERGY_HEADER, [_march_row(C, "330114")])
    _delivered(on_time, datetime(2024, 4, 8, 10, 30, 0))
    write_csv(landing / "energy_reports" / "others.csv", ENERGY_HEADER,
              [_march_row(firm, district, "2024-04-09 09:00:00") for firm, district in OTHERS])
    from tests.conftest import run_cli

    result = run_cli("run", "--landing", str(landing), "--warehouse", str(root / "wh"), "--as-of", "2024-04")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return root / "wh"


def test_the_ledger_records_each_file_s_delivery_time(warehouse):
    ledger = pl.read_parquet(warehouse / "ingest_ledger.parquet")
    delivered = dict(zip(ledger["file"], ledger["delivered_at"]))
    assert delivered["energy_reports/a_late.csv"] == datetime(2024, 4, 12, 9, 0, 0)
    assert delivered["energy_reports/c_on_time.csv"] == datetime(2024, 4, 8, 10, 30, 0)


def test_rows_without_submission_time_are_judged_by_delivery(warehouse):
    status = pl.read_parquet(warehouse / "latest" / "restricted" / "reporting_status.parquet")
    march = {r["uscc"]: r for r in status.filter((pl.col("year") == 2024) & (pl.col("month") == 3)).iter_rows(named=True)}
    # A's file came on 04-12 09:00, after the end of 04-10: late; C's on 04-08: on time; B sent nothing
    assert (march[A]["status"], march[A]["first_submitted_at"]) == ("late", "2024-04-12T09:00:00+08:00")
    assert (march[C]["status"], march[C]["first_submitted_at"]) == ("on_time", "2024-04-08T10:30:00+08:00")
    assert (march[B]["status"], march[B]["first_submitted_at"]) == ("missing", None)
    # rows with their own 上报时间 keep it, whenever their file came
    assert {march[f]["first_submitted_at"] for f, _ in OTHERS} == {"2024-04-09T09:00:00+08:00"}
