"""The data dictionary of a release (data_dictionary.md), generated from the table contracts
and the reference seeds. Output is deterministic: the same contracts and seeds give the same text."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from data_contracts.model import published_tables, shared_column, table_contract
from data_contracts.reference import NOTE_COLUMN, load_reference, reference_sha256

# The limitations every user must see first (also repeated per table in the contracts).
GENERAL_LIMITATIONS = (
    "**CO2 covers energy activity only.** Direct emissions of fuel burnt on site and indirect "
    "emissions of purchased electricity and heat; process emissions (cement clinker, ammonia, …) "
    "are out of scope, so the CO2 of building-materials and chemical firms is understated.",
    "**Key energy users are the 1000 tce scope.** An enterprise using 1000 tce or more a year "
    "(the monitoring scope of the 能源双碳数智平台) is a *key energy user* here; this is not the "
    "10,000 tce tier (5,000 tce when designated) of 重点用能单位 under the Energy Conservation Law.",
    "**亩均 benchmarks are placeholders.** The recomputed 亩均 score and class use 黄岩区's 2022 "
    "benchmarks and weights (confidence low) until Hangzhou's own rule set is loaded; the "
    "official class of the export is what policy uses and what the tables publish where it exists.",
    "**The deflator is a proxy.** Value added at 2020 prices is deflated with the national "
    "industrial producer price index (PPI, confidence medium) until a Hangzhou industrial "
    "value-added deflator is loaded; every intensity and its change against 2020 inherits this.",
    "**Recomputed 碳效码 grades are approximate.** They compare with local industry averages, "
    "not the provincial averages of the official grade.",
    "**Provisional rows.** A year after the last electricity emission factor or deflator uses "
    "the last value carried forward; such rows have `provisional = true`.",
    "**Product energy limits are of medium confidence.** The grades of the national limit "
    "standards (reference product_energy_limits.csv) are transcriptions awaiting independent "
    "review, and each in_force_from is estimated as the year after the edition: check a value "
    "against the standard's text before any use (product_efficiency, over_limit_list, "
    "product_efficiency_share carry the confidence). Shares are of output, not of capacity.",
    "**Green factories come from the published lists.** Entries without a credit code are "
    "matched by normalised name; a name several enterprises used is marked ambiguous, and a "
    "Hangzhou entry matching none still counts (the list is the authority).",
)

# Reference seeds shown in "Reference values and their confidence" and in the workbooks' 参考值说明:
# (file, Chinese name, key columns, value columns).
REFERENCE_SECTIONS: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("mu_rules", "亩均效益评价规则", ("rule_set", "valid_from_year", "scale", "indicator"), ("weight", "benchmark", "unit", "cap")),
    ("deflators", "工业增加值平减指数", ("year", "division_code"), ("ppi_yoy_pct",)),
    ("emission_factors", "二氧化碳排放因子", ("factor_set", "valid_from_year", "energy_code"), ("co2_t_per_unit", "unit")),
    ("power_equivalent", "电力等价值折标系数", ("valid_from_year",), ("tce_per_10k_kwh",)),
    ("classification_rules", "亩均分类和碳效等级分档", ("rule_set", "valid_from_year", "scheme", "class"),
     ("lower_bound", "upper_bound")),
    ("targets", "碳达峰目标", ("indicator", "scope_code", "base_year", "target_year"), ("target_change",)),
    ("thresholds", "阈值与报送规则", ("name",), ("value", "unit")),
    ("product_energy_limits", "单位产品能耗限额", ("limit_set", "product_code", "in_force_from"),
     ("grade_1", "grade_2", "grade_3", "unit")),
    ("green_parks", "绿色园区名单", ("park_name",), ("district_code",)),
)

# A reference value needs a note when its confidence is one of these or its source says so.
_LOW_CONFIDENCE = ("low", "estimated")
_PLACEHOLDER_WORDS = ("placeholder", "proxy", "carried back", "not estimated", "review pending", "check with the bureau")


def _cell(v: object) -> str:
    if v is None:
        return ""
    s = str(v).replace("\r", " ").replace("\n", " ").replace("|", "\\|")
    return s.strip()


def _md_table(header: Iterable[str], rows: Iterable[Iterable[object]]) -> list[str]:
    header = list(header)
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(_cell(v) for v in r) + " |" for r in rows]
    return out


def _describe_rows(keys: tuple[str, ...], rows: list[dict[str, str]]) -> str:
    """'k1=v, k2=w, k3 = a; b; c': key values shared by every row once, then the varying ones."""
    common = [k for k in keys if all(k in r for r in rows) and len({r[k] for r in rows}) == 1]
    varying = [k for k in keys if k not in common]
    head = ", ".join(f"{k}={rows[0][k]}" for k in common)
    if not varying:
        return head
    tail = "; ".join(" ".join(str(r[k]) for k in varying if k in r) for r in rows)
    return f"{head + ', ' if head else ''}{' '.join(varying)} = {tail}"


def confidence_notes() -> list[dict[str, str]]:
    """Reference values whose confidence users must be told about (placeholders, proxies,
    estimates): one entry per reference file × source × confidence, with the rows it covers.
    Used by the data dictionary and written into the release manifest."""
    notes: list[dict[str, str]] = []
    for name, _zh, keys, _values in REFERENCE_SECTIONS:
        df = load_reference(name)
        if "source" not in df.columns:
            continue
        conf = df["confidence"] if "confidence" in df.columns else pl.Series([None] * df.height)
        groups: dict[tuple[str, str], list[dict[str, str]]] = {}
        for i, (src, cf) in enumerate(zip(df["source"], conf)):
            src_l, cf_l = (src or "").lower(), (cf or "").lower()
            if cf_l in _LOW_CONFIDENCE or any(w in src_l for w in _PLACEHOLDER_WORDS):
                groups.setdefault((src or "", cf or ""), []).append(
                    {k: df[k][i] for k in keys if df[k][i] not in (None, "")})
        for (src, cf), rows in groups.items():
            notes.append({"file": f"{name}.csv", "rows": _describe_rows(keys, rows), "source": src,
                          "confidence": cf or "n/a"})
    return notes


def reference_notes_zh() -> list[dict[str, str]]:
    """What a clerk is told about the reference values (the workbooks' 参考值说明): each reference
    file's Chinese notes from its own check_note column, one entry per file × confidence × note in
    file order, with the file's Chinese name and the confidence's Chinese label (shared field
    `confidence`). Every set in the file counts, the one in use and older ones alike."""
    labels = shared_column("confidence").value_labels_zh
    notes: list[dict[str, str]] = []
    for name, name_zh, _keys, _values in REFERENCE_SECTIONS:
        df = load_reference(name)
        if NOTE_COLUMN not in df.columns:
            continue
        conf = df["confidence"] if "confidence" in df.columns else pl.Series([None] * df.height, dtype=pl.String)
        pairs = dict.fromkeys((cf or "", note.strip()) for cf, note in zip(conf, df[NOTE_COLUMN]) if note and note.strip())
        notes += [{"file": f"{name}.csv", "name_zh": name_zh, "confidence": cf, "confidence_zh": labels.get(cf, ""),
                   "check_note": note} for cf, note in pairs]
    return notes


def _table_section(table: str) -> list[str]:
    c = table_contract(table)
    out = [f"### `{table}` — {c.label_zh}", ""]
    out.append(c.purpose.strip())
    out.append("")
    location = f"`{c.layer}/{table}.parquet`"
    if c.district_extract:
        location += f", and filtered to one district in `districts/<code>/{table}.parquet` and `<code>.xlsx`"
        if c.layer == "open":
            location += " (there without suppression)"
    out += [
        f"- Layer: **{c.layer}**"
        + (" (aggregates after disclosure control)" if c.layer == "open"
           else " (enterprise-level, not for public release)"),
        f"- Files: {location}; DuckDB snapshot table `{'open.' if c.layer == 'open' else ''}{table}`",
        f"- Grain: one row per {c.grain}; primary key ({', '.join(c.primary_key)})",
    ]
    if c.limitations:
        out.append("- Limitations:")
        for line in c.limitations.strip().splitlines():
            line = line.strip()
            if line:
                out.append("  " + (line if line.startswith("- ") else "- " + line))
    out.append("")
    rows = []
    for col in c.columns:
        typ = col.physical_type + (" (key)" if col.primary_key else "") + (
            "" if col.required or col.primary_key else ", nullable")
        rows.append((col.label_zh, f"`{col.name}`", typ, col.unit or "", col.description, col.source or ""))
    out += _md_table(("中文名称", "English name", "Type", "Unit", "Definition", "Source"), rows)
    out.append("")
    return out


def _reference_section() -> list[str]:
    out = ["## Reference values and their confidence", "",
           "Reference values are data that statisticians update (dbt seeds copied from the shared "
           "reference). Each row carries its source and, where given, its confidence. A factor set "
           "or rule set, once released, is immutable; every manifest records the sha256 of each "
           "reference file and the set ids used.", "",
           "### Values to treat with care", ""]
    notes = confidence_notes()
    for n in notes:
        out.append(f"- `{n['file']}` ({n['rows']}): {n['source']} — confidence **{n['confidence']}**")
    if not notes:
        out.append("- none")
    out.append("")
    for name, _zh, keys, values in REFERENCE_SECTIONS:
        df = load_reference(name)
        cols = [k for k in (*keys, *values) if k in df.columns]
        extra = [k for k in ("source", "confidence", NOTE_COLUMN) if k in df.columns]
        out += [f"### `{name}.csv`", ""]
        out += _md_table((*cols, *extra), df.select(cols + extra).iter_rows())
        out.append("")
    out += ["### Reference files (sha256)", ""]
    out += _md_table(("file", "sha256"), sorted(reference_sha256().items()))
    out.append("")
    return out


def render_dictionary(reference_notes: bool = True) -> str:
    """The data dictionary as Markdown: general limitations, then per published table its purpose,
    layer, grain, limitations and columns (Chinese label, English name, type, unit, definition,
    source), then (unless reference_notes is False) the reference values and their confidence."""
    out = [
        "# hzcarbon data dictionary",
        "",
        "Published tables of the Hangzhou industrial carbon-peaking warehouse (杭州市工业领域碳达峰实施方案). "
        "Column names are English snake_case; codes (USCC, district, industry) are text and keep "
        "their leading zeros. `open/` holds aggregate tables after statistical disclosure control; "
        "`restricted/` holds enterprise-level tables that must not be published (统计法 §25); "
        "`districts/<code>/` holds one district's own enterprise-level rows and its unsuppressed "
        "aggregates. In the DuckDB snapshot `hzcarbon.duckdb`, open tables are in schema `open` "
        "(e.g. `open.city_year`) and restricted tables in the default schema `main`.",
        "",
        "## Limitations",
        "",
    ]
    out += [f"- {s}" for s in GENERAL_LIMITATIONS]
    out += ["", "## Tables", ""]
    for t in published_tables():
        out += _table_section(t)
    if reference_notes:
        out += _reference_section()
    return "\n".join(out).rstrip("\n") + "\n"
