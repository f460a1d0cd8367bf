"""Sample-data generator: determinism, schema, realism, messy coverage, file formats."""

import hashlib
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from data_contracts import source_contract
from data_contracts.quarantine_reasons import REASONS
from data_contracts.reference import load_reference
from ingestion.uscc import is_valid_uscc
from sample_data import clean_records, generate_landing
from sample_data.rules import deflator_index

SMALL = dict(enterprises=30, years=(2020, 2021))
TYPES = {"VARCHAR": pl.String, "INTEGER": pl.Int32, "DOUBLE": pl.Float64,
         "TIMESTAMP": pl.Datetime("us"), "BOOLEAN": pl.Boolean}


def _digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def messy_landing(tmp_path_factory):
    out = tmp_path_factory.mktemp("messy")
    return out, generate_landing(out, seed=7, messy=True, **SMALL)


def test_same_seed_same_bytes_other_seed_differs(tmp_path, messy_landing):
    out, summary = messy_landing
    again = tmp_path / "again"
    assert generate_landing(again, seed=7, messy=True, **SMALL) == {**summary, "out_dir": str(again)}
    assert _digests(out) == _digests(again)
    other = tmp_path / "other"
    generate_landing(other, seed=8, messy=True, **SMALL)
    a, b = _digests(out), _digests(other)
    assert any(a[k] != b.get(k) for k in a if "能源消费月报" in k and k.startswith("energy_reports/2021"))


def test_clean_records_follow_the_source_contracts():
    recs = clean_records(seed=3, **SMALL)
    for source, df in recs.items():
        contract = source_contract(source)
        assert df.columns == contract.column_names
        assert df.schema == {c.name: TYPES[c.physical_type] for c in contract.columns}
        for c in contract.columns:
            if c.required:
                assert df[c.name].null_count() == 0, (source, c.name)
        assert all(is_valid_uscc(u) for u in df["uscc"].unique())
        assert (df["division_code"] == df["industry_code"].str.slice(0, 2)).all()
    e = recs["energy_reports"]
    assert e["period"].str.contains(r"^\d{4}-\d{2}$").all()
    assert set(e["energy_code"]) <= set(load_reference("energy_types")["energy_code"])
    assert e.select((pl.col("feedstock") <= pl.col("consumption")).all()).item()
    assert e.filter(pl.col("energy_code").is_in(["33", "32", "39"]))["feedstock"].sum() == 0
    assert e.filter(~pl.col("energy_code").is_in(["33", "32"]))["conversion_output"].sum() == 0
    assert e.unique(["uscc", "period", "energy_code"]).height == e.height
    # before 2021-04 firms in the split districts report the old codes
    old = e.filter(pl.col("period") <= "2021-03")["district_code"].unique()
    assert {"330103", "330104"} & set(old) and not {"330113", "330114"} & set(old)


def test_realistic_mix_at_500():
    recs = clean_records(enterprises=500, years=(2020, 2025), seed=0)
    e, mu = recs["energy_reports"], recs["mu_evaluations"]
    current = load_reference("districts").filter(pl.col("status") == "current", pl.col("kind") != "city")
    assert set(current["district_code"]) <= set(e.filter(pl.col("year") == 2025)["district_code"])
    et = load_reference("energy_types").select("energy_code", pl.col("tce_per_unit").cast(pl.Float64))
    fy = e.join(et, on="energy_code").group_by("uscc", "year").agg(
        tce=((pl.col("consumption") - pl.col("conversion_output")) * pl.col("tce_per_unit")).sum(),
        net=((pl.col("consumption") - pl.col("conversion_output") - pl.col("feedstock")) * pl.col("tce_per_unit")).sum(),
        months=pl.col("month").n_unique())
    key_share = (fy["tce"] >= 1000).mean()
    assert 0.01 < key_share < 0.15 and (fy["tce"] >= 10000).sum() > 0
    m = mu.join(fy, left_on=["uscc", "eval_year"], right_on=["uscc", "year"]).filter(pl.col("months") == 12)
    m = m.with_columns(va2020=pl.col("va_10k_yuan") / pl.col("eval_year").map_elements(deflator_index, pl.Float64))
    city = m.group_by("eval_year").agg(i=pl.col("net").sum() / pl.col("va2020").sum()).sort("eval_year")
    assert city["i"].is_between(0.15, 0.6).all()
    assert city["i"][-1] < city["i"][0]  # intensity falls 2020 → 2025
    d_share = (mu["class_official"] == "D").sum() / mu.height
    assert 0.05 < d_share < 0.15 and mu["class_official"].null_count() > 0
    assert 0.08 < (~mu["is_above_scale"]).mean() < 0.25
    cc = recs["carbon_codes"]
    assert (cc["carbon_grade_official"] == 5).sum() > 0 and cc["carbon_grade_official"].null_count() > 0
    assert (cc["zero_carbon_10k_kwh"] <= cc["electricity_10k_kwh"]).all()


