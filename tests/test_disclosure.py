"""Statistical disclosure control (docs/indicators.md): hand-built cells for every rule, with
the expected outcome written out, and a seeded attack on random tables."""

from __future__ import annotations

import polars as pl
import pytest

from test_candidate import DISTRICTS, DIVISIONS, aggregate_groups, make_enterprise_year
from warehouse.disclosure import (
    CELL_KEYS,
    SdcParams,
    apply_disclosure_control,
    build_relations,
    primary_suppression,
    primary_violations,
    recoverable_cells,
    suppress_frequency_table,
    suppress_group_tables,
    suppress_target_progress,
)

SDC = SdcParams(min_count=3, dominance_n=2, dominance_share=0.85)
PARAMS = {"sdc_min_count": 3, "sdc_dominance_n": 2, "sdc_dominance_share": 0.85}
A, B, C = "330102", "330105", "330106"  # district codes, in code order


# --------------------------------------------------------------------------- builders


def firms(d: str, k: str, energies: list[float], vas: list[float | None] | None = None,
          complete: list[bool] | None = None, year: int = 2021, start: int = 0) -> list[dict]:
    """Enterprise-years of one cell; va defaults to the energy (never dominant on its own)."""
    vas = vas if vas is not None else list(energies)
    complete = complete if complete is not None else [True] * len(energies)
    return [
        {"uscc": f"{d}{k}{year}{start + i:04d}", "year": year, "district_code": d, "division_code": k,
         "energy_tce": e, "energy_tce_net": e, "co2_direct_t": e, "co2_indirect_t": 0.0, "co2_total_t": e,
         "va_10k_yuan_2020p": v, "is_complete": c, "months_reported": 12 if c else 6,
         "is_key_energy_user": False, "provisional": False}
        for i, (e, v, c) in enumerate(zip(energies, vas, complete))
    ]


def layout(counts: dict[tuple[str, str], int], year: int = 2021) -> pl.DataFrame:
    """Cells with ``n`` equal firms each (no dominance): {(district, division): n}."""
    rows = []
    for (d, k), n in counts.items():
        rows += firms(d, k, [10.0] * n, year=year)
    return frame(rows)


def frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, infer_schema_length=None)


def reasons(df: pl.DataFrame, table: str) -> dict[tuple, str | None]:
    keys = [k for k in CELL_KEYS[table] if k != "year"]
    return {tuple(r[k] for k in keys): r["suppression_reason"] for r in df.iter_rows(named=True)}


def suppressed_only(df: pl.DataFrame, table: str) -> dict[tuple, str]:
    return {k: v for k, v in reasons(df, table).items() if v is not None}


def run_sdc(ey: pl.DataFrame) -> dict[str, pl.DataFrame]:
    return suppress_group_tables(aggregate_groups(ey, names=False), ey, SDC)


# --------------------------------------------------------------------------- primary


def test_primary_count():
    ey = layout({(A, "13"): 2, (A, "14"): 3, (A, "15"): 5})
    cells = aggregate_groups(ey, names=False)["district_industry_year"]
    out = primary_suppression(cells, ey, "district_industry_year", SDC)
    assert reasons(out, "district_industry_year") == {(A, "13"): "count", (A, "14"): None, (A, "15"): None}
    assert out.filter(pl.col("division_code") == "13")["suppressed"].to_list() == [True]


def test_primary_dominance_on_energy():
    ey = frame(firms(A, "13", [100, 90, 5, 5]) + firms(A, "14", [40, 30, 20, 10])
               + firms(A, "15", [80, 5, 5, 5, 5], start=10))  # 85/100 = 0.85 is not > 0.85
    cells = aggregate_groups(ey, names=False)["district_industry_year"]
    out = primary_suppression(cells, ey, "district_industry_year", SDC)
    assert reasons(out, "district_industry_year") == {(A, "13"): "dominance", (A, "14"): None, (A, "15"): None}


def test_primary_dominance_on_value_added_over_matched_only():
    ey = frame(
        # energy even; two firms hold 90 % of value added → dominant on va
        firms(A, "13", [10, 10, 10, 10], vas=[50, 40, 5, 5])
        # same value added, but nobody matched (incomplete years): no value added, not dominant
        + firms(A, "14", [10, 10, 10, 10], vas=[50, 40, 5, 5], complete=[False] * 4)
        # the two big va firms are incomplete: over the three matched firms the top two hold 2/3
        + firms(A, "15", [10, 10, 10, 10, 10], vas=[500, 400, 5, 5, 5], complete=[False, False, True, True, True])
        # va null or zero is not matched: the two matched firms hold all the value added
        + firms(A, "16", [10, 10, 10, 10], vas=[None, 0.0, 5, 5.5])
    )
    cells = aggregate_groups(ey, names=False)["district_industry_year"]
    out = primary_suppression(cells, ey, "district_industry_year", SDC)
    assert reasons(out, "district_industry_year") == {
        (A, "13"): "dominance", (A, "14"): None, (A, "15"): None, (A, "16"): "dominance"}


