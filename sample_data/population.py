"""The enterprise population: who the firms are, where, in which industry, and how big.

Everything is drawn once per (seed, enterprises) with a seeded numpy Generator, one value per
firm, so every source and every year describes the same firms. Firms are sorted by USCC so
that rows generated in firm order are already in file order.
"""

from dataclasses import dataclass

import numpy as np

from ingestion.uscc import USCC_CHARSET, check_character
from sample_data import rules

# Share of Hangzhou's industrial firms per current district (sample-data assumption: the
# industrial outer districts dominate, the city centre has few factories).
DISTRICT_WEIGHT = {
    "330109": 17, "330111": 11, "330113": 10, "330114": 10, "330110": 9, "330112": 7,
    "330108": 7, "330122": 6, "330106": 5, "330105": 5, "330182": 5, "330102": 4, "330127": 2,
}

# Relative number of firms per division (default 1 for manufacturing; Hangzhou's textile,
# machinery, electrical and chemical clusters are large; mining and utilities are few).
DIVISION_WEIGHT = {
    "17": 7, "18": 3, "26": 4, "28": 2, "30": 4, "34": 5, "38": 5, "39": 4, "33": 3, "29": 3,
    "22": 2, "27": 2, "35": 3, "36": 2, "40": 2, "25": 0.4, "31": 0.5, "32": 1, "44": 1,
    "45": 0.3, "46": 0.5, "16": 0.1, "43": 0.3, "10": 0.4,
}
SECTION_WEIGHT = {"B": 0.0, "C": 1.0, "D": 1.0}  # B only where listed above

# Energy intensity (tce per 10k yuan of value added, 2020 prices) typical of a division.
# Division 44 is low here because its own generation adds the fuel burnt for the power it sells.
INTENSITY_HIGH_ENERGY = 0.6
INTENSITY_TEXTILE = 0.22
INTENSITY_OTHER = 0.04
INTENSITY_OVERRIDE = {"44": 0.3, "25": 0.9, "22": 0.26, "13": 0.06, "14": 0.06, "15": 0.05}
SMALL_FIRM_TCE = 300  # only firms below this size enter late or miss months (big ones report reliably)

# Short trade words for firm names.
NAME_CHARS = "恒达华新宏远盛泰永丰鑫荣明升汇利隆昌和嘉瑞祥信诚宇天正安富金鼎东方中航益源兴海伟"
NAME_TRADE = {
    "17": "纺织", "18": "服饰", "22": "纸业", "25": "石化", "26": "化工", "27": "药业", "28": "化纤",
    "29": "塑业", "30": "建材", "31": "钢铁", "32": "金属材料", "33": "五金", "34": "机械", "35": "装备",
    "36": "汽车部件", "38": "电气", "39": "电子", "40": "仪器", "44": "热电", "13": "食品", "14": "食品",
    "15": "饮料", "45": "燃气", "46": "水务",
}
# 江干 streets that went to 上城 in 2021 (not in district_splits.csv: they follow successor_code).
JIANGGAN_TO_SHANGCHENG_TOWNS = ("笕桥街道", "丁兰街道", "彭埠街道", "九堡街道")


@dataclass
class Population:
    uscc: np.ndarray          # str, sorted
    name: np.ndarray          # str
    district: np.ndarray      # today's district code
    district_old: np.ndarray  # code reported up to 2021-03 / evaluation year 2020
    township: np.ndarray      # str or None
    division: np.ndarray      # 2-digit
    industry_code: np.ndarray  # as reported (class, group or division), no section letter
    section: np.ndarray       # section letter of the division (for the `C3011` variant)
    above_scale: np.ndarray   # bool
    va0: np.ndarray           # value added 2020, 10k yuan, 2020 prices
    growth: np.ndarray        # real VA growth per year
    intensity: np.ndarray     # tce (net) per 10k yuan 2020 prices in 2020
    entry_month: np.ndarray   # months after the first report month before the firm reports
    date_only: np.ndarray     # submits with a date only (上报时间 at midnight)
    small: np.ndarray         # small enough to miss a month now and then

    @property
    def n(self) -> int:
        return len(self.uscc)


def _uscc(rng: np.random.Generator, n: int) -> np.ndarray:
    """Valid, distinct USCCs: `91` + 330100-ish admin code + `MA` + 7 chars + check.

    Distinctness comes from encoding the firm number in base 31; the middle characters are
    random so codes do not look sequential.
    """
    cs = np.array(list(USCC_CHARSET))
    admin = rng.choice(["330102", "330105", "330106", "330108", "330109", "330110", "330111",
                        "330122", "330182"], size=n)
    rand = cs[rng.integers(0, len(cs), size=(n, 2))]
    out = []
    for i in range(n):
        k, tail = i, []
        for _ in range(5):  # 31**5 ≈ 28.6M distinct firms
            k, r = divmod(k, 31)
            tail.append(USCC_CHARSET[r])
        first17 = "91" + admin[i] + "MA" + rand[i, 0] + rand[i, 1] + "".join(reversed(tail))
        out.append(first17 + check_character(first17))
    return np.array(out, dtype=object)


def _district(rng, n) -> np.ndarray:
    codes = [d.code for d in rules.current_districts()]
    w = np.array([DISTRICT_WEIGHT.get(c, 1) for c in codes], float)
    d = rng.choice(codes, size=n, p=w / w.sum()).astype(object)
    d[: min(n, len(codes))] = codes[: min(n, len(codes))]  # every district present even for small N
    return d


