"""Write a landing directory (docs/sources.md) from the clean records, clean or messy.

Energy reports are written per district × year as each year is generated (bounded memory);
亩均 and 碳效码 results per year. File formats rotate among UTF-8, UTF-8-with-BOM and GB18030
CSV, xlsx and legacy xls (`formats="mixed"`), or are all plain UTF-8 CSV (`"csv-utf8"`).
"""

import zlib
from pathlib import Path

import numpy as np
import polars as pl

from data_contracts import source_contract
from sample_data import messy as mz
from sample_data import register, render, rules
from sample_data import va_growth as vg
from sample_data.green import generate_green
from sample_data.truth import SOURCES, check_years, iter_years, population
from sample_data.writers import EXTENSION, Layout, fits, write_table

STEM = {"energy_reports": "能源消费月报", "mu_evaluations": "亩均效益评价结果", "carbon_codes": "碳效码评价结果"}
# The sources this module writes: the three exports, the register of enterprises expected to
# report and the bureau's value-added growth (the green sources: sample_data.green).
LANDING_SOURCES = (*SOURCES, register.SOURCE, vg.SOURCE)
TITLES = {
    "energy_reports": ["杭州市重点用能单位能源消费月报", "填报单位：{district}经信局", "报告期：{year}年"],
    "mu_evaluations": ["{year}年度工业企业亩均效益综合评价结果", "填报单位：杭州市经济和信息化局", "单位：万元、亩、吨标准煤"],
    "carbon_codes": ["{year}年度工业企业碳效码评价结果", "数据来源：浙江省碳效码平台", "单位：吨、万元"],
    register.SOURCE: register.TITLES,
    vg.SOURCE: vg.TITLES,
}
# Format of the n-th file of a source (mixed mode): every kind appears among the first few.
CYCLE = {
    "energy_reports": ("csv_utf8", "xlsx", "csv_gb18030", "csv_bom", "xls", "xlsx", "csv_utf8", "csv_gb18030",
                       "xlsx", "csv_bom"),
    "mu_evaluations": ("xlsx", "csv_gb18030", "xls", "csv_bom", "csv_utf8", "xlsx"),
    "carbon_codes": ("csv_bom", "xlsx", "csv_gb18030", "xls", "csv_utf8", "xlsx"),
    register.SOURCE: ("xlsx", "csv_bom", "csv_gb18030", "xls", "csv_utf8", "xlsx"),
    vg.SOURCE: ("csv_gb18030", "xlsx", "csv_utf8", "xls", "csv_bom", "xlsx"),
}
EXTRA = "__extra__"  # prefix of text columns that are not contract columns (header = the rest)
FORMATS = ("mixed", "csv-utf8")


