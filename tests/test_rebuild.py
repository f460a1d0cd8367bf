"""Three releases with new deliveries and withdrawals in between; a withdrawn file's rows leave the
next release (still accounted for), and `hzcarbon rebuild` reproduces a release from the archive."""

import hashlib
import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import run_cli
from tests.tiny_landing import ENERGY_HEADER, FIRM_A, FIRM_B, energy_rows, write_csv, write_tiny_landing

AS_OF = "2026-11"
TCE = {"33": 1.229, "15": 12.143, "01": 0.7143}  # seeds energy_types (as in test_end_to_end)
A_MONTH = 100 * TCE["33"] + 2 * TCE["15"]
B_MONTH = 500 * TCE["01"] + 200 * TCE["33"]


def _run(landing: Path, wh: Path):
    result = run_cli("run", "--landing", str(landing), "--warehouse", str(wh), "--as-of", AS_OF)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    return (wh / "LATEST").read_text().strip()


def _month_file(landing: Path, month: int) -> Path:
    return write_csv(landing / "energy_reports" / f"energy_2022_{month:02d}.csv", ENERGY_HEADER,
                     energy_rows(years=(2022,), months=[month]))


@pytest.fixture(scope="module")
def three_releases(tmp_path_factory):
    root = tmp_path_factory.mktemp("rebuild")
    landing, wh = write_tiny_landing(root / "landing"), root / "wh"
    r1 = _run(landing, wh)
    _month_file(landing, 1)
    feb = _month_file(landing, 2)
    r2 = _run(landing, wh)
    feb_sha = hashlib.sha256(feb.read_bytes()).hexdigest()
    w1 = run_cli("withdraw", "--file", feb_sha, "--reason", "二月报表整体有误 February file wrong", "--by", "王五",
                 "--warehouse", str(wh))
    assert w1.returncode == 0, w1.stderr
    assert "W1" in w1.stdout and "energy_reports/energy_2022_02.csv" in w1.stdout
    w2 = run_cli("withdraw", "--uscc", FIRM_A, "--period", "2022-01", "--reason", "企业申请更正", "--by", "王五",
                 "--warehouse", str(wh))
    assert w2.returncode == 0, w2.stderr
    _month_file(landing, 3)
    r3 = _run(landing, wh)
    assert len({r1, r2, r3}) == 3
    return root, landing, wh, (r1, r2, r3), feb_sha