def test_primary_count_before_dominance():
    ey = frame(firms(A, "13", [100, 1]) + firms(A, "14", [100, 1, 1]))
    cells = aggregate_groups(ey, names=False)["district_industry_year"]
    out = primary_suppression(cells, ey, "district_industry_year", SDC)
    assert reasons(out, "district_industry_year") == {(A, "13"): "count", (A, "14"): "dominance"}


def test_primary_applies_to_district_and_division_totals():
    # district A dominated by two firms in different divisions (each cell has ≥3 firms)
    ey = frame(firms(A, "13", [1000, 1, 1]) + firms(A, "14", [1000, 1, 1]) + firms(B, "13", [5, 5, 5, 5])
               + firms(B, "14", [5, 5, 5, 5]) + firms(C, "13", [5, 5, 5]) + firms(C, "14", [5, 5, 5]))
    out = run_sdc(ey)
    assert reasons(out["district_year"], "district_year")[(A,)] == "dominance"


# --------------------------------------------------------------------------- secondary


def test_secondary_within_district_picks_smallest_count():
    ey = layout({(A, "13"): 2, (A, "14"): 5, (A, "15"): 4,
                 (B, "13"): 6, (B, "14"): 7, (B, "15"): 8})
    out = run_sdc(ey)
    assert suppressed_only(out["district_industry_year"], "district_industry_year") == {
        (A, "13"): "count",
        (A, "15"): "secondary",  # 4 < 5 in A's district-year
        (B, "13"): "secondary",  # division 13's only other cell
        (B, "15"): "secondary",  # division 15's only other cell
    }
    assert suppressed_only(out["district_year"], "district_year") == {}
    assert suppressed_only(out["city_industry_year"], "city_industry_year") == {}


def test_secondary_fixpoint_across_relations():
    ey = layout({(A, "13"): 2, (A, "14"): 5, (A, "15"): 4,
                 (B, "13"): 6, (B, "14"): 7})
    out = run_sdc(ey)
    # pass 1: A15 (district A), B13 (division 13), CIY 15 (division 15 has no other cell),
    #         CIY 13 (divisions of the year: 8 < 12);
    # pass 2: B14 (district B had only B13), A14 (division 14 had only B14)
    assert suppressed_only(out["district_industry_year"], "district_industry_year") == {
        (A, "13"): "count", (A, "15"): "secondary", (B, "13"): "secondary",
        (B, "14"): "secondary", (A, "14"): "secondary",
    }
    assert suppressed_only(out["city_industry_year"], "city_industry_year") == {
        ("13",): "secondary", ("15",): "secondary"}
    assert suppressed_only(out["district_year"], "district_year") == {}
    assert recoverable_cells(out) == []


def test_secondary_tie_goes_to_lowest_code():
    # rows deliberately not in code order
    ey = layout({(A, "15"): 4, (A, "13"): 2, (A, "14"): 4, (B, "15"): 9, (B, "14"): 9, (B, "13"): 9})
    out = run_sdc(ey)
    assert suppressed_only(out["district_industry_year"], "district_industry_year") == {
        (A, "13"): "count", (A, "14"): "secondary",  # 14 and 15 both hold 4: lowest code
        (B, "13"): "secondary", (B, "14"): "secondary",
    }


def test_relation_without_other_cell_suppresses_its_total():
    ey = layout({(A, "13"): 5, (B, "13"): 2, (B, "14"): 6, (C, "13"): 9, (C, "14"): 9})
    out = run_sdc(ey)
    # pass 1: B14 (district B), A13 (division 13: 5 < 9), C14 (division 14's only other cell)
    # pass 2: district A's only cell is suppressed and it has no other → its total, district_year A;
    #         C13 (district C); then the districts of the year: B (8) < C (18)
    assert suppressed_only(out["district_industry_year"], "district_industry_year") == {
        (B, "13"): "count", (B, "14"): "secondary", (A, "13"): "secondary",
        (C, "14"): "secondary", (C, "13"): "secondary"}
    assert suppressed_only(out["district_year"], "district_year") == {(A,): "secondary", (B,): "secondary"}
    assert suppressed_only(out["city_industry_year"], "city_industry_year") == {}
    assert recoverable_cells(out) == []


