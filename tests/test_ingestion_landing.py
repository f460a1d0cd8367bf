"""Landing-directory behaviour: whole-file rejections, spreadsheets, the ledger (duplicates,
delivery order, idempotency) and the warehouse layout of docs/design.md."""

import json
import os

import polars as pl
import pytest

from data_contracts import source_contract
from ingestion import quarantine_share_by_source
from ingestion.outputs import LEDGER_SCHEMA, QUARANTINE_SCHEMA, staging_schema
from test_ingestion_support import (
    ENERGY_HEADER, FIRM_B, MU_HEADER, energy_row, ledger, mu_row, quarantined, run, staged, write_csv, write_xls,
    write_xlsx,
)

TITLE = ["杭州市重点用能单位能源消费月报"]


def _numbers(row: list[str]) -> list:
    """Cells as a spreadsheet holds them: quantities as numbers, the rest as text."""
    return [float(c) if h == "工业生产消费量" else c for h, c in zip(ENERGY_HEADER, row)]


# --- bad files ----------------------------------------------------------------------------


@pytest.fixture
def messy_landing(tmp_path):
    landing = tmp_path / "landing"
    folder = landing / "energy_reports"
    write_csv(folder / "good.csv", ENERGY_HEADER, [energy_row(), energy_row(报告期="2024-02")])
    folder.joinpath("garbage.csv").write_bytes(bytes(range(256)) * 40)
    folder.joinpath("empty.csv").write_bytes(b"")
    write_csv(folder / "wrong_header.csv", ["name", "value", "when"], [["a", "1", "x"]])
    folder.joinpath("notes.txt").write_text("not an export", encoding="utf-8")
    folder.joinpath("broken.xlsx").write_bytes(b"PK\x03\x04 definitely not a workbook")
    write_csv(landing / "mu_evaluations" / "mu.csv", MU_HEADER, [mu_row()])
    return landing


def test_bad_files_are_named_with_why_and_the_others_still_load(messy_landing, tmp_path):
    wh = tmp_path / "wh"
    result = run(messy_landing, wh)
    rejected = {r.file: (r.reason, r.message) for r in result.rejections}
    bad = ["energy_reports/broken.xlsx", "energy_reports/empty.csv", "energy_reports/garbage.csv",
           "energy_reports/notes.txt", "energy_reports/wrong_header.csv"]
    assert sorted(rejected) == bad
    assert {reason for reason, _ in rejected.values()} == {"unreadable_file"}
    assert "empty" in rejected["energy_reports/empty.csv"][1]
    assert "header" in rejected["energy_reports/wrong_header.csv"][1]
    assert "csv, xlsx or xls" in rejected["energy_reports/notes.txt"][1]
    assert staged(wh, "energy_reports")["source_file"].to_list() == ["energy_reports/good.csv"] * 2
    assert staged(wh, "mu_evaluations").height == 1
    q = quarantined(wh, "energy_reports")
    assert sorted(q["file"].to_list()) == bad and q["row_number"].null_count() == 5
    books = ledger(wh).filter(pl.col("file").is_in(bad))
    assert books.select("rows_read", "staged", "quarantined", "total_rows").unique().rows() == [(1, 0, 1, 0)]
    assert set(books["quarantined_by_reason"]) == {'{"unreadable_file": 1}'}
    assert any("garbage.csv" in line and "unreadable_file" in line for line in result.describe())


def test_header_only_file_is_read_with_no_rows(tmp_path):
    landing, wh = tmp_path / "l", tmp_path / "w"
    write_csv(landing / "energy_reports" / "h.csv", ENERGY_HEADER, [])
    result = run(landing, wh)
    assert result.rejections == [] and ledger(wh)["rows_read"].to_list() == [0]


def test_same_bytes_in_two_sources_are_not_duplicates(tmp_path):
    landing, wh = tmp_path / "l", tmp_path / "w"
    for source in ("energy_reports", "carbon_codes"):
        (landing / source).mkdir(parents=True)
        (landing / source / "empty.csv").write_bytes(b"")
    run(landing, wh)
    assert ledger(wh)["duplicate_of"].to_list() == [None, None]
    assert [r for r in quarantined(wh, "carbon_codes")["reason"]] == ["unreadable_file"]