class Landing:
    """Writes files and keeps the summary (files, rows, planted quarantine, whole-file cases)."""

    def __init__(self, out_dir: Path, seed: int, messy: bool, formats: str):
        if formats not in FORMATS:
            raise ValueError(f"formats must be one of {FORMATS}, got {formats!r}")
        self.out, self.seed, self.messy, self.formats = Path(out_dir), seed, messy, formats
        for s in LANDING_SOURCES:
            d = self.out / s
            if d.exists() and any(d.iterdir()):
                raise FileExistsError(f"{d} is not empty: write a landing into a new directory")
            d.mkdir(parents=True, exist_ok=True)
        self.files: dict[str, list[str]] = {s: [] for s in LANDING_SOURCES}
        self.rows_written = {s: 0 for s in LANDING_SOURCES}
        self.total_rows = {s: 0 for s in LANDING_SOURCES}
        self.quarantine: dict[str, dict[str, int]] = {s: {} for s in LANDING_SOURCES}
        self.cases: list[dict] = []
        self.revisions: dict[str, dict[str, int]] = {s: {} for s in LANDING_SOURCES}
        self.count = {s: 0 for s in LANDING_SOURCES}
        self.file_formats: dict[str, str] = {}
        self.layouts: dict[str, dict] = {}

    # -- formats and decoration ---------------------------------------------------------
    def next_format(self, source: str, rows: int) -> str:
        if self.formats == "csv-utf8":
            return "csv_utf8"
        cycle = CYCLE[source]
        fmt = cycle[self.count[source] % len(cycle)]
        self.count[source] += 1
        return fmt if fits(fmt, rows) else "csv_gb18030"

    def file_rng(self, name: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, 31, zlib.crc32(name.encode())])

    def layout(self, source: str, fmt: str, rng, rows: int, **fmt_args) -> Layout | None:
        if not fmt.startswith("xls"):
            return None
        k = int(rng.integers(0, 4))  # 0–3 title rows
        titles = [t.format(**fmt_args) for t in TITLES[source][:k]]
        blank = int(rng.integers(0, rows)) if rows and rng.random() < 0.5 else None
        total = None
        if rng.random() < 0.5:
            total = "总计" if self.messy and rng.random() < 0.3 else "合计"
        return Layout(titles=titles, blank_after=blank, total_label=total)

    # -- one table ----------------------------------------------------------------------
    def write(self, source: str, name: str, fmt: str, text: pl.DataFrame, layout: Layout | None,
              data_rows: int, drop: tuple[str, ...] = ()) -> Path:
        """`text`: contract column names (+ `__extra__<header>`), all strings. Headers follow the
        style of the run; in messy files the column order may be shuffled and optional columns
        that are empty throughout may be left out (a template without them)."""
        contract = source_contract(source)
        rng = self.file_rng(Path(name).name)  # the same draws wherever the file is put
        style = "messy" if self.messy else ("canonical" if self.formats == "csv-utf8" else "clean")
        cols = [c for c in contract.source_columns if c.name not in drop]
        if self.messy:
            # A missing column reads as "nothing reported": 0 for energy quantities, null otherwise,
            # so only a column that already means that throughout may be left out.
            def means_nothing(c) -> list[str]:
                return ["", "-", "—", "－", *(["0"] if c.parse == "energy_quantity" else [])]

            optional_empty = [c.name for c in cols if not c.required and c.name in text.columns
                              and text[c.name].fill_null("").is_in(means_nothing(c)).all()]
            cols = [c for c in cols if c.name not in optional_empty or rng.random() < 0.5]
        heads = {c.name: mz.header(c, style, rng) for c in cols}
        numeric = {heads[c.name] for c in cols if c.logical_type == "number"}
        out = {heads[c.name]: text[c.name].fill_null("") for c in cols}
        for c in text.columns:
            if c.startswith(EXTRA):
                out[c[len(EXTRA):]] = text[c].fill_null("")
                numeric.add(c[len(EXTRA):])
        table = pl.DataFrame(out)
        if self.messy and rng.random() < 0.25:
            order = list(rng.permutation(table.width))
            table = table.select([table.columns[i] for i in order])
        if layout is not None and layout.total_label:
            layout.total_columns = tuple(h for h in numeric if h in table.columns)[:3]
            self.total_rows[source] += 1
        path = self.out / source / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_table(path, fmt, table, numeric, layout)
        self.files[source].append(f"{source}/{name}")
        self.file_formats[f"{source}/{name}"] = fmt
        if layout is not None:
            self.layouts[f"{source}/{name}"] = {
                "title_rows": len(layout.titles), "blank_row": layout.blank_after is not None,
                "total_row": layout.total_label, "notes_sheet": bool(layout.notes_sheet)}
        self.rows_written[source] += data_rows
        return path

    def plant(self, source: str, rows: list[dict]) -> None:
        for reason, n in mz.count_reasons(rows).items():
            self.quarantine[source][reason] = self.quarantine[source].get(reason, 0) + n

    def reject_file(self, source: str, name: str, data: bytes, case: str, reason: str | None, **info) -> None:
        (self.out / source / name).parent.mkdir(parents=True, exist_ok=True)
        (self.out / source / name).write_bytes(data)
        self.files[source].append(f"{source}/{name}")
        if reason:
            self.quarantine[source][reason] = self.quarantine[source].get(reason, 0) + 1
        self.cases.append({"source": source, "file": f"{source}/{name}", "case": case, "reason": reason, **info})

    def note_revisions(self, source: str, **counts: int) -> None:
        for k, v in counts.items():
            self.revisions[source][k] = self.revisions[source].get(k, 0) + v


