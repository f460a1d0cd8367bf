"""What changed between two releases, and why.

``diff_releases(old, new)`` compares every published table (``open/``, ``restricted/``) by its
contract primary key with a DuckDB full outer join over the two Parquet files (keys compared
with IS NOT DISTINCT FROM, so null key parts such as quarantine.row_number match), and reads
the two manifests for the reasons: input files new since the old release, reference files
whose sha256 changed (with the set ids of both), settings that differ, and the as-of month.
When a key is not unique in either file, the table is compared as a multiset of whole rows.
A table whose key includes the year is compared only in the years whose row count or sum of
row hashes differ (docs/outputs.md, "What a new release reuses").

A table whose file has the same sha256 in both releases (from the manifests; a release being
built passes the hashes of its files) is reported ``same`` without reading it: identical bytes
hold identical rows. Whether it was compared by key is then what the old release's changelog
said of the same bytes, or one query on the file when that changelog does not tell.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from data_contracts import published_tables, table_contract
from warehouse.duckdb_limits import duckdb_config
from warehouse.reuse import manifest_sha256

MAX_EXAMPLES = 3
PARTITION_COLUMN = "year"  # a key column that splits the largest tables; a new month changes few of its values


def _ident(s: str) -> str:
    return '"' + s.replace('"', '""') + '"'


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _manifest(release_dir: Path) -> dict:
    p = Path(release_dir) / "manifest.json"
    return json.loads(p.read_text(encoding="utf-8")) if p.exists() else {}


def _jsonable(v: Any) -> Any:
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else str(v)
    return str(v)


def _table_file(release_dir: Path, table: str) -> Path | None:
    layer = table_contract(table).layer
    p = Path(release_dir) / layer / f"{table}.parquet"
    return p if p.exists() else None


def _key_unique(con, rel: str, keys: list[str]) -> bool:
    k = ", ".join(_ident(c) for c in keys)
    return con.execute(f"SELECT count(*) FROM (SELECT {k} FROM {rel} GROUP BY ALL HAVING count(*) > 1)").fetchall()[0][0] == 0


def _changed_partitions(con, o: str, n: str, column: str, cols: list[str]) -> list | None:
    """The values of ``column`` (a key column) whose rows differ between relations ``o`` and ``n``
    (same columns): per value, the row count and the sum of 64-bit row hashes of each side. None
    when a differing value is not an integer, such as null: then the whole tables are compared.
    Rows outside these values are the same in both (up to a hash collision, ~2^-64 per value),
    so they add, remove and change nothing."""
    row_hash = f"hash({', '.join(_ident(c) for c in cols)})::HUGEINT"
    c = _ident(column)

    def per_value(rel: str) -> str:
        return f"SELECT {c} AS v, count(*) AS n, sum({row_hash}) AS h FROM {rel} GROUP BY ALL"

    values = [r[0] for r in con.execute(
        f"SELECT coalesce(a.v, b.v) FROM ({per_value(o)}) a FULL OUTER JOIN ({per_value(n)}) b "
        "ON a.v IS NOT DISTINCT FROM b.v WHERE a.n IS DISTINCT FROM b.n OR a.h IS DISTINCT FROM b.h "
        "ORDER BY 1").fetchall()]
    return values if all(isinstance(v, int) for v in values) else None


def _only(rel: str, column: str, values: list) -> str:
    """Relation ``rel`` restricted to the rows whose ``column`` is one of ``values`` (integers)."""
    return f"(SELECT * FROM {rel} WHERE {_ident(column)} IN ({', '.join(str(int(v)) for v in values) or 'NULL'}))"


def _diff_table(con, table: str, old: Path, new: Path, max_examples: int,
                compared_before: str | None = None) -> dict[str, Any]:
    """Compare one table's two files. A table keyed by year is compared only in the years whose
    rows differ (``_changed_partitions``): a new month leaves the earlier years of its largest
    tables as they were. ``compared_before`` as in _same_table: "key" when the old file's key is
    known to be unique."""
    contract = table_contract(table)
    o, n = f"read_parquet({_lit(str(old))})", f"read_parquet({_lit(str(new))})"
    old_cols, new_cols = pq.read_schema(old).names, pq.read_schema(new).names
    common = [c for c in new_cols if c in old_cols]
    keys = [k for k in contract.primary_key if k in common]
    old_unique = None  # not known yet
    if PARTITION_COLUMN in keys and old_cols == new_cols:
        values = _changed_partitions(con, o, n, PARTITION_COLUMN, common)
        if values is not None:
            # Whole-file key uniqueness from the parts compared: the year is in the key, and the
            # other years hold the same rows in both files.
            old_unique = compared_before == "key" or _key_unique(con, o, keys)
            o, n = _only(o, PARTITION_COLUMN, values), _only(n, PARTITION_COLUMN, values)
    out: dict[str, Any] = {
        "layer": contract.layer,
        "key": keys,
        "rows_old": pq.ParquetFile(old).metadata.num_rows,
        "rows_new": pq.ParquetFile(new).metadata.num_rows,
        "columns_added": [c for c in new_cols if c not in old_cols],
        "columns_removed": [c for c in old_cols if c not in new_cols],
    }
    cols_sql = ", ".join(_ident(c) for c in common)
    if not keys or not (_key_unique(con, o, keys) if old_unique is None else old_unique) \
            or not _key_unique(con, n, keys):
        # Not keyed (or key not unique): compare whole rows as multisets.
        added = con.execute(f"SELECT count(*) FROM (SELECT {cols_sql} FROM {n} EXCEPT ALL SELECT {cols_sql} FROM {o})").fetchall()[0][0]
        removed = con.execute(f"SELECT count(*) FROM (SELECT {cols_sql} FROM {o} EXCEPT ALL SELECT {cols_sql} FROM {n})").fetchall()[0][0]
        out.update(compared="rows", added=added, removed=removed, changed=0, changed_columns={})
    else:
        on = " AND ".join(f"o.{_ident(k)} IS NOT DISTINCT FROM n.{_ident(k)}" for k in keys)
        value_cols = [c for c in common if c not in keys]
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _j AS SELECT "
            + ", ".join([f"o.{_ident(k)} AS {_ident('k_' + k)}" for k in keys]
                        + [f"n.{_ident(k)} AS {_ident('nk_' + k)}" for k in keys]
                        + [f"o.{_ident(c)} AS {_ident('o_' + c)}, n.{_ident(c)} AS {_ident('n_' + c)}" for c in value_cols]
                        + ["(o._present IS NOT NULL) AS _in_old", "(n._present IS NOT NULL) AS _in_new"])
            + f" FROM (SELECT *, true AS _present FROM {o}) o FULL OUTER JOIN (SELECT *, true AS _present FROM {n}) n ON {on}")
        preds = {c: f"_in_old AND _in_new AND {_ident('o_' + c)} IS DISTINCT FROM {_ident('n_' + c)}"
                 for c in value_cols}
        # every count in one pass over the join: added, removed, per column, any column
        counts = con.execute("SELECT " + ", ".join(
            ["count(*) FILTER (WHERE NOT _in_old)", "count(*) FILTER (WHERE NOT _in_new)"]
            + [f"count(*) FILTER (WHERE {pred})" for pred in preds.values()]
            + ([f"count(*) FILTER (WHERE {' OR '.join(f'({p})' for p in preds.values())})"] if preds else []))
            + " FROM _j").fetchall()[0]
        added, removed = counts[0], counts[1]
        changed_columns: dict[str, Any] = {}
        key_sel = ", ".join(_ident("k_" + k) for k in keys)
        for c, cnt in zip(value_cols, counts[2:]):
            pred = preds[c]
            if cnt:
                rows = con.execute(
                    f"SELECT {key_sel}, {_ident('o_' + c)}, {_ident('n_' + c)} FROM _j WHERE {pred} "
                    f"ORDER BY {key_sel} NULLS FIRST LIMIT {int(max_examples)}").fetchall()
                changed_columns[c] = {
                    "count": cnt,
                    "examples": [{"key": {k: _jsonable(v) for k, v in zip(keys, r[:len(keys)])},
                                  "old": _jsonable(r[-2]), "new": _jsonable(r[-1])} for r in rows],
                }
        changed = counts[-1] if preds else 0
        examples_added = [dict(zip(keys, map(_jsonable, r))) for r in con.execute(
            f"SELECT {', '.join(_ident('nk_' + k) for k in keys)} FROM _j WHERE NOT _in_old "
            f"ORDER BY ALL NULLS FIRST LIMIT {int(max_examples)}").fetchall()]
        examples_removed = [dict(zip(keys, map(_jsonable, r))) for r in con.execute(
            f"SELECT {key_sel} FROM _j WHERE NOT _in_new ORDER BY ALL NULLS FIRST LIMIT {int(max_examples)}").fetchall()]
        out.update(compared="key", added=added, removed=removed, changed=changed, changed_columns=changed_columns,
                   examples_added=examples_added, examples_removed=examples_removed)
        con.execute("DROP TABLE _j")
    out["status"] = "same" if not (out["added"] or out["removed"] or out["changed"]
                                   or out["columns_added"] or out["columns_removed"]) else "changed"
    return out


def _same_table(con_for, table: str, path: Path, compared_before: str | None) -> dict[str, Any]:
    """What _diff_table reports for two files with the same bytes, without comparing them.
    ``compared_before`` is how the old release's changelog compared these same bytes with its own
    predecessor: "key" only if the key was unique in both, so it is unique here too."""
    contract = table_contract(table)
    keys = [k for k in contract.primary_key if k in pq.read_schema(path).names]
    rows = pq.ParquetFile(path).metadata.num_rows
    out: dict[str, Any] = {"layer": contract.layer, "key": keys, "rows_old": rows, "rows_new": rows,
                           "columns_added": [], "columns_removed": []}
    by_key = bool(keys) and (compared_before == "key" or _key_unique(con_for(), f"read_parquet({_lit(str(path))})", keys))
    if by_key:
        out.update(compared="key", added=0, removed=0, changed=0, changed_columns={},
                   examples_added=[], examples_removed=[])
    else:
        out.update(compared="rows", added=0, removed=0, changed=0, changed_columns={})
    out["status"] = "same"
    return out


def _compared_in(release_dir: Path) -> dict[str, str]:
    """{table: "key" | "rows"} as the changelog inside ``release_dir`` compared it (if any)."""
    try:
        tables = json.loads((Path(release_dir) / "changes.json").read_text(encoding="utf-8")).get("tables") or {}
    except (OSError, ValueError):
        return {}
    return {t: r.get("compared") for t, r in tables.items() if isinstance(r, dict)}


def _input_key(i: dict) -> tuple:
    return (i.get("source"), i.get("file"), i.get("sha256"))


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, dict):
        out: dict[str, Any] = {}
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: d}


def _why(old_m: dict, new_m: dict) -> dict[str, Any]:
    old_inputs = {_input_key(i): i for i in old_m.get("inputs") or []}
    new_inputs = [i for i in new_m.get("inputs") or [] if _input_key(i) not in old_inputs]
    new_keys = {_input_key(i) for i in new_m.get("inputs") or []}
    gone = [i for k, i in old_inputs.items() if k not in new_keys]
    old_ref, new_ref = old_m.get("reference_files") or {}, new_m.get("reference_files") or {}
    ref_changes = [{"file": f, "old_sha256": old_ref.get(f), "new_sha256": new_ref.get(f)}
                   for f in sorted(set(old_ref) | set(new_ref)) if old_ref.get(f) != new_ref.get(f)]
    old_sets, new_sets = old_m.get("reference_sets") or {}, new_m.get("reference_sets") or {}
    set_changes = {f: {"old": old_sets.get(f), "new": new_sets.get(f)}
                   for f in sorted(set(old_sets) | set(new_sets)) if old_sets.get(f) != new_sets.get(f)}
    old_s, new_s = _flatten(old_m.get("settings") or {}), _flatten(new_m.get("settings") or {})
    settings_changes = {k: {"old": old_s.get(k), "new": new_s.get(k)}
                        for k in sorted(set(old_s) | set(new_s)) if old_s.get(k) != new_s.get(k)}
    old_w = {w.get("id") for w in old_m.get("withdrawals") or []}
    return {
        "as_of": {"old": old_m.get("as_of"), "new": new_m.get("as_of")},
        "code_version": {"old": old_m.get("code_version"), "new": new_m.get("code_version")},
        "withdrawals_new": [w for w in new_m.get("withdrawals") or [] if w.get("id") not in old_w],
        "new_inputs": new_inputs,
        "removed_inputs": gone,
        "reference_changes": ref_changes,
        "reference_set_changes": set_changes,
        "reference_sets_new": new_sets,
        "reference_sets_in_use_changes": _sets_in_use_changes(old_m, new_m),
        "settings_changes": settings_changes,
    }


# settings that say where things are, not what a run computes
LOCATION_SETTINGS = ("landing_dir", "warehouse_dir", "config_file", "auto_approve_by")


def _sets_in_use_changes(old_m: dict, new_m: dict) -> dict[str, dict]:
    """{reference: {"old": set id, "new": set id, "loaded_by", "loaded_at"}} for each versioned
    reference whose set in use changed (nothing for a first release)."""
    old, new = old_m.get("reference_sets_in_use"), new_m.get("reference_sets_in_use") or {}
    if not old:
        return {}
    return {k: {"old": (old.get(k) or {}).get("set"), "new": v.get("set"),
                "loaded_by": v.get("loaded_by"), "loaded_at": v.get("loaded_at")}
            for k, v in sorted(new.items()) if (old.get(k) or {}).get("set") != v.get("set")}


def _other_causes(why: dict, set_files: set[str]) -> list[str]:
    """What else changed between the releases besides new reference sets."""
    causes = []
    if (why.get("as_of") or {}).get("old") != (why.get("as_of") or {}).get("new"):
        causes.append("as_of")
    cv = why.get("code_version") or {}
    if (cv.get("old") or {}).get("commit") != (cv.get("new") or {}).get("commit"):
        causes.append("code_version")
    for key in ("new_inputs", "removed_inputs", "withdrawals_new"):
        if why.get(key):
            causes.append(key)
    if any(r["file"] not in set_files for r in why.get("reference_changes") or []):
        causes.append("reference_changes")
    if any(k.split(".")[0] not in LOCATION_SETTINGS for k in why.get("settings_changes") or {}):
        causes.append("settings_changes")
    return causes


def attribution(why: dict, tables: dict[str, Any]) -> list[dict[str, Any]]:
    """For each reference whose set in use changed: the new set, who loaded it, and the published
    figures it moves — the changed columns of the tables built from that reference (dbt lineage).
    ``sole_cause`` is true when nothing else changed (inputs, withdrawals, settings, other
    reference files, code, as-of month): then every change listed is the new set's doing."""
    from warehouse.dbt_plan import published_tables_fed_by

    changes = why.get("reference_sets_in_use_changes") or {}
    if not changes:
        return []
    references = sorted({k.split("/")[0] for k in changes})
    fed = published_tables_fed_by(references)
    others = _other_causes(why, {f"{r}.csv" for r in references})
    out = []
    for key, change in changes.items():
        moved = {t: {c: info for c, info in (tables[t].get("changed_columns") or {}).items()}
                 for t in fed.get(key.split("/")[0], []) if t in tables and tables[t].get("status") == "changed"}
        out.append({"reference": key, **change, "sole_cause": not others, "other_causes": others,
                    "moved": {t: cols for t, cols in moved.items() if cols}})
    return out