def test_blank_lines_in_a_csv_are_not_counted_but_keep_row_numbers(tmp_path):
    landing, wh = tmp_path / "l", tmp_path / "w"
    path = landing / "energy_reports" / "e.csv"
    write_csv(path, ENERGY_HEADER, [energy_row(), [""] * len(ENERGY_HEADER), energy_row(报告期="2024-02")])
    with path.open("a", encoding="utf-8") as fh:
        fh.write(",".join(["合计"] + [""] * (len(ENERGY_HEADER) - 1)) + "\n")
    run(landing, wh)
    assert staged(wh, "energy_reports")["row_number"].to_list() == [2, 4]
    assert ledger(wh).select("rows_read", "staged", "total_rows").row(0) == (3, 2, 1)


# --- spreadsheets -------------------------------------------------------------------------


def _workbook_sheets():
    data = [_numbers(energy_row()), [], _numbers(energy_row(报告期="2024-02")), ["合 计", None, None, None, None, None,
                                                                                None, None, 200.0]]
    return {
        "说明": [["本表由系统导出"], ["请勿修改"]],  # no header: skipped
        "一月": [TITLE, ["填报单位：西湖区经信局"], ["单位：万千瓦时"], ENERGY_HEADER, *data],  # three title rows
        "二月": [ENERGY_HEADER, _numbers(energy_row(报告期="2024-01", 统一社会信用代码="bad"))],  # no title row
    }


@pytest.mark.parametrize("writer, name", [(write_xlsx, "m.xlsx"), (write_xls, "m.xls")])
def test_workbook_sheets_titles_blank_and_total_rows(tmp_path, writer, name):
    landing, wh = tmp_path / "l", tmp_path / "w"
    writer(landing / "energy_reports" / name, _workbook_sheets())
    run(landing, wh)
    rows = staged(wh, "energy_reports")
    assert rows.select("sheet", "row_number", "consumption").rows() == [("一月", 5, 100.0), ("一月", 7, 100.0)]
    assert quarantined(wh, "energy_reports").select("sheet", "row_number", "reason").rows() == [
        ("二月", 2, "invalid_uscc")]
    book = ledger(wh).row(0, named=True)
    assert (book["rows_read"], book["staged"], book["quarantined"], book["total_rows"]) == (4, 2, 1, 1)
    assert json.loads(book["sheets_skipped"]) == ["说明"]


def test_leading_empty_rows_of_a_sheet_still_count_in_row_numbers(tmp_path):
    landing, wh = tmp_path / "l", tmp_path / "w"
    write_xlsx(landing / "energy_reports" / "e.xlsx", {"S": [[], [], ENERGY_HEADER, _numbers(energy_row())]})
    run(landing, wh)
    assert staged(wh, "energy_reports")["row_number"].to_list() == [4]


def test_workbook_without_any_header_is_unreadable(tmp_path):
    landing, wh = tmp_path / "l", tmp_path / "w"
    write_xlsx(landing / "mu_evaluations" / "m.xlsx", {"A": [["hello"]], "B": [["x", "y"]]})
    result = run(landing, wh)
    assert [(r.reason, r.sheet) for r in result.rejections] == [("unreadable_file", None)]
    assert json.loads(ledger(wh)["sheets_skipped"][0]) == ["A", "B"]


def test_a_sheet_missing_a_required_column_is_rejected_alone(tmp_path):
    landing, wh = tmp_path / "l", tmp_path / "w"
    short = [h for h in MU_HEADER if h != "用地面积（亩）"]
    write_xlsx(landing / "mu_evaluations" / "m.xlsx", {
        "ok": [MU_HEADER, mu_row()],
        "short": [short, [c for h, c in zip(MU_HEADER, mu_row(统一社会信用代码=FIRM_B)) if h != "用地面积（亩）"]]})
    result = run(landing, wh)
    assert [(r.sheet, r.reason) for r in result.rejections] == [("short", "missing_required_column")]
    assert staged(wh, "mu_evaluations")["sheet"].to_list() == ["ok"]
    assert ledger(wh).select("rows_read", "staged", "quarantined").row(0) == (2, 1, 1)


# --- ledger: idempotency, duplicates, delivery order ------------------------------------------


def _snapshot(wh):
    return {p.relative_to(wh): (p.stat().st_mtime_ns, p.read_bytes()) for p in wh.rglob("*") if p.is_file()}


