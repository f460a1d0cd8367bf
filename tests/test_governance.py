"""Build, then approve; rollback; the changelog in every release; retention floors; the raw
archive; `latest` after kill -9 — on the small hand-made candidate of test_release (no Dagster)."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.test_release import EXTRA, make_candidate
from warehouse import governance as gov
from warehouse import provenance as prov
from warehouse import release as rel

DAY = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def candidates(tmp_path_factory):
    root = tmp_path_factory.mktemp("candidates")
    return make_candidate(root / "a"), make_candidate(root / "b", bump=1000.0)


def _extra(*inputs: tuple[str, str], as_of: str = "2026-10") -> dict:
    return {**EXTRA, "as_of": as_of,
            "inputs": [{"source": "energy_reports", "file": f, "sha256": h, "delivery_seq": i + 1}
                       for i, (f, h) in enumerate(inputs)]}


def test_candidate_is_not_latest_until_approved(tmp_path, candidates):
    a, b = candidates
    wh = tmp_path / "wh"
    rid = rel.publish(a, wh, _extra(("energy_reports/a.csv", "a" * 64)), now=DAY)
    assert not (wh / "latest").exists() and not (wh / "LATEST").exists()
    assert gov.statuses(wh) == {rid: "candidate"}
    with pytest.raises(gov.ApprovalError, match="name"):
        gov.approve(wh, rid, by="  ")
    with pytest.raises(gov.ApprovalError, match="no release 2026-11-20.9"):
        gov.approve(wh, "2026-11-20.9", by="王统计")
    record = gov.approve(wh, rid, by="王统计", note="checked against the district totals")
    assert os.readlink(wh / "latest") == f"releases/{rid}" and (wh / "LATEST").read_text().strip() == rid
    assert record["by"] == "王统计" and record["previous"] is None and record["at"].endswith("Z")
    assert gov.statuses(wh) == {rid: "published"}
    # the record lives beside the release, never in the immutable manifest
    log = [json.loads(line) for line in (wh / "approvals.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(r["action"], r["release_id"], r["by"], r["note"]) for r in log] == [
        ("approve", rid, "王统计", "checked against the district totals")]
    assert rel.verify_release(wh / "releases" / rid) == []
    assert "王统计" not in (wh / "releases" / rid / "manifest.json").read_text(encoding="utf-8")

    # a second build stays a candidate; `latest` keeps the approved one
    rid2 = rel.publish(b, wh, _extra(("energy_reports/a.csv", "a" * 64), ("energy_reports/b.csv", "b" * 64)), now=DAY)
    assert gov.statuses(wh) == {rid: "published", rid2: "candidate"}
    assert (wh / "LATEST").read_text().strip() == rid
    with pytest.raises(gov.ApprovalError, match="never approved"):
        gov.rollback(wh, rid2, by="李处长", reason="test")
    gov.approve(wh, rid2, by="李处长")
    assert gov.statuses(wh) == {rid: "approved", rid2: "published"}
    back = gov.rollback(wh, rid, by="李处长", reason="2022 energy figures of 330106 wrong")
    assert back["previous"] == rid2 and (wh / "LATEST").read_text().strip() == rid
    assert gov.statuses(wh) == {rid: "published", rid2: "rolled_back"}
    assert [r["action"] for r in gov.history(wh, rid2)] == ["approve", "rollback"]
    with pytest.raises(gov.ApprovalError, match="already latest"):
        gov.rollback(wh, rid, by="李处长", reason="again")
    # approving the rolled-back release again takes a name and no reason
    again = gov.approve(wh, rid2, by="王统计")
    assert (again["note"], again["previous"]) == (None, rid) and (wh / "LATEST").read_text().strip() == rid2
    assert gov.statuses(wh) == {rid: "approved", rid2: "published"}


def test_changelog_against_previous_approved_release(tmp_path, candidates):
    a, b = candidates
    wh = tmp_path / "wh"
    rid1 = rel.publish(a, wh, _extra(("energy_reports/a.csv", "a" * 64)), now=DAY, approve_by="demo")
    first = json.loads((wh / "releases" / rid1 / "changes.json").read_text(encoding="utf-8"))
    assert first["old"] is None and first["new"] == rid1
    assert first["tables"]["city_year"]["status"] == "added"
    assert "首次发布" in (wh / "releases" / rid1 / "changes.md").read_text(encoding="utf-8")

    rid2 = rel.publish(b, wh, _extra(("energy_reports/a.csv", "a" * 64), ("energy_reports/b.csv", "b" * 64),
                                     as_of="2026-11"), now=DAY)
    release = wh / "releases" / rid2
    changes = json.loads((release / "changes.json").read_text(encoding="utf-8"))
    assert changes["old"] == rid1 and changes["new"] == rid2
    assert [i["file"] for i in changes["why"]["new_inputs"]] == ["energy_reports/b.csv"]
    assert changes["why"]["as_of"] == {"old": "2026-10", "new": "2026-11"}
    city = changes["tables"]["city_year"]
    # make_candidate(bump=1000) adds 1000 to each of the 2 years' DOUBLE measures
    assert city["status"] == "changed" and city["changed"] == 2
    assert city["changed_columns"]["energy_tce"]["examples"][0]["new"] - \
        city["changed_columns"]["energy_tce"]["examples"][0]["old"] == pytest.approx(1000.0)
    md = (release / "changes.md").read_text(encoding="utf-8")
    assert f"{rid1} → {rid2}" in md and "新报送文件 new input file: energy_reports/b.csv" in md
    assert "数据截至月份 as-of month: 2026-10 → 2026-11" in md
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["previous_release"] == rid1
    assert {f["path"] for f in manifest["files"]} >= {"changes.json", "changes.md"}
    assert rel.verify_release(release) == []


def _archive(wh: Path, landing: Path, name: str, text: str, at: datetime) -> str:
    path = landing / "energy_reports" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    prov.archive_landing(landing, wh, now=at)
    path.unlink()
    return prov.sha256_file(prov.archive_path(wh, prov.read_catalog(wh)[-1]["sha256"]))


def test_pruning_with_keep_one_keeps_retention_floors(tmp_path, candidates):
    a, _ = candidates
    wh, landing = tmp_path / "wh", tmp_path / "landing"
    at = lambda y, m, d: datetime(y, m, d, 9, 0, tzinfo=timezone.utc)  # noqa: E731
    wh.mkdir()
    sha_old = _archive(wh, landing, "2009.csv", "old only", at(2010, 1, 4))   # inputs of the 2010 release only
    sha_mid = _archive(wh, landing, "2019.csv", "mid", at(2020, 3, 1))        # listed by the 2020 release
    sha_stale = _archive(wh, landing, "stale.csv", "stale", at(2019, 5, 1))  # in no release, older than 2 years
    sha_young = _archive(wh, landing, "young.csv", "young", at(2026, 6, 1))  # in no release, younger than 2 years
    old = rel.publish(a, wh, _extra(("energy_reports/2009.csv", sha_old)), now=at(2010, 1, 5), approve_by="u")
    mid = rel.publish(a, wh, _extra(("energy_reports/2019.csv", sha_mid)), now=at(2020, 3, 2), approve_by="u")
    cand = rel.publish(a, wh, _extra(("energy_reports/2019.csv", sha_mid)), now=at(2020, 4, 1))  # never approved
    new = rel.publish(a, wh, _extra(("energy_reports/2019.csv", sha_mid)), now=DAY, approve_by="u")
    assert rel.list_releases(wh) == [old, mid, cand, new]
    # keep_releases = 1 with the legal floors of thresholds.csv (10 years, 2 years)
    removed = rel.prune_releases(wh, keep_releases=1, now=DAY)
    assert removed == [old, cand]  # 2010 is older than 10 years; the candidate was never approved
    assert rel.list_releases(wh) == [mid, new] and (wh / "LATEST").read_text().strip() == new
    assert prov.archive_path(wh, sha_mid).exists()       # raw inputs of a retained release
    assert prov.archive_path(wh, sha_young).exists()     # younger than the raw floor
    assert not prov.archive_path(wh, sha_old).exists()   # only the pruned 2010 release listed it
    assert not prov.archive_path(wh, sha_stale).exists()
    # the catalogue keeps the history of what was archived and pruned
    pruned = {r["sha256"] for r in prov.read_catalog(wh) if "pruned_at" in r}
    assert pruned == {sha_old, sha_stale}


def test_archive_is_content_addressed_and_copied_once(tmp_path):
    landing, wh = tmp_path / "landing", tmp_path / "wh"
    (landing / "energy_reports").mkdir(parents=True)
    (landing / "mu_evaluations").mkdir(parents=True)
    (landing / "energy_reports" / "a.csv").write_bytes(b"x,y\n1,2\n")
    (landing / "mu_evaluations" / "same.csv").write_bytes(b"x,y\n1,2\n")  # same bytes, other source
    wh.mkdir()
    first = prov.archive_landing(landing, wh)
    import hashlib
    sha = hashlib.sha256(b"x,y\n1,2\n").hexdigest()
    assert [(r["file"], r["sha256"]) for r in first] == [("energy_reports/a.csv", sha), ("mu_evaluations/same.csv", sha)]
    assert prov.archive_path(wh, sha).read_bytes() == b"x,y\n1,2\n"
    assert len(list((wh / "archive" / "objects").rglob("*"))) == 2  # one prefix dir + one object
    assert prov.archive_landing(landing, wh) == []  # nothing new the second time


CRASHER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from warehouse import release as rel
    from tests.test_release import EXTRA
    while True:
        t0 = time.monotonic()
        rel.publish(Path(sys.argv[1]), Path(sys.argv[2]), EXTRA, approve_by="crash-test",
                    keep_releases=2, retention_years_aggregates=0)
        print("DONE", time.monotonic() - t0, flush=True)
""")