def diff_releases(old_dir: Path, new_dir: Path, max_examples: int = MAX_EXAMPLES,
                  new_manifest: dict | None = None, new_sha256: dict[str, str] | None = None) -> dict[str, Any]:
    """Per published table: status (same | changed | added | removed), rows added / removed /
    changed by primary key, changed columns with counts and examples (old → new); and ``why``:
    new input files, withdrawals, reference files whose sha256 changed (and set ids), settings
    changes. ``new_manifest`` stands in for a manifest not yet written (a release being built),
    ``new_sha256`` ({path: sha256}) for its file list."""
    old_dir, new_dir = Path(old_dir), Path(new_dir)
    old_m, new_m = _manifest(old_dir), (new_manifest if new_manifest is not None else _manifest(new_dir))
    old_sha, new_sha = manifest_sha256(old_m), (new_sha256 if new_sha256 is not None else manifest_sha256(new_m))
    compared_before = _compared_in(old_dir)
    result: dict[str, Any] = {
        "old": old_m.get("release_id", old_dir.name),
        "new": new_m.get("release_id", new_dir.name),
        "tables": {},
        "why": _why(old_m, new_m),
    }
    connection: list = []

    def con():  # opened only when a table needs a query
        if not connection:
            connection.append(duckdb.connect(config=duckdb_config()))
        return connection[0]

    try:
        for t in published_tables():
            o, n = _table_file(old_dir, t), _table_file(new_dir, t)
            if o is None and n is None:
                continue
            if o is None or n is None:
                rows = pq.ParquetFile(n or o).metadata.num_rows
                result["tables"][t] = {"layer": table_contract(t).layer,
                                       "status": "added" if o is None else "removed",
                                       "rows_old": 0 if o is None else rows, "rows_new": rows if o is None else 0}
                continue
            rel = f"{table_contract(t).layer}/{t}.parquet"
            if old_sha.get(rel) is not None and old_sha.get(rel) == new_sha.get(rel):
                result["tables"][t] = _same_table(con, t, n, compared_before.get(t))
            else:
                result["tables"][t] = _diff_table(con(), t, o, n, max_examples, compared_before.get(t))
    finally:
        for c in connection:
            c.close()
    result["attribution"] = attribution(result["why"], result["tables"])
    return result