def test_division_relation_without_other_cell_suppresses_city_industry_year():
    ey = layout({(A, "13"): 5, (A, "14"): 2, (A, "15"): 6, (B, "15"): 7, (B, "16"): 8})
    out = run_sdc(ey)
    # division 14 exists only in A: its only cell is suppressed → city_industry_year 14 itself
    assert suppressed_only(out["city_industry_year"], "city_industry_year")[("14",)] == "count"
    # division 13 exists only in A, and A13 (5 < 6) takes the secondary of district A → CIY 13
    assert suppressed_only(out["district_industry_year"], "district_industry_year")[(A, "13")] == "secondary"
    assert suppressed_only(out["city_industry_year"], "city_industry_year")[("13",)] == "secondary"
    assert recoverable_cells(out) == []


def test_city_year_is_never_suppressed():
    ey = layout({(A, "13"): 2})
    groups = aggregate_groups(ey, names=False)
    out = suppress_group_tables(groups, ey, SDC)
    assert suppressed_only(out["district_industry_year"], "district_industry_year") == {(A, "13"): "count"}
    assert suppressed_only(out["district_year"], "district_year") == {(A,): "count"}
    assert suppressed_only(out["city_industry_year"], "city_industry_year") == {("13",): "count"}
    # the districts of the year (and divisions) have one suppressed cell and no other: the total
    # is city_year, which is never suppressed
    assert out["city_year"].equals(groups["city_year"])
    assert "suppressed" not in out["city_year"].columns
    # the only district equals the city: the relation check says so (the gate would block)
    found = {(r["table"], tuple(r["key"].values())) for r in recoverable_cells(out)}
    assert found == {("district_year", (A, 2021)), ("city_industry_year", ("13", 2021))}


def test_secondary_over_years_is_independent_and_ordered():
    ey = pl.concat([layout({(A, "13"): 2, (A, "14"): 5, (B, "13"): 5, (B, "14"): 5}, year=2020),
                    layout({(A, "13"): 5, (A, "14"): 5, (B, "13"): 5, (B, "14"): 5}, year=2021)])
    out = run_sdc(ey)
    hidden = out["district_industry_year"].filter("suppressed").select("district_code", "division_code", "year")
    assert sorted(hidden.rows()) == [(A, "13", 2020), (A, "14", 2020), (B, "13", 2020), (B, "14", 2020)]


def test_suppressed_cells_keep_keys_count_and_provisional_only():
    ey = layout({(A, "13"): 2, (A, "14"): 5, (A, "15"): 4, (B, "13"): 6, (B, "14"): 7, (B, "15"): 8})
    groups = aggregate_groups(ey, names=True)
    out = suppress_group_tables(groups, ey, SDC)["district_industry_year"]
    row = out.filter((pl.col("district_code") == A) & (pl.col("division_code") == "13")).row(0, named=True)
    assert row["district_name"] == "上城区" and row["division_name"] and row["enterprise_count"] == 2
    assert row["year"] == 2021 and row["provisional"] is False and row["high_energy"] is not None
    assert row["suppressed"] is True and row["suppression_reason"] == "count"
    for col in ("energy_tce", "co2_total_t", "va_10k_yuan_2020p", "energy_intensity", "key_energy_user_count",
                "matched_energy_share", "co2_direct_division44_t"):
        assert row[col] is None, col
    shown = out.filter((pl.col("district_code") == A) & (pl.col("division_code") == "14")).row(0, named=True)
    assert shown["energy_tce"] == 50.0 and shown["suppressed"] is False and shown["suppression_reason"] is None


# --------------------------------------------------------------------------- frequency tables


def test_mu_class_distribution():
    df = pl.DataFrame({
        "district_code": [A, A, A, A, B, B, C],
        "year": [2021] * 7,
        "mu_class": ["A", "B", "C", "D", "A", "B", "A"],
        "enterprise_count": [5, 2, 4, 0, 1, 1, 2],
    })
    out = suppress_frequency_table(df, "mu_class_distribution", SDC).sort("district_code", "mu_class")
    assert out.select("district_code", "mu_class", "enterprise_count", "suppressed", "suppression_reason").rows() == [
        (A, "A", 5, False, None),
        (A, "B", None, True, "count"),
        (A, "C", None, True, "secondary"),  # smallest remaining count (4 < 5)
        # (A, "D") had a zero count: it does not appear
        (B, "A", None, True, "count"),
        (B, "B", None, True, "count"),
        (C, "A", None, True, "count"),  # no other cell in its district-year: nothing more
    ]


