"""The changelog inside every release: ``changes.json`` (warehouse.diff against the previous
approved release, the one `latest` pointed at when the release was built) and ``changes.md``, the
same in Chinese and English for the people who approve and read it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from warehouse.diff import attribution_lines, diff_releases, format_value, why_lines, words
from warehouse.month_freeze import periods_moved

CHANGES_JSON = "changes.json"
CHANGES_MD = "changes.md"


def write_changelog(release_dir: Path, previous_dir: Path | None, manifest: dict,
                    table_sha256: dict[str, str] | None = None) -> dict[str, Any]:
    """Write changes.json and changes.md into ``release_dir`` (a release being built, whose
    manifest is ``manifest`` without its file list; ``table_sha256`` {path: sha256} of its table
    files, so a table with the previous release's bytes is not compared row by row) and return
    the diff."""
    release_dir = Path(release_dir)
    old = Path(previous_dir) if previous_dir is not None else release_dir / ".no-previous-release"
    d = diff_releases(old, release_dir, new_manifest=manifest, new_sha256=table_sha256)
    d["old"] = previous_dir.name if previous_dir is not None else None
    years = manifest.get("annual_revision") or []
    if years:  # docs/monthly.md, "Revision policy": which periods the annual revision moved
        moved = periods_moved(previous_dir, release_dir, years) if previous_dir is not None else []
        d["annual_revision"] = {"years": years, "periods_moved": moved}
    d["new"] = manifest.get("release_id", release_dir.name)
    (release_dir / CHANGES_JSON).write_text(
        json.dumps(d, ensure_ascii=False, indent=1, sort_keys=True, default=str) + "\n", encoding="utf-8")
    (release_dir / CHANGES_MD).write_text(render_changes(d), encoding="utf-8")
    return d


def _annual_revision_lines(revision: dict | None) -> list[str]:
    """The annual revision of the monthly tables: which years, and which published periods moved."""
    if not revision:
        return []
    years = "、".join(str(y) for y in revision["years"])
    lines = ["", "## 年度修订 Annual revision", "",
             f"- {years} 年各期按全部已收报表重算 every period of {years} recomputed from everything received"]
    for p in revision.get("periods_moved") or []:
        key = p["key"]
        scope = key.get("district_code") or key.get("key_group") or "杭州市"
        span = f"1–{key['month']}月" if key["period_type"] == "ytd" else f"{key['month']}月"
        lines.append(f"- {p['table']} {scope} {key['year']}年{span}: {', '.join(p['columns'])}")
    if not revision.get("periods_moved"):
        lines.append("- 无已发布数据变化 no published period moved")
    return lines


def render_changes(d: dict[str, Any]) -> str:
    if d.get("old"):
        title = f"# 变更说明 Changes: {d['old']} → {d['new']}"
        intro = f"与上一个已批准发布 {d['old']} 比较 (compared with the previous approved release {d['old']})."
    else:
        title = f"# 变更说明 Changes: {d['new']}"
        intro = "首次发布, 无可比较的已批准发布 (first release: no approved release to compare with)."
    lines = [title, "", intro, "", "## 原因 Why", ""] + why_lines(d.get("why") or {}, "zh+en")
    lines += _annual_revision_lines(d.get("annual_revision"))
    if d.get("attribution"):
        # sentences, not labels: the block in Chinese, then in English
        lines += (["", f"## {words('attribution', 'zh+en')}", ""] + attribution_lines(d["attribution"], "zh")
                  + [""] + attribution_lines(d["attribution"], "en"))
    lines += ["", "## 表 Tables", "",
              "| 表 table | 层 layer | 状态 status | 原行数 rows old | 新行数 rows new | 新增 added | 删除 removed | 变化 changed |",
              "|---|---|---|---|---|---|---|---|"]
    for t, r in d.get("tables", {}).items():
        lines.append(f"| {t} | {r['layer']} | {r['status']} | {r['rows_old']} | {r['rows_new']} | "
                     f"{r.get('added', '')} | {r.get('removed', '')} | {r.get('changed', '')} |")
    for t, r in d.get("tables", {}).items():
        if r.get("status") != "changed" or not r.get("changed_columns"):
            continue
        lines += ["", f"### {t}", ""]
        for c, info in r["changed_columns"].items():
            ex = "; ".join("(" + ", ".join(format_value(v) for v in e["key"].values()) + f") {format_value(e['old'])} → {format_value(e['new'])}"
                           for e in info["examples"])
            lines.append(f"- `{c}`: {info['count']} 行变化 row(s) changed, 例 e.g. {ex}")
    return "\n".join(lines).rstrip() + "\n"
