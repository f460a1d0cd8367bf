"""Monthly energy reports (the truth), generated vectorised one year at a time.

A firm's yearly net energy use is its real value added × its intensity × its district's
trend; that energy is split over the energy types the firm uses, then over the months. One
year of rows is built with numpy index arithmetic (no Python loop over rows), so 50,000 firms
× 12 months × ~3.5 types is a few million rows per year in seconds and bounded memory.
"""

from dataclasses import dataclass
from functools import cache

import numpy as np
import polars as pl

from sample_data import rules
from sample_data.population import Population

FIRST_YEAR = 2020  # the first reference year: earlier periods are quarantined
SPLIT_MONTH = 202104  # reports up to 2021-03 carry the pre-2021-04 district codes


def type_codes() -> list[str]:
    return sorted(rules.energy_types())


def _col(code: str) -> int:
    return type_codes().index(code)


@dataclass
class EnergyProfile:
    """Per firm × energy type (columns in `type_codes()` order)."""
    use: np.ndarray        # bool: the firm reports this type
    share: np.ndarray      # share of the firm's net energy (tce) in this type
    feed_frac: np.ndarray  # part of the consumption used as feedstock
    out_ratio: np.ndarray  # conversion output / consumption (electricity, heat)
    gen_fuel: np.ndarray   # column of the fuel burnt for own generation, -1 if none


def district_trend(seed: int) -> dict[str, float]:
    """2020→2025 intensity change per district, spread from −28% to −10% in a seeded order
    (measured changes scatter a few points more: firm growth differs, firms enter and leave)."""
    codes = [d.code for d in rules.current_districts()]
    rng = np.random.default_rng([seed, 3])
    return dict(zip(codes, -rng.permutation(np.linspace(0.10, 0.28, len(codes)))))


def firm_year_va(pop: Population, seed: int, year: int) -> np.ndarray:
    """Real value added (10k yuan, 2020 prices) of every firm in `year`."""
    rng = np.random.default_rng([seed, 2, year])
    return pop.va0 * (1 + pop.growth) ** (year - FIRST_YEAR) * rng.lognormal(0, 0.03, pop.n)


def make_profile(pop: Population, seed: int) -> EnergyProfile:
    rng = np.random.default_rng([seed, 4])
    ind = rules.industries()
    n, T = pop.n, len(type_codes())
    key = np.array([ind[d]["key_group"] for d in pop.division], dtype=object)
    high = np.array([ind[d]["high_energy"] == "true" for d in pop.division])
    build, chem, tex = key == "建材", key == "化工", key == "纺织化纤"
    power = pop.division == "44"
    # Probability that a firm uses a type, and the mean weight of that type in its energy.
    prob, weight = np.zeros((n, T)), np.zeros((n, T))

    def put(code, p, w):
        prob[:, _col(code)], weight[:, _col(code)] = p, w

    put("33", 1.0, 1.0)
    put("15", np.where(high | tex, 0.85, 0.55), np.where(build | chem, 0.6, 0.35))
    put("01", np.where(build | chem | power, 0.7, 0.0), np.where(build, 2.5, 1.0))
    put("09", np.where(build | chem, 0.2, np.where(pop.division == "31", 0.6, 0.0)), 0.5)
    put("21", 0.5, 0.05)
    put("19", 0.25, 0.03)
    put("24", 0.08, 0.05)
    put("23", np.where(high, 0.15, 0.02), 0.2)
    put("32", np.where(tex, 0.6, np.where(chem | (pop.division == "22"), 0.4, 0.15)), np.where(tex, 0.8, 0.4))
    put("39", 0.03, 0.05)
    use = rng.random((n, T)) < prob
    feed, out = np.zeros((n, T)), np.zeros((n, T))
    gen_fuel = np.full(n, -1)
    c01, c15, c32, c33 = _col("01"), _col("15"), _col("32"), _col("33")
    # Chemicals using gas (or coal) as raw material: feedstock on fuel types only.
    feeder = chem & (rng.random(n) < 0.4)
    on_coal = feeder & use[:, c01] & (rng.random(n) < 0.3)
    on_gas = feeder & ~on_coal
    use[on_gas, c15] = True
    feed[on_gas, c15] = rng.uniform(0.2, 0.7, on_gas.sum())
    feed[on_coal, c01] = rng.uniform(0.2, 0.6, on_coal.sum())
    # Own generation: a few energy-intensive firms, and every power/heat plant (division 44).
    selfgen = (high | tex) & ~power & (rng.random(n) < 0.08)
    gen = selfgen | power
    coal_gen = gen & use[:, c01]
    gen_fuel[coal_gen] = c01
    gen_fuel[gen & ~coal_gen] = c15
    use[gen & ~coal_gen, c15] = True
    out[selfgen, c33] = rng.uniform(0.2, 0.7, selfgen.sum())
    out[power, c33] = rng.uniform(4.0, 12.0, power.sum())  # station service is a small part of output
    chp = power & (rng.random(n) < 0.5)
    use[chp, c32] = True
    weight[chp, c32] = 0.02
    out[chp, c32] = rng.uniform(10.0, 40.0, chp.sum())
    share = use * weight * rng.gamma(2.0, 0.5, (n, T))
    share[use & (share <= 0)] = 0.01  # a used type always carries some energy
    share /= share.sum(axis=1, keepdims=True)
    return EnergyProfile(use=use, share=share, feed_frac=feed, out_ratio=out, gen_fuel=gen_fuel)


