"""warehouse.release: layout, manifest, district extracts, latest switching, readers, retention,
determinism — on a small hand-made candidate."""

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import threading
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest

from data_contracts import published_tables, table_contract
from warehouse import release as rel
from warehouse.extracts import current_districts, extract_tables
from warehouse.snapshot import snapshot_contents
from warehouse.workbook import district_sheet_columns, header, workbook_name

DAY1 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
DAY2 = datetime(2026, 11, 21, 1, 0, tzinfo=timezone.utc)
DISTRICTS = ["330102", "330105", "330182"]  # some of the 13 current codes
SUPPRESSED_CELL = ("330182", 2021)  # suppressed in open/district_year
_PL = {"VARCHAR": pl.String, "BIGINT": pl.Int64, "INTEGER": pl.Int32, "DOUBLE": pl.Float64, "BOOLEAN": pl.Boolean}


def _value(table: str, col: str, ptype: str, i: int, row: dict, bump: float):
    if col == "district_code":
        return row.get("district_code")
    if col == "scope_code":  # intensity_monthly's district rows (target_progress sets its own)
        return row.get("district_code")
    if col == "submitter_district_code":  # quarantine rows go to the district that delivered the file
        return row.get("district_code")
    if col == "year":
        return row["year"]
    if col == "uscc":
        return row["uscc"]
    if col in ("division_code",):
        return "06" if i % 2 == 0 else "26"
    if col == "industry_code":
        return "0610" if i % 2 == 0 else "2614"
    if col == "district_name":
        return dict(current_districts())[row["district_code"]]
    if ptype == "VARCHAR":
        return f"{col}-{i}"
    if ptype in ("BIGINT", "INTEGER"):
        return 3 + i
    if ptype == "DOUBLE":
        return 100.0 * (i + 1) + 0.25 + bump
    if ptype == "BOOLEAN":
        return i % 3 == 0
    raise AssertionError(ptype)


def _frame(table: str, rows: list[dict], bump: float = 0.0, drop=()) -> pl.DataFrame:
    c = table_contract(table)
    data = {}
    for col in c.columns:
        if col.name in drop:
            continue
        data[col.name] = pl.Series(col.name, [_value(table, col.name, col.physical_type, i, r, bump)
                                              for i, r in enumerate(rows)], dtype=_PL[col.physical_type])
    return pl.DataFrame(data)


def make_candidate(root: Path, bump: float = 0.0, with_internal: bool = True) -> Path:
    """A small candidate with the contract columns of every table. ``bump`` changes the measures
    of open/city_year (and the DOUBLEs of enterprise tables) to make a different candidate."""
    root = Path(root)
    years = [2020, 2021]
    usccs = [f"0913301{n:010d}A"[:18] for n in range(6)]  # leading zero on purpose
    ent_rows = [{"uscc": u, "year": y, "district_code": DISTRICTS[k % 3]} for k, u in enumerate(usccs) for y in years]
    dy_rows = [{"district_code": d, "year": y} for d in DISTRICTS for y in years]
    frames_open = {
        "city_year": _frame("city_year", [{"year": y} for y in years], bump),
        "district_year": _frame("district_year", dy_rows),
        "district_industry_year": _frame("district_industry_year", dy_rows),
        "city_industry_year": _frame("city_industry_year", [{"year": y} for y in years]),
        "target_progress": _frame("target_progress", [{"year": y} for y in years]).with_columns(
            scope_code=pl.lit("330100"), indicator=pl.Series(["energy_intensity", "co2_intensity"])),
        "carbon_grade_distribution": _frame("carbon_grade_distribution", dy_rows),
        "mu_class_distribution": _frame("mu_class_distribution", dy_rows),
        "city_month": _frame("city_month", [{"year": y} for y in years]),
        "district_month": _frame("district_month", dy_rows),
        "key_group_month": _frame("key_group_month", [{"year": y} for y in years]),
        "green_manufacturing_progress": _frame("green_manufacturing_progress", [{"year": y} for y in years]),
        "green_factories": _frame("green_factories", [{"district_code": d} for d in DISTRICTS]),
        "product_efficiency_share": _frame("product_efficiency_share", [{"year": y} for y in years]),
        "intensity_monthly": _frame("intensity_monthly", dy_rows),
    }
    frames_restricted = {
        "enterprise_year": _frame("enterprise_year", ent_rows, bump),
        "key_energy_users": _frame("key_energy_users", ent_rows[:8], bump),
        "high_consumption_low_efficiency": _frame("high_consumption_low_efficiency", ent_rows[:5]),
        "source_reconciliation": _frame("source_reconciliation", ent_rows[:4]),
        "quarantine": _frame("quarantine", [{"district_code": d} for d in [*DISTRICTS, None, "330102"]]),
        "data_quality": _frame("data_quality", [{}, {}]),
        "reporting_status": _frame("reporting_status", ent_rows[:4]),
        "reporting_summary": _frame("reporting_summary", dy_rows),
        "reporting_reminders": _frame("reporting_reminders", ent_rows[::2][:3]),
        "product_efficiency": _frame("product_efficiency", ent_rows[:6]),
        "over_limit_list": _frame("over_limit_list", ent_rows[:3]),
        "green_factory_energy_share": _frame("green_factory_energy_share", [{"year": y} for y in years]),
    }
    internal = {t: frames_open[t] for t in extract_tables() if table_contract(t).layer == "open"}
    # disclosure control of the open versions: one cell suppressed, its measures null
    for t in internal:
        df = frames_open[t]
        hit = (pl.col(table_contract(t).district_extract_column) == SUPPRESSED_CELL[0]) & (pl.col("year") == SUPPRESSED_CELL[1])
        measures = [c.name for c in table_contract(t).columns
                    if c.physical_type == "DOUBLE"]
        frames_open[t] = df.with_columns(
            [pl.when(hit).then(None).otherwise(pl.col(m)).alias(m) for m in measures]
            + [hit.alias("suppressed"), pl.when(hit).then(pl.lit("count")).otherwise(None).alias("suppression_reason")])
        internal[t] = df.drop("suppressed", "suppression_reason")
    for layer, frames in (("open", frames_open), ("restricted", frames_restricted)):
        (root / layer).mkdir(parents=True, exist_ok=True)
        for t, df in frames.items():
            df.write_parquet(root / layer / f"{t}.parquet")
    if with_internal:
        (root / "internal").mkdir(parents=True, exist_ok=True)
        for t, df in internal.items():
            df.write_parquet(root / "internal" / f"{t}.parquet")
    return root


