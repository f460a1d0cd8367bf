"""write_candidate and write_table: a tiny DuckDB with every mart, built here from a seeded
synthetic enterprise_year (the helpers below are shared with test_disclosure and test_gates)."""

from __future__ import annotations

import math
import random
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from data_contracts import Column, Contract, load_odcs, table_contract
from data_contracts.reference import load_reference
from warehouse import parquet_io
from warehouse.candidate import OPEN_TABLES, PUBLISHED_TABLES, RESTRICTED_TABLES, write_candidate
from warehouse.parquet_io import read_table, write_table

DISTRICTS = ("330102", "330105", "330106", "330108", "330109")
DIVISIONS = ("13", "17", "26", "30", "44")
CITY = "330100"
MEASURES = ("energy_tce", "energy_tce_net", "co2_direct_t", "co2_indirect_t", "co2_total_t")


# --------------------------------------------------------------------------- synthetic marts


def make_enterprise_year(seed: int, n: int = 80, years=(2020, 2021, 2022), districts=DISTRICTS,
                         divisions=DIVISIONS, sigma: float = 1.4, district_weights=None) -> pl.DataFrame:
    """A plausible restricted enterprise_year: each firm keeps its district and division,
    energy lognormal (so some cells are dominated), ±10 % a year."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        d, k = rng.choices(districts, weights=district_weights)[0], rng.choice(divisions)
        base = math.exp(rng.gauss(6.5, sigma))
        intensity = rng.uniform(0.3, 1.2)
        for y in years:
            e = base * rng.uniform(0.9, 1.1)
            complete = rng.random() > 0.1
            va = None if rng.random() < 0.1 else e * 0.95 / intensity
            matched = complete and va is not None and va > 0
            co2_direct = e * 1.2
            co2_indirect = e * 0.8
            rows.append({
                "uscc": f"91330100MA{i:08d}", "year": y, "enterprise_name": f"企业{i}",
                "district_code": d, "district_imputed": False, "division_code": k, "industry_code": k + "11",
                "months_reported": 12 if complete else rng.randint(3, 11), "is_complete": complete,
                "energy_tce": e, "energy_tce_net": e * 0.95, "co2_direct_t": co2_direct,
                "co2_indirect_t": co2_indirect, "co2_total_t": co2_direct + co2_indirect,
                "va_10k_yuan": va, "va_10k_yuan_2020p": va,
                "energy_intensity": e * 0.95 / va if matched else None,
                "co2_intensity": (co2_direct + co2_indirect) / va if matched else None,
                "is_key_energy_user": e >= 1000,
                "mu_class": rng.choice("ABCD"), "carbon_grade": rng.randint(1, 5), "provisional": False,
            })
    return pl.DataFrame(rows, infer_schema_length=None)


def _aggregate(ey: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    va = pl.col("va_10k_yuan_2020p")
    matched = pl.col("is_complete") & (va > 0).fill_null(False)
    g = ey.group_by(keys).agg(
        pl.col("uscc").n_unique().cast(pl.Int64).alias("enterprise_count"),
        pl.col("is_key_energy_user").sum().cast(pl.Int64).alias("key_energy_user_count"),
        *(pl.col(m).sum() for m in MEASURES),
        pl.when(pl.col("division_code") == "44").then(pl.col("co2_direct_t")).otherwise(0.0).sum()
        .alias("co2_direct_division44_t"),
        va.filter(matched).sum().alias("va_10k_yuan_2020p"),
        pl.col("energy_tce_net").filter(matched).sum().alias("_e_m"),
        pl.col("co2_total_t").filter(matched).sum().alias("_c_m"),
        pl.col("energy_tce").filter(matched).sum().alias("_e_all_m"),
        pl.col("provisional").any().alias("provisional"),
    )
    g = g.with_columns(
        pl.when(pl.col("va_10k_yuan_2020p") > 0).then(pl.col("_e_m") / pl.col("va_10k_yuan_2020p")).alias("energy_intensity"),
        pl.when(pl.col("va_10k_yuan_2020p") > 0).then(pl.col("_c_m") / pl.col("va_10k_yuan_2020p")).alias("co2_intensity"),
        (pl.col("_e_all_m") / pl.col("energy_tce")).alias("matched_energy_share"),
        pl.lit(0.3).alias("coal_share"), pl.lit(0.4).alias("electricity_share"),
    ).drop("_e_m", "_c_m", "_e_all_m")
    group = [k for k in keys if k != "year"] or ["_all"]
    g = g.with_columns(pl.lit(1).alias("_all"))
    base = g.filter(pl.col("year") == 2020).select(
        *group, pl.col("energy_intensity").alias("_e20"), pl.col("co2_intensity").alias("_c20"))
    g = g.join(base, on=group, how="left").with_columns(
        (pl.col("energy_intensity") / pl.col("_e20") - 1).alias("energy_intensity_change_vs_2020"),
        (pl.col("co2_intensity") / pl.col("_c20") - 1).alias("co2_intensity_change_vs_2020"),
    ).drop("_e20", "_c20", "_all")
    measures = ["enterprise_count", "key_energy_user_count", *MEASURES, "co2_direct_division44_t",
                "va_10k_yuan_2020p", "energy_intensity", "co2_intensity", "energy_intensity_change_vs_2020",
                "co2_intensity_change_vs_2020", "matched_energy_share", "coal_share", "electricity_share",
                "provisional"]
    return g.select(*keys, *measures)


def _names(df: pl.DataFrame) -> pl.DataFrame:
    if "district_code" in df.columns:
        d = load_reference("districts").select("district_code", "district_name")
        df = df.join(d, on="district_code", how="left")
    if "division_code" in df.columns:
        k = load_reference("industries").select(
            "division_code", "division_name", pl.col("key_group"), (pl.col("high_energy") == "true").alias("high_energy"))
        df = df.join(k, on="division_code", how="left")
    return df


def aggregate_groups(ey: pl.DataFrame, names: bool = True) -> dict[str, pl.DataFrame]:
    """The four group marts (unsuppressed) from an enterprise_year frame."""
    out = {
        "city_year": _aggregate(ey, ["year"]),
        "district_year": _aggregate(ey, ["district_code", "year"]),
        "district_industry_year": _aggregate(ey, ["district_code", "division_code", "year"]),
        "city_industry_year": _aggregate(ey, ["division_code", "year"]),
    }
    if names:
        order = {
            "district_year": ["district_code", "district_name", "year"],
            "district_industry_year": ["district_code", "district_name", "division_code", "division_name",
                                       "key_group", "high_energy", "year"],
            "city_industry_year": ["division_code", "division_name", "key_group", "high_energy", "year"],
        }
        for t, first in order.items():
            df = _names(out[t])
            out[t] = df.select(*first, *[c for c in df.columns if c not in first])
    return out


def _target_progress(groups: dict[str, pl.DataFrame]) -> pl.DataFrame:
    rows = []
    for indicator, target in (("energy_intensity", -0.18), ("co2_intensity", -0.20)):
        scopes = [(CITY, "杭州市", groups["city_year"].with_columns(pl.lit(CITY).alias("district_code")))]
        dy = groups["district_year"]
        for d in sorted(set(dy["district_code"])):
            scopes.append((d, dy.filter(pl.col("district_code") == d)["district_name"][0],
                           dy.filter(pl.col("district_code") == d)))
        for code, name, df in scopes:
            vals = {r["year"]: r[indicator] for r in df.iter_rows(named=True)}
            base = vals.get(2020)
            if base is None:
                continue
            for y in sorted(vals):
                path = (1 + target) ** ((y - 2020) / 5) - 1
                change = None if vals[y] is None else vals[y] / base - 1
                status = None if change is None else ("on_track" if change <= path else
                                                      "at_risk" if change <= path + 0.02 else "behind")
                rows.append({"scope_code": code, "scope_name": name, "indicator": indicator, "year": y,
                             "base_value": base, "actual_value": vals[y], "actual_change": change,
                             "target_change": target, "target_year": 2025, "path_change": path,
                             "status": status, "status_basis": "own_target" if code == CITY else "city_target",
                             "provisional": False})
    return pl.DataFrame(rows, infer_schema_length=None)


def synthetic_marts(seed: int = 7, n: int = 80) -> dict[str, pl.DataFrame]:
    """Every mart of the working DuckDB, unsuppressed, consistent with each other, with the
    columns of its contract."""
    return {t: conform_to_contract(t, df) for t, df in _synthetic_marts(seed, n).items()}


def synthetic_sdc_inputs(seed: int = 7, n: int = 80) -> dict[str, pl.DataFrame]:
    """dbt's intermediate.int_<table>_sdc of the monthly marts (as synthetic_marts with the same
    seed): the mart's contract columns plus the helper columns only disclosure control reads."""
    raw = _synthetic_marts(seed, n)
    out = {}
    for t in ("city_month", "district_month", "key_group_month"):
        mart = conform_to_contract(t, raw[t])
        helpers = [c for c in raw[t].columns if c not in mart.columns]
        out[f"int_{t}_sdc"] = pl.concat([mart, raw[t].select(helpers)], how="horizontal")
    return out


