"""The yearly sources (亩均 evaluations, 碳效码 results), derived from the same firms and from the
energy the firm actually reported that year, so that the sources roughly reconcile."""

import numpy as np
import polars as pl

from sample_data import rules
from sample_data.energy import FIRST_YEAR, firm_year_va
from sample_data.population import Population


def _ids(pop: Population, firms: np.ndarray, year: int) -> dict[str, pl.Series]:
    """Identity columns; an evaluation year up to 2020 carries the pre-2021 district code."""
    district = pop.district_old[firms] if year <= FIRST_YEAR else pop.district[firms]
    ind = pl.Series(pop.industry_code[firms].tolist(), dtype=pl.String)
    return {
        "eval_year": pl.Series(np.full(len(firms), year, np.int32)),
        "uscc": pl.Series(pop.uscc[firms].tolist(), dtype=pl.String),
        "enterprise_name": pl.Series(pop.name[firms].tolist(), dtype=pl.String),
        "district_code": pl.Series(district.tolist(), dtype=pl.String),
        "township": pl.Series(pop.township[firms].tolist(), dtype=pl.String),
        "industry_code": ind,
        "division_code": ind.str.slice(0, 2),
    }


def _nominal_va(pop: Population, seed: int, year: int, firms: np.ndarray) -> np.ndarray:
    defl = np.array([rules.deflator_index(year, d) for d in pop.division[firms]])
    return np.round(firm_year_va(pop, seed, year)[firms] * defl, 2)


def _band(values: np.ndarray, scheme: str, upper_inclusive: bool) -> np.ndarray:
    """Class of each value by the bands of classification_rules.csv (None for NaN)."""
    out = np.full(len(values), None, dtype=object)
    for cls, lo, hi in rules.bands(scheme):
        lo_ok = np.ones(len(values), bool) if lo is None else (values > lo if upper_inclusive else values >= lo)
        hi_ok = np.ones(len(values), bool) if hi is None else (values <= hi if upper_inclusive else values < hi)
        out[lo_ok & hi_ok & ~np.isnan(values)] = cls
    return out


def _mu_score(scale_above: np.ndarray, ind: dict[str, np.ndarray]) -> np.ndarray:
    """Σ weight × min(value / benchmark, cap) with the rule rows of the firm's scale."""
    score = np.zeros(len(scale_above))
    for scale, mask in (("above", scale_above), ("below", ~scale_above)):
        for name, w, bench, cap in rules.mu_rules(scale):
            v = np.nan_to_num(ind[name], nan=0.0, posinf=cap * bench)
            score[mask] += w * np.minimum(np.maximum(v[mask], 0) / bench, cap)
    return score


def _official_scores(rng, raw: np.ndarray) -> np.ndarray:
    """The provincial system's score: our recomputation's rank mapped onto the class bands,
    so that about 10% fall into D, 35% C, 35% B, 20% A (official rules are not ours)."""
    bands = {c: (lo, hi) for c, lo, hi in rules.bands("mu_class")}
    plan = [("D", 0.0, 0.10), ("C", 0.10, 0.45), ("B", 0.45, 0.80), ("A", 0.80, 1.0)]
    p = (np.argsort(np.argsort(raw + rng.normal(0, 1e-6, len(raw)))) + 0.5) / len(raw)
    out = np.zeros(len(raw))
    for cls, p0, p1 in plan:
        lo, hi = bands[cls]
        lo = hi / 2 if lo is None else lo
        hi = lo * 4 / 3 if hi is None else hi
        m = (p >= p0) & (p < p1)
        out[m] = lo + (p[m] - p0) / (p1 - p0) * (hi - lo)
        out[m] = np.clip(np.round(out[m], 2), lo, hi - 0.01)  # stay in the band after rounding
    return out


