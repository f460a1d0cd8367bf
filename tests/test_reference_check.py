"""`hzcarbon reference validate|load` (docs/reference_data.md): every problem named with its file,
row and reason; a load adds a new set to the installed seeds and records who loaded it."""

import csv
import shutil
from pathlib import Path

import pytest

from conftest import run_cli
from data_contracts.reference import SEEDS_DIR
from data_contracts.reference_check import Problem, Table, load_dir, set_fingerprints, validate_dir

EF_HEADER = "factor_set,valid_from_year,energy_code,co2_t_per_unit,unit,source,confidence,check_note"


def _installed_factor_rows() -> list[str]:
    return (SEEDS_DIR / "emission_factors.csv").read_text(encoding="utf-8").splitlines()[1:]


def _new_set(set_id: str, drop_grid_year: int | None = None, negative_code: str | None = None) -> str:
    """The latest installed factor set copied under a new id, optionally with a gap or a negative value."""
    lines = [EF_HEADER]
    installed = [next(csv.reader([line])) for line in _installed_factor_rows()]
    latest = max(cells[0] for cells in installed)
    for cells in installed:
        if cells[0] != latest:
            continue
        cells[0] = set_id
        if cells[2] == "33" and drop_grid_year and cells[1] == str(drop_grid_year):
            continue
        if cells[2] == negative_code:
            cells[3] = "-" + cells[3]
        lines.append(",".join(f'"{c}"' if "," in c else c for c in cells))
    return "\n".join(lines) + "\n"


@pytest.fixture
def seeds(tmp_path) -> Path:
    copy = tmp_path / "project" / "seeds"
    shutil.copytree(SEEDS_DIR, copy)
    return copy


def _reasons(problems: list[Problem], file: str) -> list[tuple[int | None, str]]:
    return [(p.row, p.reason) for p in problems if p.file == file]


def test_installed_reference_data_is_valid(seeds):
    files, problems = validate_dir(seeds, seeds_dir=seeds)
    assert "emission_factors.csv" in files and problems == []


def test_reused_set_id_with_changed_values(tmp_path, seeds):
    incoming = tmp_path / "new"
    incoming.mkdir()
    rows = _installed_factor_rows()
    # coal 1.900 → 1.950 under the same id HZ-EF-2026.1 (the coal row is the first: row 2)
    rows[0] = rows[0].replace(",1.900,", ",1.950,")
    (incoming / "emission_factors.csv").write_text("\n".join([EF_HEADER, *rows]) + "\n", encoding="utf-8")
    _, problems = validate_dir(incoming, seeds_dir=seeds)
    assert _reasons(problems, "emission_factors.csv") == [
        (2, "factor_set HZ-EF-2026.1 is in the installed reference data with other values: changed values need a new set id")]
    # against a warehouse that released the set (the installed copy no longer holds it)
    released = set_fingerprints(Table.read(SEEDS_DIR / "emission_factors.csv"))
    (seeds / "emission_factors.csv").write_text(EF_HEADER + "\n", encoding="utf-8")
    _, problems = validate_dir(incoming, released, seeds_dir=seeds)
    assert _reasons(problems, "emission_factors.csv") == [
        (2, "factor_set HZ-EF-2026.1 is released with other values: changed values need a new set id")]


def test_missing_grid_year_and_negative_coefficient(tmp_path, seeds):
    incoming = tmp_path / "new"
    incoming.mkdir()
    text = _new_set("HZ-EF-2027.1", drop_grid_year=2022, negative_code="21")
    (incoming / "emission_factors.csv").write_text(text, encoding="utf-8")
    _, problems = validate_dir(incoming, seeds_dir=seeds)
    lines = text.splitlines()
    diesel_row = next(i for i, line in enumerate(lines, start=1) if ",21,-" in line)
    grid_2021_row = next(i for i, line in enumerate(lines, start=1) if line.startswith("HZ-EF-2027.1,2021,33,"))
    assert _reasons(problems, "emission_factors.csv") == sorted([
        (diesel_row, "co2_t_per_unit -3.096: a negative coefficient"),
        (grid_2021_row, "grid factor of set HZ-EF-2027.1: year(s) 2022 missing between 2020 and 2023 "
                        "(no gaps in an annual series)"),
    ])


