"""Disclosure control of the monthly tables (docs/monthly.md) on hand-built marts: decided per
scope-year, the district secondary, the growth and coal rules, and the audit that finds a
planted recoverable cell in each kind of monthly relation."""

import polars as pl

from warehouse.disclosure import (
    SdcParams,
    monthly_primary_violations,
    monthly_recoverable_cells,
    suppress_monthly_table,
)

SDC = SdcParams(min_count=3, dominance_n=2, dominance_share=0.85)
INDUSTRIES = pl.DataFrame({"division_code": ["26", "30", "31", "17"],
                           "key_group": ["化工", "建材", "建材", None]})


def cell(year=2024, month=3, period_type="ytd", n=5, energy=100.0, top=(30.0, 20.0), comparable=5,
         yoy=0.1, entrants=0, leavers=0, **extra) -> dict:
    row = {"year": year, "month": month, "period_type": period_type, "enterprise_count": n,
           "energy_tce": energy, "energy_tce_net": energy, "co2_total_t": 2 * energy,
           "electricity_10k_kwh": 10.0, "comparable_enterprise_count": comparable,
           "energy_tce_yoy": yoy, "energy_tce_net_yoy": yoy, "co2_total_t_yoy": yoy, "electricity_yoy": yoy,
           "provisional": False, "entrant_count": entrants, "leaver_count": leavers,
           "energy_tce_top": list(top)}
    row.update(extra)
    return row


def frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema_overrides={"energy_tce_top": pl.List(pl.Float64), "coal_t_top": pl.List(pl.Float64)}
                        if rows and "coal_t_top" in rows[0] else {"energy_tce_top": pl.List(pl.Float64)})


def year_periods(**kw) -> list[dict]:
    """1–2月, month 3 and 1–3月 of one scope-year."""
    return [cell(month=2, period_type="ytd", **kw), cell(month=3, period_type="month", **kw),
            cell(month=3, period_type="ytd", **kw)]


def district_rows(code: str, periods: list[dict]) -> list[dict]:
    return [{"district_code": code, "district_name": f"区{code[-2:]}", **p} for p in periods]


def test_growth_withheld_for_a_lone_leaver_or_too_few_comparable_enterprises():
    rows = [
        cell(month=3, period_type="month", leavers=1),          # a lone leaver: 同比 withheld
        cell(month=4, period_type="month", entrants=3, leavers=3),  # 3 each: shown
        cell(month=5, period_type="month", comparable=2),        # 2 comparable: withheld
        cell(month=6, period_type="month", entrants=2),          # two entrants: withheld
        cell(month=7, period_type="month", yoy=None),            # no pair: null, not suppressed
    ]
    out = suppress_monthly_table(frame(rows), "city_month", SDC).sort("month")
    assert out["yoy_suppressed"].to_list() == [True, False, True, True, False]
    assert out["energy_tce_yoy"].to_list() == [None, 0.1, None, None, None]
    assert out["co2_total_t_yoy"].to_list() == [None, 0.1, None, None, None]
    # levels stay: the city is never suppressed
    assert out["energy_tce"].to_list() == [100.0] * 5
    assert out["suppressed"].to_list() == [False] * 5
    assert "leaver_count" not in out.columns and "energy_tce_top" not in out.columns


def test_coal_needs_three_reporters_and_no_dominance():
    base = dict(month=3, period_type="month", coal_t_yoy=0.2)
    rows = [
        cell(**base, coal_t=100.0, coal_reporter_count=2, coal_t_top=[60.0, 40.0]),
        # 3 reporters, the two largest hold 80 + 10 = 90 > 0.85 × 100: dominant
        cell(**{**base, "month": 4}, coal_t=100.0, coal_reporter_count=3, coal_t_top=[80.0, 10.0, 10.0]),
        # 3 reporters, 50 + 30 = 80 <= 85: shown
        cell(**{**base, "month": 5}, coal_t=100.0, coal_reporter_count=3, coal_t_top=[50.0, 30.0, 20.0]),
    ]
    out = suppress_monthly_table(frame(rows), "city_month", SDC).sort("month")
    assert out["coal_t"].to_list() == [None, None, 100.0]
    assert out["coal_t_yoy"].to_list() == [None, None, 0.2]
    assert "coal_reporter_count" not in out.columns and "coal_t_top" not in out.columns