def _body(frame: pl.DataFrame, source: str, drop: tuple[str, ...] = ()) -> pl.DataFrame:
    """The text columns that go into a file: contract source columns, then extra columns."""
    names = [c.name for c in source_contract(source).source_columns if c.name in frame.columns]
    return frame.select(names + [c for c in frame.columns if c.startswith(EXTRA) and c not in drop])


# --- energy reports ------------------------------------------------------------------------

def _energy_year(land: Landing, year: int, truth: pl.DataFrame, y0: int, state: dict) -> None:
    rng = np.random.default_rng([land.seed, 20, year])
    t = truth.with_row_index("_order").with_columns(
        _k=pl.lit(1, pl.Int8),
        _cum=pl.col("consumption").cum_sum().over("uscc", "energy_code"))
    correction = None
    if land.messy:
        sets = mz.pick_rows(rng, t.height, {"later": 0.004, "same": 0.003, "dup": 0.003, "resend": 0.002},
                            eligible=(t["consumption"] > 0).to_numpy())
        later = t[sets["later"]]
        stale_later = mz.stale_energy(later, rng).with_columns(_k=pl.lit(0, pl.Int8))
        stale_same = mz.stale_energy(t[sets["same"]], rng).with_columns(_k=pl.lit(0, pl.Int8))
        main = pl.concat([t.filter(~pl.col("_order").is_in(later["_order"].implode())), stale_later, stale_same])
        main = main.sort("_order", "_k")
        text = render.energy_text(main, rng, True)
        dups = text.filter(pl.col("_order").is_in(pl.Series(sets["dup"]).cast(pl.UInt32).implode()))
        text = pl.concat([text, dups.with_columns(_k=pl.lit(2, pl.Int8))]).sort("_order", "_k")
        correction = render.energy_text(t[np.union1d(sets["later"], sets["resend"])], rng, True)
        land.note_revisions("energy_reports", superseded_in_later_file=len(sets["later"]),
                            superseded_in_same_file=len(sets["same"]), exact_duplicates_same_file=len(sets["dup"]),
                            exact_duplicates_later_file=len(sets["resend"]))
    else:
        text = render.energy_text(t, rng, False)
    if land.messy:
        text = text.with_columns(**{f"{EXTRA}备注": pl.when(pl.col("feedstock").is_in(["", "-", "—", "－", "0"]))
                                    .then(pl.lit("")).otherwise(pl.lit("原料用"))})
    dist = rules.districts()
    parts = text.partition_by("_district_now", maintain_order=True, as_dict=True)
    codes = sorted(k[0] for k in parts)
    planted = mz.energy_planted(y0) if land.messy and year == y0 else []
    groups = sorted({r["uscc"] for r in planted})
    for i, code in enumerate(codes):
        part = parts[(code,)]
        # each district delivers its reports into its own folder (the submitter, README "Landing layout")
        name_base = f"{code}/{year}_{code}_{dist[code].name}_{STEM['energy_reports']}"
        fmt = land.next_format("energy_reports", part.height)
        rng_f = land.file_rng(name_base.split("/")[-1])
        mine = [r for r in planted if groups.index(r["uscc"]) % len(codes) == i]
        drop_extras = []
        if land.messy and fmt.startswith("csv") and not state.get("unknown_column"):
            state["unknown_column"] = True  # one file carries an unknown cumulative column
            part = part.with_columns(**{f"{EXTRA}本年累计消费量": render.plain_number(pl.col("_cum").round(4))})
            land.cases.append({"source": "energy_reports", "file": f"energy_reports/{name_base}.csv",
                               "case": "unknown_column", "reason": None, "column": "本年累计消费量"})
        if land.messy and rng_f.random() < 0.5:
            drop_extras.append(f"{EXTRA}备注")
        body = _body(part, "energy_reports", tuple(drop_extras))
        if mine:
            body = pl.concat([body, mz.planted_frame(mine, [c for c in body.columns if not c.startswith(EXTRA)])],
                             how="diagonal")
            land.plant("energy_reports", mine)
        layout = land.layout("energy_reports", fmt, rng_f, body.height, district=dist[code].name, year=year)
        if layout is not None and land.messy and not state.get("notes_sheet"):
            state["notes_sheet"] = True
            layout.notes_sheet = ["填报说明", "1. 工业生产消费量按实物量填报。", "2. 其中用作原材料的部分单独列出。"]
            land.cases.append({"source": "energy_reports", "file": f"energy_reports/{name_base}.{EXTENSION[fmt]}",
                               "case": "skipped_sheet", "reason": None, "sheet": "填报说明"})
        land.write("energy_reports", f"{name_base}.{EXTENSION[fmt]}", fmt, body, layout, body.height)
        state.setdefault("energy_files", []).append(f"{name_base}.{EXTENSION[fmt]}")
    if correction is not None:
        name_base = f"{year}_zz_更正补报_{STEM['energy_reports']}"
        fmt = land.next_format("energy_reports", correction.height)
        body = _body(correction, "energy_reports")
        layout = land.layout("energy_reports", fmt, land.file_rng(name_base), body.height, district="杭州市", year=year)
        land.write("energy_reports", f"{name_base}.{EXTENSION[fmt]}", fmt, body, layout, body.height)


