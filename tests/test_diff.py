"""warehouse.diff: what changed between two releases, and why."""

import copy

from warehouse import release as rel
from warehouse.diff import diff_releases, render_diff
from tests.test_release import DAY1, EXTRA, make_candidate


def test_diff_reports_changed_values_and_reasons(tmp_path):
    wh = tmp_path / "wh"
    old_id = rel.publish(make_candidate(tmp_path / "c1"), wh, EXTRA, now=DAY1)
    extra2 = copy.deepcopy(EXTRA)
    extra2["as_of"] = "2026-11"
    extra2["settings"]["as_of"] = "2026-11"
    extra2["settings"]["thresholds"]["sdc_min_count"] = 5
    extra2["inputs"].append({"source": "energy_reports", "file": "energy_reports/b.csv", "sha256": "b" * 64,
                             "delivery_seq": 2})
    extra2["reference_files"]["emission_factors.csv"] = "f" * 64
    extra2["reference_sets"] = {"emission_factors": ["HZ-EF-2026.1", "HZ-EF-2026.2"]}
    new_id = rel.publish(make_candidate(tmp_path / "c2", bump=10.0), wh, extra2, now=DAY1)

    d = diff_releases(wh / "releases" / old_id, wh / "releases" / new_id)
    assert (d["old"], d["new"]) == (old_id, new_id)
    city = d["tables"]["city_year"]
    assert city["status"] == "changed" and city["compared"] == "key"
    assert (city["added"], city["removed"], city["changed"]) == (0, 0, 2)
    energy = city["changed_columns"]["energy_tce"]
    assert energy["count"] == 2
    assert energy["examples"][0] == {"key": {"year": 2020}, "old": 100.25, "new": 110.25}
    assert "enterprise_count" not in city["changed_columns"]
    assert d["tables"]["enterprise_year"]["changed"] == 12
    assert d["tables"]["data_quality"]["status"] == "same"
    assert d["tables"]["quarantine"]["status"] == "same"  # null key parts (sheet) still match

    why = d["why"]
    assert [i["file"] for i in why["new_inputs"]] == ["energy_reports/b.csv"]
    assert why["reference_changes"] == [{"file": "emission_factors.csv", "old_sha256": "e" * 64,
                                         "new_sha256": "f" * 64}]
    assert why["reference_set_changes"]["emission_factors"]["new"] == ["HZ-EF-2026.1", "HZ-EF-2026.2"]
    assert why["settings_changes"]["thresholds.sdc_min_count"] == {"old": 3, "new": 5}
    assert why["as_of"] == {"old": "2026-10", "new": "2026-11"}

    md = render_diff(d)
    assert f"# Release {old_id} → {new_id}" in md
    assert "reference file changed: emission_factors.csv" in md
    assert "new input file: energy_reports/b.csv (delivery 2)" in md
    assert "setting thresholds.sdc_min_count: 3 → 5" in md
    assert "`energy_tce`: 2 row(s) changed, e.g. (2020) 100.25 → 110.25" in md


def test_diff_rows_added_and_removed(tmp_path):
    import polars as pl

    wh = tmp_path / "wh"
    c1 = make_candidate(tmp_path / "c1")
    old_id = rel.publish(c1, wh, EXTRA, now=DAY1)
    c2 = make_candidate(tmp_path / "c2")
    cy = pl.read_parquet(c2 / "open" / "city_year.parquet")
    cy = pl.concat([cy.filter(pl.col("year") == 2021), cy.filter(pl.col("year") == 2021).with_columns(
        year=pl.lit(2022, dtype=pl.Int32))])
    cy.write_parquet(c2 / "open" / "city_year.parquet")
    new_id = rel.publish(c2, wh, EXTRA, now=DAY1)
    d = diff_releases(wh / "releases" / old_id, wh / "releases" / new_id)
    city = d["tables"]["city_year"]
    assert (city["added"], city["removed"], city["changed"]) == (1, 1, 0)
    assert city["examples_added"] == [{"year": 2022}] and city["examples_removed"] == [{"year": 2020}]
    assert all(t["status"] == "same" for name, t in d["tables"].items() if name != "city_year")
    assert "no new inputs" in render_diff(d)


def test_a_withdrawal_is_named_as_the_reason_in_both_languages():
    from warehouse.diff import render_diff

    withdrawal = {"id": "W1", "sha256": "ab" * 32, "reason": "wrong October file", "by": "李四", "at": "2026-12-07T01:00:00Z"}
    d = {"old": "2026-12-07.1", "new": "2026-12-07.2", "why": {"withdrawals_new": [withdrawal]}, "tables": {}}
    for text in (render_diff(d), render_diff(d, "zh")):
        assert "abababababab" in text and "wrong October file" in text and "李四" in text
        assert "no new inputs" not in text and "没有记录" not in text


def test_year_keyed_table_changes_found_in_every_year(tmp_path):
    """A table keyed by year is compared only in the years whose rows differ: a value changed in
    2020 and two values swapped between firms within 2021 (the year's column totals unchanged)
    are all reported, with the counts and examples of a whole-table comparison."""
    import polars as pl

    c1, c2 = make_candidate(tmp_path / "c1"), make_candidate(tmp_path / "c2")
    path = c2 / "restricted" / "enterprise_year.parquet"
    ey = pl.read_parquet(path).sort("uscc", "year")
    first, second, third = ey["uscc"].unique().sort().to_list()[:3]
    swapped = {first: second, second: first}
    energy = {(r["uscc"], r["year"]): r["energy_tce"] for r in ey.iter_rows(named=True)}
    new = [energy[(swapped.get(u, u), y)] if y == 2021 else energy[(u, y)] + (1.0 if (u, y) == (third, 2020) else 0.0)
           for u, y in zip(ey["uscc"], ey["year"])]
    ey.with_columns(energy_tce=pl.Series(new)).write_parquet(path)
    d = diff_releases(c1, c2)["tables"]["enterprise_year"]
    assert (d["compared"], d["added"], d["removed"], d["changed"]) == ("key", 0, 0, 3)
    examples = d["changed_columns"]["energy_tce"]["examples"]
    assert [(e["key"]["uscc"], e["key"]["year"]) for e in examples] == [(first, 2021), (second, 2021), (third, 2020)]
    assert [e["new"] - e["old"] for e in examples] == [
        energy[(second, 2021)] - energy[(first, 2021)], energy[(first, 2021)] - energy[(second, 2021)], 1.0]
