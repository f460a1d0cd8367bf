"""Holding what one landing file contributes to an output until the whole file has been read.

An export of normal size is held in memory and written once, straight into its final Parquet
file. Only a file whose pieces outgrow the memory budget spills them to the work directory (a
ten-million-row export would not fit), so every file is ingested in bounded memory.
"""

import shutil
from pathlib import Path

import polars as pl

# Pieces of one file held beyond this (as polars estimates their size) are spilled. The largest
# file of the 50,000-enterprise benchmark landing holds ~75 MB.
MEMORY_BUDGET_BYTES = 128 * 1024 * 1024


class Spool:
    """Frames added under a key (an output: a staging partition, the quarantine), read back per
    key as one lazy frame in the order they were added."""

    def __init__(self, work_dir: Path, budget_bytes: int | None = None) -> None:
        self.work_dir = work_dir
        self.budget_bytes = MEMORY_BUDGET_BYTES if budget_bytes is None else budget_bytes
        self._pieces: dict[tuple[str, ...], list[pl.DataFrame | Path]] = {}
        self._heights: dict[tuple[str, ...], int] = {}
        self._held_bytes = 0
        self._spilled = 0

    def add(self, frame: pl.DataFrame, *key: str) -> None:
        if frame.is_empty():
            return
        self._pieces.setdefault(key, []).append(frame)
        self._heights[key] = self._heights.get(key, 0) + frame.height
        self._held_bytes += frame.estimated_size()
        if self._held_bytes > self.budget_bytes:
            self._spill()

    def keys(self, kind: str) -> list[str]:
        """The second parts of the keys `(kind, ...)`, sorted."""
        return sorted(key[1] for key in self._pieces if key[0] == kind)

    def height(self, *key: str) -> int:
        return self._heights.get(key, 0)

    def scan(self, *key: str) -> pl.LazyFrame | None:
        """The frames of `key`, in order (None if there are none)."""
        pieces = [p.lazy() if isinstance(p, pl.DataFrame) else pl.scan_parquet(p) for p in self._pieces.get(key, [])]
        return pl.concat(pieces) if pieces else None

    def clear(self) -> None:
        self._pieces, self._heights, self._held_bytes = {}, {}, 0
        shutil.rmtree(self.work_dir / "spool", ignore_errors=True)

    def _spill(self) -> None:
        """Every held frame to its own file (lz4: quick to write and to read back)."""
        folder = self.work_dir / "spool"
        folder.mkdir(parents=True, exist_ok=True)
        for pieces in self._pieces.values():
            for i, piece in enumerate(pieces):
                if isinstance(piece, pl.DataFrame):
                    self._spilled += 1
                    pieces[i] = folder / f"{self._spilled:06d}.parquet"
                    piece.write_parquet(pieces[i], compression="lz4")
        self._held_bytes = 0
