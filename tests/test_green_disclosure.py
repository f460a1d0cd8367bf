"""Disclosure control of product_efficiency_share (docs/green.md): a share is published only when
the firms inside and outside it each number zero or at least sdc_min_count (3) and the largest
sdc_dominance_n (2) firms hold at most sdc_dominance_share (0.85) of the product's output."""

import polars as pl

from warehouse.disclosure import apply_disclosure_control, product_share_violations

PARAMS = {"sdc_min_count": 3, "sdc_dominance_n": 2, "sdc_dominance_share": 0.85}
SHARES = ["within_limit_share", "over_limit_share", "at_benchmark_share"]


def firms(product: str, year: int, rows: list[tuple[float, str, bool | None]]) -> list[dict]:
    return [{"uscc": f"{product}{year}{i}", "product_code": product, "year": year, "output": out,
             "grade": grade, "at_benchmark": bench} for i, (out, grade, bench) in enumerate(rows)]


EFFICIENCY = pl.DataFrame(
    firms("P", 2023, [(100, "over_limit", False)] * 3 + [(100, "grade_2", False)] * 3)
    + firms("P", 2024, [(100, "over_limit", False), (100, "grade_1", True), (100, "grade_1", True), (100, "grade_3", False)])
    + firms("Q", 2023, [(900, "grade_1", True), (50, "grade_1", True), (50, "grade_1", True)])
    + firms("R", 2023, [(10, "grade_1", None), (20, "grade_2", None)]))

# The unsuppressed mart, its shares worked by hand from EFFICIENCY.
MART = pl.DataFrame([
    {"product_code": "P", "year": 2023, "enterprise_count": 6, "output": 600.0,
     "within_limit_share": 0.5, "over_limit_share": 0.5, "at_benchmark_share": 0.0},
    {"product_code": "P", "year": 2024, "enterprise_count": 4, "output": 400.0,
     "within_limit_share": 0.75, "over_limit_share": 0.25, "at_benchmark_share": 0.5},
    {"product_code": "Q", "year": 2023, "enterprise_count": 3, "output": 1000.0,
     "within_limit_share": 1.0, "over_limit_share": 0.0, "at_benchmark_share": 1.0},
    {"product_code": "R", "year": 2023, "enterprise_count": 2, "output": 30.0,
     "within_limit_share": 1.0, "over_limit_share": 0.0, "at_benchmark_share": None},
])


def _suppressed() -> dict[tuple, dict]:
    out = apply_disclosure_control({"product_efficiency_share": MART}, pl.DataFrame(), PARAMS,
                                   product_efficiency=EFFICIENCY)["product_efficiency_share"]
    return {(r["product_code"], r["year"]): r for r in out.iter_rows(named=True)}


def test_shares_published_when_every_side_has_zero_or_three_firms():
    row = _suppressed()[("P", 2023)]  # 3 over / 3 within, 0 at the benchmark; top 2 = 200 / 600 = 0.33
    assert [row[s] for s in SHARES] == [0.5, 0.5, 0.0]
    assert (row["output"], row["shares_suppressed"]) == (600.0, False)


def test_a_share_with_one_or_two_firms_on_a_side_is_suppressed():
    row = _suppressed()[("P", 2024)]  # 1 firm over (3 within), 2 at the benchmark (2 not)
    assert [row[s] for s in SHARES] == [None, None, None]
    assert (row["output"], row["enterprise_count"], row["shares_suppressed"]) == (400.0, 4, True)


def test_dominated_product_loses_its_shares_and_output():
    row = _suppressed()[("Q", 2023)]  # top 2 = (900 + 50) / 1000 = 0.95 > 0.85
    assert [row[s] for s in SHARES] == [None, None, None]
    assert row["output"] is None and row["shares_suppressed"]


def test_two_firms_show_no_output():
    row = _suppressed()[("R", 2023)]  # 2 firms, both within the limit: 2 < 3 inside
    assert row["output"] is None and row["within_limit_share"] is None
    assert row["at_benchmark_share"] is None  # no 标杆 for this product: null, not a suppression
    assert row["enterprise_count"] == 2


def test_the_gate_finds_the_unsuppressed_mart_and_accepts_the_suppressed_one():
    found = product_share_violations(MART, EFFICIENCY, PARAMS)
    assert [(f["key"]["product_code"], f["key"]["year"]) for f in found] == [("P", 2024), ("Q", 2023), ("R", 2023)]
    out = apply_disclosure_control({"product_efficiency_share": MART}, pl.DataFrame(), PARAMS,
                                   product_efficiency=EFFICIENCY)["product_efficiency_share"]
    assert product_share_violations(out, EFFICIENCY, PARAMS) == []