def format_value(v: Any) -> str:
    """A value as the diff and the changelog print it (floats to 6 significant digits)."""
    if v is None:
        return "null"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def withdrawn_subject(w: dict[str, Any]) -> str:
    """What a withdrawal takes out: a file (by sha256) or an enterprise's month."""
    return f"file sha256 {str(w.get('sha256'))[:12]}" if w.get("sha256") else f"{w.get('uscc')} {w.get('period')}"


# The renderer's words in each language ("en", "zh"; "zh+en" writes both, as the changelog does).
TEXT = {
    "title": ("Release", "版本"), "why": ("Why", "变化原因"), "tables": ("Tables", "数据表"),
    # labels, followed by a colon
    "as_of": ("as-of month", "数据截至月份"), "code_version": ("code version", "程序版本"),
    "new_input": ("new input file", "新报送文件"), "gone_input": ("input no longer listed", "不再列出的文件"),
    "withdrawn": ("withdrawn", "撤回"), "ref_file": ("reference file changed", "参考文件有变化"),
    "ref_sets": ("reference set ids of {0}", "{0} 的参考集编号"), "setting": ("setting {0}", "设置 {0}"),
    "cols_added": ("columns added", "新增列"), "cols_removed": ("columns removed", "删除列"),
    "delivery": ("delivery", "报送序号"),
    "nothing": ("no new inputs, withdrawals, reference or settings changes recorded in the manifests",
                "清单中没有记录新的输入文件、撤回、参考数据或设置变化"),
    "header": (("table", "layer", "status", "rows old", "rows new", "added", "removed", "changed"),
               ("数据表", "层级", "状态", "原行数", "新行数", "新增行", "删除行", "变更行")),
    "by_rows": ("key not unique: compared as whole rows", "主键不唯一：按整行比较"),
    "changed_rows": ("{n} row(s) changed, e.g. ", "{n} 行有变化，例如 "),
    "rows_added": ("rows added, e.g. ", "新增行，例如 "), "rows_removed": ("rows removed, e.g. ", "删除行，例如 "),
    "attribution": ("Figures moved by new reference sets", "新参考集带来的数字变化"),
    "set_in_use": ("{ref}: set {old} → {new}", "{ref}：参考集 {old} → {new}"),
    "loaded": (", loaded by {by} at {at}", "，由 {by} 于 {at} 载入"),
    "sole": ("the only change between the releases: every figure below moved because of it",
             "两个版本之间唯一的变化：以下数字的变化都由它引起"),
    "not_sole": ("other changes too ({causes}): the figures below may have moved partly for those",
                 "同时还有其他变化（{causes}）：以下数字的变化可能部分由它们引起"),
    "no_figure": ("no published figure moved", "发布的数字没有变化"),
}
PUNCT = {"en": {"aside": " ({})", "key": "({})", "sep": ", ", "list": "; ", "cols": ", ", "colon": ": ", "gap": " "},
         "zh": {"aside": "（{}）", "key": "（{}）", "sep": "，", "list": "；", "cols": "、", "colon": "：", "gap": ""}}
