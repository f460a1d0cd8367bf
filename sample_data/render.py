"""Turn typed records into the text a person or an export system would have written.

`clean` renders canonical forms (codes, `YYYY-MM`, plain numbers). `messy` picks, per row
and column, one of the written forms of docs/sources.md, every one of which parses back to
the same value. All choices are vectorised polars expressions over a seeded variant column.
"""

import numpy as np
import polars as pl

from data_contracts import source_contract
from sample_data import rules

FULL_WIDTH = [chr(0xFF10 + i) for i in range(10)]
ZERO_FORMS = ["-", "—", "－", "", "0"]  # "nothing reported" for a quantity of energy
NULL_FORMS = ["", "-"]  # "nothing reported" for any other measure


def pick(rng: np.random.Generator, n: int, weights: list[float]) -> pl.Series:
    """A variant number per row, drawn with the given weights."""
    w = np.asarray(weights, float)
    return pl.Series(rng.choice(len(w), size=n, p=w / w.sum()).astype(np.int8))


def choose(v: pl.Expr, options: list[pl.Expr]) -> pl.Expr:
    """options[v] per row."""
    e = options[-1]
    for i in range(len(options) - 2, -1, -1):
        e = pl.when(v == i).then(options[i]).otherwise(e)
    return e


def plain_number(col: str | pl.Expr, decimals: int | None = None) -> pl.Expr:
    """Shortest text that parses back to the same float (`12.5`, `310` rather than `310.0`)."""
    e = pl.col(col) if isinstance(col, str) else col
    return e.cast(pl.String).str.replace(r"\.0$", "")


def thousands(s: pl.Expr) -> pl.Expr:
    """`1234567.25` → `1,234,567.25` (sign and decimals kept)."""
    parts = s.str.extract_groups(r"^(-?)(\d+)(\.\d+)?$")
    grouped = (parts.struct.field("2").str.reverse().str.replace_all(r"(\d{3})", "${1},")
               .str.strip_suffix(",").str.reverse())
    return pl.concat_str([parts.struct.field("1"), grouped, parts.struct.field("3").fill_null("")])


def full_width(s: pl.Expr) -> pl.Expr:
    return s.str.replace_many([str(i) for i in range(10)], FULL_WIDTH)


def messy_number(s: pl.Expr, v: pl.Expr) -> pl.Expr:
    """Variant 0 plain, 1 thousands separators, 2 full-width digits, 3 surrounding spaces."""
    return choose(v, [s, thousands(s), full_width(s), pl.concat_str([pl.lit(" "), s, pl.lit("  ")])])


def quantity(col: str, messy: bool, vn: pl.Expr, vz: pl.Expr) -> pl.Expr:
    """An energy quantity: zero may be written as nothing (`-`, `—`, `－`, empty)."""
    s = plain_number(col)
    if not messy:
        return s
    zero = choose(vz, [pl.lit(z) for z in ZERO_FORMS])
    return pl.when(pl.col(col) == 0).then(zero).otherwise(messy_number(s, vn))


def measure(col: str, messy: bool, vn: pl.Expr, vz: pl.Expr) -> pl.Expr:
    """Any other number: null is written as empty (or `-`)."""
    s = plain_number(col)
    if not messy:
        return s.fill_null("")
    return pl.when(pl.col(col).is_null()).then(choose(vz % 2, [pl.lit(z) for z in NULL_FORMS])).otherwise(
        messy_number(s, vn))


# --- identity columns -------------------------------------------------------------------

def district_forms() -> tuple[list[str], list[str], list[str], list[str]]:
    """codes, names (`西湖区`), city-prefixed names (`杭州市西湖区`), short names (`西湖`)."""
    ds = [d for d in rules.districts().values() if d.kind != "city"]
    codes = [d.code for d in ds]
    return codes, [d.name for d in ds], ["杭州市" + d.name for d in ds], [d.name[:-1] for d in ds]


def district(col: str, messy: bool, v: pl.Expr) -> pl.Expr:
    if not messy:
        return pl.col(col)
    codes, names, city, short = district_forms()
    c = pl.col(col)
    return choose(v, [c, c.replace_strict(codes, names), c.replace_strict(codes, city),
                      c.replace_strict(codes, short)])