def test_latest_is_an_approved_complete_release_after_kill_9(tmp_path, candidates):
    """kill -9 at moments spread over build + approve + prune: `latest` is absent or a complete,
    approved release (never partial); converge_latest and a rerun finish what was cut short."""
    a, _ = candidates
    wh = tmp_path / "wh"
    repo = Path(__file__).resolve().parents[1]
    for fraction in (0.05, 0.25, 0.45, 0.65, 0.8, 0.9, 0.97):
        before = rel.latest_release(wh)
        proc = subprocess.Popen([sys.executable, "-c", CRASHER, str(a), str(wh)], cwd=repo,
                                stdout=subprocess.PIPE, text=True)
        line = proc.stdout.readline().split()  # one whole publish, then killed inside the next
        assert line[0] == "DONE", line
        time.sleep(float(line[1]) * fraction)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        latest = rel.latest_release(wh)
        assert latest is not None and latest in gov.approved_ids(wh), (fraction, latest)
        assert rel.verify_release(wh / "latest") == [], (fraction, latest)
        assert latest == before or rel.parse_release_id(latest) > rel.parse_release_id(before or "2000-01-01.1")
        if (wh / "LATEST").exists():  # written just after the link: it may lag by one switch
            assert (wh / "LATEST").read_text().strip() in gov.approved_ids(wh)
        # what the approvals log says `latest` must be, it becomes (a record written, the link not yet)
        target = gov.converge_latest(wh)
        assert rel.latest_release(wh) == target and (wh / "LATEST").read_text().strip() == target
    rid = rel.publish(a, wh, EXTRA, approve_by="rerun", keep_releases=2, retention_years_aggregates=0)
    assert rel.latest_release(wh) == rid and (wh / "LATEST").read_text().strip() == rid
    assert not [p for p in (wh / "releases").iterdir() if p.name.startswith(".")]
    assert not list(wh.glob("*.tmp-*"))
    for r in rel.list_releases(wh):
        assert rel.verify_release(wh / "releases" / r) == [], r
