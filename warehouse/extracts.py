"""District extracts: ``districts/<code>/<table>.parquet`` and the workbook
``districts/<code>/<code>_<区名>_<release>.xlsx`` (warehouse.workbook).

Each of the 13 current districts and counties (reference districts.csv, kind district/county,
status current) gets the tables whose contract says ``districtExtract: true``:

- restricted tables (enterprise_year, key_energy_users, high_consumption_low_efficiency,
  quarantine) from ``<candidate>/restricted/<table>.parquet``. Rows go by the contract's
  ``district_extract_column``: ``district_code``, except quarantine, which goes back to the
  district that delivered the file (``submitter_district_code``), never to a district merely
  named in a rejected row; rejections of files without a submitter go to no district;
- open tables (district_year, district_industry_year) WITHOUT suppression, from
  ``<candidate>/internal/<table>.parquet`` (unsuppressed values, written by the candidate writer
  beside open/ and restricted/; never published as such). When the internal file has no
  ``suppressed`` / ``suppression_reason`` columns, they are taken from the open (suppressed)
  table by key, so a district sees its true values and which of its cells the open release hides.

Parquet is written with ``warehouse.parquet_io.write_table`` (contract column order and types,
rows sorted by key, same rows → same bytes). The workbook shows the same rows (see
warehouse.workbook for what a clerk finds in it). ``WORKBOOK_WORKERS`` threads write the
workbooks, each from its district's Parquet files, while the main thread writes the next
district's Parquet (largest district first). Threads, not processes: a spawned process would
first spend ~1.5 s CPU importing what the CLI imports, and forking a process whose Polars and
DuckDB thread pools are running is unsafe. The writer holds the GIL for part of its work, so two
threads are only ~1.3× one at 50,000 enterprises (bench/README.md, "District workbooks").
"""

import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from data_contracts import published_tables, table_contract
from data_contracts.reference import load_reference
from warehouse.parquet_io import write_table
from warehouse.reuse import Reuse, digest, sha256_file
from warehouse.workbook import PreviousSheets, ReleaseInfo, overview_frames, workbook_name, write_district_workbook

INTERNAL_DIR = "internal"
SUPPRESSION_COLUMNS = ("suppressed", "suppression_reason")
# Workbook writer threads, and the extract size (cells, all districts) from which they are used
# (below it one thread is as fast, and the order of work is simpler to follow).
WORKBOOK_WORKERS = min(2, os.cpu_count() or 1)
PARALLEL_MIN_CELLS = 100_000
# Open tables the 概览 sheet reads (the city's figures and target path).
OVERVIEW_OPEN_TABLES = ("city_year", "target_progress", "green_manufacturing_progress")
DRAFT = ReleaseInfo("未发布", None, date(2020, 1, 1))  # workbooks written outside a release (tests)


def current_districts() -> list[tuple[str, str]]:
    """(code, name) of every current district and county, by code (13 for Hangzhou)."""
    d = load_reference("districts")
    d = d.filter(pl.col("kind").is_in(["district", "county"]) & (pl.col("status") == "current"))
    return sorted(zip(d["district_code"].to_list(), d["district_name"].to_list()))


def extract_tables() -> list[str]:
    """Tables that go into districts/<code>/, in the order of docs/outputs.md."""
    return [t for t in published_tables() if table_contract(t).district_extract]


def extract_source(candidate_dir: Path, table: str) -> Path:
    """Where the district rows of ``table`` come from in the candidate."""
    layer = table_contract(table).layer
    sub = INTERNAL_DIR if layer == "open" else layer
    return Path(candidate_dir) / sub / f"{table}.parquet"


def required_candidate_files(candidate_dir: Path) -> list[Path]:
    return [extract_source(candidate_dir, t) for t in extract_tables()]


