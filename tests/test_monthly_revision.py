"""The revision policy of the monthly tables (docs/monthly.md, "Revision policy") through the real
pipeline: a published period is frozen; a late report and a revision delivered after it are held
(counted in data_quality) until the annual revision, the first release publishing 1–12月 of the
year, which recomputes every period of the year and says in its changelog what moved.

Division 17, electricity (33) in 万千瓦时 at 1.229 tce per unit. 西湖 330106: F1–F4, 滨江 330108:
G1–G4, 100 a month each in 2023 and 110 in 2024 (on time, 上报 the 5th of the next month).
  run 1 (as_of 2024-05): 2023-01 … 2024-04 delivered; 1–4月 2024 published.
  run 2 (as_of 2024-05): F1 revises March 2024 to 160 and X (滨江) reports March for the first
        time (100), both on 2024-05-20: held; the published March figures do not move.
  run 3 (as_of 2025-01): May … December 2024 delivered; 1–12月 2024 is published for the first
        time: the annual revision takes the held reports in.
The register (list 2024-04) expects F1–F4 and G1–G4 from 2023-01, not X. Runs 2 and 3 build
reporting_status and the monthly group tables incrementally (by year, macros/incremental.sql);
`hzcarbon rebuild` builds each release again from scratch with the freeze state it started from
and must publish the same bytes.
"""

import json

import duckdb
import polars as pl
import pytest

from tests.tiny_landing import ENERGY_HEADER, uscc, write_csv

TCE = 1.229
F = [uscc(f"91330106MA2M0F00{i}") for i in range(1, 5)]
G = [uscc(f"91330108MA2M0G00{i}") for i in range(1, 5)]
X = uscc("91330108MA2M0X001")
DISTRICT = {**{f: "330106" for f in F}, **{g: "330108" for g in G}, X: "330108"}
REGISTER_HEADER = ["名录期", "统一社会信用代码", "单位详细名称", "行政区划代码", "行业代码", "纳入年月", "退出年月"]


def _row(firm: str, year: int, month: int, q: float, submitted: str) -> list:
    return [firm, f"企业{firm[-5:]}", DISTRICT[firm], "1713", f"{year}-{month:02d}", "电力", "33", "万千瓦时",
            q, 0.0, submitted]


def _on_time(months) -> list[list]:
    rows = []
    for year, month in months:
        due = f"{year + (month == 12)}-{month % 12 + 1:02d}-05 09:00:00"
        rows += [_row(firm, year, month, 100.0 if year == 2023 else 110.0, due) for firm in F + G]
    return rows


def _run(landing, warehouse, as_of):
    from tests.conftest import run_cli

    result = run_cli("run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", as_of)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    latest = warehouse / "latest"
    with duckdb.connect(str(warehouse / "hzcarbon.duckdb"), read_only=True) as con:
        signatures = con.sql("select model, year, signature from main.build_year_signatures").fetchall()
    return {"dir": latest.resolve(), "signatures": {(m, y): s for m, y, s in signatures},
            "status": pl.read_parquet(latest / "restricted/reporting_status.parquet"), "city": pl.read_parquet(latest / "open/city_month.parquet"),
            "district": pl.read_parquet(latest / "open/district_month.parquet"),
            "dq": pl.read_parquet(latest / "restricted/data_quality.parquet"),
            "manifest": json.loads((latest / "manifest.json").read_text(encoding="utf-8")),
            "changes": (latest / "changes.md").read_text(encoding="utf-8")}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("revision")
    landing, warehouse = root / "landing", root / "warehouse"
    (landing / "mu_evaluations").mkdir(parents=True)
    (landing / "carbon_codes").mkdir(parents=True)
    write_csv(landing / "enterprise_register" / "名录_2024-04.csv", REGISTER_HEADER,
              [["2024-04", firm, f"企业{firm[-5:]}", DISTRICT[firm], "1713", "2023-01", ""] for firm in F + G])
    write_csv(landing / "energy_reports" / "1_to_2024-04.csv", ENERGY_HEADER,
              _on_time([(2023, m) for m in range(1, 13)] + [(2024, m) for m in range(1, 5)]))
    first = _run(landing, warehouse, "2024-05")
    write_csv(landing / "energy_reports" / "2_late_march.csv", ENERGY_HEADER, [
        _row(F[0], 2024, 3, 160.0, "2024-05-20 10:00:00"), _row(X, 2024, 3, 100.0, "2024-05-20 10:00:00")])
    second = _run(landing, warehouse, "2024-05")
    write_csv(landing / "energy_reports" / "3_rest_of_2024.csv", ENERGY_HEADER,
              _on_time([(2024, m) for m in range(5, 13)]))
    third = _run(landing, warehouse, "2025-01")
    return first, second, third