def test_second_run_changes_nothing(messy_landing, tmp_path):
    wh = tmp_path / "wh"
    run(messy_landing, wh, run_id="first")
    before = _snapshot(wh)
    again = run(messy_landing, wh, run_id="second")
    assert again.new_files == [] and again.rejections == []
    assert _snapshot(wh) == before
    assert quarantine_share_by_source(again) == {"energy_reports": 0.0, "mu_evaluations": 0.0, "carbon_codes": 0.0,
                                                 "enterprise_register": 0.0, "green_manufacturing": 0.0,
                                                 "product_energy": 0.0, "va_growth": 0.0}


def test_same_content_under_two_names_is_processed_once(tmp_path):
    landing, wh = tmp_path / "l", tmp_path / "w"
    write_csv(landing / "energy_reports" / "a.csv", ENERGY_HEADER, [energy_row()])
    write_csv(landing / "energy_reports" / "b_copy.csv", ENERGY_HEADER, [energy_row()])
    result = run(landing, wh)
    books = ledger(wh)
    assert books.select("file", "duplicate_of", "rows_read", "staged").rows() == [
        ("energy_reports/a.csv", None, 1, 1), ("energy_reports/b_copy.csv", "energy_reports/a.csv", 0, 0)]
    assert staged(wh, "energy_reports").height == 1
    assert result.counts["energy_reports"].rows_read == 1
    assert [r.file for r in result.duplicates] == ["energy_reports/b_copy.csv"]


def test_delivery_order_continues_across_runs(tmp_path):
    landing, wh = tmp_path / "l", tmp_path / "w"
    write_csv(landing / "mu_evaluations" / "z.csv", MU_HEADER, [mu_row()])
    write_csv(landing / "energy_reports" / "y.csv", ENERGY_HEADER, [energy_row()])
    run(landing, wh, run_id="one")
    write_csv(landing / "energy_reports" / "a_late.csv", ENERGY_HEADER, [energy_row(工业生产消费量="90")])
    # the same name with new content is a new delivery (a corrected re-send)
    write_csv(landing / "mu_evaluations" / "z.csv", MU_HEADER, [mu_row(综合得分="99")])
    result = run(landing, wh, run_id="two")
    books = ledger(wh)
    assert books.select("delivery_seq", "file", "first_seen_run").rows() == [
        (1, "energy_reports/y.csv", "one"), (2, "mu_evaluations/z.csv", "one"),
        (3, "energy_reports/a_late.csv", "two"), (4, "mu_evaluations/z.csv", "two")]
    assert [r.delivery_seq for r in result.new_files] == [3, 4]
    mu = staged(wh, "mu_evaluations").sort("delivery_seq")
    assert mu.select("delivery_seq", "score_official").rows() == [(2, 97.3), (4, 99.0)]


# --- layout and result ----------------------------------------------------------------------


def test_warehouse_layout_and_schemas(tmp_path):
    landing, wh = tmp_path / "l", tmp_path / "w"
    write_csv(landing / "energy_reports" / "e.csv", ENERGY_HEADER,
              [energy_row(), energy_row(报告期="2024-02"), energy_row(统一社会信用代码="x")])
    write_csv(landing / "mu_evaluations" / "m.csv", MU_HEADER, [mu_row()])
    run(landing, wh)
    sha16 = ledger(wh).filter(pl.col("source") == "energy_reports")["sha256"][0][:16]
    assert (wh / "staging/energy_reports/period=2024-03" / f"{sha16}.parquet").exists()
    assert (wh / "staging/energy_reports/period=2024-02" / f"{sha16}.parquet").exists()
    assert (wh / "quarantine/energy_reports" / f"{sha16}.parquet").exists()
    assert any((wh / "staging/mu_evaluations").glob("year=2023/*.parquet"))
    for source in ("energy_reports", "mu_evaluations", "carbon_codes"):
        empty = pl.read_parquet(wh / "staging" / source / "_empty.parquet")
        assert empty.is_empty() and empty.schema == pl.Schema(staging_schema(source))
        assert pl.read_parquet(wh / "quarantine" / source / "_empty.parquet").schema == pl.Schema(QUARANTINE_SCHEMA)
    energy = staged(wh, "energy_reports")
    assert energy.schema == pl.Schema(staging_schema("energy_reports"))
    assert energy.columns[:len(source_contract("energy_reports").columns)] == source_contract("energy_reports").column_names
    assert energy.schema["submitted_at"] == pl.Datetime("us") and energy.schema["year"] == pl.Int32
    assert pl.read_parquet(wh / "ingest_ledger.parquet").schema == pl.Schema(LEDGER_SCHEMA)
    assert not (wh / ".ingest_work").exists()
    assert not [p for p in wh.rglob("*.tmp")]