def _load_source(candidate_dir: Path, table: str) -> pl.DataFrame:
    """The rows of every district for ``table``, in contract column order."""
    contract = table_contract(table)
    src = extract_source(candidate_dir, table)
    if not src.exists():
        raise FileNotFoundError(
            f"{src} is missing: district extracts need the unsuppressed {table} as "
            f"<candidate>/{INTERNAL_DIR}/{table}.parquet" if contract.layer == "open" else f"{src} is missing")
    df = pl.read_parquet(src)
    if contract.layer == "open" and not all(c in df.columns for c in SUPPRESSION_COLUMNS):
        open_path = Path(candidate_dir) / "open" / f"{table}.parquet"
        keys = contract.primary_key
        flags = pl.read_parquet(open_path, columns=[*keys, *SUPPRESSION_COLUMNS])
        df = df.drop([c for c in SUPPRESSION_COLUMNS if c in df.columns])
        df = df.join(flags, on=keys, how="left", nulls_equal=True, maintain_order="left")
    missing = [c for c in contract.column_names if c not in df.columns]
    if missing:
        raise ValueError(f"{src}: columns missing for the district extract: {', '.join(missing)}")
    return df.select(contract.column_names)


def write_district_extracts(candidate_dir: Path, districts_dir: Path,
                            districts: Iterable[tuple[str, str]] | None = None,
                            release: ReleaseInfo | None = None, reuse: Reuse | None = None) -> dict[str, list[Path]]:
    """Write ``districts_dir/<code>/<table>.parquet`` and the district's workbook for every
    district. Returns {code: [files written or reused]}, in district order, the workbook last.

    With ``reuse`` (a release being built in ``reuse.new_dir``, of which ``districts_dir`` is
    ``districts/``): a table whose source bytes equal those the previous release's extracts were
    written from is taken from the previous release for every district, and a workbook whose
    inputs (its district's Parquet files, the city tables of 概览, district, as-of month) are
    unchanged is taken with the data version it shows (warehouse.reuse); a workbook written anew
    copies the sheets of its unchanged tables from the previous one (``_previous_sheets``)."""
    release = release or DRAFT
    districts = list(districts if districts is not None else current_districts())
    codes = [code for code, _ in districts]
    tables = extract_tables()
    reusable: set[str] = set()
    if reuse is not None:
        for table in tables:
            inputs = _source_inputs(candidate_dir, table, reuse)
            reuse.note("extract_tables", table, inputs=inputs)
            if reuse.same_inputs("extract_tables", table, inputs):
                reusable.add(table)
    split: dict[str, dict[tuple, pl.DataFrame]] = {}

    def rows_of(table: str, code: str) -> pl.DataFrame:
        if table not in split:  # loaded once, when a district first needs it written
            df = _load_source(candidate_dir, table)
            parts = df.partition_by(table_contract(table).district_extract_column, as_dict=True, maintain_order=True)
            split[table] = {**parts, (): df.clear()}
        return split[table].get((code,), split[table][()])

    for table in tables:
        if table not in reusable:
            rows_of(table, "")
    city = {t: pl.read_parquet(Path(candidate_dir) / "open" / f"{t}.parquet") for t in OVERVIEW_OPEN_TABLES}
    cells = {code: _district_cells(code, tables, split, reusable, reuse) for code in codes}
    workers = WORKBOOK_WORKERS if sum(cells.values()) >= PARALLEL_MIN_CELLS and len(districts) > 1 else 1
    written: dict[str, list[Path]] = {code: [] for code in codes}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="workbook") as pool:
        pending = []
        try:
            for code, name in sorted(districts, key=lambda item: (-cells[item[0]], item[0])):
                out = Path(districts_dir) / code
                out.mkdir(parents=True, exist_ok=True)
                files = []
                for table in tables:
                    path = out / f"{table}.parquet"
                    if not (table in reusable and reuse.take(_rel(reuse, path), _rel(reuse, path))):
                        write_table(rows_of(table, code), path, table)
                    files.append(path)
                xlsx = out / workbook_name(code, name, release.release_id)
                written[code] = files + [xlsx]
                if reuse is not None and _take_workbook(reuse, code, name, release, files, xlsx):
                    continue
                previous = _previous_sheets(reuse, code, tables, files) if reuse is not None else None
                job = (str(xlsx), code, name, release, [(t, str(f)) for t, f in zip(tables, files)], city, previous)
                if workers == 1:
                    _workbook_from_parquet(*job)
                else:
                    pending.append(pool.submit(_workbook_from_parquet, *job))
            for fut in pending:
                fut.result()
        finally:
            for fut in pending:
                fut.cancel()  # after a failure, start no other workbook
    return written


def _rel(reuse: Reuse, path: Path) -> str:
    return Path(path).relative_to(reuse.new_dir).as_posix()