def _value(df: pl.DataFrame, column: str, **keys):
    rows = df.filter(*(pl.col(k) == v for k, v in keys.items()))
    assert rows.height == 1, (keys, rows)
    return rows[column][0]


MARCH = {"year": 2024, "month": 3, "period_type": "month"}
YTD_4 = {"year": 2024, "month": 4, "period_type": "ytd"}


def test_the_first_release_publishes_march(runs):
    first, _, _ = runs
    assert _value(first["city"], "energy_tce", **MARCH) == pytest.approx(8 * 110 * TCE)  # 1081.52
    assert _value(first["city"], "enterprise_count", **MARCH) == 8
    assert _value(first["city"], "energy_tce", **YTD_4) == pytest.approx(4 * 8 * 110 * TCE)
    frozen = {(m["year"], m["month"]) for m in first["manifest"]["month_freeze"]}
    assert {(2024, m) for m in range(1, 5)} <= frozen and (2024, 5) not in frozen


def test_a_late_report_after_publication_is_held(runs):
    first, second, _ = runs
    assert second["dir"] != first["dir"]  # a new release was published
    for keys in (MARCH, {**MARCH, "period_type": "ytd"}, YTD_4):
        assert _value(second["city"], "energy_tce", **keys) == _value(first["city"], "energy_tce", **keys)
        assert _value(second["city"], "enterprise_count", **keys) == _value(first["city"], "enterprise_count", **keys)
    assert _value(second["district"], "enterprise_count", district_code="330108", **MARCH) == 4
    # both rows of the late file are accepted (the annual tables take them) and held
    late = second["dq"].filter(pl.col("file") == "energy_reports/2_late_march.csv").row(0, named=True)
    assert (late["accepted"], late["held_for_annual_revision"]) == (2, 2)
    # the months frozen by the first release keep its delivery
    through = {(m["year"], m["month"]): m["through_delivery_seq"] for m in second["manifest"]["month_freeze"]}
    assert through[(2024, 3)] == 2  # the first run's latest delivery: the energy file 1, the register 2
    assert second["manifest"]["annual_revision"] == []


def test_the_annual_revision_takes_the_held_reports_in(runs):
    first, _, third = runs
    # March 2024: F1 110 → 160 (+50) and X's 100 added: (8 × 110 + 50 + 100) × 1.229 = 1265.87
    assert _value(third["city"], "energy_tce", **MARCH) == pytest.approx((8 * 110 + 50 + 100) * TCE)
    assert _value(third["city"], "enterprise_count", **MARCH) == 9
    assert _value(third["city"], "energy_tce", **YTD_4) == pytest.approx((4 * 8 * 110 + 150) * TCE)
    assert _value(third["district"], "energy_tce", district_code="330106", **MARCH) == pytest.approx(
        (4 * 110 + 50) * TCE)
    # a period untouched by the late reports stays as published
    feb = {"year": 2024, "month": 2, "period_type": "ytd"}
    assert _value(third["city"], "energy_tce", **feb) == _value(first["city"], "energy_tce", **feb)
    assert third["manifest"]["annual_revision"] == [2024]
    assert all(m["annual_revision"] for m in third["manifest"]["month_freeze"] if m["year"] == 2024)
    assert "年度修订 Annual revision" in third["changes"]
    assert "city_month 杭州市 2024年3月: enterprise_count" in third["changes"]
    assert "city_month 杭州市 2024年1–2月" not in third["changes"]
    late = third["dq"].filter(pl.col("file") == "energy_reports/2_late_march.csv").row(0, named=True)
    assert late["held_for_annual_revision"] == 0