@cache
def _type_arrays():
    et = rules.energy_types()
    codes = type_codes()
    return (np.array([et[c].tce_per_unit for c in codes]), np.array([et[c].decimals for c in codes]),
            codes, [et[c].name for c in codes], [et[c].canonical_unit for c in codes])


def annual_quantities(pop: Population, prof: EnergyProfile, seed: int, year: int):
    """Yearly consumption, feedstock and output per firm × type, canonical units."""
    tce, _, _, _, _ = _type_arrays()
    rng = np.random.default_rng([seed, 5, year])
    trend = district_trend(seed)
    r = np.array([trend[d] for d in pop.district])
    e_net = firm_year_va(pop, seed, year) * pop.intensity * (1 + r) ** ((year - FIRST_YEAR) / 5)
    e_net *= rng.lognormal(0, 0.03, pop.n)
    q = e_net[:, None] * prof.share / tce  # net energy per type in physical units
    q = np.where(prof.feed_frac > 0, q / (1 - prof.feed_frac), q)  # feedstock comes on top
    # Fuel burnt for own generation: output valued at the 等价值 coal rate for electricity.
    c33, c32 = _col("33"), _col("32")
    gen_rate = rules.power_equivalent(FIRST_YEAR) / tce[c33]
    extra_tce = q[:, c33] * prof.out_ratio[:, c33] * tce[c33] * gen_rate
    extra_tce += q[:, c32] * prof.out_ratio[:, c32] * tce[c32] / 0.85  # boiler efficiency
    has_gen = prof.gen_fuel >= 0
    rows = np.flatnonzero(has_gen)
    q[rows, prof.gen_fuel[rows]] += extra_tce[rows] / tce[prof.gen_fuel[rows]]
    return q


def _seasonal() -> np.ndarray:
    """Month weights per type (rows: types): a Spring-Festival dip in February for all,
    a summer peak for electricity, a winter peak for gas and heat."""
    m = np.arange(1, 13)
    codes = type_codes()
    w = np.ones((len(codes), 12))
    w[codes.index("33")] += 0.10 * np.cos(2 * np.pi * (m - 7.5) / 12)
    for c in ("15", "32"):
        w[codes.index(c)] += 0.15 * np.cos(2 * np.pi * (m - 1) / 12)
    w[:, 1] *= 0.75
    return w / w.sum(axis=1, keepdims=True)