STATUS_ZH = {"same": "无变化", "changed": "有变化", "added": "新增", "removed": "删除"}
LAYER_ZH = {"open": "公开", "restricted": "受限"}


def words(key: str, lang: str) -> Any:
    en, zh = TEXT[key]
    return {"en": en, "zh": zh}.get(lang) or (f"{zh} {en}" if isinstance(en, str) else zh)  # "zh+en"


def _lead(key: str, lang: str, *args: str) -> str:
    """A label and its colon: `as-of month: `, `数据截至月份：`, `数据截至月份 as-of month: `."""
    return words(key, lang).format(*args) + _punct(lang)["colon"]


def _punct(lang: str) -> dict[str, str]:
    return PUNCT["zh" if lang == "zh" else "en"]


def _value(v: Any, lang: str) -> str:
    if lang == "zh" and v is None:
        return "空"
    if lang == "zh" and isinstance(v, bool):
        return "是" if v else "否"
    return format_value(v)


def _label(table: str, column: str | None, lang: str) -> str:
    """A table or column by its contract label in Chinese (English: its name)."""
    name = column or table
    if lang == "en":
        return name
    try:
        contract = table_contract(table)
        return f"{(contract.column(column) if column else contract).label_zh}（{name}）"
    except (KeyError, FileNotFoundError):
        return name


