"""Disclosure control of intensity_monthly (docs/monthly.md): it hides what the published month
tables and target_progress hide. Pure functions on hand-written frames."""

import polars as pl

from warehouse.disclosure import suppress_intensity_monthly

KEYS = ["scope_code", "year", "month", "period_type"]


def _mart(rows):
    cols = ["scope_code", "scope_name", "year", "month", "period_type", "energy_yoy", "co2_yoy", "va_yoy",
            "energy_intensity_yoy", "co2_intensity_yoy", "energy_required_change", "co2_required_change",
            "energy_status", "co2_status", "provisional"]
    return pl.DataFrame([dict(zip(cols, r)) for r in rows], schema_overrides={"year": pl.Int32, "month": pl.Int32},
                        orient="row")


def _month(code, year, month, ptype, e, c, suppressed=False, reason=None):
    return {"district_code": code, "year": year, "month": month, "period_type": ptype, "energy_tce_net_yoy": e,
            "co2_total_t_yoy": c, "suppressed": suppressed, "suppression_reason": reason}


def _target(scope, indicator, year, actual_change):
    return {"scope_code": scope, "indicator": indicator, "year": year, "actual_change": actual_change}


def test_suppressed_district_month_stays_suppressed_and_withheld_growth_nulls_its_dependents():
    # (1 + 0.1) / (1 + 0.05) − 1 = 0.047619…; required (1 − 0.1) / (1 − 0.05) − 1 = −0.052631…
    e_int, req = 1.1 / 1.05 - 1, 0.9 / 0.95 - 1
    mart = _mart([
        ("330100", "杭州市", 2024, 3, "ytd", 0.1, 0.1, 0.05, e_int, e_int, req, req, "behind", "behind", False),
        ("330102", "上城区", 2024, 3, "ytd", 0.1, 0.1, 0.05, e_int, e_int, req, req, "behind", "behind", False),
        ("330105", "拱墅区", 2024, 3, "ytd", 0.1, 0.1, 0.05, e_int, e_int, req, req, "behind", "behind", True),
        ("330106", "西湖区", 2024, 3, "ytd", 0.1, 0.1, 0.05, e_int, e_int, req, req, "behind", "behind", False),
    ])
    city_month = pl.DataFrame([{k: v for k, v in _month(None, 2024, 3, "ytd", 0.1, 0.1).items() if k != "district_code"}])
    district_month = pl.DataFrame([
        _month("330102", 2024, 3, "ytd", 0.1, 0.1),
        _month("330105", 2024, 3, "ytd", None, None, True, "count"),     # suppressed cell
        _month("330106", 2024, 3, "ytd", None, 0.1),                    # energy 同比 withheld (growth rule)
    ])
    target_progress = pl.DataFrame([
        _target(s, i, 2023, -0.05) for s in ("330100", "330105", "330106") for i in ("energy_intensity", "co2_intensity")
    ] + [_target("330102", "energy_intensity", 2023, None), _target("330102", "co2_intensity", 2023, -0.05)])
    out = {r["scope_code"]: r for r in suppress_intensity_monthly(
        mart, city_month, district_month, target_progress, "330100").iter_rows(named=True)}

    city = out["330100"]
    assert (city["suppressed"], city["energy_intensity_yoy"], city["energy_status"]) == (False, e_int, "behind")
    # 330105: suppressed as its district_month cell; keys, name and provisional kept, all else null
    s = out["330105"]
    assert (s["suppressed"], s["suppression_reason"], s["scope_name"], s["provisional"]) == (True, "count", "拱墅区", True)
    assert all(s[c] is None for c in ("energy_yoy", "co2_yoy", "va_yoy", "energy_intensity_yoy", "co2_intensity_yoy",
                                      "energy_required_change", "co2_required_change", "energy_status", "co2_status"))
    # 330106: energy 同比 withheld → energy intensity and status null; CO2 untouched
    w = out["330106"]
    assert (w["energy_yoy"], w["energy_intensity_yoy"], w["energy_status"]) == (None, None, None)
    assert (w["co2_yoy"], w["co2_intensity_yoy"], w["co2_status"], w["suppressed"]) == (0.1, e_int, "behind", False)
    # 330102: its energy actual_change(2023) not published → energy required change and status null
    u = out["330102"]
    assert (u["energy_required_change"], u["energy_status"], u["energy_intensity_yoy"]) == (None, None, e_int)
    assert (u["co2_required_change"], u["co2_status"]) == (req, "behind")