def test_rule_set_weights_must_add_to_100(tmp_path, seeds):
    incoming = tmp_path / "new"
    incoming.mkdir()
    lines = (SEEDS_DIR / "mu_rules.csv").read_text(encoding="utf-8").splitlines()
    changed = [lines[0]] + [line.replace("HZ-MU-2026.1", "HZ-MU-2027.1") for line in lines[1:]]
    # the first indicator of the `above` scale: weight 30 → 20, so the scale adds up to 90
    changed[1] = changed[1].replace("HZ-MU-2027.1,2020,above,tax_per_mu,30,", "HZ-MU-2027.1,2020,above,tax_per_mu,20,")
    (incoming / "mu_rules.csv").write_text("\n".join(changed) + "\n", encoding="utf-8")
    _, problems = validate_dir(incoming, seeds_dir=seeds)
    assert _reasons(problems, "mu_rules.csv") == [
        (2, "rule set HZ-MU-2027.1 (above, from 2020): weights add up to 90, not 100")]


def test_load_adds_the_new_set_and_records_who(tmp_path, seeds):
    incoming = tmp_path / "new"
    incoming.mkdir()
    (incoming / "emission_factors.csv").write_text(_new_set("HZ-EF-2027.1"), encoding="utf-8")
    assert validate_dir(incoming, seeds_dir=seeds)[1] == []
    before = (seeds / "emission_factors.csv").read_text(encoding="utf-8").splitlines()
    added = len(_new_set("HZ-EF-2027.1").splitlines()) - 1
    records = load_dir(incoming, "王统计", seeds_dir=seeds)
    after = (seeds / "emission_factors.csv").read_text(encoding="utf-8").splitlines()
    assert after[: len(before)] == before  # the installed sets are kept as they were
    assert len(after) == len(before) + added and all(r.startswith("HZ-EF-2027.1,") for r in after[len(before):])
    assert [(r["file"], r["set_ids"], r["rows"], r["loaded_by"]) for r in records] == [
        ("emission_factors.csv", "HZ-EF-2027.1", added, "王统计")]
    log = (seeds.parent / "reference_loads.csv").read_text(encoding="utf-8").splitlines()
    assert log[0] == "loaded_at,loaded_by,file,set_ids,rows,sha256" and ",王统计,emission_factors.csv,HZ-EF-2027.1," in log[1]


def test_cli_reports_every_problem_and_exits_1(tmp_path):
    incoming = tmp_path / "new"
    incoming.mkdir()
    (incoming / "emission_factors.csv").write_text(_new_set("HZ-EF-2027.1", drop_grid_year=2022), encoding="utf-8")
    (incoming / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    result = run_cli("reference", "validate", str(incoming))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "emission_factors.csv row" in result.stdout and "2022 missing" in result.stdout
    assert "notes.csv: not a reference file of the project" in result.stdout
    refused = run_cli("reference", "load", str(incoming), "--by", "王统计")
    assert refused.returncode == 1 and "nothing loaded" in refused.stdout


def test_a_reworded_check_note_keeps_the_set(tmp_path, seeds):
    """check_note comments on a value (docs/reference_data.md): rewording it under an installed
    or released set id is no change of values, while the values themselves still are."""
    incoming = tmp_path / "new"
    incoming.mkdir()
    installed = [next(csv.reader([line])) for line in _installed_factor_rows()]
    for cells in installed:
        if cells[0] == "HZ-EF-2026.1" and cells[7]:
            cells[7] = "核对提示已改写：数值不变"
    text = "\n".join([EF_HEADER, *(",".join(f'"{c}"' if "," in c else c for c in cells) for cells in installed)]) + "\n"
    (incoming / "emission_factors.csv").write_text(text, encoding="utf-8")
    released = set_fingerprints(Table.read(SEEDS_DIR / "emission_factors.csv"))
    _, problems = validate_dir(incoming, released, seeds_dir=seeds)
    assert _reasons(problems, "emission_factors.csv") == []
    assert set_fingerprints(Table.read(incoming / "emission_factors.csv")) == released