def test_withdrawn_rows_leave_the_next_release_and_are_accounted_for(three_releases):
    _, _, wh, (r1, r2, r3), feb_sha = three_releases
    ey = {rid: pl.read_parquet(wh / "releases" / rid / "restricted" / "enterprise_year.parquet").filter(
        pl.col("year") == 2022) for rid in (r2, r3)}
    energy = {rid: dict(zip(df["uscc"], df["energy_tce"])) for rid, df in ey.items()}
    assert energy[r2][FIRM_A] == pytest.approx(2 * A_MONTH) and energy[r2][FIRM_B] == pytest.approx(2 * B_MONTH)
    # r3: February withdrawn for everyone, January for firm A; March delivered
    assert energy[r3][FIRM_A] == pytest.approx(1 * A_MONTH)
    assert energy[r3][FIRM_B] == pytest.approx(2 * B_MONTH)

    dq = pl.read_parquet(wh / "releases" / r3 / "restricted" / "data_quality.parquet")
    rows = {r["file"]: r for r in dq.iter_rows(named=True)}
    feb, jan = rows["energy_reports/energy_2022_02.csv"], rows["energy_reports/energy_2022_01.csv"]
    assert (feb["rows_read"], feb["accepted"], feb["withdrawn"]) == (6, 0, 6)  # 3 firms × 2 energy types
    assert (jan["rows_read"], jan["accepted"], jan["withdrawn"]) == (6, 4, 2)  # firm A's two rows
    for r in rows.values():
        assert r["rows_read"] == r["accepted"] + r["quarantined"] + r["superseded"] + r["withdrawn"] + r["total_rows"]
    ledger = pl.read_parquet(wh / "ingest_ledger.parquet")
    assert feb_sha in ledger["sha256"].to_list()  # the ledger still shows the file

    manifest = json.loads((wh / "releases" / r3 / "manifest.json").read_text(encoding="utf-8"))
    marked = {i["file"]: i.get("withdrawn") for i in manifest["inputs"]}
    assert marked["energy_reports/energy_2022_02.csv"] == "W1" and marked["energy_reports/energy_2022_03.csv"] is None
    changes = json.loads((wh / "releases" / r3 / "changes.json").read_text(encoding="utf-8"))
    assert changes["old"] == r2
    assert [(w["id"], w["by"]) for w in changes["why"]["withdrawals_new"]] == [("W1", "王五"), ("W2", "王五")]
    md = (wh / "releases" / r3 / "changes.md").read_text(encoding="utf-8")
    assert f"撤回 withdrawn: file sha256 {feb_sha[:12]}" in md and f"撤回 withdrawn: {FIRM_A} 2022-01" in md
    # recording the same withdrawal twice, or a file never delivered, is refused
    again = run_cli("withdraw", "--file", feb_sha, "--reason", "x", "--by", "y", "--warehouse", str(wh))
    assert again.returncode == 2 and "already withdrawn" in again.stderr
    unknown = run_cli("withdraw", "--file", "0" * 64, "--reason", "x", "--by", "y", "--warehouse", str(wh))
    assert unknown.returncode == 2 and "no delivered file" in unknown.stderr


def _parquet_hashes(release: Path) -> dict[str, str]:
    return {p.relative_to(release).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(release.rglob("*.parquet"))}


@pytest.mark.parametrize("which", [0, 2])
def test_rebuild_from_the_archive_reproduces_the_release(three_releases, tmp_path, which):
    root, landing, wh, releases, _ = three_releases
    rid = releases[which]
    moved = root / "landing-gone"  # the archive alone: the landing directory is not there
    landing.rename(moved)
    try:
        result = run_cli("rebuild", rid, "--out", str(tmp_path / "out"), "--warehouse", str(wh))
    finally:
        moved.rename(landing)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert f"rebuild of {rid} verified" in result.stdout
    [rebuilt] = (tmp_path / "out" / "warehouse" / "releases").iterdir()
    original = wh / "releases" / rid
    hashes = _parquet_hashes(original)
    # open + restricted (13 annual + 7 monthly.md + 6 green.md tables), and 12 tables per district
    # (6 annual + district_month, intensity_monthly, reporting_summary, reporting_reminders
    # + product_efficiency, over_limit_list)
    assert len(hashes) == (13 + 7 + 6) + 13 * (6 + 4 + 2)
    assert _parquet_hashes(rebuilt) == hashes


def test_rebuild_refuses_other_code_or_a_used_out_dir(three_releases, tmp_path):
    _, _, wh, (r1, _, _), _ = three_releases
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("x")
    used = run_cli("rebuild", r1, "--out", str(busy), "--warehouse", str(wh))
    assert used.returncode == 1 and "is not empty" in used.stderr
    # A copy of the warehouse whose release says it was built by another commit.
    other = tmp_path / "other"
    shutil.copytree(wh / "releases" / r1, other / "releases" / r1)
    shutil.copytree(wh / "archive", other / "archive")
    mpath = other / "releases" / r1 / "manifest.json"
    manifest = json.loads(mpath.read_text(encoding="utf-8"))
    manifest["code_version"]["commit"] = "0" * 40
    mpath.write_text(json.dumps(manifest), encoding="utf-8")
    refused = run_cli("rebuild", r1, "--out", str(tmp_path / "out"), "--warehouse", str(other))
    assert refused.returncode == 1
    assert "rebuild refused" in refused.stderr and "commit: release built with " + "0" * 40 in refused.stderr
    assert not (tmp_path / "out").exists()