def test_carbon_grade_distribution_tie_lowest_code():
    df = pl.DataFrame({
        "district_code": [A, A, A, A, B],
        "division_code": ["14", "13", "13", "14", "13"],
        "year": [2021, 2021, 2021, 2021, 2021],
        "carbon_grade": [1, 2, 1, 3, 5],
        "enterprise_count": [4, 2, 4, 6, 3],
    })
    out = suppress_frequency_table(df, "carbon_grade_distribution", SDC).sort("district_code", "division_code", "carbon_grade")
    assert out.select("district_code", "division_code", "carbon_grade", "enterprise_count", "suppression_reason").rows() == [
        (A, "13", 1, None, "secondary"),  # 4 ties with (14, 1): lowest code
        (A, "13", 2, None, "count"),
        (A, "14", 1, 4, None),
        (A, "14", 3, 6, None),
        (B, "13", 5, 3, None),
    ]


# --------------------------------------------------------------------------- target progress


def test_target_progress_district_rows_nulled():
    dy = pl.DataFrame({
        "district_code": [A, A, A, B, B, B],
        "year": [2020, 2021, 2022, 2020, 2021, 2022],
        "suppressed": [True, False, False, False, False, True],
    })
    rows = []
    for scope in ("330100", A, B):
        for y in (2020, 2021, 2022):
            rows.append({"scope_code": scope, "scope_name": "x", "indicator": "energy_intensity", "year": y,
                         "base_value": 1.0, "actual_value": 0.9, "actual_change": -0.1, "target_change": -0.18,
                         "target_year": 2025, "path_change": -0.05, "status": "on_track",
                         "status_basis": "own_target" if scope == "330100" else "city_target", "provisional": False})
    tp = pl.DataFrame(rows)
    out = suppress_target_progress(tp, dy).sort("scope_code", "year")
    assert out.columns[-2:] == ["suppressed", "provisional"]
    got = out.select("scope_code", "year", "suppressed", "base_value", "actual_value", "actual_change",
                     "status", "path_change", "target_change").rows()
    assert got == [
        ("330100", 2020, False, 1.0, 0.9, -0.1, "on_track", -0.05, -0.18),
        ("330100", 2021, False, 1.0, 0.9, -0.1, "on_track", -0.05, -0.18),
        ("330100", 2022, False, 1.0, 0.9, -0.1, "on_track", -0.05, -0.18),
        # A: the base year 2020 is suppressed → every year
        (A, 2020, True, None, None, None, None, -0.05, -0.18),
        (A, 2021, True, None, None, None, None, -0.05, -0.18),
        (A, 2022, True, None, None, None, None, -0.05, -0.18),
        # B: only 2022
        (B, 2020, False, 1.0, 0.9, -0.1, "on_track", -0.05, -0.18),
        (B, 2021, False, 1.0, 0.9, -0.1, "on_track", -0.05, -0.18),
        (B, 2022, True, None, None, None, None, -0.05, -0.18),
    ]


def test_city_rows_never_suppressed_even_if_a_city_cell_looks_suppressed():
    dy = pl.DataFrame({"district_code": ["330100"], "year": [2020], "suppressed": [True]})
    tp = pl.DataFrame({"scope_code": ["330100"], "indicator": ["co2_intensity"], "year": [2020],
                       "base_value": [1.0], "actual_value": [1.0], "actual_change": [0.0], "target_change": [-0.2],
                       "target_year": [2025], "path_change": [0.0], "status": ["on_track"]})
    out = suppress_target_progress(tp, dy)
    assert out["suppressed"].to_list() == [False] and out["actual_value"].to_list() == [1.0]


# --------------------------------------------------------------------------- attacks on random tables