def _synthetic_marts(seed: int, n: int) -> dict[str, pl.DataFrame]:
    ey = make_enterprise_year(seed, n)
    groups = aggregate_groups(ey)
    prev = ey.select("uscc", (pl.col("year") + 1).alias("year"), pl.col("energy_tce").alias("energy_tce_prev_year"))
    keu = ey.filter("is_key_energy_user").join(prev, on=["uscc", "year"], how="left").with_columns(
        (pl.col("energy_tce") / pl.col("energy_tce_prev_year") - 1).alias("energy_change_yoy"))
    hcle = keu.filter((pl.col("mu_class") == "D") | (pl.col("carbon_grade") == 5)).select(
        "uscc", "enterprise_name", "district_code", "division_code", "year", "energy_tce", "mu_class", "carbon_grade",
        pl.concat_str(pl.when(pl.col("mu_class") == "D").then(pl.lit("mu_class_D")),
                      pl.when(pl.col("carbon_grade") == 5).then(pl.lit("carbon_grade_5")),
                      separator=";", ignore_nulls=True).alias("reasons"))
    recon = ey.select("uscc", "year", pl.lit("energy_equiv_vs_mu").alias("check"), pl.col("energy_tce").alias("value"),
                      (pl.col("energy_tce") * 1.01).alias("reference_value"),
                      pl.lit(0.0099).alias("relative_difference"), pl.lit(False).alias("flagged"))
    quarantine = pl.DataFrame({
        "source": ["energy_reports"], "file": ["energy_reports/a.csv"], "sheet": [None], "row_number": [5],
        "district_code": ["330199"], "reason": ["unknown_district"], "reason_zh": ["行政区划不存在"],
        "raw": ['{"行政区划代码": "330199"}']},
        schema_overrides={"sheet": pl.String, "row_number": pl.Int32})
    dq = pl.DataFrame({"source": ["energy_reports"], "file": ["energy_reports/a.csv"], "sha256": ["ab" * 32],
                       "delivery_seq": [1], "rows_read": [100], "accepted": [99], "quarantined": [1],
                       "superseded": [0], "withdrawn": [0], "total_rows": [0]})
    carbon = ey.group_by("district_code", "division_code", "year", "carbon_grade").agg(
        pl.len().cast(pl.Int64).alias("enterprise_count"))
    mu = ey.group_by("district_code", "year", "mu_class").agg(pl.len().cast(pl.Int64).alias("enterprise_count"))
    return {
        **green_marts(ey),
        **groups,
        "target_progress": _target_progress(groups),
        "carbon_grade_distribution": carbon,
        "mu_class_distribution": mu,
        "enterprise_year": ey,
        "key_energy_users": keu,
        "high_consumption_low_efficiency": hcle,
        "source_reconciliation": recon,
        "quarantine": quarantine,
        "data_quality": dq,
        **synthetic_monthly(ey),
    }


