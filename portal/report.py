"""The figures of the target-progress report, read from one release (docs/portal.md).

A suppressed cell stays suppressed here: its value is None and it is listed as suppressed, so
the page can mark it instead of drawing a zero or a silent gap. An aggregate over cells of which
any is suppressed is suppressed too (its visible part, set against a published total, would give
the hidden cell away).
"""

from pathlib import Path

import polars as pl

from data_contracts import table_contract
from portal.releases import Release
from warehouse.early_warning import BEHIND, behind_districts, latest_ytd

INDICATORS = ("energy_intensity", "co2_intensity")
KEY_GROUPS = ("建材", "化工", "纺织化纤")
CITY_CODE = "330100"
# Monthly 同比 columns of city_month shown when present (docs/portal.md).
MONTHLY_YOY_COLUMNS = ("energy_tce_yoy", "co2_total_t_yoy", "electricity_yoy")
# intensity_monthly columns of the early-warning table and chart
WARNING_COLUMNS = ("energy_status", "co2_status", "energy_intensity_yoy", "energy_required_change",
                   "co2_intensity_yoy", "co2_required_change")


def _open(release: Release, name: str) -> pl.DataFrame:
    return pl.read_parquet(release.table_path(name, "open"))


def _progress(release: Release) -> dict:
    """Per indicator and scope: the actual change and the path by year, with status."""
    frame = _open(release, "target_progress").sort("scope_code", "indicator", "year")
    result: dict[str, list[dict]] = {i: [] for i in INDICATORS}
    for (scope, indicator), rows in frame.group_by("scope_code", "indicator", maintain_order=True):
        if indicator not in result:
            continue
        r = rows.to_dict(as_series=False)
        result[indicator].append({
            "scope_code": scope, "scope_name": r["scope_name"][0], "years": r["year"],
            "actual": [None if s else v for v, s in zip(r["actual_change"], r["suppressed"])],
            "path": r["path_change"], "status": r["status"], "suppressed": r["suppressed"],
            "provisional": r["provisional"], "status_basis": r["status_basis"][0],
            "target_change": r["target_change"][0], "target_year": r["target_year"][0],
        })
    for scopes in result.values():  # the city first, then districts by code
        scopes.sort(key=lambda s: (s["scope_code"] != CITY_CODE, s["scope_code"]))
    return result


def _key_groups(release: Release) -> dict:
    """Energy intensity of each key group by year (sum of its divisions' energy over their value
    added); a group-year with any suppressed division is suppressed."""
    frame = (_open(release, "city_industry_year").filter(pl.col("key_group").is_in(KEY_GROUPS))
             .group_by("key_group", "year")
             .agg(pl.col("suppressed").any().alias("suppressed"), pl.col("energy_tce").sum(),
                  pl.col("va_10k_yuan_2020p").sum())
             .with_columns(pl.when(~pl.col("suppressed") & (pl.col("va_10k_yuan_2020p") > 0))
                           .then(pl.col("energy_tce") / pl.col("va_10k_yuan_2020p")).alias("intensity"))
             .sort("key_group", "year"))
    years = sorted(frame["year"].unique().to_list())
    groups = []
    for group in KEY_GROUPS:
        rows = {r["year"]: r for r in frame.filter(pl.col("key_group") == group).iter_rows(named=True)}
        groups.append({"name": group,
                       "values": [rows[y]["intensity"] if y in rows else None for y in years],
                       "suppressed": [bool(rows[y]["suppressed"]) if y in rows else False for y in years],
                       "present": [y in rows for y in years]})
    return {"years": years, "groups": groups}


def _district_names(release: Release) -> dict[str, str]:
    frame = _open(release, "district_year").select("district_code", "district_name").unique()
    return {CITY_CODE: "杭州市", **dict(frame.iter_rows())}


def _hcle(release: Release, names: dict[str, str]) -> dict:
    """Size of the 高耗低效 list by year and district (counts only; the list itself is restricted)."""
    path = release.table_path("high_consumption_low_efficiency", "restricted")
    counts = (pl.read_parquet(path, columns=["uscc", "year", "district_code"])
              .group_by("year", "district_code").agg(pl.col("uscc").n_unique().alias("n")))
    years = sorted(counts["year"].unique().to_list())
    districts = sorted(counts["district_code"].unique().to_list())
    table = {(y, d): n for y, d, n in counts.iter_rows()}
    return {"years": years,
            "series": [{"code": d, "name": names.get(d, d), "values": [table.get((y, d), 0) for y in years]}
                       for d in districts],
            "totals": [sum(table.get((y, d), 0) for d in districts) for y in years]}