def test_messy_summary_plants_every_reason(messy_landing):
    out, s = messy_landing
    assert set(s["quarantine_by_reason"]) == {r.code for r in REASONS}
    cases = {c["case"] for c in s["whole_file_cases"]}
    assert {"binary_garbage", "empty_csv", "wrong_header", "missing_required_column", "not_a_table_file",
            "duplicate_file", "skipped_sheet", "unknown_column"} <= cases
    dup = next(c for c in s["whole_file_cases"] if c["case"] == "duplicate_file")
    assert (out / dup["file"]).read_bytes() == (out / dup["duplicate_of"]).read_bytes()
    assert all(v > 0 for v in s["revisions"]["energy_reports"].values())
    formats = set(s["file_formats"].values())
    assert formats == {"csv_utf8", "csv_bom", "csv_gb18030", "xlsx", "xls"}


def test_gb18030_files_decode_only_as_gb18030(messy_landing):
    out, s = messy_landing
    gb = [f for f, fmt in s["file_formats"].items() if fmt == "csv_gb18030"]
    assert gb
    for f in gb:
        data = (out / f).read_bytes()
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        text = data.decode("gb18030")
        # every source names its enterprises by 信用代码, but va_growth (by district: 增速 columns)
        assert "信用代码" in text or (f.startswith("va_growth/") and "增速" in text)
    bom = [f for f, fmt in s["file_formats"].items() if fmt == "csv_bom"]
    assert all((out / f).read_bytes().startswith(b"\xef\xbb\xbf") for f in bom)


def test_xlsx_has_title_rows_and_totals(tmp_path):
    s = generate_landing(tmp_path, enterprises=30, years=(2020, 2022), seed=1)
    titled = [f for f, lay in s["spreadsheet_layouts"].items() if lay["title_rows"] and f.endswith(".xlsx")]
    assert titled
    ws = openpyxl.load_workbook(tmp_path / titled[0], read_only=True).active
    first = next(ws.iter_rows(max_row=1, values_only=True))
    assert first[0] and "代码" not in first[0] and all(v is None for v in first[1:])
    totals = [f for f, lay in s["spreadsheet_layouts"].items() if lay["total_row"] and f.endswith(".xlsx")]
    assert totals
    rows = list(openpyxl.load_workbook(tmp_path / totals[0], read_only=True).active.iter_rows(values_only=True))
    assert rows[-1][0] in ("合计", "总计")


def test_clean_csv_landing_reads_back_to_the_truth(tmp_path):
    """Plain CSVs with canonical headers: reading them naively gives the clean records."""
    generate_landing(tmp_path, seed=5, formats="csv-utf8", **SMALL)
    truth = clean_records(seed=5, **SMALL)
    for source, df in truth.items():
        contract = source_contract(source)
        files = sorted((tmp_path / source).rglob("*.csv"))
        raw = pl.concat([pl.read_csv(f, infer_schema_length=0) for f in files])
        label = {c.label_zh: c.name for c in contract.columns}
        raw = raw.rename(label, strict=False)
        key = ["uscc", "period", "energy_code"] if source == "energy_reports" else ["uscc", "eval_year"]
        for c in contract.columns:
            if c.origin == "derived":
                continue
            got = raw[c.name]
            if c.physical_type == "DOUBLE":
                got = got.cast(pl.Float64)
                if c.parse == "energy_quantity":
                    got = got.fill_null(0.0)
            elif c.physical_type == "INTEGER":
                got = got.cast(pl.Int32)
            elif c.physical_type == "BOOLEAN":
                got = got.replace_strict({"是": True, "否": False}, return_dtype=pl.Boolean)
            elif c.physical_type == "TIMESTAMP":
                got = got.str.to_datetime("%Y-%m-%d %H:%M:%S").cast(pl.Datetime("us"))
            raw = raw.with_columns(got.alias(c.name))
        cols = [c.name for c in contract.columns if c.origin != "derived"]
        left = raw.select(cols).sort(key)
        right = df.select(cols).sort(key)
        assert left.equals(right), source