def green_marts(ey: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The green and product-energy marts (docs/green.md) for some enterprise-years of ``ey``."""
    makers = ey.filter(pl.col("division_code") == "30").sort("uscc", "year")
    pe = makers.select(
        "uscc", pl.lit("clinker").alias("product_code"), "year", "enterprise_name", "district_code", "division_code",
        pl.lit("水泥熟料").alias("product_name"), (pl.col("energy_tce") * 10).alias("output"),
        (95 + (pl.int_range(pl.len()) % 30)).cast(pl.Float64).alias("unit_energy"), pl.lit("kgce/t").alias("unit"),
    ).with_columns(
        pl.col("unit_energy").alias("unit_energy_rounded"),
        pl.when(pl.col("unit_energy") <= 100).then(pl.lit("grade_1")).when(pl.col("unit_energy") <= 117)
        .then(pl.lit("grade_2")).otherwise(pl.lit("over_limit")).alias("grade"),
        (pl.col("unit_energy") <= 100).alias("at_benchmark"), (pl.col("unit_energy") > 117).alias("below_baseline"),
        pl.lit(117.0).alias("limit_value"), pl.lit("HZ-PL-2026.1").alias("limit_set"),
        pl.lit("GB 16780-2021").alias("standard"), pl.lit(2022, dtype=pl.Int32).alias("in_force_from"),
        (pl.col("year") < 2022).alias("yardstick"), pl.lit("medium").alias("confidence"),
        pl.lit("annual").alias("basis"), pl.lit(None, dtype=pl.Int64).alias("months_reported"))
    over = pe.filter((pl.col("grade") == "over_limit") & ~pl.col("yardstick")).select(
        "uscc", "year", "product_code", "enterprise_name", "district_code", "product_name", "output",
        pl.col("unit_energy_rounded").alias("unit_energy"), "unit", "limit_value", "limit_set", "standard",
        "confidence", pl.lit("限额值须与标准原文核对").alias("check_note"))
    share = pe.group_by("product_code", "year").agg(
        pl.first("product_name"), pl.first("unit"), pl.len().cast(pl.Int64).alias("enterprise_count"),
        pl.col("output").sum(),
        (pl.col("output").filter(pl.col("grade") != "over_limit").sum() / pl.col("output").sum()).alias("within_limit_share"),
        (pl.col("output").filter(pl.col("grade") == "over_limit").sum() / pl.col("output").sum()).alias("over_limit_share"),
        (pl.col("output").filter(pl.col("at_benchmark")).sum() / pl.col("output").sum()).alias("at_benchmark_share"),
        pl.col("yardstick").any(), pl.first("limit_set"), pl.first("confidence"))
    factories = pl.DataFrame({
        "entry_type": ["工厂", "园区"], "list_year": [2021, 2022], "level": ["国家级", "国家级"],
        "change_type": ["新增", "新增"], "name": ["杭州示例有限公司", "杭州示例园区"], "region": ["浙江", "浙江"],
        "current_name": ["杭州示例", "杭州示例园区"], "former_name": [None, None], "district_code": [DISTRICTS[0], None],
        "match_status": ["name", "none"], "candidate_count": [1, 0], "candidate_uscc": [ey["uscc"][0], None]},
        schema_overrides={"list_year": pl.Int32, "candidate_count": pl.Int64, "former_name": pl.String,
                          "district_code": pl.String, "candidate_uscc": pl.String})
    counts = {c: [0, 1, 1] for c in ("green_factories", "factories_national")} | {
        c: [0, 0, 0] for c in ("factories_provincial", "factories_city", "parks_provincial", "parks_city")} | {
        c: [0, 0, 1] for c in ("green_parks", "parks_national")}
    progress = pl.DataFrame({
        "scope_code": [CITY] * 3, "year": [2020, 2021, 2022], **counts, "factory_target": [400] * 3,
        "park_target": [10] * 3, "target_year": [2025] * 3, "factory_status": ["on_track", "behind", "behind"],
        "park_status": ["on_track", "behind", "behind"]},
        schema_overrides={"year": pl.Int32, "factory_target": pl.Int32, "park_target": pl.Int32,
                          "target_year": pl.Int32, **{c: pl.Int64 for c in counts}})
    share_of_energy = pl.DataFrame({
        "scope_code": [CITY], "year": [2022], "green_factory_count": [1], "energy_tce": [1000.0],
        "green_energy_tce": [100.0], "green_energy_share": [0.1], "co2_total_t": [2000.0], "green_co2_t": [300.0],
        "green_co2_share": [0.15]}, schema_overrides={"year": pl.Int32, "green_factory_count": pl.Int64})
    return {"green_factory_energy_share": share_of_energy,
            "green_manufacturing_progress": progress, "green_factories": factories,
            "product_efficiency_share": share, "product_efficiency": pe, "over_limit_list": over}


def synthetic_monthly(ey: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The monthly marts (docs/monthly.md) as 1–12月 of each year (the years of enterprise_year
    are complete), with the helper columns disclosure control reads, and empty reporting marts
    (no register)."""
    groups = load_reference("industries").select("division_code", pl.col("key_group").replace("", None))
    ey = ey.join(groups, on="division_code", how="left")

    def month_mart(keys: list[str], coal: bool = False) -> pl.DataFrame:
        df = ey.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys)) if keys else ey
        g = df.group_by(*keys, "year").agg(
            pl.col("uscc").n_unique().cast(pl.Int64).alias("enterprise_count"),
            pl.col("energy_tce").sum(), pl.col("energy_tce_net").sum(), pl.col("co2_total_t").sum(),
            (pl.col("energy_tce") * 0.3).sum().alias("electricity_10k_kwh"),
            *([(pl.col("energy_tce") * 0.5).sum().alias("coal_t")] if coal else []),
            pl.lit(0).cast(pl.Int64).alias("comparable_enterprise_count"),
            pl.col("provisional").any(),
            pl.col("energy_tce").sort(descending=True).head(5).alias("energy_tce_top"),
            *([pl.col("uscc").n_unique().cast(pl.Int64).alias("coal_reporter_count"),
               (pl.col("energy_tce") * 0.5).sort(descending=True).head(5).alias("coal_t_top")] if coal else []),
        )
        yoy = ["energy_tce_yoy", "energy_tce_net_yoy", "co2_total_t_yoy", "electricity_yoy", *(["coal_t_yoy"] if coal else [])]
        g = g.with_columns(pl.lit(12, pl.Int32).alias("month"), pl.lit("ytd").alias("period_type"),
                           *(pl.lit(None, pl.Float64).alias(c) for c in yoy),
                           pl.lit(0).cast(pl.Int64).alias("entrant_count"), pl.lit(0).cast(pl.Int64).alias("leaver_count"))
        if "district_code" in keys:
            g = _names(g)
        return g

    status = pl.DataFrame(schema={"uscc": pl.String, "year": pl.Int32, "month": pl.Int32, "enterprise_name": pl.String,
                                  "district_code": pl.String, "expected": pl.Boolean, "status": pl.String,
                                  "first_submitted_at": pl.String, "due_at": pl.String, "revisions": pl.Int64})
    summary = pl.DataFrame(schema={"district_code": pl.String, "district_name": pl.String, "year": pl.Int32,
                                   "month": pl.Int32, **{c: pl.Int64 for c in (
                                       "expected_count", "on_time_count", "late_count", "quarantined_count",
                                       "missing_count", "unexpected_count")}, "response_share": pl.Float64})
    reminders = pl.DataFrame(schema={"district_code": pl.String, "year": pl.Int32, "month": pl.Int32, "uscc": pl.String,
                                     "enterprise_name": pl.String, "status": pl.String, "due_at": pl.String,
                                     "first_submitted_at": pl.String})
    city_month, district_month = month_mart([], coal=True), month_mart(["district_code"])
    return {"city_month": city_month, "district_month": district_month,
            "key_group_month": month_mart(["key_group"]), "reporting_status": status,
            "reporting_summary": summary, "reporting_reminders": reminders,
            "intensity_monthly": synthetic_intensity(city_month, district_month)}