def test_result_counts_and_summary(tmp_path):
    landing, wh = tmp_path / "l", tmp_path / "w"
    write_csv(landing / "energy_reports" / "e.csv", ENERGY_HEADER,
              [energy_row(), energy_row(报告期="2024-02"), energy_row(统一社会信用代码="x"), energy_row(报告期="2031-01")])
    result = run(landing, wh)
    counts = result.counts["energy_reports"]
    assert (counts.rows_read, counts.staged, counts.quarantined, counts.total_rows) == (4, 2, 2, 0)
    assert quarantine_share_by_source(result)["energy_reports"] == 0.5
    summary = result.summary_by_source()
    assert summary["energy_reports"]["quarantined_share"] == 0.5 and summary["energy_reports"]["new_files"] == 1
    json.dumps(summary)  # orchestration writes it as JSON
    assert json.loads(ledger(wh)["quarantined_by_reason"][0]) == {"invalid_period": 1, "invalid_uscc": 1}


def test_hidden_files_are_not_deliveries(tmp_path):
    landing, wh = tmp_path / "l", tmp_path / "w"
    (landing / "energy_reports").mkdir(parents=True)
    (landing / "energy_reports" / ".gitkeep").write_text("")
    result = run(landing, wh)
    assert result.new_files == [] and not (wh / "ingest_ledger.parquet").exists()
    assert os.path.exists(wh / "staging" / "energy_reports" / "_empty.parquet")


# --- the project's own messy sample landing ---------------------------------------------------


@pytest.fixture(scope="module")
def messy_sample(tmp_path_factory):
    from sample_data import generate_landing

    root = tmp_path_factory.mktemp("sample")
    summary = generate_landing(root / "landing", enterprises=30, years=(2020, 2021), seed=7, messy=True)
    result = run(root / "landing", root / "wh", as_of="2026-11")  # the generator's as-of month
    return summary, result, root / "wh"


def test_messy_sample_quarantine_matches_what_was_planted(messy_sample):
    summary, result, wh = messy_sample
    for source, expected in summary["quarantine_rows"].items():
        got: dict[str, int] = {}
        for reasons in ledger(wh).filter(pl.col("source") == source)["quarantined_by_reason"]:
            for reason, n in json.loads(reasons).items():
                got[reason] = got.get(reason, 0) + n
        assert got == expected, source
        assert result.counts[source].total_rows == summary["total_rows"][source]


def _assert_accepted_rows_equal_the_clean_records(wh, seed: int) -> None:
    """Resolving revisions the way dbt does (latest submitted_at, then later delivery) leaves
    exactly the clean records of the seed. `unit` is compared apart: staging keeps the unit as
    written (contract), the clean records hold the canonical one."""
    from polars.testing import assert_frame_equal
    from sample_data import clean_records

    clean = clean_records(enterprises=30, years=(2020, 2021), seed=seed)
    for source in ("energy_reports", "mu_evaluations", "carbon_codes"):
        contract = source_contract(source)
        key = contract.custom["revisionKey"]
        order = [contract.custom["revisionOrder"]] if "revisionOrder" in contract.custom else []
        latest = (staged(wh, source).sort([*key, *order, "delivery_seq", "row_number"], nulls_last=False)
                  .group_by(key, maintain_order=True).last())
        columns = [c for c in contract.column_names if c != "unit"]
        assert_frame_equal(latest.select(columns).sort(key), clean[source].select(columns).sort(key),
                           check_exact=False, rel_tol=1e-9, abs_tol=1e-9)


def test_messy_sample_accepted_rows_equal_the_clean_records(messy_sample):
    _, _, wh = messy_sample
    _assert_accepted_rows_equal_the_clean_records(wh, seed=7)


@pytest.mark.parametrize("seed", [11, 3])
def test_messy_samples_of_other_seeds_equal_the_clean_records(tmp_path, seed):
    """Not a property of seed 7: 11 once dropped an all-zero optional money column from a file."""
    from sample_data import generate_landing

    generate_landing(tmp_path / "landing", enterprises=30, years=(2020, 2021), seed=seed, messy=True)
    run(tmp_path / "landing", tmp_path / "wh", as_of="2026-11")
    _assert_accepted_rows_equal_the_clean_records(tmp_path / "wh", seed=seed)
