"""A statistician's DuckDB 1.x CLI (the registry's `duckdb-cli`, installed by the test extra) opens
a release's snapshot and gets the README's example results; the `query it:` hint of `hzcarbon run`
works as printed."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest


from tests.conftest import REPO, run_cli
from tests.tiny_landing import write_tiny_landing

DUCKDB_CLI = Path(sys.executable).parent / "duckdb"
AS_OF = "2026-11"


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    root = tmp_path_factory.mktemp("snapcli")
    landing = write_tiny_landing(root / "landing")
    warehouse = root / "warehouse"
    result = run_cli("run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", AS_OF)
    assert result.returncode == 0, result.stdout + result.stderr
    return warehouse / "latest", result


def readme_sql() -> list[str]:
    """The statements of the README's ```sql example, in order."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```sql\n(.*?)```", text, re.S)
    assert block, "README has no ```sql example"
    return [s.strip() for s in block.group(1).split(";") if s.strip()]


def cli_rows(db: Path, sql: str) -> list[dict]:
    out = subprocess.run([str(DUCKDB_CLI), "-readonly", "-json", str(db), "-c", sql],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout or "[]")


def test_cli_is_a_1x_client():
    out = subprocess.run([str(DUCKDB_CLI), "--version"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stdout.startswith("v1."), out.stdout


def test_readme_queries_give_the_parquet_figures(release):
    latest, _ = release
    db = latest / "hzcarbon.duckdb"
    city = pq.read_table(latest / "open" / "city_year.parquet").sort_by("year").to_pylist()
    ent = pq.read_table(latest / "restricted" / "enterprise_year.parquet")
    first, second, third = readme_sql()

    rows = cli_rows(db, first)
    assert [r["year"] for r in rows] == [c["year"] for c in city] == [2020, 2021]
    for r, c in zip(rows, city):
        for col in ("energy_tce", "co2_total_t", "energy_intensity"):
            assert r[col] == pytest.approx(c[col], rel=1e-12), col

    rows = cli_rows(db, second)  # the Chinese view: same figures under the contract's labels
    assert [(r["年份"], r["综合能源消费量"], r["二氧化碳排放总量"]) for r in rows] == \
        [(c["year"], pytest.approx(c["energy_tce"], rel=1e-12), pytest.approx(c["co2_total_t"], rel=1e-12))
         for c in city]

    rows = cli_rows(db, third)
    districts = sorted(set(ent.column("district_code").to_pylist()))
    assert [r["district_code"] for r in rows] == districts == ["330106", "330109", "330114"]
    for r in rows:
        mine = ent.filter(pc.equal(ent.column("district_code"), r["district_code"]))
        assert r["enterprise_years"] == mine.num_rows == 2  # one firm × 2 years each
        assert r["energy_tce"] == pytest.approx(sum(mine.column("energy_tce").to_pylist()), rel=1e-12)


def test_comments_reach_the_1x_client(release):
    latest, _ = release
    rows = cli_rows(latest / "hzcarbon.duckdb",
                    "select comment from duckdb_columns() where schema_name = 'open' "
                    "and table_name = 'city_year' and column_name = 'energy_tce'")
    assert rows[0]["comment"].startswith("综合能源消费量 [吨标准煤")
    rows = cli_rows(latest / "hzcarbon.duckdb",
                    "select comment from duckdb_views() where schema_name = 'zh' and view_name = '企业年度'")
    assert rows and rows[0]["comment"].startswith("企业年度能耗")


def test_query_hint_works_as_printed(release):
    _, result = release
    hints = [line.split(":", 1)[1].strip() for line in result.stdout.splitlines() if line.startswith("query it:")]
    assert hints, result.stdout
    # run from another directory with a bare PATH: the hint must not rely on an activated venv
    out = subprocess.run(hints[0], shell=True, capture_output=True, text=True, timeout=60, cwd="/",
                         env={"PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert "2020" in out.stdout and "2021" in out.stdout


def test_run_summary_names_units_provisional_and_places(release):
    latest, result = release
    out = result.stdout
    assert "(tce)" in out and "(t)" in out and "(tce/10k¥)" in out and "(t/10k¥)" in out
    flat = re.sub(r"\s+", " ", out)  # the caption wraps at the table's width
    assert "energy in tce (吨标准煤), CO2 in t (吨二氧化碳)" in flat and "* provisional year" in flat
    city = pq.read_table(latest / "open" / "city_year.parquet").to_pylist()
    for row in city:  # a provisional year is marked with *
        marked = f"{row['year']}*" in out
        assert marked == bool(row["provisional"]), row["year"]
    root = str(latest.resolve())
    assert f"district workbooks: 13 in {root}/districts/<code>/" in out
    # the seven annual open tables, the four monthly ones (docs/monthly.md) and the three green ones
    assert f"open data: {7 + 4 + 3} CSV (UTF-8 with BOM) beside their Parquet in {root}/open" in out
    assert f"data dictionary: {root}/data_dictionary.md" in out
    assert f"snapshot (DuckDB, any 1.x/2.x client): {root}/hzcarbon.duckdb" in out
