"""The enterprise register example of tests/fixtures/examples (written outside the project)
gives the outcomes its README lists, row by row and status by status, through the real
pipeline (`hzcarbon run`), with the two energy report examples as the only reports."""

import shutil
from pathlib import Path

import polars as pl
import pytest

EXAMPLES = Path(__file__).parent / "fixtures" / "examples"
REGISTER = "enterprise_register/规上工业企业名录_2024-03.csv"
A, B, C = "91330110MA2B77001G", "91330109MA2C77002Q", "91330114MA2D77003M"
D = "91330106MA2E77004Q"


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("register")
    landing = root / "landing"
    for folder in ("enterprise_register", "energy_reports"):
        shutil.copytree(EXAMPLES / folder, landing / folder)
    for folder in ("mu_evaluations", "carbon_codes"):
        (landing / folder).mkdir()
    from tests.conftest import run_cli

    result = run_cli("run", "--landing", str(landing), "--warehouse", str(root / "wh"), "--as-of", "2024-04")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return root / "wh"


def test_register_rows_accepted_and_quarantined(release):
    staged = pl.read_parquet(release / "staging" / "enterprise_register" / "**" / "*.parquet")
    got = staged.sort("row_number").select("row_number", "uscc", "district_code", "entry_month", "exit_month",
                                           "list_period").rows()
    assert got == [
        (2, A, "330110", "2020-01", None, "2024-03"),   # 纳入 2018-01 kept as 2020-01
        (3, B, "330109", "2020-01", None, "2024-03"),   # district by name 萧山区
        (4, C, "330114", "2024-01", None, "2024-03"),
        (5, D, "330106", "2022-01", "2024-02", "2024-03"),
    ]
    latest = release / "latest" / "restricted"
    q = pl.read_parquet(latest / "quarantine.parquet").filter(pl.col("source") == "enterprise_register")
    assert q.select("file", "row_number", "reason").rows() == [(REGISTER, 6, "invalid_period")]  # exit before entry
    assert q["reason_zh"][0].startswith("报告期或评价年度无效")
    dq = pl.read_parquet(latest / "data_quality.parquet").filter(pl.col("source") == "enterprise_register")
    assert dq.select("rows_read", "accepted", "quarantined", "superseded", "total_rows").rows() == [(5, 4, 1, 0, 0)]


def test_reporting_status_for_march_2024(release):
    status = pl.read_parquet(release / "latest" / "restricted" / "reporting_status.parquet")
    march = {r["uscc"]: r for r in status.filter((pl.col("year") == 2024) & (pl.col("month") == 3)).iter_rows(named=True)}
    assert set(march) == {A, B, C}  # D left at 2024-02: not expected, and it did not report
    due = "2024-04-10T23:59:59+08:00"
    assert (march[A]["status"], march[A]["first_submitted_at"], march[A]["revisions"]) == (
        "on_time", "2024-04-10T09:00:00+08:00", 0)
    # B: the superseded 04-09 row counts for first_submitted_at; its 04-15 resubmission is one revision
    assert (march[B]["status"], march[B]["first_submitted_at"], march[B]["revisions"]) == (
        "on_time", "2024-04-09T08:00:00+08:00", 1)
    assert (march[C]["status"], march[C]["first_submitted_at"]) == ("late", "2024-04-11T10:00:00+08:00")
    assert {r["due_at"] for r in march.values()} == {due}
    assert {r["district_code"] for r in march.values()} == {"330110", "330109", "330114"}
    # April is not due before the end of 2024-05-10: no April row, so no `missing` for it
    assert status.filter((pl.col("year") == 2024) & (pl.col("month") >= 4)).is_empty()
    # D is expected 2022-01 … 2024-01 and never reported: missing in those 25 months only
    d = status.filter(pl.col("uscc") == D).sort("year", "month")
    assert d.height == 12 + 12 + 1 and set(d["status"]) == {"missing"}
    assert (d["year"][0], d["month"][0], d["year"][-1], d["month"][-1]) == (2022, 1, 2024, 1)
    # A and B from 2020-01 (50 months before March 2024: missing), C from 2024-01 (2 months)
    before = status.filter(~((pl.col("year") == 2024) & (pl.col("month") == 3)) & (pl.col("uscc") != D))
    assert before.group_by("uscc").len().sort("uscc").rows() == sorted([(A, 50), (B, 50), (C, 2)])
    assert set(before["status"]) == {"missing"}