def _key(values, lang: str) -> str:
    p = _punct(lang)
    return p["key"].format(p["sep"].join(_value(v, lang) for v in values))


def _examples(info: dict[str, Any], lang: str) -> str:
    """A changed column's count and examples: `3 row(s) changed, e.g. (2020) 1.5 → 1.6; …`."""
    p = _punct(lang)
    return words("changed_rows", lang).format(n=info["count"]) + p["list"].join(
        _key(e["key"].values(), lang) + f"{p['gap']}{_value(e['old'], lang)} → {_value(e['new'], lang)}"
        for e in info["examples"])


def attribution_lines(attribution: list[dict[str, Any]], lang: str) -> list[str]:
    """The new reference sets in use and the published figures they moved, one block each."""
    lines = []
    for a in attribution:
        loaded = words("loaded", lang).format(by=a["loaded_by"], at=a["loaded_at"]) if a.get("loaded_by") else ""
        lines.append("- " + words("set_in_use", lang).format(ref=a["reference"], old=a["old"], new=a["new"]) + loaded)
        lines.append("  - " + (words("sole", lang) if a["sole_cause"] else
                               words("not_sole", lang).format(causes=", ".join(a["other_causes"]))))
        for table, columns in a["moved"].items():
            for c, info in columns.items():
                lines.append(f"  - {_label(table, None, lang)}.{_label(table, c, lang)}{_punct(lang)['colon']}"
                             + _examples(info, lang))
        if not a["moved"]:
            lines.append("  - " + words("no_figure", lang))
    return lines


