"""What `hzcarbon run` prints after building a release (published, or a candidate awaiting
approval): the city's headline figures with their units, provisional years marked, where each kind
of output is, and a query that works as printed."""

import shlex
import sys
from pathlib import Path

import polars as pl
from rich.console import Console
from rich.table import Table

from data_contracts import table_contract
from warehouse.early_warning import CITY_SCOPE, behind_districts, latest_ytd

# city_year columns of the summary table, with the digits they are shown with
SUMMARY_COLUMNS = (("enterprise_count", 0), ("key_energy_user_count", 0), ("energy_tce", 0), ("co2_total_t", 0),
                   ("energy_intensity", 4), ("energy_intensity_change_vs_2020", None), ("co2_intensity", 4),
                   ("co2_intensity_change_vs_2020", None))
# short forms of the contracts' units, to keep the table within a terminal
SHORT_UNITS = {"吨标准煤 (tce)": "tce", "吨二氧化碳 (tCO2)": "t", "家": "",
               "吨标准煤/万元 (2020年价格)": "tce/10k¥", "吨二氧化碳/万元 (2020年价格)": "t/10k¥",
               "比例 (share)": "%"}
HEADINGS = {"enterprise_count": "enterprises", "key_energy_user_count": "key users",
            "energy_tce": "energy", "co2_total_t": "CO2", "energy_intensity": "energy/VA",
            "energy_intensity_change_vs_2020": "vs 2020", "co2_intensity": "CO2/VA",
            "co2_intensity_change_vs_2020": "vs 2020"}


def print_release_summary(release_dir: Path, release_id: str, out: Console, approved_by: str | None = None) -> None:
    release_dir = Path(release_dir)
    approval = f" (approved by {approved_by}, setting auto_approve_by)" if approved_by else ""
    out.print(f"[green]published release {release_id}[/]{approval} at {release_dir.resolve()}")
    print_release_figures(release_dir, out)


def print_release_figures(release_dir: Path, out: Console) -> None:
    """The figures of a built release, for whoever decides whether to approve it."""
    out.print(city_table(release_dir))
    for line in target_lines(release_dir):
        out.print(line, markup=False, soft_wrap=True)
    ytd = latest_ytd_line(release_dir)
    if ytd:
        out.print(ytd, markup=False, soft_wrap=True)
    for line in early_warning_lines(release_dir):
        out.print(line, markup=False, soft_wrap=True)
    for line in where_lines(release_dir):
        out.print(line, markup=False, soft_wrap=True)


def _heading(col: str) -> str:
    unit = SHORT_UNITS.get(table_contract("city_year").column(col).unit or "", "")
    return f"{HEADINGS[col]}\n({unit})" if unit else HEADINGS[col]


def city_table(release_dir: Path) -> Table:
    city = pl.read_parquet(release_dir / "open" / "city_year.parquet").sort("year")
    table = Table(title="Hangzhou industry, above-scale reporting enterprises",
                  caption="energy in tce (吨标准煤), CO2 in t (吨二氧化碳), intensities per 10k yuan (¥) of value "
                          "added at 2020 prices; key users use ≥ 1000 tce a year; * provisional year (factors or "
                          "deflator carried forward)")
    table.add_column("year", justify="right")
    for col, _ in SUMMARY_COLUMNS:
        table.add_column(_heading(col), justify="right")
    for r in city.iter_rows(named=True):
        year = f"{r['year']}*" if r["provisional"] else str(r["year"])
        table.add_row(year, *[_pct(r[c]) if digits is None else _fmt(r[c], digits) for c, digits in SUMMARY_COLUMNS])
    return table


def target_lines(release_dir: Path) -> list[str]:
    progress = pl.read_parquet(release_dir / "open" / "target_progress.parquet")
    city_rows = progress.filter(pl.col("scope_code") == CITY_SCOPE).sort("year").group_by("indicator").last()
    return [f"target {r['indicator']} {r['year']}{' (provisional)' if r['provisional'] else ''}: "
            f"{_pct(r['actual_change'])} vs path {_pct(r['path_change'])} "
            f"(target {_pct(r['target_change'])} by {r['target_year']}) → {r['status']}"
            for r in city_rows.sort("indicator").iter_rows(named=True)]