def synthetic_intensity(city_month: pl.DataFrame, district_month: pl.DataFrame) -> pl.DataFrame:
    """intensity_monthly (before disclosure control) over the month tables' periods: no value-added
    growth delivered, so every measure, required change and status is null."""
    period = ["year", "month", "period_type", "provisional"]
    scopes = pl.concat([
        city_month.select(pl.lit("330100").alias("scope_code"), pl.lit("杭州市").alias("scope_name"), *period),
        district_month.select(pl.col("district_code").alias("scope_code"), pl.col("district_name").alias("scope_name"),
                              *period),
    ])
    null_type = {"DOUBLE": pl.Float64, "VARCHAR": pl.String}
    return scopes.select(pl.col(c.name) if c.name in scopes.columns else pl.lit(None, null_type[c.physical_type]).alias(c.name)
                         for c in table_contract("intensity_monthly").mart_columns)


def build_duckdb(path: Path, marts: dict[str, pl.DataFrame],
                 sdc_inputs: dict[str, pl.DataFrame] | None = None) -> Path:
    """The working DuckDB as dbt leaves it: the marts in schema main, the disclosure inputs
    (synthetic_sdc_inputs) in schema intermediate."""
    con = duckdb.connect(str(path), config={"memory_limit": "512MB", "threads": 1})
    try:
        con.execute("create schema if not exists intermediate")
        tables = [("main", name, df) for name, df in marts.items()]
        tables += [("intermediate", name, df) for name, df in (sdc_inputs or {}).items()]
        for schema, name, df in tables:
            con.register("_src", df.to_arrow())
            con.execute(f'create or replace table {schema}."{name}" as select * from _src')
            con.unregister("_src")
    finally:
        con.close()
    return path


