"""Files ingested side by side (`ingestion.pipeline.INGEST_WORKERS`): the warehouse is the same,
byte for byte, as when they are ingested one at a time; the ledger keeps the delivery order
whichever file finishes first; and a run stopped part-way (or killed: the ledger journal) keeps
exactly the files delivered before the one it stopped at, nothing of those after it."""

import hashlib
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import ingestion.pipeline as pipeline
from ingestion.files import FileIngest
from ingestion.outputs import LEDGER_FILE, LEDGER_JOURNAL, PendingFiles, read_journal, read_ledger
from warehouse.provenance import ledger_inputs
from test_ingestion_support import (
    AS_OF, ENERGY_HEADER, FIRM_B, FIRM_C, MU_HEADER, energy_row, ledger, mu_row, run, write_csv,
)

ENERGY_FILES = [f"energy_reports/{name}.csv" for name in ("a", "b", "c", "d", "e")]


@pytest.fixture
def landing(tmp_path):
    """Five energy files (one a copy of another, one with a bad row), a garbage file and an
    evaluation, so that duplicates, quarantine and whole-file rejections run side by side."""
    root = tmp_path / "landing"
    firms = ["", FIRM_B, FIRM_C, "bad-code", ""]
    for i, (name, firm) in enumerate(zip(ENERGY_FILES[:-1], firms)):
        rows = [energy_row(报告期=f"2024-0{m}", 工业生产消费量=str(10 * i + m)) for m in (1, 2, 3)]
        rows += [energy_row(统一社会信用代码=firm)] if firm else []
        write_csv(root / name, ENERGY_HEADER, rows)
    (root / ENERGY_FILES[-1]).write_bytes((root / ENERGY_FILES[0]).read_bytes())  # same content as a.csv
    (root / "energy_reports" / "f_garbage.csv").write_bytes(bytes(range(256)) * 8)
    write_csv(root / "mu_evaluations" / "m.csv", MU_HEADER, [mu_row(), mu_row(统一社会信用代码=FIRM_B)])
    return root