def test_a_district_failing_in_one_month_is_suppressed_all_year_with_its_secondary():
    rows = (
        # 330102: 1–2月 and 1–3月 have 5 firms, but March alone only 2: count, every period
        district_rows("330102", [cell(month=2), cell(month=3, period_type="month", n=2), cell(month=3)])
        # 330105: 4 firms in 1–3月, the smallest of the others: secondary
        + district_rows("330105", year_periods(n=4))
        + district_rows("330106", year_periods(n=9))
        # 330108: dominant in 1–2月 only (95 of 100 in the two largest): dominance, all year
        + district_rows("330108", [cell(month=2, top=(90.0, 5.0)), cell(month=3, period_type="month"), cell(month=3)])
        + district_rows("330109", year_periods(n=6))
        # another year: nothing fails
        + district_rows("330102", year_periods(year=2023, n=5))
        + district_rows("330105", year_periods(year=2023, n=4))
    )
    out = suppress_monthly_table(frame(rows), "district_month", SDC)
    by = {(r["district_code"], r["year"]): (r["suppressed"], r["suppression_reason"])
          for r in out.iter_rows(named=True)}
    assert by[("330102", 2024)] == (True, "count")
    assert by[("330108", 2024)] == (True, "dominance")
    # two suppressed in 2024 already: no secondary needed
    assert by[("330105", 2024)] == (False, None)
    assert by[("330106", 2024)] == (False, None)
    assert by[("330102", 2023)] == (False, None)
    decided = out.group_by("district_code", "year").agg(pl.col("suppressed").n_unique().alias("n"))
    assert decided["n"].to_list() == [1] * decided.height  # all periods of a scope-year alike
    hidden = out.filter(pl.col("suppressed"))
    assert hidden["enterprise_count"].null_count() == hidden.height
    assert hidden["energy_tce"].null_count() == hidden.height
    assert hidden["district_name"].null_count() == 0

    # only 330102 failing: the smallest other district in 1–3月 (330105, 4 firms) is secondary
    rows_one = [r for r in rows if r["district_code"] != "330108"]
    out = suppress_monthly_table(frame(rows_one), "district_month", SDC)
    reasons = {(r["district_code"], r["year"]): r["suppression_reason"] for r in out.iter_rows(named=True)}
    assert reasons[("330102", 2024)] == "count"
    assert reasons[("330105", 2024)] == "secondary"
    assert reasons[("330106", 2024)] is None and reasons[("330109", 2024)] is None


def test_annual_suppression_reaches_every_monthly_period_and_key_groups():
    rows = district_rows("330102", year_periods()) + district_rows("330105", year_periods()) \
        + district_rows("330106", year_periods(n=7))
    district_year = pl.DataFrame({
        "district_code": ["330102", "330105", "330106"], "year": [2024] * 3, "enterprise_count": [5, 5, 7],
        "suppressed": [True, True, False], "suppression_reason": ["dominance", "secondary", None]})
    kg = [{"key_group": g, **p} for g in ("化工", "建材") for p in year_periods()]
    city_industry_year = pl.DataFrame({"division_code": ["26", "30", "31"], "year": [2024] * 3,
                                       "suppressed": [False, False, True],
                                       "suppression_reason": [None, None, "count"]})
    from warehouse.disclosure import suppress_monthly_tables

    out = suppress_monthly_tables(
        {"district_month": frame(rows), "key_group_month": frame(kg)},
        {"district_year": district_year, "city_industry_year": city_industry_year}, SDC, INDUSTRIES)
    d = {r["district_code"]: r["suppression_reason"] for r in out["district_month"].iter_rows(named=True)}
    assert d == {"330102": "dominance", "330105": "secondary", "330106": None}
    k = {r["key_group"]: r["suppression_reason"] for r in out["key_group_month"].iter_rows(named=True)}
    assert k == {"化工": None, "建材": "count"}  # division 31 of 建材 is suppressed in city_industry_year


def _published(rows: list[dict], table="district_month") -> pl.DataFrame:
    return suppress_monthly_table(frame(rows), table, SDC)


def _relations(found) -> set[str]:
    return {f["relation"] for f in found}