def uscc(col: str, messy: bool, v: pl.Expr) -> pl.Expr:
    if not messy:
        return pl.col(col)
    c = pl.col(col)
    return choose(v, [c, c.str.to_lowercase(), pl.concat_str([pl.lit(" "), c, pl.lit(" ")]),
                      pl.concat_str([c.str.to_lowercase(), pl.lit("  ")])])


def industry(col: str, messy: bool, v: pl.Expr) -> pl.Expr:
    """The code as reported; messy adds the section letter (`C3011`) to some rows."""
    if not messy:
        return pl.col(col)
    ind = rules.industries()
    section = pl.col(col).str.slice(0, 2).replace_strict(list(ind), [r["section"] for r in ind.values()])
    return choose(v, [pl.col(col), pl.concat_str([section, pl.col(col)])])


def period(messy: bool, v: pl.Expr) -> pl.Expr:
    """`2024-03`, `202403`, `2024年3月`, `2024/3`, `2024.03`."""
    y, m = pl.col("year").cast(pl.String), pl.col("month").cast(pl.String)
    mm = m.str.zfill(2)
    if not messy:
        return pl.concat_str([y, pl.lit("-"), mm])
    return choose(v, [pl.concat_str([y, pl.lit("-"), mm]), pl.concat_str([y, mm]),
                      pl.concat_str([y, pl.lit("年"), m, pl.lit("月")]),
                      pl.concat_str([y, pl.lit("/"), m]), pl.concat_str([y, pl.lit("."), mm])])


def year(col: str, messy: bool, v: pl.Expr) -> pl.Expr:
    """`2024`, `2024年`, `2024年度`."""
    y = pl.col(col).cast(pl.String)
    if not messy:
        return y
    return choose(v, [y, pl.concat_str([y, pl.lit("年")]), pl.concat_str([y, pl.lit("年度")])])


def category(source: str, col: str, messy: bool, v: pl.Expr) -> pl.Expr:
    """A category in one of its contract forms (是/Y/1, A/A类, 1/一级/1级); null → empty."""
    forms: dict = {}
    for form, value in source_contract(source).column(col).enum_forms.items():
        forms.setdefault(value, []).append(form)
    values = sorted(forms, key=str)
    c = pl.col(col)
    if not messy:
        out = c.replace_strict(values, [forms[x][0] for x in values], return_dtype=pl.String)
    else:
        k = max(len(f) for f in forms.values())
        out = choose(v % k, [c.replace_strict(values, [forms[x][i % len(forms[x])] for x in values],
                                              return_dtype=pl.String) for i in range(k)])
    return out.fill_null("")


# --- energy units -----------------------------------------------------------------------

def unit_variants(df: pl.DataFrame, rng: np.random.Generator, share: float) -> pl.DataFrame:
    """For a share of rows, rewrite the unit to another of its dimension (千瓦时, 立方米, kg, GJ, MWh…)
    with the quantities converted, but only where converting back gives the very same float
    (multiplying by to_canonical, or dividing by its inverse), so the truth is unchanged, and
    where the converted number is written without an exponent (no `9e-7` 万吨)."""
    et = rules.energy_types()
    n = df.height
    unit = df["unit"].to_numpy().astype(object)
    qty = {c: df[c].to_numpy().copy() for c in ("consumption", "feedstock", "conversion_output")}
    out = {c: v.copy() for c, v in qty.items()}
    dims = df["energy_code"].replace_strict(list(et), [t.dimension for t in et.values()]).to_numpy()
    dec = df["energy_code"].replace_strict(list(et), [t.decimals for t in et.values()]).to_numpy()
    wanted = rng.random(n) < share
    pick_ = rng.integers(0, 1000, n)
    for dim, alts in rules.units_by_dimension().items():
        rows = np.flatnonzero(wanted & (dims == dim))
        if not len(rows) or not alts:
            continue
        choice = pick_[rows] % len(alts)
        for k, (name, factor) in enumerate(alts):
            r = rows[choice == k]
            ok = np.ones(len(r), bool)
            raw = {}
            for c, v in qty.items():
                places = np.maximum(dec[r] + int(round(np.log10(factor))), 0)
                raw[c] = np.round(v[r] / factor, places.max() if len(places) else 0)
                ok &= (raw[c] * factor == v[r]) & (raw[c] / (1 / factor) == v[r])
                ok &= (raw[c] == 0) | ((raw[c] >= 1e-3) & (raw[c] < 1e12))  # written without an exponent
            r = r[ok]
            unit[r] = name
            for c in qty:
                out[c][r] = raw[c][ok]
    return df.with_columns(unit=pl.Series(unit.tolist(), dtype=pl.String),
                           **{c: pl.Series(out[c]) for c in qty})