def mu_year(pop: Population, agg: pl.DataFrame, seed: int, year: int) -> pl.DataFrame:
    firms = agg["_firm"].to_numpy()
    n = len(firms)
    frng = np.random.default_rng([seed, 7])  # firm constants (land, ratios)
    rng = np.random.default_rng([seed, 8, year])
    bench = {name: b for name, _, b, _ in rules.mu_rules("above")}
    va_per_mu = bench["va_per_mu"] * frng.lognormal(0, 0.7, pop.n)
    tax_rate = bench["tax_per_mu"] / bench["va_per_mu"] * frng.lognormal(0, 0.4, pop.n)
    va_rate = frng.uniform(0.18, 0.35, pop.n)
    rd_rate = bench["rd_ratio"] * frng.lognormal(0, 0.6, pop.n)
    labour = bench["labour_productivity"] * frng.lognormal(0, 0.5, pop.n)
    pollut = 0.01 * frng.lognormal(0, 0.8, pop.n)
    va = _nominal_va(pop, seed, year, firms)
    land = np.round(np.maximum(pop.va0[firms] / va_per_mu[firms], 3.0), 2)
    tax = va * tax_rate[firms] * rng.lognormal(0, 0.1, n)
    tax = np.round(np.where(rng.random(n) < 0.01, -0.1 * tax, tax), 2)  # a few refunds
    revenue = np.round(va / va_rate[firms], 2)
    rd = np.round(revenue * rd_rate[firms] * rng.lognormal(0, 0.1, n), 2)
    rd[rng.random(n) < 0.08] = 0.0
    rd[rng.random(n) < 0.03] = np.nan
    employees = np.maximum(np.round(va / labour[firms]), 5.0)
    energy = np.round(agg["energy_tce_equiv"].to_numpy() * rng.lognormal(0, 0.03, n), 2)
    elec = np.round(agg["electricity"].to_numpy(), 2)
    pollutant = np.round(agg["energy_tce"].to_numpy() * pollut[firms], 3)
    pollutant[rng.random(n) < 0.03] = np.nan
    above = pop.above_scale[firms]
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = _mu_score(above, {
            "tax_per_mu": tax / land, "va_per_mu": va / land, "va_per_energy": va / energy,
            "va_per_emission": va / pollutant, "labour_productivity": va / employees,
            "rd_ratio": rd / revenue, "tax_per_electricity": tax / elec})
    score = _official_scores(rng, raw)
    cls = _band(score, "mu_class", upper_inclusive=False)
    cls[rng.random(n) < 0.05] = None  # no official class: the recomputed one is used
    score[rng.random(n) < 0.03] = np.nan
    f = lambda a: pl.Series(a, dtype=pl.Float64, nan_to_null=True)  # noqa: E731
    return pl.DataFrame({
        **_ids(pop, firms, year),
        "is_above_scale": pl.Series(above, dtype=pl.Boolean),
        "land_mu": f(land), "tax_10k_yuan": f(tax), "va_10k_yuan": f(va), "revenue_10k_yuan": f(revenue),
        "rd_10k_yuan": f(rd), "employees": f(employees), "energy_tce_equiv": f(energy),
        "electricity_10k_kwh": f(elec), "pollutant_eq_t": f(pollutant), "score_official": f(score),
        "class_official": pl.Series(cls.tolist(), dtype=pl.String),
    })


def carbon_year(pop: Population, agg: pl.DataFrame, mu: pl.DataFrame, seed: int, year: int) -> pl.DataFrame:
    firms = agg["_firm"].to_numpy()
    n = len(firms)
    frng = np.random.default_rng([seed, 9])
    rng = np.random.default_rng([seed, 10, year])
    pv_share = np.where(frng.random(pop.n) < 0.3, frng.uniform(0.02, 0.25, pop.n), 0.0)
    col = lambda c: np.round(agg[c].to_numpy(), 2)  # noqa: E731
    elec, gas, coal, oil, heat = col("electricity"), col("gas"), col("coal"), col("oil"), col("heat")
    zero = np.round(elec * pv_share[firms], 2)
    ef = lambda code: rules.emission_factor(code, year)  # noqa: E731
    co2 = (np.maximum(elec - zero, 0) * ef("33") + gas * ef("15") + coal * ef("01") + oil * ef("21")
           + heat * ef("32"))
    co2 = np.round(co2 * rng.lognormal(0, 0.02, n), 2)
    va = mu["va_10k_yuan"].to_numpy().copy()
    differ = rng.random(n) < 0.07  # the two systems usually agree on value added
    va[differ] = np.round(va[differ] * rng.uniform(0.85, 1.15, differ.sum()), 2)
    # Official grade: K = L / the division's average, with noise (the province uses its own averages).
    div = pop.division[firms]
    L = co2 / va
    avg = pl.DataFrame({"d": div, "co2": co2, "va": va}).group_by("d").agg(
        a=pl.col("co2").sum() / pl.col("va").sum())
    k = L / pl.DataFrame({"d": div}).join(avg, on="d", how="left")["a"].to_numpy()
    grade = _band(k * rng.lognormal(0, 0.15, n), "carbon_grade", upper_inclusive=True)
    grade[rng.random(n) < 0.04] = None
    value = np.round(L, 4)
    co2[rng.random(n) < 0.02] = np.nan
    value[np.isnan(co2)] = np.nan
    f = lambda a: pl.Series(a, dtype=pl.Float64, nan_to_null=True)  # noqa: E731
    return pl.DataFrame({
        **_ids(pop, firms, year),
        "electricity_10k_kwh": f(elec), "zero_carbon_10k_kwh": f(zero), "natural_gas_10k_m3": f(gas),
        "coal_t": f(coal), "oil_t": f(oil), "heat_gj": f(heat), "co2_official_t": f(co2),
        "va_10k_yuan": f(va), "carbon_value_official": f(value),
        "carbon_grade_official": pl.Series([None if g is None else int(g) for g in grade], dtype=pl.Int32),
    })