def test_audit_finds_a_planted_recoverable_cell_in_each_relation():
    dm_rows = district_rows("330102", year_periods()) + district_rows("330105", year_periods()) \
        + district_rows("330106", year_periods())
    dm = _published(dm_rows)
    city = suppress_monthly_table(frame(year_periods(n=15)), "city_month", SDC)
    dy = pl.DataFrame({"district_code": ["330102", "330105", "330106"], "year": [2024] * 3,
                       "suppressed": [False] * 3})
    tables = {"city_month": city, "district_month": dm, "district_year": dy}
    assert monthly_recoverable_cells(tables, INDUSTRIES) == []
    assert monthly_primary_violations(tables, {"sdc_min_count": 3, "sdc_dominance_n": 2, "sdc_dominance_share": 0.85}) == []

    def hide(df, code, month, ptype):
        cond = (pl.col("district_code") == code) & (pl.col("month") == month) & (pl.col("period_type") == ptype)
        return df.with_columns(pl.when(cond).then(True).otherwise(pl.col("suppressed")).alias("suppressed"))

    # one district's March alone hidden: city − the other two districts gives it, and so does
    # 1–3月 − 1–2月 of the same district
    found = monthly_recoverable_cells({**tables, "district_month": hide(dm, "330102", 3, "month")}, INDUSTRIES)
    assert _relations(found) == {"districts_of_period", "month_plus_ytd"}
    # 1–3月 hidden in two districts (no district relation), but 1–2月 + March give each
    two = hide(hide(dm, "330102", 3, "ytd"), "330105", 3, "ytd")
    found = monthly_recoverable_cells({**tables, "district_month": two}, INDUSTRIES)
    assert _relations(found) == {"month_plus_ytd"}
    assert {f["key"][0] for f in found} == {"330102", "330105"}

    # 1–12月 of a district suppressed while its district_year is published
    dm12 = _published(district_rows("330102", [cell(month=12), cell(month=11)]) + district_rows("330105", [cell(month=12)]))
    dm12 = hide(dm12, "330102", 12, "ytd")
    dm12 = hide(dm12, "330105", 12, "ytd")  # two hidden: no district relation, but district_year gives both
    found = monthly_recoverable_cells({"district_month": dm12, "district_year": dy}, INDUSTRIES)
    assert _relations(found) == {"ytd12_vs_district_year"}
    assert len(found) == 2

    # a key group's 1–12月 hidden while each of its divisions is published in city_industry_year
    kg = _published([{"key_group": "建材", **cell(month=12)}], "key_group_month")
    kg = kg.with_columns(pl.lit(True).alias("suppressed"))
    ciy = pl.DataFrame({"division_code": ["30", "31"], "year": [2024, 2024], "suppressed": [False, False]})
    found = monthly_recoverable_cells({"key_group_month": kg, "city_industry_year": ciy}, INDUSTRIES)
    assert _relations(found) == {"divisions_of_key_group"}
    # ... and a division hidden while the key group's 1–12月 and the other division are published
    kg_open = _published([{"key_group": "建材", **cell(month=12)}], "key_group_month")
    ciy_one = ciy.with_columns(pl.Series("suppressed", [False, True]))
    found = monthly_recoverable_cells({"key_group_month": kg_open, "city_industry_year": ciy_one}, INDUSTRIES)
    assert [(f["table"], f["relation"]) for f in found] == [("city_industry_year", "divisions_of_key_group")]


def test_audit_flags_published_thin_cells_and_shown_suppressed_values():
    dm = _published(district_rows("330102", year_periods()))
    params = {"sdc_min_count": 3, "sdc_dominance_n": 2, "sdc_dominance_share": 0.85}
    thin = dm.with_columns(pl.lit(2).cast(pl.Int64).alias("enterprise_count"))
    rules = {v["rule"] for v in monthly_primary_violations({"district_month": thin}, params)}
    assert rules == {"count"}
    growth = dm.with_columns(pl.lit(1).cast(pl.Int64).alias("comparable_enterprise_count"))
    assert {v["rule"] for v in monthly_primary_violations({"district_month": growth}, params)} == {"growth_count"}
    leak = dm.with_columns(pl.lit(True).alias("suppressed"))
    rules = {v["rule"] for v in monthly_primary_violations({"district_month": leak}, params)}
    assert rules == {"suppressed_value_shown"}
    mixed = dm.with_columns((pl.col("period_type") == "month").alias("suppressed"))
    assert "not_decided_per_year" in {v["rule"] for v in monthly_primary_violations({"district_month": mixed}, params)}



