"""The enterprise register (规上工业企业名录) of a generated landing (docs/monthly.md): one full
list a year, as of December, derived from the months each firm reports, with the cases a
statistics bureau meets: entries and exits during the years, a re-entry (two spells), firms
reporting without being registered, registered firms that never report, and (messy) rows to
quarantine."""

import numpy as np
import polars as pl

from sample_data import messy as mz
from sample_data.writers import EXTENSION

SOURCE = "enterprise_register"
STEM = "规上工业企业名录"
TITLES = ["杭州市规模以上工业企业名录", "名录期：{period}", "数据来源：杭州市统计局"]


def presence(energy: pl.DataFrame) -> pl.DataFrame:
    """The months a firm reports in one year of generated energy rows, with its identity."""
    return energy.group_by("uscc", "year", "month").agg(
        pl.col("enterprise_name").first(), pl.col("_district_now").first().alias("district_code"),
        pl.col("industry_code").first(), pl.col("township").first(),
    )


def _key(year: int, month: int) -> int:
    return year * 12 + month - 1


def _month(key: int) -> str:
    return f"{key // 12}-{key % 12 + 1:02d}"


def spells(seen: pl.DataFrame, y0: int, y1: int, seed: int) -> tuple[pl.DataFrame, dict]:
    """One spell per firm from its first to its last reported month (open when it reports in
    the last month generated), then the planted cases. Returns the spells (uscc, identity,
    entry_month, exit_month as 'YYYY-MM' or null) and what was planted."""
    rng = np.random.default_rng([seed, 40])
    last = _key(y1, 12)
    firms = (
        seen.with_columns(k=pl.col("year") * 12 + pl.col("month") - 1)
        .sort("uscc", "k")
        .group_by("uscc", maintain_order=True)
        .agg(pl.col("k").min().alias("first"), pl.col("k").max().alias("last"),
             pl.col("enterprise_name").last(), pl.col("district_code").last(),
             pl.col("industry_code").last(), pl.col("township").last())
    )
    usccs = firms["uscc"].to_list()
    order = rng.permutation(len(usccs))
    unregistered = {usccs[i] for i in order[:2]}  # they report, the register does not list them
    reentry = usccs[order[2]] if len(usccs) > 2 else None
    rows = []
    for r in firms.iter_rows(named=True):
        if r["uscc"] in unregistered:
            continue
        exit_ = None if r["last"] == last else _month(r["last"] + 1)
        ident = {k: r[k] for k in ("uscc", "enterprise_name", "district_code", "industry_code", "township")}
        if r["uscc"] == reentry and r["last"] - r["first"] >= 12:
            # out of the register for six months (it keeps reporting: unexpected), then back in
            mid = r["first"] + (r["last"] - r["first"]) // 2
            rows.append({**ident, "entry_month": _month(r["first"]), "exit_month": _month(mid)})
            rows.append({**ident, "entry_month": _month(mid + 6), "exit_month": exit_})
        else:
            rows.append({**ident, "entry_month": _month(r["first"]), "exit_month": exit_})
    silent = []
    for i in range(2):  # registered from the first month, never report: missing every month
        code = mz.fake_uscc(700 + i)
        silent.append(code)
        rows.append({"uscc": code, "enterprise_name": f"杭州未报示例{i + 1}有限公司", "district_code": "330106",
                     "industry_code": "3011", "township": None, "entry_month": f"{y0}-01", "exit_month": None})
    planted = {"unregistered_reporters": sorted(unregistered), "reentry": reentry, "never_reporting": silent}
    return pl.DataFrame(rows, schema={c: pl.String for c in rows[0]}), planted


def list_as_of(spells_: pl.DataFrame, year: int) -> pl.DataFrame:
    """The full list as of December of ``year``: every spell that started by then and had not
    ended before January (a spell ending during the year is listed with its 退出年月)."""
    start, end = f"{year}-12", f"{year}-01"
    return spells_.filter((pl.col("entry_month") <= start)
                          & (pl.col("exit_month").is_null() | (pl.col("exit_month") > end)))


def planted_rows(y0: int) -> list[dict]:
    """Register rows that each fail one check (messy landings)."""
    base = dict(enterprise_name="杭州名录问题测试有限公司", district_code="330106", industry_code="3011",
                entry_month=f"{y0}-03", exit_month="")
    return [
        {**base, "uscc": mz._bad_check(mz.fake_uscc(801)), "_reason": "invalid_uscc"},
        {**base, "uscc": mz.fake_uscc(802), "district_code": "火星区", "_reason": "unknown_district"},
        {**base, "uscc": mz.fake_uscc(803), "entry_month": f"{y0}年13月", "_reason": "invalid_period"},
        {**base, "uscc": mz.fake_uscc(804), "entry_month": f"{y0}-06", "exit_month": f"{y0}-06",
         "_reason": "invalid_period"},
    ]


def write_register(land, seen: pl.DataFrame, y0: int, y1: int) -> dict:
    """One list file a year into ``land`` (sample_data.landing.Landing), in the format rotation
    of the run; returns what was planted."""
    all_spells, planted = spells(seen, y0, y1, land.seed)
    for year in range(y0, y1 + 1):
        listed = list_as_of(all_spells, year).with_columns(list_period=pl.lit(f"{year}-12"))
        text = listed.select("list_period", "uscc", "enterprise_name", "district_code", "township",
                             "industry_code", "entry_month", "exit_month")
        if land.messy and year == y0:
            bad = planted_rows(y0)
            text = pl.concat([text, mz.planted_frame([{**r, "list_period": f"{year}-12"} for r in bad], text.columns)],
                             how="diagonal")
            land.plant(SOURCE, bad)
        name_base = f"{year}_12_{STEM}"
        fmt = land.next_format(SOURCE, text.height)
        layout = land.layout(SOURCE, fmt, land.file_rng(name_base), text.height, period=f"{year}-12")
        land.write(SOURCE, f"{name_base}.{EXTENSION[fmt]}", fmt, text, layout, text.height)
    return planted