# --------------------------------------------------------------------------- the real contracts

_POLARS = {"VARCHAR": pl.String, "BOOLEAN": pl.Boolean, "INTEGER": pl.Int32, "BIGINT": pl.Int64,
           "DOUBLE": pl.Float64}


def _filler(col: Column) -> pl.Expr:
    """A value a column the synthetic mart does not compute may hold: null where the contract
    allows it, else an allowed value, the range's lower end, or a plain value of its type."""
    dtype = _POLARS.get(col.physical_type, pl.String)
    if not col.required:
        return pl.lit(None, dtype=dtype).alias(col.name)
    if col.allowed_values:
        value = col.allowed_values[0]
    elif col.range is not None and col.range[0] is not None:
        value = col.range[0]
    else:
        value = {pl.String: "x", pl.Boolean: False}.get(dtype, 0)
    return pl.lit(value).cast(dtype).alias(col.name)


def conform_to_contract(table: str, df: pl.DataFrame) -> pl.DataFrame:
    """The synthetic mart with exactly its contract's mart columns (data_contracts/contracts/),
    in contract order: columns the synthetic data does not compute are filled (``_filler``)."""
    c = table_contract(table)
    return df.with_columns(_filler(col) for col in c.mart_columns if col.name not in df.columns) \
        .select(pl.col(col.name).cast(_POLARS.get(col.physical_type, pl.String)) for col in c.mart_columns)


