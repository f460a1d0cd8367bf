"""Read-only access to the published releases of a warehouse (docs/portal.md).

Only `releases/<id>/` directories that hold a manifest.json are releases; `latest` (the latest
approved release) names the current one. Every name that reaches a path here — release id,
table, district code, file — is first looked up among what is actually on disk.
"""

import io
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import polars as pl

from data_contracts.model import table_contract

PAGE_SIZE = 50
EXPORT_FORMATS = ("csv", "xlsx", "parquet")


class NotAvailable(LookupError):
    """The release, table or file asked for is not among those published."""


@dataclass(frozen=True)
class Release:
    release_id: str
    path: Path
    manifest: dict

    @property
    def changes(self) -> str | None:
        """The release's changelog (changes.md) when it has one."""
        path = self.path / "changes.md"
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def tables(self, layer: str) -> list[str]:
        return sorted(name for name, t in self.manifest.get("tables", {}).items()
                      if t.get("layer") == layer and (self.path / t["path"]).is_file())

    def table_path(self, name: str, layer: str) -> Path:
        if name not in self.tables(layer):
            raise NotAvailable(f"no {layer} table {name!r} in release {self.release_id}")
        return self.path / self.manifest["tables"][name]["path"]

    def optional_open_table(self, name: str) -> Path | None:
        """An open table that a later pipeline may add (monthly tables): its file, or None."""
        path = self.path / "open" / f"{name}.parquet"
        return path if path.is_file() else None

    def district_codes(self) -> list[str]:
        folder = self.path / "districts"
        return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []

    def district_files(self, code: str) -> list[str]:
        if code not in self.district_codes():
            return []
        return sorted(p.name for p in (self.path / "districts" / code).iterdir()
                      if p.is_file() and not p.name.startswith("."))

    def district_file(self, code: str, name: str) -> Path:
        if name not in self.district_files(code):
            raise NotAvailable(f"no file {name!r} for district {code} in release {self.release_id}")
        return self.path / "districts" / code / name

    @property
    def snapshot(self) -> Path:
        path = self.path / "hzcarbon.duckdb"
        if not path.is_file():
            raise NotAvailable("this release has no snapshot")
        return path


class Warehouse:
    """The releases of one warehouse directory, re-read when `releases/` or `latest` changes."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _stamp(self) -> tuple:
        stamps = []
        for p in (self.root / "releases", self.root / "latest", self.root / "LATEST"):
            try:
                stamps.append(os.stat(p).st_mtime_ns)
            except OSError:
                stamps.append(None)
        try:
            stamps.append(os.readlink(self.root / "latest"))
        except OSError:
            stamps.append(None)
        return tuple(stamps)

    def releases(self) -> list[Release]:
        """Newest first."""
        return list(_read_releases(self.root, self._stamp()))

    def release(self, release_id: str | None = None) -> Release:
        """A release by id, or the latest approved one."""
        wanted = release_id or self.latest_id()
        for r in self.releases():
            if r.release_id == wanted:
                return r
        raise NotAvailable(f"no release {release_id or 'latest'}")

    def latest_id(self) -> str | None:
        latest = self.root / "latest"
        if latest.is_dir() and (latest / "manifest.json").is_file():
            return Path(os.path.realpath(latest)).name
        text = self.root / "LATEST"
        return text.read_text(encoding="utf-8").strip() if text.is_file() else None


@lru_cache(maxsize=8)
def _read_releases(root: Path, _stamp: tuple) -> tuple[Release, ...]:
    found = []
    for manifest in (root / "releases").glob("*/manifest.json"):
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a release being written or removed right now
        found.append(Release(manifest.parent.name, manifest.parent, data))
    return tuple(sorted(found, key=lambda r: _release_order(r.release_id), reverse=True))


def _release_order(release_id: str) -> tuple:
    date, _, seq = release_id.partition(".")
    return (date, int(seq) if seq.isdigit() else 0)


# --- tables ------------------------------------------------------------------------------------

def columns_of(path: Path) -> list[str]:
    return list(pl.read_parquet_schema(path))


def labels_of(table: str) -> dict[str, str]:
    try:
        return table_contract(table).labels_zh
    except (KeyError, FileNotFoundError):
        return {}


def read_page(path: Path, page: int, sort: str | None, descending: bool, page_size: int = PAGE_SIZE) -> tuple[pl.DataFrame, int]:
    """One page of a table and its row count. `sort` must be one of the file's columns (the
    caller passes only a whitelisted name; anything else sorts by the file's own key order)."""
    frame = pl.scan_parquet(path)
    total = frame.select(pl.len()).collect().item()
    if sort is not None:
        if sort not in columns_of(path):
            raise NotAvailable(f"no column {sort!r}")
        frame = frame.sort(sort, descending=descending, nulls_last=True, maintain_order=True)
    return frame.slice(max(page - 1, 0) * page_size, page_size).collect(), total


def export_bytes(path: Path, fmt: str, sheet: str) -> bytes:
    """The whole table as CSV (UTF-8 with BOM, for Excel) or XLSX; Parquet is the file itself."""
    frame = pl.read_parquet(path)
    buffer = io.BytesIO()
    if fmt == "csv":
        frame.write_csv(buffer, include_bom=True)
    elif fmt == "xlsx":
        frame.write_excel(buffer, worksheet=sheet[:31], autofit=False)
    else:
        raise NotAvailable(f"format {fmt!r}")
    return buffer.getvalue()
