"""Quiet, helpful commands: `generate` prints one line and writes its file list beside the
sources; `dictionary` and `diff` never wrap when written to a pipe; `diff --lang zh`."""

import json
import subprocess
from datetime import datetime, timezone

from data_contracts.dictionary import render_dictionary
from ingestion.pipeline import landing_files
from tests.conftest import BIN, run_cli
from tests.test_release import EXTRA, make_candidate
from warehouse import release as rel
from warehouse.diff import diff_releases, render_diff


def test_generate_prints_one_line_and_writes_its_file_list(tmp_path):
    landing = tmp_path / "landing"
    result = run_cli("generate", "--out", str(landing), "--enterprises", "12", "--years", "2020-2021", "--messy")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1, result.stdout
    assert "generate_manifest.json" in result.stdout
    manifest = json.loads((landing / "generate_manifest.json").read_text(encoding="utf-8"))
    listed = sorted(f for files in manifest["files"].values() for f in files)
    on_disk = sorted(f.relative for f in landing_files(landing))
    assert listed == on_disk  # every delivered file listed, and the list itself is no delivery
    # each district delivers into its own folder; the city-level correction file does not
    assert any(f.startswith("energy_reports/330102/") for f in listed)
    assert any(f.startswith("energy_reports/") and f.count("/") == 1 and "更正补报" in f for f in listed)


def test_dictionary_is_not_wrapped_in_a_pipe():
    out = subprocess.run([str(BIN / "hzcarbon"), "dictionary"], capture_output=True, text=True, timeout=120,
                         env={"PATH": "/usr/bin:/bin", "COLUMNS": "40"})
    assert out.returncode == 0, out.stderr
    assert out.stdout == render_dictionary().rstrip("\n") + "\n"
    rows = [line for line in out.stdout.splitlines() if line.startswith("|")]
    assert rows and all(line.endswith("|") for line in rows)
    assert max(len(line) for line in rows) > 200  # long table rows stayed whole


def test_diff_is_not_wrapped_and_speaks_chinese(tmp_path):
    a = rel.publish(make_candidate(tmp_path / "c1"), tmp_path / "wh", EXTRA,
                    now=datetime(2026, 11, 20, 8, tzinfo=timezone.utc))
    b = rel.publish(make_candidate(tmp_path / "c2", bump=1.5), tmp_path / "wh", EXTRA,
                    now=datetime(2026, 11, 21, 8, tzinfo=timezone.utc))
    old, new = tmp_path / "wh" / "releases" / a, tmp_path / "wh" / "releases" / b
    out = run_cli("diff", str(old), str(new), env={"COLUMNS": "40"})
    assert out.returncode == 0, out.stderr
    assert out.stdout == render_diff(diff_releases(old, new))
    zh = run_cli("diff", str(old), str(new), "--lang", "zh")
    assert zh.returncode == 0, zh.stderr
    assert zh.stdout.startswith(f"# 版本 {a} → {b}")
    assert "| 全市工业能耗与碳排放（年度）（city_year） | 公开 | 有变化 |" in zh.stdout
    assert "综合能源消费量（energy_tce）" in zh.stdout
    assert run_cli("diff", str(old), str(new), "--lang", "fr").returncode == 2