def _energy_whole_files(land: Landing, y0: int, state: dict) -> None:
    """Files that are rejected whole, and a byte-identical copy of one file."""
    src = "energy_reports"
    stem = STEM[src]
    if land.formats == "mixed":
        land.reject_file(src, f"{y0}_损坏_{stem}.xlsx", mz.garbage_bytes(land.seed), "binary_garbage",
                         "unreadable_file")
        land.reject_file(src, "填报说明.txt", "本目录存放各区县经信局报送的能源消费月报。\n".encode("utf-8"),
                         "not_a_table_file", "unreadable_file")
    land.reject_file(src, f"{y0}_空文件_{stem}.csv", b"", "empty_csv", "unreadable_file")
    wrong = "列1,列2,列3,列4\n甲,乙,丙,丁\n1,2,3,4\n"
    land.reject_file(src, f"{y0}_表头错误_{stem}.csv", wrong.encode("utf-8"), "wrong_header", "unreadable_file")
    rows = mz.energy_planted(y0)[:1]
    ok = {**rows[0], "uscc": mz.fake_uscc(500), "district_code": "330106", "industry_code": "3011",
          "consumption": "10.5"}
    cols = [c.name for c in source_contract(src).source_columns if c.name != "unit"]
    table = pl.DataFrame({mz.header(source_contract(src).column(c), "canonical"): [ok.get(c, "")] for c in cols})
    land.reject_file(src, f"330106/{y0}_缺列_{stem}.csv", table.write_csv().encode("utf-8"), "missing_required_column",
                     "missing_required_column", column="计量单位")
    first = sorted(state["energy_files"])[0]
    dup = str(Path(first).with_name(Path(first).stem + "_重复上报" + Path(first).suffix))
    (land.out / src / dup).write_bytes((land.out / src / first).read_bytes())
    land.files[src].append(f"{src}/{dup}")
    land.cases.append({"source": src, "file": f"{src}/{dup}", "case": "duplicate_file", "reason": None,
                       "duplicate_of": f"{src}/{first}"})


# --- 亩均 and 碳效码 ---------------------------------------------------------------------------