def energy_text(df: pl.DataFrame, rng: np.random.Generator, messy: bool) -> pl.DataFrame:
    """Energy report rows as text, keyed by contract column name (plus helper columns kept)."""
    n = df.height
    if messy:
        df = unit_variants(df, rng, share=0.12)
    v = {k: pick(rng, n, w) for k, w in {
        "uscc": [80, 8, 6, 6], "district": [55, 20, 10, 15], "industry": [88, 12],
        "period": [40, 15, 20, 15, 10], "code": [90, 10], "name_only": [96, 4],
        "num_c": [70, 10, 10, 10], "num_f": [70, 10, 10, 10], "num_o": [70, 10, 10, 10],
        "zero_c": [1, 1, 1, 1, 1], "zero_f": [1, 1, 1, 4, 1], "zero_o": [1, 1, 1, 4, 1],
        "date": [1, 1]}.items()} if messy else {}
    V = lambda k: pl.lit(v[k]) if messy else pl.lit(0)  # noqa: E731
    code = pl.col("energy_code")
    if messy:
        # a lost leading zero (`1` = `01`); or the energy given by name only
        code = pl.when(V("code") == 1).then(code.str.strip_chars_start("0")).otherwise(code)
        code = pl.when(V("name_only") == 1).then(pl.lit("")).otherwise(code)
    ts_full = pl.col("submitted_at").dt.strftime("%Y-%m-%d %H:%M:%S")
    ts = ts_full
    if messy:  # a midnight submission may be written as a date
        midnight = pl.col("submitted_at").dt.time() == pl.time(0)
        ts = pl.when(midnight & (V("date") == 1)).then(pl.col("submitted_at").dt.strftime("%Y-%m-%d")).otherwise(ts_full)
    return df.with_columns(
        uscc=uscc("uscc", messy, V("uscc")),
        district_code=district("district_code", messy, V("district")),
        township=pl.col("township").fill_null(""),
        industry_code=industry("industry_code", messy, V("industry")),
        period=period(messy, V("period")),
        energy_code=code,
        consumption=quantity("consumption", messy, V("num_c"), V("zero_c")),
        feedstock=quantity("feedstock", messy, V("num_f"), V("zero_f")) if messy else
        pl.when(pl.col("feedstock") == 0).then(pl.lit("")).otherwise(plain_number("feedstock")),
        conversion_output=quantity("conversion_output", messy, V("num_o"), V("zero_o")) if messy else
        pl.when(pl.col("conversion_output") == 0).then(pl.lit("")).otherwise(plain_number("conversion_output")),
        submitted_at=ts,
    )


def annual_text(df: pl.DataFrame, source: str, rng: np.random.Generator, messy: bool) -> pl.DataFrame:
    """亩均 / 碳效码 rows as text, keyed by contract column name."""
    n = df.height
    c = source_contract(source)
    w = {"uscc": [80, 8, 6, 6], "district": [55, 20, 10, 15], "industry": [88, 12], "year": [50, 25, 25],
         "cat": [1, 1, 1, 1, 1, 1]}
    v = {k: pick(rng, n, x) for k, x in w.items()} if messy else {}
    V = lambda k: pl.lit(v[k]) if messy else pl.lit(0)  # noqa: E731
    exprs = {
        "eval_year": year("eval_year", messy, V("year")),
        "uscc": uscc("uscc", messy, V("uscc")),
        "district_code": district("district_code", messy, V("district")),
        "township": pl.col("township").fill_null(""),
        "industry_code": industry("industry_code", messy, V("industry")),
    }
    for col in c.source_columns:
        if col.name in exprs or col.logical_type == "string" and col.parse == "text":
            continue
        if col.parse == "category":
            exprs[col.name] = category(source, col.name, messy, V("cat"))
        elif col.logical_type == "number":
            vn = pl.lit(pick(rng, n, [70, 10, 10, 10])) if messy else pl.lit(0)
            vz = pl.lit(pick(rng, n, [1] * len(ZERO_FORMS))) if messy else pl.lit(0)
            if col.parse == "energy_quantity":
                exprs[col.name] = quantity(col.name, messy, vn, vz)
            else:
                exprs[col.name] = measure(col.name, messy, vn, vz)
    return df.with_columns(**exprs)