@pytest.fixture(scope="module")
def marts() -> dict[str, pl.DataFrame]:
    return synthetic_marts()


@pytest.fixture(scope="module")
def db(tmp_path_factory, marts) -> Path:
    return build_duckdb(tmp_path_factory.mktemp("wh") / "hzcarbon.duckdb", marts, synthetic_sdc_inputs())


# --------------------------------------------------------------------------- tests


def test_write_candidate_layout_and_suppression(db, tmp_path):
    cand = tmp_path / "candidate"
    (cand / "stale").mkdir(parents=True)
    (cand / "stale" / "old.parquet").write_bytes(b"x")
    paths = write_candidate(db, cand, {})
    assert set(paths) == set(PUBLISHED_TABLES)
    assert not (cand / "stale").exists(), "candidate_dir is wiped first"
    for t in OPEN_TABLES:
        assert paths[t] == cand / "open" / f"{t}.parquet" and paths[t].exists()
    for t in RESTRICTED_TABLES:
        assert paths[t] == cand / "restricted" / f"{t}.parquet" and paths[t].exists()
    diy = read_table(paths["district_industry_year"])
    assert diy["suppressed"].sum() > 0
    hidden = diy.filter("suppressed")
    assert hidden["energy_tce"].null_count() == hidden.height
    assert hidden["enterprise_count"].null_count() == 0
    assert set(hidden["suppression_reason"]) <= {"count", "dominance", "secondary"}
    assert "suppressed" not in read_table(paths["city_year"]).columns
    assert "suppressed" in read_table(paths["target_progress"]).columns
    # restricted tables are the marts as they are
    assert read_table(paths["enterprise_year"]).height == 80 * 3


def test_write_candidate_is_deterministic(db, tmp_path):
    a = write_candidate(db, tmp_path / "a", {})
    b = write_candidate(db, tmp_path / "b", {})
    for t in PUBLISHED_TABLES:
        assert a[t].read_bytes() == b[t].read_bytes(), t


def test_write_candidate_uses_params(db, tmp_path):
    loose = write_candidate(db, tmp_path / "loose", {"sdc_min_count": 1, "sdc_dominance_share": 1.0})
    strict = write_candidate(db, tmp_path / "strict", {"sdc_min_count": 10})
    n_loose = read_table(loose["district_industry_year"])["suppressed"].sum()
    n_strict = read_table(strict["district_industry_year"])["suppressed"].sum()
    assert n_loose < n_strict
    assert read_table(strict["district_year"])["suppressed"].sum() >= read_table(loose["district_year"])["suppressed"].sum()


def test_fault_injection_district_total(db, tmp_path, marts):
    good = read_table(write_candidate(db, tmp_path / "good", {})["district_year"])
    bad = read_table(write_candidate(db, tmp_path / "bad", {"fault_injection": "district_total"})["district_year"])
    diff = good.join(bad, on=["district_code", "year"], suffix="_bad").filter(
        pl.col("energy_tce") != pl.col("energy_tce_bad"))
    assert diff.height == 1
    row = diff.row(0, named=True)
    assert row["energy_tce_bad"] == pytest.approx(row["energy_tce"] * 1.01)
    first = good.filter(pl.col("energy_tce").is_not_null()).sort("district_code", "year").row(0, named=True)
    assert (row["district_code"], row["year"]) == (first["district_code"], first["year"])
    with pytest.raises(ValueError, match="unknown fault_injection"):
        write_candidate(db, tmp_path / "good", {"fault_injection": "district_totl"})
    assert read_table(tmp_path / "good" / "open" / "district_year.parquet").equals(good), \
        "an unknown fault is refused before the previous candidate is wiped"


def test_write_candidate_names_missing_mart(tmp_path, marts):
    db = build_duckdb(tmp_path / "partial.duckdb", {t: marts[t] for t in ("city_year", "enterprise_year")})
    previous = tmp_path / "c" / "open" / "city_year.parquet"
    previous.parent.mkdir(parents=True)
    previous.write_bytes(b"previous candidate")
    with pytest.raises(LookupError, match="district_year"):
        write_candidate(db, tmp_path / "c", {})
    assert previous.read_bytes() == b"previous candidate", "nothing is wiped before every mart is found"


# --------------------------------------------------------------------------- write_table


