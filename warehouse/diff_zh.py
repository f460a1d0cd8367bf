"""The release diff (warehouse.diff.diff_releases) as Markdown in Chinese: tables and columns by
their contract labels, for people who read the labels rather than the English names
(`hzcarbon diff --lang zh`)."""

from typing import Any

from data_contracts import table_contract
from warehouse.diff import withdrawn_subject

STATUS = {"same": "无变化", "changed": "有变化", "added": "新增", "removed": "删除"}
LAYER = {"open": "公开", "restricted": "受限"}


def _fmt(v: Any) -> str:
    if v is None:
        return "空"
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, bool):
        return "是" if v else "否"
    return str(v)


def _table_label(table: str) -> str:
    try:
        return f"{table_contract(table).label_zh}（{table}）"
    except (KeyError, FileNotFoundError):
        return table


def _column_label(table: str, column: str) -> str:
    try:
        return f"{table_contract(table).column(column).label_zh}（{column}）"
    except (KeyError, FileNotFoundError):
        return column


def render_diff_zh(d: dict[str, Any]) -> str:
    lines = [f"# 版本 {d['old']} → {d['new']}", "", "## 变化原因", ""]
    why = d.get("why", {})
    a = why.get("as_of") or {}
    if a.get("old") != a.get("new"):
        lines.append(f"- 数据截至月份：{a.get('old')} → {a.get('new')}")
    for i in why.get("new_inputs") or []:
        seq = f"（交付顺序 {i['delivery_seq']}）" if i.get("delivery_seq") is not None else ""
        lines.append(f"- 新输入文件：{i.get('file')}{seq}，sha256 {str(i.get('sha256'))[:12]}")
    for i in why.get("removed_inputs") or []:
        lines.append(f"- 不再列出的输入文件：{i.get('file')}，sha256 {str(i.get('sha256'))[:12]}")
    for r in why.get("reference_changes") or []:
        lines.append(f"- 参考文件有变化：{r['file']}（{str(r['old_sha256'])[:12]} → {str(r['new_sha256'])[:12]}）")
    for f, s in (why.get("reference_set_changes") or {}).items():
        lines.append(f"- {f} 的参考集编号：{s['old']} → {s['new']}")
    for k, s in (why.get("settings_changes") or {}).items():
        lines.append(f"- 设置 {k}：{_fmt(s['old'])} → {_fmt(s['new'])}")
    for w in why.get("withdrawals_new") or []:
        lines.append(f"- 撤回：{withdrawn_subject(w)} — {w.get('reason')}（{w.get('by')}，{w.get('at')}）")
    if lines[-1] == "":
        lines.append("- 清单中没有记录新的输入文件、撤回、参考数据或设置变化")
    lines += ["", "## 数据表", "", "| 数据表 | 层级 | 状态 | 原行数 | 新行数 | 新增行 | 删除行 | 变更行 |",
              "|---|---|---|---|---|---|---|---|"]
    for t, r in d["tables"].items():
        lines.append(f"| {_table_label(t)} | {LAYER.get(r['layer'], r['layer'])} | {STATUS.get(r['status'], r['status'])} | "
                     f"{r['rows_old']} | {r['rows_new']} | {r.get('added', '')} | {r.get('removed', '')} | "
                     f"{r.get('changed', '')} |")
    lines.append("")
    for t, r in d["tables"].items():
        if r["status"] != "changed":
            continue
        lines += [f"### {_table_label(t)}", ""]
        if r.get("compared") == "rows":
            lines.append("- 主键不唯一：按整行比较")
        if r.get("columns_added"):
            lines.append("- 新增列：" + "、".join(_column_label(t, c) for c in r["columns_added"]))
        if r.get("columns_removed"):
            lines.append("- 删除列：" + "、".join(_column_label(t, c) for c in r["columns_removed"]))
        for c, info in (r.get("changed_columns") or {}).items():
            ex = "；".join("（" + "，".join(_fmt(v) for v in e["key"].values()) + f"）{_fmt(e['old'])} → {_fmt(e['new'])}"
                          for e in info["examples"])
            lines.append(f"- {_column_label(t, c)}：{info['count']} 行有变化，例如 {ex}")
        for label, key in (("新增行", "examples_added"), ("删除行", "examples_removed")):
            if r.get(key):
                lines.append(f"- {label}，例如 " + "；".join(
                    "（" + "，".join(_fmt(v) for v in e.values()) + "）" for e in r[key]))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