def _annual_inputs():
    """enterprise_year with 4 equal enterprises per district × division (no annual cell is
    dominant) and the annual marts: three districts and four divisions of 2024."""
    ey = pl.DataFrame([
        {"uscc": f"{d}{k}{i}", "year": 2024, "district_code": d, "division_code": k, "energy_tce": 10.0,
         "va_10k_yuan_2020p": None, "is_complete": True}
        for d in ("330102", "330105", "330106") for k in ("17", "26", "30", "31") for i in range(4)],
        schema_overrides={"va_10k_yuan_2020p": pl.Float64})
    district_year = pl.DataFrame({"district_code": ["330102", "330105", "330106"], "year": [2024] * 3,
                                  "enterprise_count": [5, 6, 7], "energy_tce": [500.0, 600.0, 700.0]})
    # division 17 has no key group; 30 and 31 are 建材 (INDUSTRIES)
    city_industry_year = pl.DataFrame({"division_code": ["17", "26", "30", "31"], "year": [2024] * 4,
                                       "enterprise_count": [3, 6, 5, 4], "energy_tce": [30.0, 60.0, 50.0, 40.0]})
    return ey, {"district_year": district_year, "city_industry_year": city_industry_year}


def _whole_year(dominant_december: bool) -> list[dict]:
    """1–11月, December and 1–12月; December alone dominated (90 + 5 of 100) when asked."""
    return [cell(month=11), cell(month=12, period_type="month", top=(90.0, 5.0) if dominant_december else (30.0, 20.0)),
            cell(month=12)]


def test_a_district_year_hidden_by_a_monthly_rule_is_hidden_in_the_annual_tables_too():
    from warehouse.disclosure import recoverable_cells, suppress_group_tables, suppress_monthly_tables

    ey, annual = _annual_inputs()
    monthly = {
        # 330102 fails dominance in December only: hidden all 2024 (rule b), its 1–12月 included
        "district_month": frame(district_rows("330102", _whole_year(True))
                                + district_rows("330105", _whole_year(False))
                                + district_rows("330106", _whole_year(False))),
        "key_group_month": frame([{"key_group": "建材", **p} for p in _whole_year(True)]
                                 + [{"key_group": "化工", **p} for p in _whole_year(False)]),
    }

    # without the monthly marts the annual cells all pass: district_year 330102/2024 would be
    # published and equal the hidden 1–12月 (what the gate caught on the sample data)
    alone = suppress_group_tables(annual, ey, SDC, INDUSTRIES)
    assert alone["district_year"]["suppressed"].to_list() == [False] * 3
    before = {**alone, **suppress_monthly_tables(monthly, alone, SDC, INDUSTRIES)}
    assert {f["relation"] for f in monthly_recoverable_cells(before, INDUSTRIES)} == {
        "ytd12_vs_district_year", "divisions_of_key_group"}

    annual_out = suppress_group_tables({**annual, **monthly}, ey, SDC, INDUSTRIES)
    dy = {r["district_code"]: (r["suppressed"], r["suppression_reason"])
          for r in annual_out["district_year"].iter_rows(named=True)}
    # the monthly reason carried over, then district_year's own secondary: the smallest other
    # district (330105, 6 firms against 330106's 7)
    assert dy == {"330102": (True, "dominance"), "330105": (True, "secondary"), "330106": (False, None)}
    ciy = {r["division_code"]: (r["suppressed"], r["suppression_reason"])
           for r in annual_out["city_industry_year"].iter_rows(named=True)}
    # 建材 hidden all year: its smallest division (31, 4 firms against 30's 5) carries the reason;
    # the divisions' secondary then takes the smallest other division (17, 3 firms)
    assert ciy == {"17": (True, "secondary"), "26": (False, None), "30": (False, None), "31": (True, "dominance")}
    assert annual_out["district_year"].filter(pl.col("suppressed"))["energy_tce"].to_list() == [None, None]

    monthly_out = suppress_monthly_tables(monthly, annual_out, SDC, INDUSTRIES)
    dm = {r["district_code"]: r["suppression_reason"] for r in monthly_out["district_month"].iter_rows(named=True)}
    assert dm == {"330102": "dominance", "330105": "secondary", "330106": None}
    kg = {r["key_group"]: r["suppression_reason"] for r in monthly_out["key_group_month"].iter_rows(named=True)}
    assert kg == {"建材": "dominance", "化工": None}

    # the monthly_disclosure gate's checks (warehouse.gates.gate_monthly_disclosure) now pass,
    # and the annual disclosure gate's recoverable-cell check too
    released = {**annual_out, **monthly_out}
    assert monthly_recoverable_cells(released, INDUSTRIES) == []
    assert monthly_primary_violations(released, {"sdc_min_count": 3, "sdc_dominance_n": 2,
                                                 "sdc_dominance_share": 0.85}) == []
    assert recoverable_cells(annual_out) == []