def test_write_table_deterministic_bytes_and_metadata(tmp_path, marts):
    df = marts["district_year"]
    a = write_table(df, tmp_path / "a.parquet", "district_year")
    b = write_table(df.sample(fraction=1.0, shuffle=True, seed=3), tmp_path / "b.parquet", "district_year")
    c = write_table(df, tmp_path / "c.parquet", "district_year")
    assert a.read_bytes() == c.read_bytes()
    assert a.read_bytes() == b.read_bytes(), "row order of the input does not matter"
    schema = pq.read_schema(a)
    meta = schema.metadata
    assert meta[b"hzcarbon.contract_id"] == b"hzcarbon.table.district_year"
    assert meta[b"hzcarbon.contract_version"] == str(load_odcs("table_district_year").version).encode()
    assert not any(b"time" in k.lower() for k in meta)
    f, declared = schema.field("energy_tce"), table_contract("district_year").column("energy_tce")
    assert f.metadata[b"description"].decode() == declared.description
    assert f.metadata[b"label_zh"].decode() == declared.label_zh
    assert f.metadata[b"unit"].decode() == declared.unit
    md = pq.ParquetFile(a).metadata
    assert md.row_group(0).column(0).compression == "ZSTD"
    encodings = {md.schema.column(i).name: md.row_group(0).column(i).encodings for i in range(md.num_columns)}
    assert "RLE_DICTIONARY" in encodings["district_code"] and "RLE_DICTIONARY" in encodings["year"]
    assert "RLE_DICTIONARY" not in encodings["energy_tce"], "floats are not dictionary encoded"
    back = read_table(a)
    assert back["district_code"].dtype == pl.String
    assert back.select("district_code", "year").rows() == sorted(df.select("district_code", "year").rows())


def test_write_table_casts_to_contract_types(tmp_path):
    contract = Contract(
        id="t", name="city_year", label_zh="", purpose="", custom={},
        columns=(Column("year", "年份", "year", "integer", "INTEGER", required=True, primary_key=True),
                 Column("energy_tce", "能耗", "e", "number", "DOUBLE")))
    df = pl.DataFrame({"energy_tce": [1, 2], "year": [2021, 2020]})  # int64s, out of contract order
    p = write_table(df, tmp_path / "x.parquet", "city_year", contract=contract, version="1.0.0")
    schema = pq.read_schema(p)
    assert schema.names == ["year", "energy_tce"]
    assert str(schema.field("year").type) == "int32" and str(schema.field("energy_tce").type) == "double"
    assert read_table(p)["year"].to_list() == [2020, 2021]


def test_write_table_without_contract_keeps_codes_as_text(tmp_path):
    df = pl.DataFrame({"district_code": ["330102", "330105"], "year": [2021, 2020], "x": [0.5, None]})
    assert parquet_io.lookup_contract("table_without_contract") is None
    p = write_table(df, tmp_path / "d.parquet", "table_without_contract")
    back = read_table(p)
    assert back["district_code"].to_list() == ["330102", "330105"]
    assert b"hzcarbon.contract_id" not in pq.read_schema(p).metadata


def test_write_table_with_the_real_contract_file(tmp_path):
    assert parquet_io.lookup_contract("city_year") is not None, "data_contracts/contracts/table_city_year.yaml"
    df = synthetic_marts(seed=1, n=20)["city_year"]
    p = write_table(df, tmp_path / "city_year.parquet", "city_year")
    schema = pq.read_schema(p)
    assert schema.metadata[b"hzcarbon.contract_id"] == b"hzcarbon.table.city_year"
    assert schema.metadata[b"hzcarbon.contract_version"]
    assert schema.field("energy_tce").metadata[b"description"]
    assert str(schema.field("year").type) == "int32"
    assert write_table(df, tmp_path / "again.parquet", "city_year").read_bytes() == p.read_bytes()