EXTRA = {
    "as_of": "2026-10",
    "settings": {"as_of": "2026-10", "keep_releases": None, "thresholds": {"sdc_min_count": 3}},
    "inputs": [{"source": "energy_reports", "file": "energy_reports/a.csv", "sha256": "a" * 64, "delivery_seq": 1}],
    "reference_files": {"deflators.csv": "d" * 64, "emission_factors.csv": "e" * 64},
    "reference_sets": {"emission_factors": ["HZ-EF-2026.1"]},
    "checks": [{"name": "contracts", "passed": True}],
}


def _publish(*args, **kwargs) -> str:
    """publish() approved at once by a named account, with no retention floor (these tests are
    about layout and switching; tests/test_governance.py covers approval and retention)."""
    kwargs.setdefault("approve_by", "tester")
    kwargs.setdefault("retention_years_aggregates", 0)
    return rel.publish(*args, **kwargs)


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture
def candidate(tmp_path):
    return make_candidate(tmp_path / "candidate")


@pytest.fixture
def published(tmp_path, candidate):
    wh = tmp_path / "wh"
    rid = _publish(candidate, wh, EXTRA, now=DAY1)
    return wh, rid


def test_release_layout_and_manifest(published, candidate):
    wh, rid = published
    assert rid == "2026-11-20.1"
    r = wh / "releases" / rid
    for t in published_tables():
        layer = table_contract(t).layer
        assert (r / layer / f"{t}.parquet").read_bytes() == (candidate / layer / f"{t}.parquet").read_bytes()
    codes = sorted(c for c, _ in current_districts())
    assert len(codes) == 13
    assert sorted(p.name for p in (r / "districts").iterdir()) == codes
    for code in codes:
        names = sorted(p.name for p in (r / "districts" / code).iterdir())
        assert names == sorted([f"{t}.parquet" for t in extract_tables()]
                               + [workbook_name(code, dict(current_districts())[code], rid)])
    assert (r / "hzcarbon.duckdb").is_file() and (r / "data_dictionary.md").is_file()
    assert not list(r.rglob("*.wal")) and not list((wh / "releases").glob(".tmp-*"))

    m = json.loads((r / "manifest.json").read_text(encoding="utf-8"))
    assert m["release_id"] == rid and m["created_at"].startswith("2026-11-20T08:00")
    for k, v in EXTRA.items():
        assert m[k] == v
    assert any(n["file"] == "mu_rules.csv" for n in m["reference_confidence"])
    files = {f["path"]: f for f in m["files"]}
    on_disk = {p.relative_to(r).as_posix() for p in r.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(files) == on_disk
    for path, f in files.items():
        assert _sha(r / path) == f["sha256"] and (r / path).stat().st_size == f["bytes"]
        if path.endswith(".parquet"):
            assert f["rows"] == pl.read_parquet(r / path).height
    assert files["restricted/enterprise_year.parquet"]["rows"] == 12
    assert files["open/district_year.parquet"]["rows"] == 6
    assert files["districts/330102/enterprise_year.parquet"]["rows"] == 4
    assert files["districts/330102/quarantine.parquet"]["rows"] == 2
    assert files["districts/330106/enterprise_year.parquet"]["rows"] == 0
    assert m["tables"]["city_year"] == {"layer": "open", "path": "open/city_year.parquet", "rows": 2,
                                        "snapshot_table": "open.city_year", "district_extract": False}
    assert rel.verify_release(r) == []


def test_verify_release_detects_tampering(published):
    wh, rid = published
    r = wh / "releases" / rid
    (r / "open" / "city_year.parquet").write_bytes(b"not parquet")
    (r / "stray.txt").write_text("x")
    problems = rel.verify_release(r)
    assert any("open/city_year.parquet" in p and "sha256" in p for p in problems)
    assert any("stray.txt" in p for p in problems)


def test_district_extracts_hold_only_their_district(published):
    wh, rid = published
    r = wh / "releases" / rid
    for code, _name in current_districts():
        d = r / "districts" / code
        for t in extract_tables():
            df = pl.read_parquet(d / f"{t}.parquet")
            assert df.columns == table_contract(t).column_names
            column = table_contract(t).district_extract_column
            assert df[column].dtype == pl.String
            assert set(df[column].to_list()) <= {code}, (code, t)
        wb = openpyxl.load_workbook(d / workbook_name(code, _name, rid), read_only=True)
        assert wb.sheetnames == ["说明", "概览", *[table_contract(t).short_name_zh for t in extract_tables()]]
        for t in extract_tables():
            ws = wb[table_contract(t).short_name_zh]
            rows = list(ws.iter_rows(values_only=True))
            c = table_contract(t)
            shown = district_sheet_columns(t, c.column_names)
            assert list(rows[0]) == [header(c.column(n)) for n in shown]  # Chinese header row with units
            assert len(rows) - 1 == pl.read_parquet(d / f"{t}.parquet").height
            assert c.district_extract_column not in shown  # the district's own code, the same in every row
        wb.close()
    # the quarantine row without a district is in no extract; the restricted table has it
    total = sum(pl.read_parquet(r / "districts" / c / "quarantine.parquet").height for c, _ in current_districts())
    assert total == pl.read_parquet(r / "restricted" / "quarantine.parquet").height - 1


def test_xlsx_codes_are_text_and_headers_chinese(published):
    wh, rid = published
    path = wh / "releases" / rid / "districts" / "330102" / workbook_name("330102", "上城区", rid)
    wb = openpyxl.load_workbook(path)  # full mode: cell data types
    ws = wb["企业年度"]
    header = [c.value for c in ws[1]]
    assert header[:4] == ["统一社会信用代码", "年份", "企业名称", "区县是否推定"]  # no own district code
    cols = district_sheet_columns("enterprise_year", table_contract("enterprise_year").column_names)
    row = ws[2]
    for name in ("uscc", "division_code", "industry_code"):
        cell = row[cols.index(name)]
        assert cell.data_type == "s" and isinstance(cell.value, str), name
    assert row[cols.index("uscc")].value.startswith("0")
    assert row[cols.index("division_code")].value in ("06", "26")
    assert row[cols.index("industry_code")].value in ("0610", "2614")
    assert row[cols.index("year")].data_type == "n" and row[cols.index("energy_tce")].data_type == "n"
    assert wb.properties.creator == "hzcarbon" and wb.properties.created.year == 2020


def test_district_aggregates_are_unsuppressed(published, candidate):
    wh, rid = published
    r = wh / "releases" / rid
    code, year = SUPPRESSED_CELL
    for t in ("district_year", "district_industry_year"):
        open_row = pl.read_parquet(r / "open" / f"{t}.parquet").filter(
            (pl.col("district_code") == code) & (pl.col("year") == year))
        own = pl.read_parquet(r / "districts" / code / f"{t}.parquet").filter(pl.col("year") == year)
        internal = pl.read_parquet(candidate / "internal" / f"{t}.parquet").filter(
            (pl.col("district_code") == code) & (pl.col("year") == year))
        assert open_row["energy_tce"][0] is None and open_row["suppressed"][0] is True
        assert own["energy_tce"][0] == internal["energy_tce"][0] is not None
        assert own["suppressed"][0] is True and own["suppression_reason"][0] == "count"  # flagged as hidden in open/


def test_latest_and_ids_on_the_same_day(published, candidate):
    wh, rid1 = published
    assert os.readlink(wh / "latest") == f"releases/{rid1}"
    assert (wh / "LATEST").read_text().strip() == rid1
    rid2 = _publish(candidate, wh, EXTRA, now=DAY1.replace(hour=23))
    assert rid2 == "2026-11-20.2"
    assert (wh / "latest").resolve() == (wh / "releases" / rid2).resolve()
    assert (wh / "LATEST").read_text().strip() == rid2
    rid3 = _publish(candidate, wh, EXTRA, now=DAY2)
    assert rid3 == "2026-11-21.1"
    assert rel.list_releases(wh) == [rid1, rid2, rid3]
    assert not [p for p in wh.iterdir() if ".tmp-" in p.name]


def test_failed_publish_switches_nothing(published, tmp_path):
    wh, rid1 = published
    bad = make_candidate(tmp_path / "bad", with_internal=False)
    with pytest.raises(rel.ReleaseError, match="internal/district_year.parquet"):
        _publish(bad, wh, EXTRA, now=DAY1)
    assert (wh / "LATEST").read_text().strip() == rid1
    assert sorted(p.name for p in (wh / "releases").iterdir()) == [rid1]
    with pytest.raises(ValueError):
        _publish(bad, wh, {"files": []}, now=DAY1)


READER = textwrap.dedent("""
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    q = "select sum(energy_tce) from open.city_year"
    first = con.execute(q).fetchall()[0][0]
    print("READY", first, flush=True)
    seen = set()
    t0 = time.time()
    while True:
        seen.add(con.execute(q).fetchall()[0][0])
        seen.add(con.execute("select count(*) from enterprise_year").fetchall()[0][0])
        if sys.stdin.readline().strip() == "stop":
            break
    print("SEEN", sorted(seen, key=str), flush=True)
""")


def test_reader_of_previous_snapshot_is_not_disturbed(published, tmp_path):
    wh, rid1 = published
    old_total = pl.read_parquet(wh / "latest" / "open" / "city_year.parquet")["energy_tce"].sum()
    # in-process reader, opened through `latest` before the publish
    con = duckdb.connect(str(wh / "latest" / "hzcarbon.duckdb"), read_only=True)
    # another process reading in a loop during the publishes
    proc = subprocess.Popen([sys.executable, "-c", READER, str(wh / "latest" / "hzcarbon.duckdb")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().startswith("READY")
    stop = threading.Event()

    def poke():
        while not stop.is_set():
            proc.stdin.write("go\n")
            proc.stdin.flush()
            stop.wait(0.01)

    poker = threading.Thread(target=poke)
    poker.start()
    try:
        changed = make_candidate(tmp_path / "changed", bump=1000.0)
        rid2 = _publish(changed, wh, EXTRA, now=DAY1)
        rid3 = _publish(changed, wh, EXTRA, now=DAY1, keep_releases=1)  # prunes rid1 under the readers
        assert rel.list_releases(wh) == [rid3]
    finally:
        stop.set()
        poker.join()
        proc.stdin.write("stop\n")
        proc.stdin.flush()
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert out.strip() == f"SEEN {sorted({old_total, 12}, key=str)}"
    # the in-process reader still sees the old data after the switch and the pruning
    assert con.execute("select sum(energy_tce) from open.city_year").fetchall()[0][0] == old_total
    con.close()
    new = duckdb.connect(str(wh / "releases" / rid3 / "hzcarbon.duckdb"), read_only=True)
    assert new.execute("select sum(energy_tce) from open.city_year").fetchall()[0][0] == old_total + 2000.0
    new.close()
    assert rid2 == "2026-11-20.2"


def test_retention_prunes_but_keeps_latest(published, candidate):
    wh, rid1 = published
    ids = [rid1] + [_publish(candidate, wh, EXTRA, now=DAY1) for _ in range(3)]
    assert ids[-1] == "2026-11-20.4"
    rel.switch_latest(wh, ids[0])  # someone rolled `latest` back to the oldest release
    removed = rel.prune_releases(wh, keep_releases=2, retention_years_aggregates=0)
    assert removed == [ids[1]]
    assert rel.list_releases(wh) == [ids[0], ids[2], ids[3]]
    # publish with keep_releases: the new one is latest and kept
    rid = _publish(candidate, wh, EXTRA, now=DAY2, keep_releases=1)
    assert rel.list_releases(wh) == [rid]
    assert (wh / "LATEST").read_text().strip() == rid
    assert rel.verify_release(wh / "latest") == []


def test_same_candidate_gives_identical_files(tmp_path, candidate):
    a = _publish(candidate, tmp_path / "a", EXTRA, now=DAY1)
    b = _publish(candidate, tmp_path / "b", EXTRA, now=DAY2)
    ra, rb = tmp_path / "a" / "releases" / a, tmp_path / "b" / "releases" / b
    # workbooks carry their release id and build date (tests/test_workbook.py checks their determinism);
    # changes.md names the release ids, which differ
    files = sorted(p.relative_to(ra) for p in ra.rglob("*")
                   if p.suffix in (".parquet", ".md") and p.name != "changes.md")
    # 26 tables (13 + 7 of monthly.md + 6 of green.md); per district 6 + 4 + 2 extract files; the dictionary
    assert len(files) == (13 + 7 + 6) + 13 * (6 + 4 + 2) + 1
    for f in files:
        assert _sha(ra / f) == _sha(rb / f), f
    assert snapshot_contents(ra / "hzcarbon.duckdb") == snapshot_contents(rb / "hzcarbon.duckdb")


def test_snapshot_layout_and_comments(published):
    wh, rid = published
    con = duckdb.connect(str(wh / "releases" / rid / "hzcarbon.duckdb"), read_only=True)
    try:
        tables = {(s, t) for s, t in con.execute(
            "select schema_name, table_name from duckdb_tables()").fetchall()}
        for t in published_tables():
            assert (("open" if table_contract(t).layer == "open" else "main"), t) in tables
        assert len(tables) == 13 + 7 + 6  # docs/outputs.md's 13, monthly.md's 7, green.md's 6
        comment = con.execute("select comment from duckdb_columns() where schema_name='open' "
                              "and table_name='city_year' and column_name='co2_total_t'").fetchall()[0][0]
        assert comment.startswith("二氧化碳排放总量")
        assert con.execute("select typeof(uscc) from enterprise_year limit 1").fetchall()[0][0] == "VARCHAR"
    finally:
        con.close()


def test_district_workbooks_same_bytes_in_parallel(tmp_path, candidate, monkeypatch):
    """Workbooks written by the writer threads are the files written one after the other, byte for byte."""
    from warehouse import extracts
    monkeypatch.setattr(extracts, "PARALLEL_MIN_CELLS", 10**12)
    serial = extracts.write_district_extracts(candidate, tmp_path / "serial")
    monkeypatch.setattr(extracts, "PARALLEL_MIN_CELLS", 0)
    monkeypatch.setattr(extracts, "WORKBOOK_WORKERS", 2)
    parallel = extracts.write_district_extracts(candidate, tmp_path / "parallel")
    assert sorted(serial) == sorted(parallel) == sorted(c for c, _ in current_districts())
    for code in serial:
        names = [p.name for p in serial[code]]
        assert names == [p.name for p in parallel[code]] and names[-1].endswith(".xlsx")
        for a, b in zip(serial[code], parallel[code]):
            assert _sha(a) == _sha(b), (code, a.name)


def test_verify_release_rereads_a_file_changed_after_hashing(published):
    """publish() verifies with the hashes it just took; a file rewritten since is read again."""
    wh, rid = published
    r = wh / "releases" / rid
    entries, hashed = rel._file_entries(r, rel._release_files(r))
    assert rel.verify_release(r, hashed) == []
    target = r / "open" / "city_year.parquet"
    data = bytearray(target.read_bytes())
    data[-10] ^= 0xFF  # same size, other bytes
    target.write_bytes(bytes(data))
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # coarse clocks: a later mtime
    problems = rel.verify_release(r, hashed)
    assert any("open/city_year.parquet" in p and "sha256" in p for p in problems)


def test_same_inputs_take_the_previous_files_and_damaged_ones_are_written_again(published, candidate):
    """docs/outputs.md, "What a new release reuses": the same candidate again takes every
    district extract, open CSV and district workbook from the previous release (same inode; the
    workbook keeps the data version it shows); a previous file whose bytes no longer match its
    manifest is written anew instead, with the bytes the manifest lists."""
    wh, rid1 = published
    first = wh / "releases" / rid1
    damaged = "districts/330102/quarantine.parquet"
    listed = {f["path"]: f["sha256"] for f in json.loads((first / "manifest.json").read_text())["files"]}
    os.chmod(first / damaged, 0o644)
    (first / damaged).write_bytes((first / "districts/330102/over_limit_list.parquet").read_bytes())
    rid2 = _publish(candidate, wh, EXTRA, now=DAY2)
    second = wh / "releases" / rid2
    names = dict(current_districts())
    opens = [t for t in published_tables() if table_contract(t).layer == "open"]
    expected = ({f"districts/{c}/{t}.parquet" for c in names for t in extract_tables()} - {damaged}
                | {f"open/{t}.csv" for t in opens})
    workbooks = {f"districts/{c}/{workbook_name(c, n, rid2)}": f"districts/{c}/{workbook_name(c, n, rid1)}"
                 for c, n in names.items()}
    same_inode = {p for p in expected if (first / p).stat().st_ino == (second / p).stat().st_ino}
    assert same_inode == expected and len(expected) == 13 * 12 - 1 + len(opens)
    # the damaged district's workbook is written from a rewritten file with the same bytes: taken too
    assert all((first / old).stat().st_ino == (second / new).stat().st_ino for new, old in workbooks.items())
    manifest = json.loads((second / "manifest.json").read_text())
    assert set(manifest["derived_from"]["reused"]) == expected | set(workbooks)
    assert {w["data_version"] for w in manifest["derived_from"]["workbooks"].values()} == {rid1}
    assert (second / damaged).stat().st_ino != (first / damaged).stat().st_ino
    assert _sha(second / damaged) == listed[damaged] != _sha(first / damaged)
    assert rel.verify_release(second) == []


def test_changed_candidate_copies_only_unchanged_sheets(published, tmp_path):
    """docs/outputs.md, "What a new release reuses": after a release whose enterprise rows and city
    figures changed, every workbook is new (its 概览 reads city_year), the sheets of tables whose
    district file kept its bytes are copied from the previous workbook, and each workbook is byte
    for byte the one a warehouse without a previous release writes; the changed table's sheet
    shows the new values; a previous workbook whose bytes are not those its manifest lists lends
    no sheet."""
    wh, rid1 = published
    names = dict(current_districts())
    # one previous workbook replaced by another district's (a valid xlsx, not the listed bytes):
    # none of its sheets may be copied
    damaged = wh / "releases" / rid1 / "districts" / DISTRICTS[1] / workbook_name(DISTRICTS[1], names[DISTRICTS[1]], rid1)
    os.chmod(damaged, 0o644)
    damaged.write_bytes((wh / "releases" / rid1 / "districts" / DISTRICTS[0]
                         / workbook_name(DISTRICTS[0], names[DISTRICTS[0]], rid1)).read_bytes())
    changed = make_candidate(tmp_path / "changed", bump=1.0)
    rid2 = _publish(changed, wh, EXTRA, now=DAY2)
    fresh = _publish(changed, tmp_path / "fresh", EXTRA, now=DAY2)
    assert rid2 == fresh
    manifest = json.loads((wh / "releases" / rid2 / "manifest.json").read_text())
    assert not any(p.endswith(".xlsx") for p in manifest["derived_from"]["reused"])
    for code, name in names.items():
        new = wh / "releases" / rid2 / "districts" / code / workbook_name(code, name, rid2)
        assert _sha(new) == _sha(tmp_path / "fresh" / "releases" / fresh / "districts" / code / new.name), code
    code = DISTRICTS[0]
    rows = pl.read_parquet(wh / "releases" / rid2 / "districts" / code / "enterprise_year.parquet")
    old_rows = pl.read_parquet(wh / "releases" / rid1 / "districts" / code / "enterprise_year.parquet")
    book = openpyxl.load_workbook(wh / "releases" / rid2 / "districts" / code / workbook_name(code, names[code], rid2),
                                  read_only=True)
    sheet = list(book[table_contract("enterprise_year").short_name_zh].iter_rows(values_only=True))
    book.close()
    col = sheet[0].index(header(table_contract("enterprise_year").column("energy_tce")))
    assert [r[col] for r in sheet[1:]] == rows["energy_tce"].to_list() != old_rows["energy_tce"].to_list()
