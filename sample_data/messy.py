"""What `--messy` adds on top of the clean records: header variants, revisions and duplicates,
rows that must be quarantined (one or more per reason code) and whole files that must be
rejected. Planted rows use enterprises that are not in the population, so they can never
change the truth."""

import numpy as np
import polars as pl

from data_contracts.model import Column
from ingestion.uscc import USCC_CHARSET, check_character
from sample_data import rules

EXTRA_HEADER_NOTES = {"consumption": "实物量"}  # a bracketed remark some templates add


def short_unit(col: Column) -> str | None:
    """The unit to show in a header bracket (`用地面积（亩）`), if the contract gives a plain one."""
    if not col.unit or col.unit.startswith("canonical"):
        return None
    return col.unit.split(" ")[0]


def header(col: Column, style: str, rng: np.random.Generator | None = None) -> str:
    """canonical: the contract label; clean: label with its unit; messy: an alias or the label,
    with or without the unit in full- or half-width brackets, maybe padded with spaces."""
    unit = short_unit(col) or EXTRA_HEADER_NOTES.get(col.name)
    if style == "canonical":
        return col.label_zh
    if style == "clean":
        return f"{col.label_zh}（{unit}）" if unit and col.name not in EXTRA_HEADER_NOTES else col.label_zh
    names = col.header_names
    base = names[int(rng.integers(len(names)))]
    deco = int(rng.integers(0, 5))
    if deco == 1 and unit:
        return f"{base}（{unit}）"
    if deco == 2 and unit:
        return f"{base}({unit})"
    if deco == 3:
        return f" {base} "
    if deco == 4 and unit:
        return f"{base} （ {unit} ）"
    return base


def fake_uscc(i: int) -> str:
    """A valid USCC outside the population (population codes carry `MA`, these `QA`)."""
    k, tail = i, []
    for _ in range(7):
        k, r = divmod(k, 31)
        tail.append(USCC_CHARSET[r])
    first17 = "91330100QA" + "".join(reversed(tail))
    return first17 + check_character(first17)


def _bad_check(code: str) -> str:
    good = code[-1]
    return code[:17] + next(c for c in USCC_CHARSET if c != good)


# A period no run can have reached: the planted "after the as-of" rows carry it, so that they are
# quarantined whatever as-of a run uses (a date one month past the generation date was accepted by
# a run a month later and made a one-enterprise year).
FUTURE_PERIOD = "2099-12"


def energy_planted(y0: int) -> list[dict]:
    """Rows that each fail exactly one check (the first in the order of the reasons)."""
    base = dict(enterprise_name="杭州问题数据测试有限公司", district_code="330106", township="",
                industry_code="3011", period=f"{y0}-06", energy_name="电力", energy_code="33",
                unit="万千瓦时", consumption="10.5", feedstock="", conversion_output="",
                submitted_at=f"{y0}-07-10 09:00:00")
    gas = dict(energy_name="天然气", energy_code="15", unit="万立方米")
    cases = [
        ("invalid_uscc", dict(uscc=_bad_check(fake_uscc(1)))),
        ("invalid_uscc", dict(uscc=fake_uscc(2)[:17])),
        ("invalid_uscc", dict(uscc="91330100QAIO00003X")),
        ("unknown_district", dict(district_code="330199")),
        ("unknown_district", dict(district_code="火星区")),
        ("out_of_scope_industry", dict(industry_code="5111")),
        ("out_of_scope_industry", dict(industry_code="7210")),
        ("unparseable_number", dict(consumption="abc")),
        ("unparseable_number", dict(gas, feedstock="十二")),
        ("negative_value", dict(consumption="-12.5")),
        ("negative_value", dict(conversion_output="-3")),
        ("invalid_period", dict(period=f"{y0}年13月")),
        ("invalid_period", dict(period="2019-12")),
        # Dated in the future of any run: as_of may not be after the current month (settings).
        ("invalid_period", dict(period=FUTURE_PERIOD)),
        ("unknown_energy_type", dict(energy_name="氢气", energy_code="99", unit="吨")),
        ("unknown_energy_type", dict(energy_name="沼气", energy_code="", unit="吨")),
        ("unknown_unit", dict(unit="万立方米")),  # 电力 in a volume unit
        ("unknown_unit", dict(gas, unit="桶")),
        ("feedstock_exceeds_consumption", dict(gas, consumption="10", feedstock="12")),
        ("feedstock_not_allowed", dict(feedstock="2")),
        ("conversion_output_not_allowed", dict(gas, conversion_output="3")),
        ("conflicting_revision", dict(consumption="10.5")),
        ("conflicting_revision", dict(consumption="11.5")),
    ]
    rows = []
    for i, (reason, over) in enumerate(cases):
        key = 100 if reason == "conflicting_revision" else 10 + i  # the pair shares a key
        rows.append({"uscc": fake_uscc(key), **base, **over, "_reason": reason})
    return rows


