"""Ingestion and the raw archive in one pass over each new file (warehouse.provenance.ingest_and_archive):
every landing file lands in the archive under its sha256 and in the catalogue before it is ingested,
counts add up per file, and a later run reads only the files the ledger has not seen."""

import hashlib
import json

import polars as pl

import warehouse.provenance as prov
from ingestion.pipeline import sniff
from test_ingestion_support import (
    AS_OF, ENERGY_HEADER, FIRM_B, MU_HEADER, energy_row, mu_row, write_csv,
)

GOOD_MONTHS = (1, 2, 3, 4, 5)


def _landing(root):
    """a.csv: five good rows and one with a bad code; b.csv: the same bytes as a.csv (a duplicate);
    gbk.csv: three good rows in GB18030; m.csv: two evaluations; junk.csv: binary (rejected whole)."""
    rows = [energy_row(报告期=f"2024-0{m}") for m in GOOD_MONTHS] + [energy_row(统一社会信用代码="bad-code")]
    write_csv(root / "energy_reports" / "a.csv", ENERGY_HEADER, rows)
    (root / "energy_reports" / "b.csv").write_bytes((root / "energy_reports" / "a.csv").read_bytes())
    write_csv(root / "energy_reports" / "gbk.csv", ENERGY_HEADER,
              [energy_row(报告期=f"2024-0{m}", 统一社会信用代码=FIRM_B, 单位详细名称="乙公司", 行政区划代码="330109")
               for m in (1, 2, 3)], encoding="gb18030")
    write_csv(root / "mu_evaluations" / "m.csv", MU_HEADER, [mu_row(), mu_row(统一社会信用代码=FIRM_B)])
    (root / "energy_reports" / "junk.csv").write_bytes(bytes(range(256)) * 4)
    return root


def _ledger(wh) -> dict[str, dict]:
    return {r["file"]: r for r in pl.read_parquet(wh / "ingest_ledger.parquet").iter_rows(named=True)}


def test_every_file_is_archived_and_catalogued_and_counts_add_up(tmp_path):
    landing, wh = _landing(tmp_path / "landing"), tmp_path / "wh"
    wh.mkdir()
    result, archived = prov.ingest_and_archive(landing, wh, as_of=AS_OF, run_id="r1")

    files = sorted(p for p in landing.rglob("*.csv"))
    digests = {f"{p.parent.name}/{p.name}": hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    # every file catalogued once, under its name and the sha256 of its bytes; the archive object holds those bytes
    assert sorted((r["file"], r["sha256"]) for r in archived) == sorted(digests.items())
    assert sorted((r["file"], r["sha256"]) for r in prov.read_catalog(wh)) == sorted(digests.items())
    for p in files:
        assert prov.archive_path(wh, digests[f"{p.parent.name}/{p.name}"]).read_bytes() == p.read_bytes()
    # five files, and a.csv and b.csv share one object: four contents, four objects
    assert len(files) == 5
    assert len([p for p in (wh / "archive" / "objects").rglob("*") if p.is_file()]) == len(set(digests.values())) == 4
    assert not any((wh / "archive" / ".incoming").iterdir())

    ledger = _ledger(wh)
    a = ledger["energy_reports/a.csv"]
    assert (a["rows_read"], a["staged"], a["quarantined"]) == (len(GOOD_MONTHS) + 1, len(GOOD_MONTHS), 1)
    assert ledger["energy_reports/b.csv"]["duplicate_of"] == "energy_reports/a.csv"
    g = ledger["energy_reports/gbk.csv"]
    assert (g["rows_read"], g["staged"], g["quarantined"]) == (3, 3, 0)
    j = ledger["energy_reports/junk.csv"]
    assert (j["rows_read"], j["staged"], j["quarantined"]) == (1, 0, 1)
    m = ledger["mu_evaluations/m.csv"]
    assert (m["rows_read"], m["staged"], m["quarantined"]) == (2, 2, 0)
    for row in ledger.values():  # every row read is staged or quarantined, file by file
        assert row["rows_read"] == row["staged"] + row["quarantined"] + row["total_rows"] or row["duplicate_of"]
    # ... and the staging and quarantine files hold exactly those rows, each quarantined one with its reason
    staged = pl.read_parquet(wh / "staging" / "energy_reports" / "*" / "*.parquet")
    assert staged.group_by("source_file").len().sort("source_file").rows() == [
        ("energy_reports/a.csv", len(GOOD_MONTHS)), ("energy_reports/gbk.csv", 3)]
    quarantine = pl.read_parquet(wh / "quarantine" / "energy_reports" / "*.parquet")
    assert sorted(quarantine.select("file", "reason").rows()) == [
        ("energy_reports/a.csv", "invalid_uscc"), ("energy_reports/junk.csv", "unreadable_file")]
    assert result.counts["energy_reports"].rows_read == len(GOOD_MONTHS) + 1 + 3 + 1


def test_a_later_run_reads_only_the_new_file(tmp_path):
    landing, wh = _landing(tmp_path / "landing"), tmp_path / "wh"
    wh.mkdir()
    prov.ingest_and_archive(landing, wh, as_of=AS_OF, run_id="r1")
    write_csv(landing / "energy_reports" / "new.csv", ENERGY_HEADER, [energy_row(报告期="2024-06")])
    known = {relative: sha for _, relative, _, sha in prov.landing_hashes(landing, wh)}
    read = []

    def recording(entry):
        read.append(entry.relative)
        return sniff(entry)

    from ingestion.pipeline import ingest_landing
    result = ingest_landing(landing, wh, as_of=AS_OF, run_id="r2", sniffer=recording, known_sha256=known)
    assert read == ["energy_reports/new.csv"]
    assert [(r.file, r.rows_read, r.staged) for r in result.new_files] == [("energy_reports/new.csv", 1, 1)]
    # without what is known, every file is read again, and still only the new one is new
    write_csv(landing / "energy_reports" / "newer.csv", ENERGY_HEADER, [energy_row(报告期="2024-05")])
    read.clear()
    result = ingest_landing(landing, wh, as_of=AS_OF, run_id="r3", sniffer=recording)
    assert len(read) == len(list(landing.rglob("*.csv"))) == 7
    assert [r.file for r in result.new_files] == ["energy_reports/newer.csv"]


def test_a_file_rewritten_in_place_is_a_new_delivery_and_its_first_bytes_stay_archived(tmp_path):
    """The archive is a copy, never a link: rewriting a landing file in place (as `cp` onto an
    existing name does) leaves the archived first content as it was."""
    landing, wh = _landing(tmp_path / "landing"), tmp_path / "wh"
    wh.mkdir()
    prov.ingest_and_archive(landing, wh, as_of=AS_OF, run_id="r1")
    path = landing / "mu_evaluations" / "m.csv"
    first = path.read_bytes()
    write_csv(path, MU_HEADER, [mu_row(评价年度="2022")])
    _, archived = prov.ingest_and_archive(landing, wh, as_of=AS_OF, run_id="r2")
    assert [r["file"] for r in archived] == ["mu_evaluations/m.csv"]
    assert prov.archive_path(wh, hashlib.sha256(first).hexdigest()).read_bytes() == first
    assert prov.archive_path(wh, hashlib.sha256(path.read_bytes()).hexdigest()).read_bytes() == path.read_bytes()
    ledger = pl.read_parquet(wh / "ingest_ledger.parquet").filter(pl.col("file") == "mu_evaluations/m.csv")
    assert ledger.select("rows_read", "staged").rows() == [(2, 2), (1, 1)]
    assert json.loads(ledger["quarantined_by_reason"][1]) == {}