def latest_ytd_line(release_dir: Path) -> str | None:
    """The latest published 1–N月 of city_month with its 同比 (comparable basis, docs/monthly.md)."""
    path = release_dir / "open" / "city_month.parquet"
    if not path.exists():
        return None
    ytd = pl.read_parquet(path).filter(pl.col("period_type") == "ytd").sort("year", "month")
    if ytd.is_empty():
        return "monthly: no 1–N月 period published yet"
    r = ytd.row(-1, named=True)
    return (f"{r['year']}年1–{r['month']}月: {r['enterprise_count']} enterprises, energy {_fmt(r['energy_tce'], 0)} tce "
            f"(同比 {_pct(r['energy_tce_yoy'])}), CO2 {_fmt(r['co2_total_t'], 0)} t (同比 {_pct(r['co2_total_t_yoy'])}), "
            f"electricity {_fmt(r['electricity_10k_kwh'], 0)} 万kWh (同比 {_pct(r['electricity_yoy'])})")


def early_warning_lines(release_dir: Path) -> list[str]:
    """The latest 1–N月 early warning of intensity_monthly (docs/monthly.md): the city's intensity
    同比 against the change required this year with its status, then the districts behind."""
    path = release_dir / "open" / "intensity_monthly.parquet"
    if not path.exists():
        return []
    rows = latest_ytd(pl.read_parquet(path))
    if rows.is_empty():
        return ["预警: no 1–N月 period published yet"]
    year, month = rows["year"][0], rows["month"][0]
    lines = []
    for c in rows.filter(pl.col("scope_code") == CITY_SCOPE).iter_rows(named=True):
        lines.append(f"预警 {year}年1–{month}月: energy intensity 同比 {_pct(c['energy_intensity_yoy'])} vs required "
                     f"{_pct(c['energy_required_change'])} → {c['energy_status'] or '—'}; CO2 intensity 同比 "
                     f"{_pct(c['co2_intensity_yoy'])} vs required {_pct(c['co2_required_change'])} → "
                     f"{c['co2_status'] or '—'} (value-added growth {_pct(c['va_yoy'])})")
    names = ", ".join(behind_districts(rows)["scope_name"].to_list()) or "none"
    lines.append(f"预警 {year}年1–{month}月: districts behind: {names}")
    return lines


def where_lines(release_dir: Path) -> list[str]:
    """Where each kind of output is, and a query that runs as printed from any directory."""
    root = release_dir.resolve()
    workbooks = sorted(root.glob("districts/*/*.xlsx"))
    csvs = sorted(root.glob("open/*.csv"))
    lines = [f"district workbooks: {len(workbooks)} in {root / 'districts'}/<code>/"
             + (f" (e.g. {workbooks[0].relative_to(root)})" if workbooks else "")]
    if csvs:
        lines.append(f"open data: {len(csvs)} CSV (UTF-8 with BOM) beside their Parquet in {root / 'open'}, "
                     f"one workbook {root / 'open' / 'hzcarbon_open_data.xlsx'}, descriptor "
                     f"{root / 'open' / 'datapackage.json'}")
    lines.append(f"data dictionary: {root / 'data_dictionary.md'}")
    lines.append(f"snapshot (DuckDB, any 1.x/2.x client): {root / 'hzcarbon.duckdb'}")
    lines.append(f"query it: {query_command(root / 'hzcarbon.duckdb')}")
    return lines


def query_command(db: Path) -> str:
    """A shell command that prints the city figures from the snapshot: this environment's DuckDB
    CLI when installed beside its Python, else its Python (neither needs an activated venv)."""
    sql = "select year, energy_tce, co2_total_t, energy_intensity from open.city_year order by year"
    cli = Path(sys.executable).parent / "duckdb"
    if cli.exists():
        return shlex.join([str(cli), "-readonly", str(db), "-c", sql])
    code = f"import duckdb; duckdb.connect({str(db)!r}, read_only=True).sql({sql!r}).show()"
    return shlex.join([sys.executable, "-c", code])


def _fmt(v, digits: int) -> str:
    return "—" if v is None else f"{v:,.{digits}f}"


def _pct(v) -> str:
    return "—" if v is None else f"{v:+.1%}"