def annual_planted(source: str, y0: int) -> list[dict]:
    base = dict(eval_year=str(y0), enterprise_name="杭州问题数据测试有限公司", district_code="330106",
                township="", industry_code="3011")
    if source == "mu_evaluations":
        base |= dict(is_above_scale="是", land_mu="50", tax_10k_yuan="100", va_10k_yuan="2000",
                     revenue_10k_yuan="8000", rd_10k_yuan="100", employees="80", energy_tce_equiv="500",
                     electricity_10k_kwh="100", pollutant_eq_t="5", score_official="80", class_official="C")
        cases = [
            ("invalid_uscc", dict(uscc=_bad_check(fake_uscc(201)))),
            ("unknown_district", dict(district_code="火星区")),
            ("out_of_scope_industry", dict(industry_code="7210")),
            ("unparseable_number", dict(land_mu="abc")),
            ("invalid_period", dict(eval_year="2019")),
            ("invalid_period", dict(eval_year=f"{FUTURE_PERIOD[:4]}年度")),  # after any as-of year
            ("invalid_category", dict(is_above_scale="未知")),
            ("invalid_category", dict(class_official="E类")),
            ("conflicting_revision", dict(va_10k_yuan="2000")),
            ("conflicting_revision", dict(va_10k_yuan="2100")),
        ]
        offset = 200
    else:
        base |= dict(electricity_10k_kwh="100", zero_carbon_10k_kwh="0", natural_gas_10k_m3="5", coal_t="0",
                     oil_t="1", heat_gj="0", co2_official_t="700", va_10k_yuan="2000",
                     carbon_value_official="0.35", carbon_grade_official="2")
        cases = [
            ("invalid_uscc", dict(uscc=_bad_check(fake_uscc(301)))),
            ("unknown_district", dict(district_code="330199")),
            ("out_of_scope_industry", dict(industry_code="5111")),
            ("unparseable_number", dict(va_10k_yuan="abc")),
            ("negative_value", dict(electricity_10k_kwh="-5")),
            ("invalid_period", dict(eval_year="2019年度")),
            ("invalid_category", dict(carbon_grade_official="六级")),
            ("conflicting_revision", dict(co2_official_t="700")),
            ("conflicting_revision", dict(co2_official_t="720")),
        ]
        offset = 300
    rows = []
    for i, (reason, over) in enumerate(cases):
        key = offset + 90 if reason == "conflicting_revision" else offset + 10 + i
        rows.append({"uscc": fake_uscc(key), **base, **over, "_reason": reason})
    return rows


def planted_frame(rows: list[dict], columns: list[str]) -> pl.DataFrame:
    return pl.DataFrame([{c: r.get(c, "") for c in columns} for r in rows],
                        schema={c: pl.String for c in columns})


def count_reasons(rows: list[dict]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rows:
        out[r["_reason"]] = out.get(r["_reason"], 0) + 1
    return out


# --- revisions --------------------------------------------------------------------------

def pick_rows(rng: np.random.Generator, n: int, shares: dict[str, float], eligible: np.ndarray
              ) -> dict[str, np.ndarray]:
    """Disjoint row sets per kind (at least one row each when possible), sorted."""
    u = rng.random(n)
    out, lo = {}, 0.0
    taken = np.zeros(n, bool)
    for kind, share in shares.items():
        sel = eligible & ~taken & (u >= lo) & (u < lo + share)
        if not sel.any():
            free = np.flatnonzero(eligible & ~taken)
            if len(free):
                sel[free[int(rng.integers(len(free)))]] = True
        taken |= sel
        out[kind] = np.flatnonzero(sel)
        lo += share
    return out


def stale_energy(rows: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """An earlier, different version of report rows: smaller quantities, submitted days before."""
    et = rules.energy_types()
    scale = 10.0 ** rows["energy_code"].replace_strict(list(et), [t.decimals for t in et.values()]).to_numpy()
    k = rng.uniform(0.85, 0.97, rows.height)
    days = rng.integers(2, 7, rows.height)
    sc = lambda c: np.round(rows[c].to_numpy() * k * scale) / scale  # noqa: E731
    return rows.with_columns(
        consumption=pl.Series(sc("consumption")), feedstock=pl.Series(sc("feedstock")),
        conversion_output=pl.Series(sc("conversion_output")),
        submitted_at=pl.col("submitted_at") - pl.Series(days * 86_400_000_000).cast(pl.Duration("us")),
    )


def stale_annual(rows: pl.DataFrame, source: str, rng: np.random.Generator) -> pl.DataFrame:
    """A first version of annual rows later corrected: value added (and CO2) a little off."""
    k = pl.Series(rng.uniform(0.9, 0.97, rows.height))
    cols = ["va_10k_yuan"] + (["co2_official_t"] if source == "carbon_codes" else ["energy_tce_equiv"])
    return rows.with_columns(**{c: (pl.col(c) * k).round(2) for c in cols})


def garbage_bytes(seed: int, n: int = 4096) -> bytes:
    """Random bytes (that happen to be no spreadsheet at all)."""
    return np.random.default_rng([seed, 99]).integers(0, 256, n, dtype=np.uint8).tobytes()