def why_lines(why: dict[str, Any], lang: str) -> list[str]:
    """The reasons the manifests give for the changes, one Markdown bullet each."""
    p = _punct(lang)
    lines = []
    a = why.get("as_of") or {}
    if a.get("old") is None:
        lines.append(f"- {_lead('as_of', lang)}{a.get('new')}")
    elif a.get("old") != a.get("new"):
        lines.append(f"- {_lead('as_of', lang)}{a.get('old')} → {a.get('new')}")
    cv = why.get("code_version") or {}
    if cv.get("old") and (cv["old"] or {}).get("commit") != (cv.get("new") or {}).get("commit"):
        lines.append(f"- {_lead('code_version', lang)}{cv['old'].get('commit')} → {(cv.get('new') or {}).get('commit')}")
    for i in why.get("new_inputs") or []:
        seq = p["aside"].format(f"{words('delivery', lang)} {i['delivery_seq']}") if i.get("delivery_seq") is not None else ""
        lines.append(f"- {_lead('new_input', lang)}{i.get('file')}{seq}{p['sep']}sha256 {str(i.get('sha256'))[:12]}")
    for i in why.get("removed_inputs") or []:
        lines.append(f"- {_lead('gone_input', lang)}{i.get('file')}{p['sep']}sha256 {str(i.get('sha256'))[:12]}")
    for w in why.get("withdrawals_new") or []:
        lines.append(f"- {_lead('withdrawn', lang)}{withdrawn_subject(w)} — {w.get('reason')}"
                     + p["aside"].format(f"{w.get('by')}{p['sep']}{w.get('at')}"))
    for r in why.get("reference_changes") or []:
        lines.append(f"- {_lead('ref_file', lang)}{r['file']}"
                     + p["aside"].format(f"{str(r['old_sha256'])[:12]} → {str(r['new_sha256'])[:12]}"))
    for f, s in (why.get("reference_set_changes") or {}).items():
        lines.append(f"- {_lead('ref_sets', lang, f)}{s['old']} → {s['new']}")
    for k, s in (why.get("settings_changes") or {}).items():
        if k.split(".")[0] not in LOCATION_SETTINGS:
            lines.append(f"- {_lead('setting', lang, k)}{_value(s['old'], lang)} → {_value(s['new'], lang)}")
    return lines or [f"- {words('nothing', lang)}"]