def _annual_extras(text: pl.DataFrame, source: str, rng) -> pl.DataFrame:
    """Columns the source systems add: a running number, and for 亩均 the ratios it computed."""
    extras = {}
    if rng.random() < 0.5:
        extras[f"{EXTRA}序号"] = pl.int_range(1, pl.len() + 1).cast(pl.String)
    if source == "mu_evaluations" and rng.random() < 0.6:
        extras[f"{EXTRA}亩均税收"] = render.plain_number(pl.col("_tax_per_mu").round(2)).fill_null("")
        extras[f"{EXTRA}亩均增加值"] = render.plain_number(pl.col("_va_per_mu").round(2)).fill_null("")
    text = text.with_columns(**extras)
    if f"{EXTRA}序号" in extras:  # the running number comes first
        text = text.select(f"{EXTRA}序号", pl.exclude(f"{EXTRA}序号"))
    return text


def _annual_year(land: Landing, source: str, year: int, truth: pl.DataFrame, y0: int) -> None:
    rng = np.random.default_rng([land.seed, 21 if source == "mu_evaluations" else 22, year])
    stem = STEM[source]
    t = truth.with_row_index("_order").with_columns(_k=pl.lit(1, pl.Int8))
    if source == "mu_evaluations":  # numeric copies for the ratio columns the source system adds
        t = t.with_columns(_tax_per_mu=pl.col("tax_10k_yuan") / pl.col("land_mu"),
                           _va_per_mu=pl.col("va_10k_yuan") / pl.col("land_mu"))
    if land.messy:
        sets = mz.pick_rows(rng, t.height, {"later": 0.03, "dup": 0.01}, eligible=np.ones(t.height, bool))
        stale = mz.stale_annual(t[sets["later"]], source, rng)
        main = pl.concat([t.filter(~pl.col("_order").is_in(stale["_order"].implode())), stale]).sort("_order")
        text = render.annual_text(main, source, rng, True)
        dups = text.filter(pl.col("_order").is_in(pl.Series(sets["dup"]).cast(pl.UInt32).implode()))
        text = pl.concat([text, dups.with_columns(_k=pl.lit(2, pl.Int8))]).sort("_order", "_k")
        land.note_revisions(source, superseded_in_later_file=len(sets["later"]),
                            exact_duplicates_same_file=len(sets["dup"]))
    else:
        sets, text = None, render.annual_text(t, source, rng, False)
    name_base = f"{year}_1_{stem}"
    rng_f = land.file_rng(name_base)
    if land.messy or land.formats == "mixed":  # benchmark CSVs carry the canonical columns only
        text = _annual_extras(text, source, rng_f)
    body = _body(text, source)
    if land.messy and year == y0:
        planted = mz.annual_planted(source, y0)
        body = pl.concat([body, mz.planted_frame(planted, [c for c in body.columns if not c.startswith(EXTRA)])],
                         how="diagonal")
        land.plant(source, planted)
    fmt = land.next_format(source, body.height)
    layout = land.layout(source, fmt, rng_f, body.height, year=year)
    land.write(source, f"{name_base}.{EXTENSION[fmt]}", fmt, body, layout, body.height)
    if sets is not None:  # the corrected rows, delivered in a file whose name sorts later
        name_base = f"{year}_2_{stem}_更正"
        corr = render.annual_text(t[sets["later"]], source, rng, True)
        body = _body(corr, source)
        fmt = land.next_format(source, body.height)
        layout = land.layout(source, fmt, land.file_rng(name_base), body.height, year=year)
        land.write(source, f"{name_base}.{EXTENSION[fmt]}", fmt, body, layout, body.height)