def _distribution(frame: pl.DataFrame, category: str, names: dict[str, str]) -> dict:
    """District × category counts of the latest year; a sum over any suppressed cell is suppressed."""
    year = frame["year"].max()
    cells = (frame.filter(pl.col("year") == year).group_by("district_code", category)
             .agg(pl.col("suppressed").any().alias("suppressed"), pl.col("enterprise_count").sum().alias("n"))
             .sort("district_code", category))
    categories = sorted(str(c) for c in cells[category].unique().to_list())
    districts = sorted(cells["district_code"].unique().to_list())
    points = [{"district": districts.index(d), "category": categories.index(str(c)),
               "value": None if s else n, "suppressed": bool(s)}
              for d, c, s, n in cells.iter_rows()]
    return {"year": year, "categories": categories,
            "districts": [names.get(d, d) for d in districts], "points": points}


def _city_month(path: Path) -> dict | None:
    """1–N月 同比 of the city for the latest year with ytd rows (January is never published alone)."""
    frame = pl.read_parquet(path)
    if not {"year", "month", "period_type"} <= set(frame.columns):
        return None
    ytd = frame.filter(pl.col("period_type") == "ytd")
    if ytd.is_empty():
        return None
    year = ytd["year"].max()
    rows = ytd.filter(pl.col("year") == year).sort("month")
    series = {c: rows[c].to_list() for c in MONTHLY_YOY_COLUMNS if c in rows.columns}
    return {"year": year, "months": rows["month"].to_list(), "series": series}


def _early_warning(path: Path, names: dict[str, str]) -> dict | None:
    """Each scope's early-warning status in the latest published 1–N月 period, the districts
    behind in it (warehouse.early_warning, as the run summary names them) and, for the chart, each
    shown scope's intensity 同比 against the change required this year."""
    frame = pl.read_parquet(path)
    needed = {"scope_code", "year", "month", "period_type", "energy_status", "co2_status"}
    if not needed <= set(frame.columns):
        return None
    latest = latest_ytd(frame)
    if latest.is_empty():
        return None
    year, month = latest["year"][0], latest["month"][0]
    if "suppressed" not in latest.columns:
        latest = latest.with_columns(pl.lit(False).alias("suppressed"))
    rows = []
    for r in latest.iter_rows(named=True):
        hidden = bool(r["suppressed"])
        rows.append({"scope_code": r["scope_code"], "scope_name": names.get(r["scope_code"], r["scope_code"]),
                     "suppressed": hidden,
                     **{k: (None if hidden else r.get(k)) for k in WARNING_COLUMNS}})
    behind = [names.get(c, c) for c in behind_districts(latest.filter(~pl.col("suppressed")))["scope_code"]]
    return {"year": year, "month": month, "rows": rows, "behind": behind, "chart": _warning_chart(rows)}


def _warning_chart(rows: list[dict]) -> dict | None:
    """Scopes with an intensity 同比 (not suppressed), the city first: 同比 and required change of
    both intensities; None when no scope has one (no value-added growth delivered)."""
    shown = [r for r in rows if not r["suppressed"]
             and (r["energy_intensity_yoy"] is not None or r["co2_intensity_yoy"] is not None)]
    if not shown:
        return None
    shown.sort(key=lambda r: (r["scope_code"] != CITY_CODE, r["scope_code"]))
    return {"scopes": [r["scope_name"] for r in shown],
            "behind": [r["energy_status"] == BEHIND or r["co2_status"] == BEHIND for r in shown],
            **{k: [r[k] for r in shown] for k in WARNING_COLUMNS if not k.endswith("_status")}}


def _monthly(release: Release, names: dict[str, str]) -> dict:
    """The monthly sections, each only when the release has its table (a later pipeline adds them)."""
    result = {}
    if (path := release.optional_open_table("city_month")) is not None:
        result["city_month"] = _city_month(path)
    if (path := release.optional_open_table("intensity_monthly")) is not None:
        result["early_warning"] = _early_warning(path, names)
    return {k: v for k, v in result.items() if v is not None}


