"""Files a release takes from the previous approved release instead of writing them again
(docs/outputs.md, "What a new release reuses").

A derived file (a district's Parquet extract, an open CSV, a district workbook) is a function of
the files it is written from and of the code that writes it. publish() records both in the
manifest under ``derived_from``: the sha256 of every candidate file the district extracts and
open formats are written from, the writer version (warehouse.provenance.code_version: commit,
package and lock; and the reference files, whose notes 说明 prints), and per district workbook the sha256 of its inputs and its data version. When
the next release finds the same inputs written by the same code, the previous release's file is
hard-linked (copied across file systems) under the new release, and used only if its sha256 read
from the linked bytes equals the one the previous manifest lists; otherwise it is written anew.
Releases are immutable, so a file shared by two of them is never written to.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST_KEY = "derived_from"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def manifest_sha256(manifest: dict[str, Any]) -> dict[str, str]:
    """{path: sha256} of the files a release manifest lists."""
    return {f["path"]: f["sha256"] for f in manifest.get("files") or [] if "path" in f and "sha256" in f}


def stat_signature(path: Path) -> tuple[int, int, int]:
    st = Path(path).stat()
    return st.st_ino, st.st_size, st.st_mtime_ns


def digest(value: Any) -> str:
    """sha256 of a JSON-able value (keys sorted): the identity of a set of inputs."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def writer_version() -> str:
    """The version of what writes derived files: the code (commit, working-tree diff, package
    version, lock) and the reference files, whose notes the workbooks' 说明 prints. Any change
    makes every derived file be written anew."""
    from data_contracts.reference import reference_sha256
    from warehouse.provenance import code_version
    return digest({"code": code_version(), "reference_files": reference_sha256()})


@dataclass
class Reuse:
    """What the previous approved release offers, and what this release records.

    ``hashed`` ({path in the new release: (sha256, stat signature when hashed)}) collects every
    file hashed while the release is built, so the manifest and verification do not read it again."""

    new_dir: Path
    previous_dir: Path | None = None
    previous_files: dict[str, str] = field(default_factory=dict)
    previous_record: dict[str, Any] = field(default_factory=dict)
    writer: str = ""
    record: dict[str, Any] = field(default_factory=dict)
    hashed: dict[str, tuple[str, tuple[int, int, int]]] = field(default_factory=dict)
    reused: list[str] = field(default_factory=list)

    @classmethod
    def from_previous(cls, new_dir: Path, previous_dir: Path | None) -> Reuse:
        manifest: dict[str, Any] = {}
        if previous_dir is not None:
            try:
                manifest = json.loads((Path(previous_dir) / "manifest.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                manifest = {}
        writer = writer_version()
        previous_record = manifest.get(MANIFEST_KEY) or {}
        if previous_record.get("writer") != writer:
            previous_record = {}  # other code wrote it: nothing is reused
        return cls(Path(new_dir), Path(previous_dir) if previous_dir is not None else None,
                   manifest_sha256(manifest),
                   previous_record, writer, {"writer": writer})

    def hash(self, rel: str) -> str:
        """sha256 of a file of the new release (read once, remembered for the manifest)."""
        path = self.new_dir / rel
        known = self.hashed.get(rel)
        if known is not None and known[1] == stat_signature(path):
            return known[0]
        signature = stat_signature(path)
        sha = sha256_file(path)
        self.hashed[rel] = (sha, signature)
        return sha

    def same_inputs(self, kind: str, name: str, inputs: str) -> bool:
        """Whether the previous release recorded exactly ``inputs`` for ``kind``/``name``."""
        return (self.previous_record.get(kind) or {}).get(name, {}).get("inputs") == inputs

    def previous_entry(self, kind: str, name: str) -> dict[str, Any]:
        return (self.previous_record.get(kind) or {}).get(name) or {}

    def note(self, kind: str, name: str, **entry: Any) -> None:
        self.record.setdefault(kind, {})[name] = entry

    def take(self, old_rel: str, new_rel: str) -> bool:
        """Link the previous release's ``old_rel`` as ``new_rel`` of the new release when its
        bytes still have the sha256 the previous manifest lists. False (nothing left behind)
        when there is no such file or its bytes differ: the caller writes it."""
        expected = self.previous_files.get(old_rel)
        if self.previous_dir is None or expected is None:
            return False
        src, dst = self.previous_dir / old_rel, self.new_dir / new_rel
        if not src.is_file():
            return False
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(src, dst)
        except OSError:
            shutil.copyfile(src, dst)
        if self.hash(new_rel) != expected:
            dst.unlink()
            self.hashed.pop(new_rel, None)
            return False
        self.reused.append(new_rel)
        return True