def attack(open_tables: dict[str, pl.DataFrame], truth: dict[str, pl.DataFrame],
           measures=("energy_tce", "co2_total_t", "va_10k_yuan_2020p")) -> list[str]:
    """Independent of warehouse.disclosure: for each published total and the cells that add up
    to it, when exactly one cell hides its value, recompute it as total − Σ others and compare
    with the true value. Returns the cells recovered."""
    diy, dy, ciy, cy = (open_tables[t] for t in ("district_industry_year", "district_year",
                                                  "city_industry_year", "city_year"))
    relations = [  # (cells, cell key, total, total key, join columns)
        (diy, ["district_code", "division_code", "year"], dy, ["district_code", "year"]),
        (diy, ["district_code", "division_code", "year"], ciy, ["division_code", "year"]),
        (dy, ["district_code", "year"], cy, ["year"]),
        (ciy, ["division_code", "year"], cy, ["year"]),
    ]
    recovered = []
    for cells, cell_key, total, on in relations:
        cell_name = "district_industry_year" if "division_code" in cell_key and "district_code" in cell_key else \
            ("district_year" if "district_code" in cell_key else "city_industry_year")
        true_cells = truth[cell_name]
        for m in measures:
            hidden = cells.filter(pl.col(m).is_null() & pl.col("enterprise_count").is_not_null())
            # only cells hidden by suppression (a cell without value added has a true null too)
            hidden = hidden.join(true_cells.select(*cell_key, pl.col(m).alias("_true")), on=cell_key)
            hidden = hidden.filter(pl.col("_true").is_not_null())
            n_hidden = hidden.group_by(on).agg(pl.len().alias("n"), pl.col("_true").first(),
                                               *[pl.col(k).first().alias(f"_{k}") for k in cell_key if k not in on])
            shown = cells.filter(pl.col(m).is_not_null()).group_by(on).agg(pl.col(m).sum().alias("_shown"))
            cand = (n_hidden.filter(pl.col("n") == 1)
                    .join(total.filter(pl.col(m).is_not_null()).select(*on, pl.col(m).alias("_total")), on=on)
                    .join(shown, on=on, how="left"))
            for r in cand.iter_rows(named=True):
                guess = r["_total"] - (r["_shown"] or 0.0)
                if abs(guess - r["_true"]) <= 1e-6 * max(abs(r["_true"]), 1e-9):
                    recovered.append(f"{cell_name} {r} {m}: {guess} == {r['_true']}")
    return recovered


RANDOM_CASES = [(seed, n) for seed in range(6) for n in (40, 120, 300)]


def _random_release(seed: int, n: int):
    ey = make_enterprise_year(seed, n=n, years=(2020, 2021), districts=DISTRICTS, divisions=DIVISIONS,
                              sigma=0.7, district_weights=[10, 10, 6, 3, 1])
    truth = aggregate_groups(ey, names=False)
    return ey, truth, apply_disclosure_control(truth, ey, PARAMS)


@pytest.mark.parametrize(("seed", "n"), RANDOM_CASES)
def test_no_suppressed_cell_recoverable_from_published_totals(seed, n):
    ey, truth, out = _random_release(seed, n)
    assert out["district_industry_year"]["suppressed"].sum() > 0, "the random table must exercise suppression"
    assert attack(out, truth) == []
    assert recoverable_cells(out) == []
    assert primary_violations(out, ey, PARAMS) == []


def test_random_tables_exercise_every_rule():
    seen = set()
    for seed, n in RANDOM_CASES:
        _, _, out = _random_release(seed, n)
        for t in ("district_industry_year", "district_year", "city_industry_year"):
            seen |= {(t, r) for r in out[t]["suppression_reason"].drop_nulls().unique()}
    for t in ("district_industry_year", "district_year", "city_industry_year"):
        assert {(t, "dominance"), (t, "secondary")} <= seen
    assert ("district_industry_year", "count") in seen and ("district_year", "count") in seen


def test_attack_is_not_vacuous_without_secondary_suppression():
    ey, truth, _ = _random_release(0, 120)  # a case where secondary suppression had work to do
    from warehouse.disclosure import blank_suppressed

    primary_only = {
        t: blank_suppressed(primary_suppression(truth[t], ey, t, SDC), CELL_KEYS[t])
        for t in ("district_industry_year", "district_year", "city_industry_year")
    }
    primary_only["city_year"] = truth["city_year"]
    assert attack(primary_only, truth), "primary suppression alone leaves recoverable cells"
    assert recoverable_cells(primary_only)


def test_relations_visiting_order():
    ey = pl.concat([layout({(B, "14"): 3, (A, "13"): 3}, year=2021), layout({(A, "14"): 3}, year=2020)])
    groups = aggregate_groups(ey, names=False)
    groups = {t: df.with_columns(pl.lit(False).alias("suppressed")) for t, df in groups.items()}
    kinds = [(r.kind, r.total[1]) for r in build_relations(groups)]
    assert kinds == [
        ("district_cells_of_district_year", (A, 2020)),
        ("district_cells_of_district_year", (A, 2021)),
        ("district_cells_of_district_year", (B, 2021)),
        ("district_cells_of_division_year", ("14", 2020)),
        ("district_cells_of_division_year", ("13", 2021)),
        ("district_cells_of_division_year", ("14", 2021)),
        ("districts_of_year", (2020,)),
        ("districts_of_year", (2021,)),
        ("divisions_of_year", (2020,)),
        ("divisions_of_year", (2021,)),
    ]