def _source_inputs(candidate_dir: Path, table: str, reuse: Reuse) -> str:
    """The identity of what ``table``'s district extracts are written from: its source file and,
    for an open table, the open file its suppression flags may come from (both by sha256). The
    published copies in the release (same bytes as the candidate's) are hashed once for all."""
    layer = table_contract(table).layer
    shas = {f"{layer}/{table}.parquet": reuse.hash(f"{layer}/{table}.parquet")}
    if layer == "open":
        shas[f"{INTERNAL_DIR}/{table}.parquet"] = sha256_file(extract_source(candidate_dir, table))
    return digest(shas)


def _take_workbook(reuse: Reuse, code: str, name: str, release: ReleaseInfo, files: list[Path], xlsx: Path) -> bool:
    """Record the inputs of ``code``'s workbook; link the previous release's workbook when they
    are unchanged (it keeps the data version it shows). False: the caller writes it."""
    inputs = digest({"district": [code, name], "as_of": release.as_of,
                     "tables": {f.name: reuse.hash(_rel(reuse, f)) for f in files},
                     "city": {t: reuse.hash(f"open/{t}.parquet") for t in OVERVIEW_OPEN_TABLES}})
    before = reuse.previous_entry("workbooks", code)
    if reuse.same_inputs("workbooks", code, inputs) and reuse.take(before.get("file", ""), _rel(reuse, xlsx)):
        reuse.note("workbooks", code, inputs=inputs, file=_rel(reuse, xlsx), data_version=before["data_version"])
        return True
    reuse.note("workbooks", code, inputs=inputs, file=_rel(reuse, xlsx), data_version=release.release_id)
    return False


def _previous_sheets(reuse: Reuse, code: str, tables: list[str], files: list[Path]) -> PreviousSheets | None:
    """The previous release's workbook of ``code`` (written by the same code, its bytes those the
    previous manifest lists) and the tables whose district file has the bytes it was written
    from: their sheets are copied from it, once its bytes are checked against that sha256 (in the
    writer thread: _workbook_from_parquet). None when there is no such workbook or table."""
    entry = reuse.previous_entry("workbooks", code)
    old_rel = entry.get("file")
    if not old_rel or reuse.previous_dir is None or old_rel not in reuse.previous_files:
        return None
    same = frozenset(t for t, f in zip(tables, files)
                     if reuse.previous_files.get(f"districts/{code}/{f.name}") == reuse.hash(_rel(reuse, f)))
    old = reuse.previous_dir / old_rel
    if not same or not old.is_file():
        return None
    return PreviousSheets(old, same, reuse.previous_files[old_rel])


def _district_cells(code: str, tables: list[str], split: dict[str, dict[tuple, pl.DataFrame]],
                    reusable: set[str], reuse: Reuse | None) -> int:
    """A district's extract size in cells (a reused table's from the previous file's footer):
    workbooks go largest first, so the writer threads finish together instead of one writing the
    largest workbook alone at the end. Order does not change bytes."""
    cells = 0
    for table in tables:
        if table in reusable:
            meta = pq.ParquetFile(reuse.previous_dir / "districts" / code / f"{table}.parquet").metadata \
                if (reuse.previous_dir / "districts" / code / f"{table}.parquet").is_file() else None
            cells += meta.num_rows * meta.num_columns if meta else 0
        else:
            df = split[table].get((code,))
            cells += df.height * df.width if df is not None else 0
    return cells


def _workbook_from_parquet(xlsx: str, code: str, name: str, release: ReleaseInfo, sheets: list[tuple[str, str]],
                           city: dict[str, pl.DataFrame], previous: PreviousSheets | None = None) -> str:
    """The workbook of one district from its Parquet files: it shows exactly their rows, in
    their order (the sheets of ``previous.tables`` copied from ``previous.workbook``)."""
    if previous is not None and sha256_file(previous.workbook) != previous.sha256:
        previous = None  # not the bytes the previous manifest lists: every sheet is written
    tables = {t: pl.read_parquet(p) for t, p in sheets}
    overview = overview_frames(tables["district_year"], city["city_year"], city["target_progress"],
                               tables["high_consumption_low_efficiency"], tables["quarantine"],
                               city["green_manufacturing_progress"], tables.get("over_limit_list"), code,
                               intensity_monthly=tables.get("intensity_monthly"))
    write_district_workbook(Path(xlsx), code, name, release, tables, overview, previous)
    return xlsx
