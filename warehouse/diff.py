"""What changed between two releases, and why.

``diff_releases(old, new)`` compares every published table (``open/``, ``restricted/``) by its
contract primary key with a DuckDB full outer join over the two Parquet files (keys compared
with IS NOT DISTINCT FROM, so null key parts such as quarantine.row_number match), and reads
the two manifests for the reasons: input files new since the old release, reference files
whose sha256 changed (with the set ids of both), settings that differ, and the as-of month.
When a key is not unique in either file, the table is compared as a multiset of whole rows.
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

MAX_EXAMPLES = 3


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


def _diff_table(con, table: str, old: Path, new: Path, max_examples: int) -> dict[str, Any]:
    contract = table_contract(table)
    o, n = f"read_parquet({_lit(str(old))})", f"read_parquet({_lit(str(new))})"
    old_cols, new_cols = pq.read_schema(old).names, pq.read_schema(new).names
    common = [c for c in new_cols if c in old_cols]
    keys = [k for k in contract.primary_key if k in common]
    out: dict[str, Any] = {
        "layer": contract.layer,
        "key": keys,
        "rows_old": pq.ParquetFile(old).metadata.num_rows,
        "rows_new": pq.ParquetFile(new).metadata.num_rows,
        "columns_added": [c for c in new_cols if c not in old_cols],
        "columns_removed": [c for c in old_cols if c not in new_cols],
    }
    cols_sql = ", ".join(_ident(c) for c in common)
    if not keys or not _key_unique(con, o, keys) or not _key_unique(con, n, keys):
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
        added = con.execute("SELECT count(*) FROM _j WHERE NOT _in_old").fetchall()[0][0]
        removed = con.execute("SELECT count(*) FROM _j WHERE NOT _in_new").fetchall()[0][0]
        changed_columns: dict[str, Any] = {}
        diff_preds = []
        key_sel = ", ".join(_ident("k_" + k) for k in keys)
        for c in value_cols:
            pred = f"_in_old AND _in_new AND {_ident('o_' + c)} IS DISTINCT FROM {_ident('n_' + c)}"
            diff_preds.append(f"({pred})")
            cnt = con.execute(f"SELECT count(*) FROM _j WHERE {pred}").fetchall()[0][0]
            if cnt:
                rows = con.execute(
                    f"SELECT {key_sel}, {_ident('o_' + c)}, {_ident('n_' + c)} FROM _j WHERE {pred} "
                    f"ORDER BY {key_sel} NULLS FIRST LIMIT {int(max_examples)}").fetchall()
                changed_columns[c] = {
                    "count": cnt,
                    "examples": [{"key": {k: _jsonable(v) for k, v in zip(keys, r[:len(keys)])},
                                  "old": _jsonable(r[-2]), "new": _jsonable(r[-1])} for r in rows],
                }
        changed = con.execute(f"SELECT count(*) FROM _j WHERE {' OR '.join(diff_preds)}").fetchall()[0][0] if diff_preds else 0
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
        "settings_changes": settings_changes,
    }


def diff_releases(old_dir: Path, new_dir: Path, max_examples: int = MAX_EXAMPLES,
                  new_manifest: dict | None = None) -> dict[str, Any]:
    """Per published table: status (same | changed | added | removed), rows added / removed /
    changed by primary key, changed columns with counts and examples (old → new); and ``why``:
    new input files, withdrawals, reference files whose sha256 changed (and set ids), settings
    changes. ``new_manifest`` stands in for a manifest not yet written (a release being built)."""
    old_dir, new_dir = Path(old_dir), Path(new_dir)
    old_m, new_m = _manifest(old_dir), (new_manifest if new_manifest is not None else _manifest(new_dir))
    result: dict[str, Any] = {
        "old": old_m.get("release_id", old_dir.name),
        "new": new_m.get("release_id", new_dir.name),
        "tables": {},
        "why": _why(old_m, new_m),
    }
    con = duckdb.connect(config=duckdb_config())
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
            result["tables"][t] = _diff_table(con, t, o, n, max_examples)
    finally:
        con.close()
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


def render_diff(d: dict[str, Any]) -> str:
    """The diff as Markdown for people."""
    lines = [f"# Release {d['old']} → {d['new']}", ""]
    why = d.get("why", {})
    lines += ["## Why", ""]
    a = why.get("as_of") or {}
    if a.get("old") != a.get("new"):
        lines.append(f"- as-of month: {a.get('old')} → {a.get('new')}")
    for i in why.get("new_inputs") or []:
        seq = f" (delivery {i['delivery_seq']})" if i.get("delivery_seq") is not None else ""
        lines.append(f"- new input file: {i.get('file')}{seq}, sha256 {str(i.get('sha256'))[:12]}")
    for i in why.get("removed_inputs") or []:
        lines.append(f"- input no longer listed: {i.get('file')}, sha256 {str(i.get('sha256'))[:12]}")
    for w in why.get("withdrawals_new") or []:
        lines.append(f"- withdrawn: {withdrawn_subject(w)} — {w.get('reason')} ({w.get('by')}, {w.get('at')})")
    for r in why.get("reference_changes") or []:
        lines.append(f"- reference file changed: {r['file']} ({str(r['old_sha256'])[:12]} → {str(r['new_sha256'])[:12]})")
    for f, s in (why.get("reference_set_changes") or {}).items():
        lines.append(f"- reference set ids of {f}: {s['old']} → {s['new']}")
    for k, s in (why.get("settings_changes") or {}).items():
        lines.append(f"- setting {k}: {format_value(s['old'])} → {format_value(s['new'])}")
    if lines[-1] == "":
        lines.append("- no new inputs, withdrawals, reference or settings changes recorded in the manifests")
    lines += ["", "## Tables", ""]
    lines += ["| table | layer | status | rows old | rows new | added | removed | changed |",
              "|---|---|---|---|---|---|---|---|"]
    for t, r in d["tables"].items():
        lines.append(f"| {t} | {r['layer']} | {r['status']} | {r['rows_old']} | {r['rows_new']} | "
                     f"{r.get('added', '')} | {r.get('removed', '')} | {r.get('changed', '')} |")
    lines.append("")
    for t, r in d["tables"].items():
        if r["status"] != "changed":
            continue
        lines += [f"### {t}", ""]
        if r.get("compared") == "rows":
            lines.append("- key not unique: compared as whole rows")
        if r.get("columns_added"):
            lines.append(f"- columns added: {', '.join(r['columns_added'])}")
        if r.get("columns_removed"):
            lines.append(f"- columns removed: {', '.join(r['columns_removed'])}")
        for c, info in (r.get("changed_columns") or {}).items():
            ex = "; ".join(
                "(" + ", ".join(format_value(v) for v in e["key"].values()) + f") {format_value(e['old'])} → {format_value(e['new'])}"
                for e in info["examples"])
            lines.append(f"- `{c}`: {info['count']} row(s) changed, e.g. {ex}")
        for label, key in (("added", "examples_added"), ("removed", "examples_removed")):
            if r.get(key):
                lines.append(f"- rows {label}, e.g. " + "; ".join(
                    "(" + ", ".join(format_value(v) for v in e.values()) + ")" for e in r[key]))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