def _annual_whole_files(land: Landing, y0: int) -> None:
    src = "mu_evaluations"
    cols = [c for c in source_contract(src).source_columns if c.name != "land_mu"]
    row = {c.name: "" for c in cols} | dict(eval_year=str(y0), uscc=mz.fake_uscc(600), district_code="330106",
                                            industry_code="3011", is_above_scale="是", va_10k_yuan="2000")
    table = pl.DataFrame({mz.header(c, "clean"): [row[c.name]] for c in cols})
    land.reject_file(src, f"{y0}_3_{STEM[src]}_缺列.csv", table.write_csv().encode("utf-8"),
                     "missing_required_column", "missing_required_column", column="用地面积")
    if land.formats == "mixed":
        land.reject_file("carbon_codes", f"{y0}_9_{STEM['carbon_codes']}_损坏.xls", mz.garbage_bytes(land.seed + 1),
                         "binary_garbage", "unreadable_file")


# --- entry point -----------------------------------------------------------------------------

def generate_landing(out_dir: Path, enterprises: int = 500, years: tuple[int, int] = (2020, 2025),
                     seed: int = 0, messy: bool = False, formats: str = "mixed") -> dict:
    """Write `out_dir/{energy_reports,mu_evaluations,carbon_codes,enterprise_register,va_growth,
    green_manufacturing,product_energy}/`
    and return a summary:
    files written, truth rows per source, data rows written, planted quarantine rows per
    reason, whole-file cases and revisions."""
    y0, y1 = check_years(years)
    land = Landing(Path(out_dir), seed, messy, formats)
    truth_rows = {s: 0 for s in SOURCES}
    state: dict = {}
    seen = []  # the months each firm reports, for the register
    pop = population(enterprises, (y0, y1), seed)
    va_months = []  # each firm's months with their real value added, for the 增加值增速
    for year, energy, mu, carbon in iter_years(enterprises, (y0, y1), seed):
        seen.append(register.presence(energy))
        va_months.append(vg.firm_months(energy, pop, seed, year))
        truth_rows["energy_reports"] += energy.height
        truth_rows["mu_evaluations"] += mu.height
        truth_rows["carbon_codes"] += carbon.height
        _energy_year(land, year, energy, y0, state)
        _annual_year(land, "mu_evaluations", year, mu, y0)
        _annual_year(land, "carbon_codes", year, carbon, y0)
    register_cases = register.write_register(land, pl.concat(seen), y0, y1)
    va_cases = vg.write_va_growth(land, pl.concat(va_months))
    if messy:
        _energy_whole_files(land, y0, state)
        _annual_whole_files(land, y0)
    # green lists and product reports (docs/green.md): drawn on a stream of their own, after the
    # other sources, so those keep their bytes for a given seed
    green = generate_green(land.out, enterprises, (y0, y1), seed, messy)
    land.files |= green["files"]
    land.rows_written |= green["rows_written"]
    land.quarantine |= green["quarantine_rows"]
    land.total_rows |= {source: 0 for source in green["files"]}  # the lists and product reports have none
    by_reason: dict[str, int] = {}
    for counts in land.quarantine.values():
        for r, n in counts.items():
            by_reason[r] = by_reason.get(r, 0) + n
    return {
        "out_dir": str(land.out), "enterprises": enterprises, "years": [y0, y1], "seed": seed,
        # Every accepted row is dated at the latest in this month: any as-of from it to the current
        # month gives the same release (the planted future rows are refused under all of them).
        "as_of_from": f"{y1}-12",
        "messy": messy, "formats": formats,
        "files": {s: sorted(f) for s, f in land.files.items()},
        "rows": truth_rows,
        "rows_written": land.rows_written,
        "total_rows": land.total_rows,
        "quarantine_rows": {s: dict(sorted(c.items())) for s, c in land.quarantine.items()},
        "quarantine_by_reason": dict(sorted(by_reason.items())),
        "file_formats": dict(sorted(land.file_formats.items())),
        "spreadsheet_layouts": dict(sorted(land.layouts.items())),
        "whole_file_cases": land.cases,
        "revisions": land.revisions,
        "register": register_cases,
        "green": {k: green[k] for k in ("cases", "product_makers", "drawn_over_limit")},
        "va_growth": va_cases,
    }
