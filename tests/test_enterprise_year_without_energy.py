"""An enterprise-year known only from its 亩均 record (no energy report that year: a late
delivery, or a withdrawn file) is published with null energy, not refused: one district's
missing file must not block the city's release."""

import polars as pl

from tests.tiny_landing import (ENERGY_HEADER, FIRM_A, FIRM_B, FIRM_C, MU_HEADER, energy_rows, mu_rows,
                                write_csv)


def test_a_firm_without_energy_reports_in_a_year_is_published_with_null_energy(tmp_path, cli):
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    write_csv(landing / "energy_reports" / "energy_2020.csv", ENERGY_HEADER, energy_rows(years=(2020,)))
    firm_c_2021 = [r for r in energy_rows(years=(2021,)) if r[0] != FIRM_C]
    write_csv(landing / "energy_reports" / "energy_2021.csv", ENERGY_HEADER, firm_c_2021)
    write_csv(landing / "mu_evaluations" / "mu.csv", MU_HEADER, mu_rows((2020, 2021)))
    (landing / "carbon_codes").mkdir(parents=True)
    done = cli("run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", "2026-11")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    ey = pl.read_parquet(warehouse / "latest" / "restricted" / "enterprise_year.parquet")
    row = ey.filter((pl.col("uscc") == FIRM_C) & (pl.col("year") == 2021)).to_dicts()
    assert len(row) == 1, "the 亩均 record alone makes the enterprise-year"
    assert row[0]["energy_tce"] is None and row[0]["months_reported"] == 0
    others = ey.filter((pl.col("year") == 2021) & pl.col("uscc").is_in([FIRM_A, FIRM_B]))
    assert others["energy_tce"].null_count() == 0 and others["months_reported"].to_list() == [12, 12]
