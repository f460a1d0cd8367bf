"""The dbt unit tests of the green and product-energy models (dbt_project/models/marts/
_green_mart_unit_tests.yml), run for real on the tiny staging fixture of test_dbt_project: each test's
expected rows are worked by hand in its description."""

import json

import pytest

from test_dbt_project import PROJECT, build_staging, run_dbt

UNIT_TESTS = (
    "ut_green_entries_match_scope_and_district", "ut_green_titles_withdrawal_rename_two_levels",
    "ut_green_progress_counts_and_straight_line", "ut_product_energy_year_months_summed_annual_wins",
    "ut_product_efficiency_grades_at_each_boundary", "ut_over_limit_list_leaves_yardstick_years_off",
    "ut_product_efficiency_share_of_output", "ut_green_factory_energy_share",
)


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, str]:
    wh = tmp_path_factory.mktemp("green_dbt")
    build_staging(wh)
    selection = ("+green_manufacturing_progress +green_factories +over_limit_list +product_efficiency_share"
                 " +green_factory_energy_share")
    built = run_dbt(PROJECT, wh, "build", "--select", selection, "--indirect-selection", "cautious")
    run_results = json.loads((wh / "dbt_target" / "run_results.json").read_text())
    # Each unit test is judged on its own status; every other node of the selection must pass too.
    statuses = {r["unique_id"].split(".")[-1]: r["status"] for r in run_results["results"]}
    others = {n: s for n, s in statuses.items() if n not in UNIT_TESTS and s not in ("pass", "success")}
    assert not others, f"{others}\n{built.stdout[-3000:]}"
    return statuses


@pytest.mark.parametrize("name", UNIT_TESTS)
def test_unit_test_passes(results, name):
    assert results.get(name) == "pass", f"{name}: {results.get(name)}"