def test_write_table_skips_the_sort_only_for_rows_in_strict_key_order(tmp_path):
    """Rows already in strict key order are written as they come, any other order is sorted by
    key then every column; both give the bytes of a shuffled input."""
    keys = ["district_code", "year"]
    assert parquet_io.table_keys("district_year") == keys  # its contract's key
    df = pl.DataFrame({"district_code": ["330102", "330102", "330105", "330105", None, None],
                       "year": [2020, None, 2020, 2021, 2020, 2021],
                       "x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
    assert parquet_io._strictly_increasing(df, keys)  # nulls last, within and across columns
    assert not parquet_io._strictly_increasing(df.reverse(), keys)
    ties = pl.DataFrame({"district_code": ["330102", "330102"], "year": [2020, 2020], "x": [2.0, 1.0]})
    assert not parquet_io._strictly_increasing(ties, keys), "equal keys: the other columns decide"
    floats = pl.DataFrame({"district_code": ["a", "b"], "year": [0.0, 1.0]})
    assert not parquet_io._strictly_increasing(floats, keys), "float keys are always sorted"
    for frame in (df, ties):
        ordered = write_table(frame, tmp_path / "ordered.parquet", "district_year").read_bytes()
        shuffled = write_table(frame.reverse(), tmp_path / "shuffled.parquet", "district_year").read_bytes()
        assert ordered == shuffled
    assert read_table(tmp_path / "ordered.parquet")["x"].to_list() == [1.0, 2.0]  # ties sorted by x


def test_strict_key_order_never_hides_a_needed_sort():
    """Whenever _strictly_increasing says yes, sorting would change nothing (random frames with
    repeated keys, nulls and non-ASCII codes); on sorted frames with unique keys it says yes."""
    rng = random.Random(7)
    codes = ["a", "b", "ab", "杭州", "杭", "Z", "é", None]
    for _ in range(300):
        n = rng.randint(2, 8)
        df = pl.DataFrame({"district_code": pl.Series([rng.choice(codes) for _ in range(n)], dtype=pl.String),
                           "year": pl.Series([rng.choice([2020, 2021, None]) for _ in range(n)], dtype=pl.Int32),
                           "x": [rng.random() for _ in range(n)]})
        by = ["district_code", "year", "x"]
        ordered = df.sort(by, nulls_last=True, maintain_order=True)
        if parquet_io._strictly_increasing(df, ["district_code", "year"]):
            assert df.equals(ordered)
        unique = ordered.unique(["district_code", "year"], keep="first", maintain_order=True)
        assert parquet_io._strictly_increasing(unique, ["district_code", "year"])


def test_row_group_writer_gives_the_bytes_of_write_table(tmp_path, marts):
    """A mart written a row group at a time (restricted marts at scale) is the file write_table
    writes from the whole frame: 240 rows in row groups of 100 → frames of 100, 100, 40."""
    df = marts["enterprise_year"]
    keys = parquet_io.table_keys("enterprise_year")
    ordered = df.sort(keys, nulls_last=True)
    assert ordered.height == 240
    whole = write_table(df.sample(fraction=1.0, shuffle=True, seed=3), tmp_path / "whole.parquet",
                        "enterprise_year", row_group_size=100)
    frames = [ordered.slice(0, 100), ordered.slice(100, 100), ordered.slice(200, 100)]
    assert parquet_io.write_table_in_row_groups(frames, tmp_path / "groups.parquet", "enterprise_year",
                                                row_group_size=100)
    assert (tmp_path / "groups.parquet").read_bytes() == whole.read_bytes()
    # the same rows as Arrow tables (what the candidate streams from DuckDB): the same bytes
    assert parquet_io.write_table_in_row_groups([f.to_arrow() for f in frames], tmp_path / "arrow.parquet",
                                                "enterprise_year", row_group_size=100)
    assert (tmp_path / "arrow.parquet").read_bytes() == whole.read_bytes()
    assert pq.ParquetFile(whole).metadata.num_row_groups == 3


def test_row_group_writer_refuses_rows_out_of_key_order_or_uneven_groups(tmp_path, marts):
    """Rows it cannot write as write_table would (out of key order across a group boundary, a
    group that is not full before the last, no rows) leave no file and answer False."""
    ordered = marts["enterprise_year"].sort(parquet_io.table_keys("enterprise_year"), nulls_last=True)
    out = tmp_path / "t.parquet"
    swapped = [ordered.slice(100, 100), ordered.slice(0, 100)]
    uneven = [ordered.slice(0, 50), ordered.slice(50, 100)]
    for frames in (swapped, uneven, [ordered.head(0)]):
        assert not parquet_io.write_table_in_row_groups(frames, out, "enterprise_year", row_group_size=100)
        assert not out.exists() and not (tmp_path / "t.parquet.tmp").exists()


def test_candidate_streams_restricted_marts_in_row_groups(db, tmp_path):
    """The restricted marts not held for disclosure control are streamed from DuckDB: the frames
    come in key order, ROW_GROUP_SIZE rows each, and the file is write_table's of the whole mart."""
    from warehouse.candidate import _row_groups, _stream_mart, read_mart

    con = duckdb.connect(str(db), read_only=True)
    try:
        frames = list(_row_groups(con, "source_reconciliation"))  # Arrow tables, as DuckDB gives them
        whole = read_mart(con, "source_reconciliation")
        assert whole.height > 0 and [f.num_rows for f in frames] == [whole.height]  # < ROW_GROUP_SIZE rows
        assert pl.concat([pl.from_arrow(f) for f in frames]).equals(whole)
        streamed = _stream_mart(con.cursor(), "source_reconciliation", tmp_path / "streamed.parquet")
        assert streamed.read_bytes() == write_table(whole, tmp_path / "whole.parquet", "source_reconciliation").read_bytes()
    finally:
        con.close()