def test_periods_moved_lists_the_changed_open_rows_of_the_revised_years(tmp_path):
    """The changelog's annual revision section on two hand-written releases: only rows of the
    revised years whose values differ are listed, with the columns that moved."""
    from warehouse.changelog import render_changes
    from warehouse.month_freeze import periods_moved

    def release(name, march_2024, march_2023):
        (tmp_path / name / "open").mkdir(parents=True)
        pl.DataFrame({"district_code": ["330106"] * 3, "year": [2023, 2024, 2024], "month": [3, 2, 3],
                      "period_type": ["month", "ytd", "month"], "enterprise_count": [4, 4, 4],
                      "energy_tce": [march_2023, 10.0, march_2024]}).write_parquet(tmp_path / name / "open/district_month.parquet")
        return tmp_path / name

    old, new = release("old", 20.0, 5.0), release("new", 26.0, 6.0)
    moved = periods_moved(old, new, [2024])  # 2023 moved too, but is not being revised
    assert moved == [{"table": "district_month", "key": {"district_code": "330106", "year": 2024, "month": 3,
                                                         "period_type": "month"}, "columns": ["energy_tce"]}]
    text = render_changes({"old": "a", "new": "b", "tables": {}, "why": {},
                           "annual_revision": {"years": [2024], "periods_moved": moved}})
    assert "- district_month 330106 2024年3月: energy_tce" in text


def _held(status: pl.DataFrame) -> set[tuple[str, int, int, str]]:
    rows = status.filter(pl.col("held_for_annual_revision"))
    return set(zip(rows["uscc"], rows["year"], rows["month"], rows["status"]))


def test_reporting_status_flags_the_held_reports_until_the_annual_revision(runs):
    first, second, third = runs
    assert _held(first["status"]) == set()
    # F1's revision of March (its first report was on time) and X's first March report (not in the register)
    assert _held(second["status"]) == {(F[0], 2024, 3, "on_time"), (X, 2024, 3, "unexpected")}
    assert _held(third["status"]) == set()
    # 2023 rows: 8 firms × 12 months, as expected, on time
    rows_2023 = third["status"].filter(pl.col("year") == 2023)
    assert rows_2023.height == 8 * 12 and set(rows_2023["status"]) == {"on_time"}


def test_runs_rebuild_only_the_years_whose_inputs_changed(runs):
    """2023 is neither delivered, held, revised nor newly due in runs 2 and 3: every model
    incremental by year keeps its 2023 rows; 2024 is rebuilt in both by the monthly models, and
    by the yearly marts on int_enterprise_year in run 3 (May … December 2024 delivered)."""
    from tests.test_incremental import YEARLY_MARTS

    first, second, third = runs
    models = {m for m, _ in first["signatures"]}
    monthly = {"reporting_status", "reporting_summary", "int_city_month_sdc", "int_district_month_sdc",
               "int_key_group_month_sdc", "int_energy_enterprise_month_open", "int_month_publication"}
    assert models == monthly | set(YEARLY_MARTS)
    for model in models:
        assert first["signatures"][model, 2023] == second["signatures"][model, 2023] == third["signatures"][model, 2023]
        assert second["signatures"][model, 2024] != third["signatures"][model, 2024], model
    for model in monthly:
        assert first["signatures"][model, 2024] != second["signatures"][model, 2024]


@pytest.mark.parametrize("which", [1, 2])
def test_an_incremental_release_equals_a_full_build_with_its_freeze_state(runs, tmp_path, which):
    """Release 2 (held reports) and release 3 (the annual revision), built incrementally, against
    `hzcarbon rebuild`: a full build on a new warehouse from the archived deliveries, with the
    freeze state the release started from. The rebuild verifies every Parquet file byte for byte
    (reporting_status, reporting_summary, reporting_reminders, the monthly tables, …)."""
    from tests.conftest import run_cli

    release = runs[which]["dir"]
    result = run_cli("rebuild", release.name, "--out", str(tmp_path / "out"),
                     "--warehouse", str(release.parent.parent))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"rebuild of {release.name} verified" in result.stdout