def test_summary_and_reminders(release):
    latest = release / "latest"
    summary = pl.read_parquet(latest / "restricted" / "reporting_summary.parquet")
    march = summary.filter((pl.col("year") == 2024) & (pl.col("month") == 3)).sort("district_code")
    assert march.select("district_code", "expected_count", "on_time_count", "late_count", "missing_count",
                        "response_share").rows() == [
        ("330109", 1, 1, 0, 0, 1.0), ("330110", 1, 1, 0, 0, 1.0), ("330114", 1, 0, 1, 0, 1.0)]
    reminders = pl.read_parquet(latest / "restricted" / "reporting_reminders.parquet")
    assert reminders.select("uscc", "status", "year", "month").rows() == [(C, "late", 2024, 3)]
    own = pl.read_parquet(latest / "districts" / "330114" / "reporting_reminders.parquet")
    assert own["uscc"].to_list() == [C]
    assert pl.read_parquet(latest / "districts" / "330110" / "reporting_reminders.parquet").is_empty()


def test_march_published_with_the_register_but_not_1_to_3(release):
    # 2024-03: 3 expected, 3 reported (share 1); January and February: 0 of A, B, C reported,
    # so 1–3月 is not published while March alone is
    city = pl.read_parquet(release / "latest" / "open" / "city_month.parquet")
    assert city.select("year", "month", "period_type", "enterprise_count").rows() == [(2024, 3, "month", 3)]


def test_raw_header_names_match_the_energy_contract():
    from data_contracts import source_contract

    macro = (Path(__file__).parents[1] / "dbt_project" / "macros" / "monthly.sql").read_text(encoding="utf-8")
    contract = source_contract("energy_reports")
    for column in ("uscc", "period", "submitted_at"):
        names = list(contract.column(column).header_names)
        assert f"'{column}': {names!r}".replace('"', "'") in macro, column


def test_generate_writes_a_register_with_its_cases(tmp_path):
    """`generate --messy` writes one full list a year in the run's format mix, with a re-entry,
    firms reporting unregistered, registered firms that never report, and bad rows that ingest
    quarantines with the reasons it planted."""
    from ingestion.pipeline import ingest_landing
    from sample_data.landing import generate_landing

    summary = generate_landing(tmp_path / "landing", enterprises=40, years=(2022, 2024), seed=5, messy=True)
    files = summary["files"]["enterprise_register"]
    assert [f.split("/")[1][:8] for f in files] == ["2022_12_", "2023_12_", "2024_12_"]
    assert len({summary["file_formats"][f] for f in files}) == 3  # three formats among three lists
    ingest_landing(tmp_path / "landing", tmp_path / "wh", as_of="2024-12", run_id="g")
    q = pl.read_parquet(tmp_path / "wh" / "quarantine" / "enterprise_register" / "*.parquet")
    got = dict(q.group_by("reason").len().iter_rows())
    assert got == summary["quarantine_rows"]["enterprise_register"] == {
        "invalid_uscc": 1, "unknown_district": 1, "invalid_period": 2}
    staged = pl.read_parquet(tmp_path / "wh" / "staging" / "enterprise_register" / "**" / "*.parquet")
    cases = summary["register"]
    reentry = staged.filter(pl.col("uscc") == cases["reentry"])
    assert reentry["entry_month"].n_unique() == 2  # two spells
    assert set(cases["unregistered_reporters"]).isdisjoint(staged["uscc"])
    reported = pl.read_parquet(tmp_path / "wh" / "staging" / "energy_reports" / "**" / "*.parquet")["uscc"]
    assert set(cases["unregistered_reporters"]) <= set(reported)
    assert set(cases["never_reporting"]) <= set(staged["uscc"]) and set(cases["never_reporting"]).isdisjoint(reported)
