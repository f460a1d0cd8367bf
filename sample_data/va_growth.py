"""规上工业增加值增速 of a generated landing (docs/monthly.md): the growth the statistics bureau
would publish for the generated enterprises — per district and for the city, month and 1–N月, at
comparable (2020) prices over the enterprises reporting in the same month of both years (each
firm's real value added of the year spread evenly over its months). Messy landings add rows to
quarantine and a revised figure that supersedes the first."""

import polars as pl

from sample_data import messy as mz
from sample_data.energy import firm_year_va
from sample_data.population import Population
from sample_data.writers import EXTENSION

SOURCE = "va_growth"
STEM = "规上工业增加值增速"
TITLES = ["杭州市规模以上工业增加值增速", "报告期：{year}年", "数据来源：杭州市统计局"]
CITY_CODE, CITY_NAME = "330100", "杭州市"


def firm_months(energy: pl.DataFrame, pop: Population, seed: int, year: int) -> pl.DataFrame:
    """(uscc, year, month, district_code, va): each firm's months reported in ``year`` with a
    twelfth of its real value added of the year."""
    va = firm_year_va(pop, seed, year)
    months = energy.group_by("uscc", "month").agg(pl.col("_firm").first(), pl.col("_district_now").first())
    return months.select(
        "uscc", pl.lit(year, pl.Int32).alias("year"), pl.col("month").cast(pl.Int32),
        pl.col("_district_now").alias("district_code"),
        pl.col("_firm").map_elements(lambda i: float(va[i]) / 12, return_dtype=pl.Float64).alias("va"),
    )


def growth(months: pl.DataFrame) -> pl.DataFrame:
    """Per scope (each district and the city) × year × month: 本月增速 and 累计增速 in percent,
    one decimal, over the firm-months present in both years (years with a previous year only)."""
    prev = months.select("uscc", (pl.col("year") + 1).alias("year"), "month", pl.col("va").alias("va_prev"))
    pairs = months.join(prev, on=["uscc", "year", "month"], how="inner")
    both = pl.concat([pairs, pairs.with_columns(pl.lit(CITY_CODE).alias("district_code"))])
    per_month = both.group_by("district_code", "year", "month").agg(pl.col("va").sum(), pl.col("va_prev").sum())
    per_month = per_month.sort("district_code", "year", "month").with_columns(
        pl.col("va").cum_sum().over("district_code", "year").alias("va_ytd"),
        pl.col("va_prev").cum_sum().over("district_code", "year").alias("va_prev_ytd"),
    )
    pct = lambda a, b: ((pl.col(a) / pl.col(b) - 1) * 100).round(1)  # noqa: E731
    return per_month.select("district_code", "year", "month", pct("va", "va_prev").alias("month_pct"),
                            pct("va_ytd", "va_prev_ytd").alias("ytd_pct"))


def planted_rows(year: int) -> list[dict]:
    """增速 rows that each fail one check (messy landings)."""
    base = dict(district_code="330106", period=f"{year}-06", va_growth_month_pct="3.1", va_growth_ytd_pct="2.9")
    return [
        {**base, "district_code": "火星区", "_reason": "unknown_district"},
        {**base, "period": f"{year}年13月", "_reason": "invalid_period"},
        {**base, "va_growth_month_pct": "五点二", "_reason": "unparseable_number"},
        {**base, "va_growth_ytd_pct": "-100", "_reason": "negative_value"},
    ]


def _text(g: pl.DataFrame) -> pl.DataFrame:
    # the city by name, districts by code or name as bureaus write them
    name = pl.when(pl.col("district_code") == CITY_CODE).then(pl.lit(CITY_NAME)).otherwise(pl.col("district_code"))
    return g.select(
        name.alias("district_code"),
        pl.format("{}-{}", pl.col("year"), pl.col("month").cast(pl.String).str.zfill(2)).alias("period"),
        pl.col("month_pct").cast(pl.String).fill_null("").alias("va_growth_month_pct"),
        pl.col("ytd_pct").cast(pl.String).fill_null("").alias("va_growth_ytd_pct"),
        pl.lit("").alias("submitted_at"),
    )


def write_va_growth(land, months: pl.DataFrame) -> dict:
    """One file a year into ``land`` (sample_data.landing.Landing); messy: planted rows in the
    first file and a revised figure (a later 上报时间) for the city's last 1–N月. Returns the
    published growth (percent) and the revision planted."""
    g = growth(months)
    revised = None
    for year in sorted(set(g["year"].to_list())):
        rng = land.file_rng(f"{year}_{STEM}")
        text = _text(g.filter(pl.col("year") == year))
        if land.messy and year == g["year"].min():
            bad = planted_rows(year)
            text = pl.concat([text, mz.planted_frame(bad, text.columns)], how="diagonal")
            land.plant(SOURCE, bad)
        name_base = f"{year}_{STEM}"
        fmt = land.next_format(SOURCE, text.height)
        layout = land.layout(SOURCE, fmt, rng, text.height, year=year)
        land.write(SOURCE, f"{name_base}.{EXTENSION[fmt]}", fmt, text, layout, text.height)
    if land.messy and not g.is_empty():
        last = g.filter(pl.col("district_code") == CITY_CODE).sort("year", "month").tail(1)
        year, month = last["year"][0], last["month"][0]
        revised = {"district_code": CITY_CODE, "year": year, "month": month,
                   "ytd_pct": round(last["ytd_pct"][0] + 0.3, 1)}
        text = pl.DataFrame({"district_code": [CITY_NAME], "period": [f"{year}-{month:02d}"],
                             "va_growth_month_pct": [str(last["month_pct"][0])],
                             "va_growth_ytd_pct": [str(revised["ytd_pct"])],
                             "submitted_at": [f"{year + 1}-02-20 10:00:00"]})
        land.note_revisions(SOURCE, superseded=1)
        land.write(SOURCE, f"{year}_{STEM}_修订.csv", "csv_utf8", text, None, 1)
    return {"revised": revised}