def _old_district(rng, district) -> tuple[np.ndarray, np.ndarray]:
    """Code and township reported before the 2021-04 boundary change, per today's district."""
    n = len(district)
    old = district.copy()
    town = np.full(n, None, dtype=object)
    splits = rules.district_splits()
    u = rng.random(n)
    has_town = rng.random(n) < 0.65
    pick = rng.integers(0, 1000, n)

    def towns_to(old_code, new_code):
        return [t for t, nc in splits.get(old_code, []) if nc == new_code]

    for i in np.flatnonzero(district == "330113"):  # 临平 was part of 余杭
        old[i] = "330110"
        ts = towns_to("330110", "330113")
        town[i] = ts[pick[i] % len(ts)] if has_town[i] else None
    for i in np.flatnonzero(district == "330114"):  # 钱塘: 下沙/白杨 from 江干, five streets of 萧山
        old[i] = "330104" if u[i] < 0.5 else "330109"
        ts = towns_to(old[i], "330114")
        town[i] = ts[pick[i] % len(ts)] if has_town[i] else None
    for i in np.flatnonzero((district == "330105") & (u < 0.5)):  # 下城 merged into 拱墅
        old[i] = "330103"
    for i in np.flatnonzero((district == "330102") & (u < 0.4)):  # 江干 (rest) went to 上城
        old[i] = "330104"
        ts = JIANGGAN_TO_SHANGCHENG_TOWNS
        town[i] = ts[pick[i] % len(ts)] if has_town[i] else None
    return old, town


def _division(rng, n) -> tuple[np.ndarray, np.ndarray]:
    ind = rules.industries()
    codes = list(ind)
    w = np.array([DIVISION_WEIGHT.get(c, SECTION_WEIGHT[ind[c]["section"]]) for c in codes], float)
    div = rng.choice(codes, size=n, p=w / w.sum()).astype(object)
    section = np.array([ind[c]["section"] for c in div], dtype=object)
    return div, section


def _industry_code(rng, division) -> np.ndarray:
    """Mostly 4-digit classes; some firms report only the group (3) or division (2 digits)."""
    n = len(division)
    g, c = rng.integers(1, 10, n), rng.integers(1, 10, n)
    level = rng.random(n)
    return np.array([
        d + str(g[i]) + str(c[i]) if level[i] < 0.85 else (d + str(g[i]) if level[i] < 0.95 else d)
        for i, d in enumerate(division)], dtype=object)


def _intensity(rng, division) -> np.ndarray:
    ind = rules.industries()

    def base(d):
        if d in INTENSITY_OVERRIDE:
            return INTENSITY_OVERRIDE[d]
        if ind[d]["high_energy"] == "true":
            return INTENSITY_HIGH_ENERGY
        return INTENSITY_TEXTILE if ind[d]["key_group"] == "纺织化纤" else INTENSITY_OTHER

    b = np.array([base(d) for d in division])
    return b * rng.lognormal(0.0, 0.5, len(division))


def _names(rng, district, division) -> np.ndarray:
    dist = rules.districts()
    n = len(district)
    a, b = rng.integers(0, len(NAME_CHARS), n), rng.integers(0, len(NAME_CHARS), n)
    form = np.where(rng.random(n) < 0.12, "股份有限公司", "有限公司")
    out = []
    for i in range(n):
        place = dist[district[i]].name[:-1]  # 西湖区 -> 西湖
        out.append(f"杭州{place}{NAME_CHARS[a[i]]}{NAME_CHARS[b[i]]}{NAME_TRADE.get(division[i], '实业')}{form[i]}")
    return np.array(out, dtype=object)


def make_population(enterprises: int, seed: int, n_months: int) -> Population:
    """Draw `enterprises` firms; `n_months` is the length of the report window (for late entry)."""
    rng = np.random.default_rng([seed, 1])
    n = enterprises
    uscc = _uscc(rng, n)
    district = _district(rng, n)
    old, town = _old_district(rng, district)
    division, section = _division(rng, n)
    high = np.array([rules.industries()[d]["high_energy"] == "true" for d in division])
    above = rng.random(n) >= 0.15  # ~15% of evaluated firms are below scale (规下)
    va0 = rng.lognormal(np.log(900.0), 1.0, n) * np.where(high, 1.8, 1.0) * np.where(above, 1.0, 0.3)
    intensity = _intensity(rng, division)
    small = va0 * intensity < SMALL_FIRM_TCE
    entry = np.zeros(n, dtype=np.int64)
    late = small & (rng.random(n) < 0.05)  # a few firms enter the reporting system later
    if n_months > 18:
        entry[late] = rng.integers(12, n_months - 6, late.sum())
    pop = Population(
        uscc=uscc, name=_names(rng, district, division), district=district, district_old=old,
        township=town, division=division, industry_code=_industry_code(rng, division),
        section=section, above_scale=above, va0=va0,
        growth=rng.normal(0.055, 0.03, n), intensity=intensity,
        entry_month=entry, date_only=rng.random(n) < 0.1, small=small,
    )
    order = np.argsort(pop.uscc, kind="stable")
    for f in pop.__dataclass_fields__:
        setattr(pop, f, getattr(pop, f)[order])
    return pop
