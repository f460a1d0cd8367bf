"""Reading export files into frames of strings, without trusting their encoding or layout.

Every cell is read as a string (codes keep their leading zeros; parsing is done later, in one
place, by polars expressions). Each frame carries the header as written as its column names and
`ROW_NUMBER`, the 1-based row a person sees when opening the file (title and header rows
included; for a CSV the header is row 1).
"""

import codecs
import hashlib
from collections.abc import Iterator
from typing import BinaryIO
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from data_contracts import Contract
from ingestion.headers import HeaderMatch, match_headers

ROW_NUMBER = "__row_number"
CSV_SUFFIXES = (".csv",)
EXCEL_SUFFIXES = (".xlsx", ".xls")
READ_CHUNK_BYTES = 16 * 1024 * 1024  # hashing and transcoding work in chunks: bounded memory
CSV_BATCH_ROWS = 500_000  # rows parsed at once; ~0.5 GB peak for an energy export
HEADER_SEARCH_ROWS = 10  # the spec allows 0-3 title rows; blank rows may sit among them


class UnreadableFile(Exception):
    """The whole file (or every sheet of it) cannot be read as an export."""


@dataclass(frozen=True)
class FileFacts:
    sha256: str
    size: int
    is_utf8: bool
    has_content: bool  # anything but whitespace
    has_nul: bool  # a NUL byte: binary, never a text export


@dataclass
class RawTable:
    """One table of an export (a CSV file or one Excel sheet), its header already matched."""

    sheet: str | None
    headers: list[str]  # as written, made unique; also the column names of every batch
    match: HeaderMatch
    batches: Iterator[pl.DataFrame]  # strings, plus ROW_NUMBER (Int64)
    title: str = ""  # the text of the rows above the header (a list's `2022年度` is there)
    defaults: dict[str, str] = field(default_factory=dict)  # contract column -> value for every row


class Utf8Check:
    """Whether bytes read chunk by chunk are UTF-8. Polars validates each chunk (casting binary
    to text checks UTF-8 about ten times as fast as decoding it in Python); a character cut off
    at a chunk's end is carried over to the next."""

    def __init__(self) -> None:
        self.valid, self._carry = True, b""

    def feed(self, chunk: bytes) -> None:
        if not self.valid:
            return
        data = self._carry + chunk
        complete = _without_cut_character(data)
        self._carry = data[complete:]
        try:
            pl.Series([data[:complete]], dtype=pl.Binary).cast(pl.String)
        except pl.exceptions.PolarsError:  # "invalid utf8"
            self.valid = False

    def finish(self) -> bool:
        return self.valid and not self._carry  # a character cut off at the very end is invalid