def render_diff(d: dict[str, Any], lang: str = "en") -> str:
    """The diff as Markdown for people, in English (``lang="en"``) or in Chinese with the
    contract labels of tables and columns (``"zh"``)."""
    p = _punct(lang)
    lines = [f"# {words('title', lang)} {d['old']} → {d['new']}", "", f"## {words('why', lang)}", ""]
    lines += why_lines(d.get("why") or {}, lang)
    if d.get("attribution"):
        lines += ["", f"## {words('attribution', lang)}", ""] + attribution_lines(d["attribution"], lang)
    header = words("header", lang)
    lines += ["", f"## {words('tables', lang)}", "", "| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for t, r in d["tables"].items():
        status, layer = (r["status"], r["layer"]) if lang == "en" else (
            STATUS_ZH.get(r["status"], r["status"]), LAYER_ZH.get(r["layer"], r["layer"]))
        lines.append(f"| {_label(t, None, lang)} | {layer} | {status} | {r['rows_old']} | {r['rows_new']} | "
                     f"{r.get('added', '')} | {r.get('removed', '')} | {r.get('changed', '')} |")
    lines.append("")
    for t, r in d["tables"].items():
        if r["status"] != "changed":
            continue
        lines += [f"### {_label(t, None, lang)}", ""]
        if r.get("compared") == "rows":
            lines.append(f"- {words('by_rows', lang)}")
        for key in ("cols_added", "cols_removed"):
            columns = r.get("columns_added" if key == "cols_added" else "columns_removed")
            if columns:
                lines.append(f"- {_lead(key, lang)}" + p["cols"].join(_label(t, c, lang) for c in columns))
        for c, info in (r.get("changed_columns") or {}).items():
            name = f"`{c}`" if lang == "en" else _label(t, c, lang)
            lines.append(f"- {name}{p['colon']}{_examples(info, lang)}")
        for key, examples in (("rows_added", "examples_added"), ("rows_removed", "examples_removed")):
            if r.get(examples):
                lines.append(f"- {words(key, lang)}" + p["list"].join(_key(e.values(), lang) for e in r[examples]))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
