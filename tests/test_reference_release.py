"""`hzcarbon reference load` then `hzcarbon run`: the release's manifest names the new factor set
in use, and its changelog attributes the published figures that moved to that set
(docs/reference_data.md).

A load writes into the project's dbt seeds, so the test works on a copy of the project, never on
this one."""

import csv
import json
from pathlib import Path

import pytest

from tests.conftest import copy_project, run_cli
from tests.seed_values import co2_per_unit
from tests.tiny_landing import write_tiny_landing

AS_OF = "2026-11"
OLD_SET, NEW_SET = "HZ-EF-2026.2", "HZ-EF-2027.1"
COAL, GAS, POWER = "01", "15", "33"
NEW_COAL = 2.000  # tCO2 per tonne of raw coal in the new set (1.900 in the old one)


def _cli(project: Path, *args: str):
    return run_cli(*args, env={"PYTHONPATH": str(project)}, cwd=project)


def _new_factor_set(seeds: Path, folder: Path) -> Path:
    """The set in use copied under a new id, with one factor changed: raw coal 1.900 → 2.000."""
    with (seeds / "emission_factors.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    new = [{**r, "factor_set": NEW_SET, "source": r["source"] + " (test set)"} for r in rows if r["factor_set"] == OLD_SET]
    for r in new:
        if r["energy_code"] == COAL:
            assert r["co2_t_per_unit"] == "1.900"
            r["co2_t_per_unit"] = f"{NEW_COAL:.3f}"
    folder.mkdir()
    with (folder / "emission_factors.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(new)
    return folder


@pytest.fixture(scope="module")
def two_releases(tmp_path_factory):
    root = tmp_path_factory.mktemp("refload")
    project = copy_project(root / "project")
    landing, warehouse = write_tiny_landing(root / "landing"), root / "warehouse"
    run = ("run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", AS_OF)
    first = _cli(project, *run)
    assert first.returncode == 0, first.stdout + first.stderr
    incoming = _new_factor_set(project / "dbt_project" / "seeds", root / "new_factors")
    loaded = _cli(project, "reference", "load", str(incoming), "--by", "王统计", "--warehouse", str(warehouse))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    second = _cli(project, *run)
    assert second.returncode == 0, second.stdout + second.stderr
    old, new = sorted((warehouse / "releases").iterdir())
    return old, new


def test_the_manifest_names_the_set_in_use_and_who_loaded_it(two_releases):
    old, new = two_releases
    before = json.loads((old / "manifest.json").read_text(encoding="utf-8"))["reference_sets_in_use"]
    after = json.loads((new / "manifest.json").read_text(encoding="utf-8"))["reference_sets_in_use"]
    assert before["emission_factors"] == {"set": OLD_SET, "loaded_by": None, "loaded_at": None}
    assert after["emission_factors"]["set"] == NEW_SET and after["emission_factors"]["loaded_by"] == "王统计"
    assert {k: v for k, v in after.items() if k != "emission_factors"} == \
           {k: v for k, v in before.items() if k != "emission_factors"}


def test_the_changelog_attributes_the_moved_co2_to_the_new_set(two_releases):
    _, new = two_releases
    changes = json.loads((new / "changes.json").read_text(encoding="utf-8"))
    [attribution] = changes["attribution"]
    assert (attribution["reference"], attribution["old"], attribution["new"], attribution["loaded_by"]) == \
           ("emission_factors", OLD_SET, NEW_SET, "王统计")
    assert attribution["sole_cause"] is True and attribution["other_causes"] == []

    # Per month (tests/tiny_landing.py): gas 2 + (10 − 4 feedstock) 万m3, coal 500 t (firm B only),
    # electricity 100 + 200 + 50 万kWh; the year is 12 months. Only coal's factor changed.
    gas, power = co2_per_unit(GAS, 2020, OLD_SET), co2_per_unit(POWER, 2020, OLD_SET)
    old_coal = co2_per_unit(COAL, 2020, OLD_SET)
    city_old = 12 * ((2 + 6) * gas + 500 * old_coal + 350 * power)
    city_new = 12 * ((2 + 6) * gas + 500 * NEW_COAL + 350 * power)
    assert city_new - city_old == pytest.approx(6000 * (NEW_COAL - old_coal))  # 600 t a year

    moved = attribution["moved"]
    city = moved["city_year"]
    assert "co2_total_t" in city and "energy_tce" not in city  # energy does not depend on the factor
    assert city["co2_total_t"]["count"] == 2  # 2020 and 2021
    for example in city["co2_total_t"]["examples"]:
        assert example["old"] == pytest.approx(city_old, rel=1e-9)
        assert example["new"] == pytest.approx(city_new, rel=1e-9)
    firms = moved["enterprise_year"]["co2_total_t"]
    assert firms["count"] == 2  # firm B in 2020 and 2021; firms A and C burn no coal
    for example in firms["examples"]:
        assert example["new"] - example["old"] == pytest.approx(6000 * (NEW_COAL - old_coal), rel=1e-9)

    md = (new / "changes.md").read_text(encoding="utf-8")
    assert f"emission_factors：参考集 {OLD_SET} → {NEW_SET}，由 王统计 于" in md
    assert f"emission_factors: set {OLD_SET} → {NEW_SET}, loaded by 王统计 at" in md
    assert "city_year" in md and "co2_total_t" in md and "两个版本之间唯一的变化" in md