def energy_year(pop: Population, prof: EnergyProfile, seed: int, year: int, first_year: int) -> pl.DataFrame:
    """The truth rows of one year, ordered by (period, uscc, energy_code), plus `_firm`."""
    tce, dec, codes, names, units = _type_arrays()
    rng = np.random.default_rng([seed, 6, year])
    q_year = annual_quantities(pop, prof, seed, year)
    # Months each firm reports: from its entry month on, minus a few missed months.
    k0 = (year - first_year) * 12
    month_idx = k0 + np.arange(12)
    active = month_idx[None, :] >= pop.entry_month[:, None]  # firm × month
    missing = pop.small & (rng.random(pop.n) < 0.03)
    miss_m = rng.integers(0, 12, (pop.n, 2))
    two = rng.random(pop.n) < 0.3
    active[missing, miss_m[missing, 0]] = False
    active[missing & two, miss_m[missing & two, 1]] = False
    # Rows: month-major, then firm (sorted by USCC), then type code.
    firm_t, type_t = np.nonzero(prof.use)
    m_rows, p_rows = np.nonzero(active.T[:, firm_t])  # (month, pair) where the firm is active
    firm, typ, month0 = firm_t[p_rows], type_t[p_rows], m_rows
    n = len(firm)
    season = _seasonal()
    q = q_year[firm, typ] * season[typ, month0] * rng.lognormal(0, 0.08, n)
    q[(typ != _col("33")) & (rng.random(n) < 0.015)] = 0.0  # a month without that fuel
    scale = 10.0 ** dec[typ]
    q = np.round(q * scale) / scale
    f = np.round(q * prof.feed_frac[firm, typ] * scale) / scale
    o = np.round(q * prof.out_ratio[firm, typ] * scale) / scale
    # Submitted a few days after the month ends; some firms give only a date.
    sub_rng_days = rng.integers(3, 19, (pop.n, 12))
    sub_secs = rng.integers(8 * 3600, 18 * 3600, (pop.n, 12)) // 60 * 60
    sub_secs[pop.date_only] = 0
    next_month = np.array([np.datetime64(f"{year + (m == 12)}-{m % 12 + 1:02d}-01") for m in range(1, 13)])
    sub = (next_month[month0] + sub_rng_days[firm, month0]).astype("datetime64[s]")
    sub = sub + sub_secs[firm, month0].astype("timedelta64[s]")
    yyyymm = year * 100 + month0 + 1
    district = np.where(yyyymm < SPLIT_MONTH, pop.district_old[firm], pop.district[firm])
    period = pl.Series([f"{year}-{m:02d}" for m in range(1, 13)])
    ind_code = pl.Series(pop.industry_code.tolist(), dtype=pl.String)
    df = pl.DataFrame({
        "uscc": pl.Series(pop.uscc.tolist(), dtype=pl.String).gather(firm),
        "enterprise_name": pl.Series(pop.name.tolist(), dtype=pl.String).gather(firm),
        "district_code": pl.Series(district.tolist(), dtype=pl.String),
        "township": pl.Series(pop.township.tolist(), dtype=pl.String).gather(firm),
        "industry_code": ind_code.gather(firm),
        "division_code": ind_code.gather(firm).str.slice(0, 2),
        "period": period.gather(month0),
        "year": pl.Series(np.full(n, year, np.int32)),
        "month": pl.Series((month0 + 1).astype(np.int32)),
        "months_covered": pl.Series(np.ones(n, np.int32)),  # single months (no combined 1–2月 report)
        "energy_name": pl.Series(names).gather(typ),
        "energy_code": pl.Series(codes).gather(typ),
        "unit": pl.Series(units).gather(typ),
        "consumption": q,
        "feedstock": f,
        "conversion_output": o,
        "submitted_at": pl.Series(sub.astype("datetime64[us]")),
        "_firm": firm.astype(np.int32),
        "_district_now": pl.Series(pop.district.tolist(), dtype=pl.String).gather(firm),
    })
    return df


def annual_aggregates(df: pl.DataFrame, year: int) -> pl.DataFrame:
    """Per firm: what the annual sources should roughly agree with (from the rounded rows)."""
    et = rules.energy_types()
    codes = type_codes()
    tce = pl.Series(codes).replace_strict(codes, [et[c].tce_per_unit for c in codes], return_dtype=pl.Float64)
    cat = pl.Series(codes).replace_strict(codes, [et[c].category for c in codes])
    lookup = pl.DataFrame({"energy_code": codes, "_tce": tce, "_cat": cat})
    equiv33 = rules.power_equivalent(year)
    d = df.select("_firm", "energy_code", "consumption", "feedstock", "conversion_output", "month").join(
        lookup, on="energy_code", how="left")
    net = pl.col("consumption") - pl.col("conversion_output")
    is33 = pl.col("energy_code") == "33"
    return d.group_by("_firm").agg(
        months=pl.col("month").n_unique(),
        energy_tce=(net * pl.col("_tce")).sum(),
        energy_tce_net=(net * pl.col("_tce") - pl.col("feedstock") * pl.col("_tce")).sum(),
        energy_tce_equiv=(net * pl.when(is33).then(equiv33).otherwise(pl.col("_tce"))).sum(),
        electricity=pl.col("consumption").filter(is33).sum(),
        gas=pl.col("consumption").filter(pl.col("energy_code") == "15").sum(),
        coal=pl.col("consumption").filter(pl.col("energy_code") == "01").sum(),
        oil=pl.col("consumption").filter(pl.col("_cat") == "oil").sum(),
        heat=pl.col("consumption").filter(pl.col("energy_code") == "32").sum(),
    ).sort("_firm")