def _all_open_tables() -> dict[str, pl.DataFrame]:
    """A coherent release of 2024: three districts × three divisions (26 化工, 30 and 31 建材), the
    annual tables and 1–11月, December and 1–12月 of the monthly ones; nothing suppressed."""
    districts, divisions = ("330102", "330105", "330106"), ("26", "30", "31")
    periods = [(11, "ytd"), (12, "month"), (12, "ytd")]
    flag = {"suppressed": False, "enterprise_count": 12}
    return {
        "city_year": pl.DataFrame([{"year": 2024, **flag}]),
        "district_year": pl.DataFrame([{"district_code": d, "year": 2024, **flag} for d in districts]),
        "city_industry_year": pl.DataFrame([{"division_code": k, "year": 2024, **flag} for k in divisions]),
        "district_industry_year": pl.DataFrame([{"district_code": d, "division_code": k, "year": 2024, **flag}
                                                for d in districts for k in divisions]),
        "city_month": pl.DataFrame([{"year": 2024, "month": m, "period_type": t, **flag} for m, t in periods]),
        "district_month": pl.DataFrame([{"district_code": d, "year": 2024, "month": m, "period_type": t, **flag}
                                        for d in districts for m, t in periods]),
        "key_group_month": pl.DataFrame([{"key_group": g, "year": 2024, "month": m, "period_type": t, **flag}
                                         for g in ("化工", "建材") for m, t in periods]),
    }


def _audit(tables: dict[str, pl.DataFrame]) -> set[str]:
    """What the release gates audit together: the annual relations (gate disclosure) and the
    monthly ones (gate monthly_disclosure)."""
    from warehouse.disclosure import recoverable_cells

    return {f["relation"] for f in recoverable_cells(tables)} | _relations(monthly_recoverable_cells(tables, INDUSTRIES))


def _plant(tables: dict[str, pl.DataFrame], table: str, **key) -> dict[str, pl.DataFrame]:
    df = tables[table]
    hit = pl.all_horizontal(pl.col(k) == v for k, v in key.items())
    assert df.filter(hit).height == 1
    return {**tables, table: df.with_columns(pl.when(hit).then(True).otherwise(pl.col("suppressed")).alias("suppressed"))}


def test_the_audit_catches_a_planted_cell_in_every_relation_of_the_monthly_and_annual_tables():
    tables = _all_open_tables()
    assert _audit(tables) == set()
    december = {"year": 2024, "month": 12}
    planted = {
        # a district × division cell: its district_year and its city_industry_year give it
        ("district_industry_year", (("district_code", "330102"), ("division_code", "26"), ("year", 2024))):
            {"district_cells_of_district_year", "district_cells_of_division_year"},
        # a district_year: city_year minus the other districts, and the district's published 1–12月
        ("district_year", (("district_code", "330105"), ("year", 2024))):
            {"districts_of_year", "ytd12_vs_district_year"},
        # a division: city_year minus the others, and 建材's 1–12月 minus division 31
        ("city_industry_year", (("division_code", "30"), ("year", 2024))):
            {"divisions_of_year", "divisions_of_key_group"},
        # a district's December: the city's December minus the others, and 1–12月 − 1–11月
        ("district_month", (("district_code", "330106"), *december.items(), ("period_type", "month"))):
            {"districts_of_period", "month_plus_ytd"},
        # a district's 1–12月: the city's, 1–11月 + December, and district_year
        ("district_month", (("district_code", "330102"), *december.items(), ("period_type", "ytd"))):
            {"districts_of_period", "month_plus_ytd", "ytd12_vs_district_year"},
        # a key group's December: its 1–12月 − 1–11月 (key groups do not add up to the city)
        ("key_group_month", (("key_group", "化工"), *december.items(), ("period_type", "month"))):
            {"month_plus_ytd"},
        # a key group's 1–12月: 1–11月 + December, and its division's city_industry_year
        ("key_group_month", (("key_group", "化工"), *december.items(), ("period_type", "ytd"))):
            {"month_plus_ytd", "divisions_of_key_group"},
    }
    caught: set[str] = set()
    for (table, key), relations in planted.items():
        found = _audit(_plant(tables, table, **dict(key)))
        assert found == relations, (table, key, found)
        caught |= found
    # every kind of relation of docs/monthly.md and docs/indicators.md was tried
    assert caught == {"district_cells_of_district_year", "district_cells_of_division_year", "districts_of_year",
                      "divisions_of_year", "districts_of_period", "month_plus_ytd", "ytd12_vs_district_year",
                      "divisions_of_key_group"}