def _without_cut_character(data: bytes) -> int:
    """The length of `data` without a multi-byte character its last bytes begin but do not end
    (a lead byte 110xxxxx, 1110xxxx or 11110xxx announces 2, 3 or 4 bytes)."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0b1100_0000 != 0b1000_0000:  # not a continuation byte: the last character starts here
            width = 4 if byte >= 0b1111_0000 else 3 if byte >= 0b1110_0000 else 2 if byte >= 0b1100_0000 else 1
            return len(data) - back if width > back else len(data)
    return len(data)


def sniff_file(path: Path, check_text: bool = True, copy_to: BinaryIO | None = None) -> FileFacts:
    """Hash the file and learn what kind of text it holds, in one streaming pass (the text
    checks are skipped for workbooks, which are binary anyway). With `copy_to`, the same pass
    writes every byte read there too, so the hash is that of the bytes copied (the raw archive)."""
    digest = hashlib.sha256()
    utf8 = Utf8Check()
    has_content, has_nul, size = not check_text, False, 0
    with path.open("rb") as fh:
        while chunk := fh.read(READ_CHUNK_BYTES):
            digest.update(chunk)
            if copy_to is not None:
                copy_to.write(chunk)
            size += len(chunk)
            if check_text:
                has_nul = has_nul or b"\x00" in chunk
                has_content = has_content or bool(chunk.strip())
                utf8.feed(chunk)
    return FileFacts(digest.hexdigest(), size, check_text and utf8.finish(), has_content, has_nul)


def transcode_gb18030(path: Path, target: Path) -> Path:
    """Write a UTF-8 copy of a GB18030/GBK file chunk by chunk (polars' lazy reader only reads
    UTF-8, and decoding the whole file at once would hold it in memory several times over)."""
    decoder = codecs.getincrementaldecoder("gb18030")(errors="strict")
    first = True
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("rb") as src, target.open("w", encoding="utf-8", newline="") as dst:
            while chunk := src.read(READ_CHUNK_BYTES):
                text = decoder.decode(chunk)
                if first:
                    text, first = text.removeprefix("\ufeff"), False
                dst.write(text)
            dst.write(decoder.decode(b"", final=True))
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"neither UTF-8 nor GB18030 text (byte {exc.start} of a chunk)") from exc
    return target


def unique_headers(cells: list[object]) -> list[str]:
    """Header cells as column names: empty cells get their position, repeats a suffix."""
    seen: dict[str, int] = {}
    names = []
    for i, cell in enumerate(cells):
        name = str(cell).strip() if cell is not None and str(cell).strip() else f"列{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        names.append(name)
    return names


def read_csv_table(path: Path, facts: FileFacts, tmp_dir: Path, contract: Contract) -> RawTable:
    """A CSV export as batches of rows; the header must be its first row."""
    if facts.has_nul:
        raise UnreadableFile("binary content, not a CSV text file")
    if not facts.has_content:
        raise UnreadableFile("empty file")
    utf8_path = path if facts.is_utf8 else transcode_gb18030(path, tmp_dir / "utf8.csv")
    scan = pl.scan_csv(
        utf8_path, infer_schema=False, truncate_ragged_lines=True, raise_if_empty=False,
        row_index_name=ROW_NUMBER, row_index_offset=2,  # the header is row 1
    )
    try:
        headers = [n for n in scan.collect_schema().names() if n != ROW_NUMBER]
    except Exception as exc:  # polars reports malformed text in many ways
        raise UnreadableFile(f"not a readable CSV: {first_line(exc)}") from exc
    match = match_headers(contract, headers)
    if not match.looks_like_header:
        raise UnreadableFile(f"no header row found (first row: {', '.join(headers[:6])})")
    batches = (b.with_columns(pl.col(ROW_NUMBER).cast(pl.Int64))
               for b in scan.collect_batches(chunk_size=CSV_BATCH_ROWS))
    return RawTable(None, headers, match, batches)


def first_line(exc: Exception) -> str:
    """The gist of an error message (calamine adds many lines of context)."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _excel_sheets(path: Path) -> Iterator[tuple[str, pl.DataFrame]]:
    import fastexcel  # calamine: reads xlsx and legacy xls alike

    try:
        reader = fastexcel.read_excel(path)
        names = reader.sheet_names
    except Exception as exc:
        raise UnreadableFile(f"not a readable Excel workbook: {first_line(exc)}") from exc
    for name in names:
        try:
            # header_row=None and skip_rows=0 keep leading blank rows: frame row i is sheet row i+1.
            sheet = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="string")
            frame = sheet.to_polars()
        except Exception as exc:
            raise UnreadableFile(f"sheet {name!r} cannot be read: {first_line(exc)}") from exc
        yield name, frame


def _header_cells(cells: tuple) -> list[str | None]:
    return [str(c).strip() if c is not None else None for c in cells]


def _find_header_row(frame: pl.DataFrame, contract: Contract) -> tuple[int, HeaderMatch] | None:
    for i, cells in enumerate(frame.head(HEADER_SEARCH_ROWS).iter_rows()):
        match = match_headers(contract, _header_cells(cells))
        if match.looks_like_header:
            return i, match
    return None


def read_excel_tables(path: Path, contract: Contract) -> tuple[list[RawTable], list[str]]:
    """Every sheet of a workbook that has the export's header, and the names of those skipped
    (the caller decides what a workbook without any such sheet is)."""
    tables, skipped = [], []
    for name, frame in _excel_sheets(path):
        found = _find_header_row(frame, contract) if frame.width else None
        if found is None:
            skipped.append(name)
            continue
        index, match = found
        # The first of repeated headers keeps its name, and that is the one the match uses.
        headers = unique_headers(_header_cells(frame.row(index)))
        data = frame.slice(index + 1)
        data.columns = headers
        data = data.with_columns(pl.int_range(index + 2, index + 2 + data.height, dtype=pl.Int64).alias(ROW_NUMBER))
        title = " ".join(str(c) for row in frame.head(index).iter_rows() for c in row if c is not None)
        tables.append(RawTable(name, headers, match, iter([data]), title))
    return tables, skipped