def _green(release: Release, names: dict[str, str]) -> dict | None:
    """Green factories and parks of the city by year against the plan's targets (400 / 10 at city
    level or above), with each district's counts of the latest year (docs/green.md)."""
    path = release.optional_open_table("green_manufacturing_progress")
    if path is None:
        return None
    frame = pl.read_parquet(path).sort("scope_code", "year")
    city = frame.filter(pl.col("scope_code") == CITY_CODE)
    if city.is_empty():
        return None
    last = city.row(-1, named=True)
    latest_year = last["year"]
    districts = frame.filter((pl.col("scope_code") != CITY_CODE) & (pl.col("year") == latest_year))
    return {
        "years": city["year"].to_list(), "factories": city["green_factories"].to_list(),
        "parks": city["green_parks"].to_list(),
        "factory_target": last["factory_target"], "park_target": last["park_target"], "target_year": last["target_year"],
        "latest": {k: last[k] for k in ("year", "green_factories", "green_parks", "factories_national",
                                        "factories_provincial", "factories_city", "parks_national", "parks_provincial",
                                        "parks_city", "factory_status", "park_status")},
        "districts": [{"code": r["scope_code"], "name": names.get(r["scope_code"], r["scope_code"]),
                       "factories": r["green_factories"], "parks": r["green_parks"]}
                      for r in districts.iter_rows(named=True)],
    }


def _over_limit(release: Release) -> dict | None:
    """How many firms had a product over the national limit, city-wide by year: a public count
    only (the list itself is restricted; each district sees its own firms in its area); with the
    confidence of the limit values behind the count and their check notes (from the reference
    file, public in the data dictionary), so the count is read with them."""
    if "over_limit_list" not in release.tables("restricted"):
        return None
    frame = pl.read_parquet(release.table_path("over_limit_list", "restricted"),
                            columns=["uscc", "year", "confidence", "check_note"])
    counts = frame.group_by("year").agg(pl.col("uscc").n_unique().alias("firms")).sort("year")
    levels = table_contract("over_limit_list").column("confidence").allowed_values or ()
    present = set(frame["confidence"].drop_nulls().to_list())
    notes = frame.filter(pl.col("check_note").is_not_null()).sort("check_note")["check_note"].unique(maintain_order=True)
    return {"years": counts["year"].to_list(), "firms": counts["firms"].to_list(),
            "confidence": [v for v in levels if v in present], "check_notes": notes.to_list()}


def report_data(release: Release) -> dict:
    names = _district_names(release)
    progress = _progress(release)
    latest_status: dict[str, dict] = {}  # scope -> the latest year's status of each indicator
    for indicator, scopes in progress.items():
        for s in scopes:
            row = latest_status.setdefault(s["scope_code"], {"scope_code": s["scope_code"], "scope_name": s["scope_name"],
                                                             "year": s["years"][-1]})
            row[indicator] = {"status": s["status"][-1], "suppressed": s["suppressed"][-1],
                              "status_basis": s["status_basis"]}
    return {
        "release_id": release.release_id,
        "progress": progress,
        "latest_status": list(latest_status.values()),
        "key_groups": _key_groups(release),
        "hcle": _hcle(release, names),
        "carbon_grades": _distribution(_open(release, "carbon_grade_distribution"), "carbon_grade", names),
        "mu_classes": _distribution(_open(release, "mu_class_distribution"), "mu_class", names),
        "monthly": _monthly(release, names),
        "green": _green(release, names),
        "over_limit": _over_limit(release),
    }


# Interface strings the charts use (static/report_charts.js), in the page's language.
REPORT_LABEL_KEYS = ("energy_intensity", "co2_intensity", "actual_change", "path_change", "suppressed", "on_track",
                     "at_risk", "behind", "achieved", "enterprises", "year", "city", "district", "save_png",
                     "energy_tce_yoy", "co2_total_t_yoy", "electricity_yoy", "intensity_unit", "carbon_grade",
                     "mu_class", "target", "green_factories", "green_parks", "yoy", "required_change")


def report_labels(t) -> dict[str, str]:
    return {k: t(k) for k in REPORT_LABEL_KEYS}


def report_cache_key(release: Release) -> tuple[str, float]:
    return release.release_id, Path(release.path / "manifest.json").stat().st_mtime