def _digests(warehouse) -> dict[str, str]:
    return {str(p.relative_to(warehouse)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(warehouse.rglob("*")) if p.is_file()}


def _first_file_after_the_second(monkeypatch) -> list[str]:
    """Make the first energy file finish only after the second one has; returns the files in
    the order their ingestion finished."""
    finished, lock, second_done, run_file = [], threading.Lock(), threading.Event(), FileIngest.run

    def run_in_turn(self):
        if self.entry.relative == ENERGY_FILES[0]:
            second_done.wait(timeout=60)
        outcome = run_file(self)
        with lock:
            finished.append(self.entry.relative)
        if self.entry.relative == ENERGY_FILES[1]:
            second_done.set()
        return outcome

    monkeypatch.setattr(FileIngest, "run", run_in_turn)
    return finished


@pytest.mark.parametrize("workers", [2, 3])
def test_side_by_side_gives_the_same_bytes_as_one_at_a_time(landing, tmp_path, monkeypatch, workers):
    monkeypatch.setattr(pipeline, "INGEST_WORKERS", 1)
    run(landing, tmp_path / "one")
    monkeypatch.setattr(pipeline, "INGEST_WORKERS", workers)
    _first_file_after_the_second(monkeypatch)
    run(landing, tmp_path / "many")
    assert _digests(tmp_path / "many") == _digests(tmp_path / "one")


def test_ledger_keeps_delivery_order_when_a_later_file_finishes_first(landing, tmp_path, monkeypatch):
    finished = _first_file_after_the_second(monkeypatch)
    result = run(landing, tmp_path / "wh")
    assert finished.index(ENERGY_FILES[1]) < finished.index(ENERGY_FILES[0])  # the case under test
    delivered = [*ENERGY_FILES, "energy_reports/f_garbage.csv", "mu_evaluations/m.csv"]
    assert ledger(tmp_path / "wh")["file"].to_list() == delivered
    assert [(r.delivery_seq, r.file) for r in result.new_files] == list(enumerate(delivered, start=1))
    assert [r.file for r in result.duplicates] == [ENERGY_FILES[-1]]


def _no_leftovers(warehouse) -> bool:
    temporary = [p for p in warehouse.rglob("*") if p.name.endswith(".tmp")]
    return not temporary and not (warehouse / pipeline.WORK_DIR).exists()


def _outputs_of(warehouse, sha256: str) -> list[str]:
    return sorted(str(p.relative_to(warehouse)) for p in warehouse.rglob(f"{sha256[:16]}.parquet"))


def _shas(landing, files: list[str]) -> list[str]:
    return [hashlib.sha256((landing / f).read_bytes()).hexdigest() for f in files]


def test_a_file_failing_stops_the_run_with_only_the_files_before_it(landing, tmp_path, monkeypatch):
    """b.csv fails after c.csv and d.csv have been ingested: only a.csv is kept (outputs and
    ledger row), nothing of the later files; a second run then completes the warehouse exactly
    as an uninterrupted run does."""
    run_file, d_done = FileIngest.run, threading.Event()

    def fail_on_b(self):
        if self.entry.relative == ENERGY_FILES[1]:
            d_done.wait(timeout=60)  # c.csv and d.csv are ingested meanwhile
            raise RuntimeError("disk on fire")
        outcome = run_file(self)
        if self.entry.relative == ENERGY_FILES[3]:
            d_done.set()
        return outcome

    monkeypatch.setattr(FileIngest, "run", fail_on_b)
    wh = tmp_path / "wh"
    with pytest.raises(RuntimeError, match="disk on fire"):
        run(landing, wh)
    books = ledger(wh)
    assert books["file"].to_list() == [ENERGY_FILES[0]]
    staged_files = {p.name for p in (wh / "staging").rglob("*.parquet")} - {"_empty.parquet"}
    assert staged_files == {f"{books['sha256'][0][:16]}.parquet"}
    assert _no_leftovers(wh)

    monkeypatch.setattr(FileIngest, "run", run_file)
    run(landing, wh)
    run(landing, tmp_path / "whole")
    assert _digests(wh) == _digests(tmp_path / "whole")


def test_an_interrupted_run_discards_what_it_did_not_record(landing, tmp_path, monkeypatch):
    """Ctrl-C while a file's outputs are put in place: the files ingested ahead of it are
    dropped, not left half-recorded."""
    place, calls = PendingFiles.place, []

    def interrupt_second(self):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        place(self)

    monkeypatch.setattr(PendingFiles, "place", interrupt_second)
    wh = tmp_path / "wh"
    with pytest.raises(KeyboardInterrupt):
        run(landing, wh)
    books = ledger(wh)
    assert books["file"].to_list() == [ENERGY_FILES[0]]
    assert all(_outputs_of(wh, sha) == [] for sha in _shas(landing, ENERGY_FILES[1:4]))
    assert _no_leftovers(wh)



def test_the_same_bytes_in_two_sources_are_ingested_at_once_without_sharing_a_work_dir(tmp_path, monkeypatch):
    """Two sources may hold the same file (not duplicates of each other): ingested side by side,
    each has its own work directory (the GB18030 copy, spilled batches)."""
    landing, wh = tmp_path / "landing", tmp_path / "wh"
    rows = [energy_row(报告期=f"2024-0{m}") for m in (1, 2, 3)]
    for source in ("energy_reports", "mu_evaluations"):
        write_csv(landing / source / "x.csv", ENERGY_HEADER, rows, encoding="gb18030")
    work_dirs, both_started, run_file = [], threading.Barrier(2, timeout=60), FileIngest.run

    def run_watched(self):
        work_dirs.append(self.work_dir)
        both_started.wait()  # the two files are in flight together
        return run_file(self)

    monkeypatch.setattr(FileIngest, "run", run_watched)
    result = run(landing, wh)
    assert len(set(work_dirs)) == 2
    assert [(r.file, r.rows_read, r.staged) for r in result.new_files] == [
        ("energy_reports/x.csv", 3, 3), ("mu_evaluations/x.csv", 1, 0)]
    assert _no_leftovers(wh)


KILLED_WHILE_PLACING_THE_THIRD_FILE = """
import os, sys
from ingestion import ingest_landing
from ingestion.outputs import PendingFiles
place, calls = PendingFiles.place, []
def place_or_die(self):
    calls.append(1)
    if len(calls) == 3:
        os._exit(9)  # the process killed: no exception handler, no finally runs
    place(self)
PendingFiles.place = place_or_die
ingest_landing(sys.argv[1], sys.argv[2], as_of=sys.argv[3], run_id="r1")
"""


def test_a_killed_run_leaves_a_journal_from_which_the_next_run_continues(landing, tmp_path):
    """The process killed while the third file's outputs are put in place (and its journal line
    half written): the ledger journal lists the two files finished, the half line is no record;
    the next run records both once, ingests the rest, and ends with the warehouse of an
    uninterrupted run, the journal folded into the ledger file."""
    wh = tmp_path / "wh"
    killed = subprocess.run([sys.executable, "-c", KILLED_WHILE_PLACING_THE_THIRD_FILE, str(landing), str(wh), AS_OF],
                            cwd=Path(pipeline.__file__).parents[1], capture_output=True, text=True)
    assert killed.returncode == 9, killed.stderr
    assert not (wh / LEDGER_FILE).exists()
    assert [r["file"] for r in read_journal(wh)] == ENERGY_FILES[:2]
    (tmp_path / "journal_of_a_and_b").write_text((wh / LEDGER_JOURNAL).read_text(encoding="utf-8"), encoding="utf-8")
    with (wh / LEDGER_JOURNAL).open("a", encoding="utf-8") as journal:
        journal.write('{"source": "energy_reports", "file": "energy_reports/c.csv", "sha')
    assert read_ledger(wh)["file"].to_list() == ENERGY_FILES[:2]
    # what the next run's fingerprint and `hzcarbon withdraw` see as delivered
    assert [f for _, f, _ in ledger_inputs(wh)] == ENERGY_FILES[:2]

    result = run(landing, wh)
    assert [r.file for r in result.new_files] == [*ENERGY_FILES[2:], "energy_reports/f_garbage.csv",
                                                   "mu_evaluations/m.csv"]
    assert not (wh / LEDGER_JOURNAL).exists()
    run(landing, tmp_path / "whole")
    assert _outputs(wh) == _outputs(tmp_path / "whole")
    assert ledger(wh)["delivery_seq"].to_list() == list(range(1, 8))

    # killed after the ledger file was rewritten, before the journal went: its rows count once
    (wh / LEDGER_JOURNAL).write_text((tmp_path / "journal_of_a_and_b").read_text(encoding="utf-8"), encoding="utf-8")
    assert read_ledger(wh)["file"].to_list() == [*ENERGY_FILES, "energy_reports/f_garbage.csv", "mu_evaluations/m.csv"]


def _outputs(warehouse) -> dict[str, str]:
    """Digests of the warehouse's files but the temporary ones a killed process leaves (named
    by its pid, never read, never renamed into place)."""
    return {name: digest for name, digest in _digests(warehouse).items()
            if not name.endswith(".tmp") and not name.startswith(pipeline.WORK_DIR)}
