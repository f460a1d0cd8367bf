"""Checking and installing reference data the bureau maintains (docs/reference_data.md).

A statistician puts new versions of reference files in a folder (emission_factors.csv,
deflators.csv, mu_rules.csv, product_energy_limits.csv, thresholds.csv, ...; named as the files of
dbt_project/seeds/) and runs `hzcarbon reference validate DIR`: every problem is reported with
the file, the row a person sees in it (the header is row 1) and the reason. `hzcarbon reference
load DIR --by NAME` then installs them for the next run: a file of versioned sets (factor sets,
rule sets, limit sets) adds its new set ids to the seed, any other file replaces the seed; every
load is recorded in dbt_project/reference_loads.csv.
"""

import csv
import hashlib
import io
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from data_contracts.reference import LOAD_LOG, NOTE_COLUMN, REFERENCE_FILES, SEEDS_DIR, SET_COLUMNS

LOAD_LOG_HEADER = ["loaded_at", "loaded_by", "file", "set_ids", "rows", "sha256"]
CONFIDENCE = {"high", "medium", "low", "estimated", "n/a"}
LIMIT_UNITS = {"kgce/t", "kgce/重量箱", "kgce/m2"}
ELECTRICITY = "33"
YEAR_RANGE = (2000, 2100)


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None  # the row a person sees (header = 1); None for the file as a whole
    reason: str

    def __str__(self) -> str:
        return f"{self.file}{f' row {self.row}' if self.row else ''}: {self.reason}"


@dataclass
class Table:
    """A reference CSV as text: its header and its rows (dicts), each with its row number."""

    name: str
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]

    @classmethod
    def read(cls, path: Path) -> "Table":
        text = path.read_bytes().decode("utf-8-sig")
        reader = csv.reader(io.StringIO(text))
        lines = list(reader)
        header = [h.strip() for h in lines[0]] if lines else []
        rows = []
        for number, cells in enumerate(lines[1:], start=2):
            if not any(c.strip() for c in cells):
                continue
            rows.append((number, {h: (cells[i].strip() if i < len(cells) else None) for i, h in enumerate(header)}
                         | ({"__extra__": "1"} if len(cells) > len(header) else {})))
        return cls(path.stem, header, rows)

    def column(self, name: str) -> list[str]:
        return [r.get(name) or "" for _, r in self.rows]


_installed = {"dir": SEEDS_DIR}  # the seeds compared against and loaded into (tests use a copy)


def _seed(name: str) -> Table | None:
    path = _installed["dir"] / f"{name}.csv"
    return Table.read(path) if path.exists() else None


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


class Checker:
    """Collects problems of one table."""

    def __init__(self, table: Table, file: str):
        self.table, self.file, self.problems = table, file, []

    def add(self, row: int | None, reason: str) -> None:
        self.problems.append(Problem(self.file, row, reason))

    def required(self, *columns: str) -> None:
        for number, row in self.table.rows:
            for c in columns:
                if not row.get(c):
                    self.add(number, f"{c} is empty")

    def numbers(self, column: str, low: float | None = None, high: float | None = None,
                what: str = "value", allow_empty: bool = False) -> None:
        for number, row in self.table.rows:
            text = row.get(column)
            if text in (None, ""):
                if not allow_empty:
                    self.add(number, f"{column} is empty")
                continue
            value = _number(text)
            if value is None:
                self.add(number, f"{column} {text!r} is not a number")
            elif low is not None and value < low:
                self.add(number, f"{column} {text}: a {what} below {low:g}" if low else f"{column} {text}: a negative {what}")
            elif high is not None and value > high:
                self.add(number, f"{column} {text}: a {what} above {high:g}")

    def years(self, column: str) -> None:
        self.numbers(column, *YEAR_RANGE, what="year")
        for number, row in self.table.rows:
            if _number(row.get(column)) is not None and not row[column].isdigit():
                self.add(number, f"{column} {row[column]!r} is not a whole year")

    def choices(self, column: str, allowed: set[str], what: str) -> None:
        for number, row in self.table.rows:
            if row.get(column) not in allowed:
                self.add(number, f"{column} {row.get(column)!r} is not a known {what}")

    def no_gaps(self, column: str, group: Callable[[dict], tuple], what: str) -> None:
        """Annual series: within each group, every year from the first to the last."""
        years: dict[tuple, dict[int, int]] = defaultdict(dict)
        for number, row in self.table.rows:
            if (row.get(column) or "").isdigit():
                years[group(row)][int(row[column])] = number
        for key, found in sorted(years.items()):
            missing = sorted(set(range(min(found), max(found) + 1)) - set(found))
            if missing:
                label = "/".join(str(k) for k in key)
                after = max(y for y in found if y < missing[0])
                self.add(found[after] + 0, f"{what} {label}: year(s) {', '.join(map(str, missing))} missing "
                                           f"between {min(found)} and {max(found)} (no gaps in an annual series)")


def _known(name: str, column: str, incoming: dict[str, Table]) -> set[str]:
    table = incoming.get(name) or _seed(name)
    return set(table.column(column)) if table else set()


def _check_emission_factors(c: Checker, incoming: dict[str, Table]) -> None:
    energy = incoming.get("energy_types") or _seed("energy_types")
    canonical = {r["energy_code"]: r["canonical_unit"] for _, r in energy.rows} if energy else {}
    c.required("factor_set", "energy_code", "unit", "source", "confidence")
    c.years("valid_from_year")
    c.numbers("co2_t_per_unit", 0, what="coefficient")
    c.choices("confidence", CONFIDENCE, "confidence")
    for number, row in c.table.rows:
        code = row.get("energy_code")
        if code not in canonical:
            c.add(number, f"energy_code {code!r} is not in energy_types.csv")
        elif row.get("unit") != f"tCO2/{canonical[code]}":
            c.add(number, f"unit {row.get('unit')!r} should be tCO2/{canonical[code]} (the energy type's unit)")
    sets = defaultdict(set)
    for _, row in c.table.rows:
        sets[row.get("factor_set")].add(row.get("energy_code"))
    if sets:  # the set a run uses (the latest id) must price every energy type
        latest = max(sets)
        for code in sorted(set(canonical) - sets[latest]):
            c.add(None, f"factor set {latest}: no factor for energy_code {code} (every energy type needs one)")
    # The grid factor is a yearly series: one row per year, none missing.
    grid = Table(c.table.name, c.table.header, [(n, r) for n, r in c.table.rows if r.get("energy_code") == ELECTRICITY])
    Checker.no_gaps(_with(c, grid), "valid_from_year", lambda r: (r.get("factor_set"),), "grid factor of set")


def _with(c: Checker, table: Table) -> Checker:
    view = Checker(table, c.file)
    view.problems = c.problems
    return view


def _check_deflators(c: Checker, incoming: dict[str, Table]) -> None:
    divisions = _known("industries", "division_code", incoming) | {"*"}
    c.required("division_code", "source", "confidence")
    c.years("year")
    c.numbers("ppi_yoy_pct", -50, 100, what="yearly change in %", allow_empty=True)
    c.choices("division_code", divisions, "division (or *)")
    first = min((int(y) for y in c.table.column("year") if y.isdigit()), default=None)
    for number, row in c.table.rows:
        if row.get("ppi_yoy_pct") in (None, "") and row.get("year") != str(first):
            c.add(number, "ppi_yoy_pct is empty (only the base year has none)")
    c.no_gaps("year", lambda r: (r.get("division_code"),), "deflator series of division")


def _check_mu_rules(c: Checker, incoming: dict[str, Table]) -> None:
    c.required("rule_set", "scale", "indicator", "unit", "confidence")
    c.years("valid_from_year")
    c.numbers("weight", 0, 100, what="weight")
    c.numbers("benchmark", 0, what="benchmark")
    c.numbers("cap", 0, what="cap", allow_empty=True)
    c.choices("scale", {"above", "below"}, "scale (above / below)")
    totals: dict[tuple, float] = defaultdict(float)
    first_row: dict[tuple, int] = {}
    for number, row in c.table.rows:
        key = (row.get("rule_set"), row.get("valid_from_year"), row.get("scale"))
        totals[key] += _number(row.get("weight")) or 0.0
        first_row.setdefault(key, number)
    for key, total in sorted(totals.items()):
        if abs(total - 100) > 1e-9:
            c.add(first_row[key], f"rule set {key[0]} ({key[2]}, from {key[1]}): weights add up to {total:g}, not 100")


def _check_product_energy_limits(c: Checker, incoming: dict[str, Table]) -> None:
    c.required("limit_set", "product_code", "product_name", "division_code", "unit", "standard", "confidence")
    c.years("valid_from_year")
    c.years("in_force_from")
    for column in ("grade_1", "grade_2", "grade_3"):
        c.numbers(column, 0, what="limit value")
    for column in ("benchmark", "baseline"):
        c.numbers(column, 0, what="policy level", allow_empty=True)
    c.choices("unit", LIMIT_UNITS, "unit of unit energy")
    c.choices("confidence", CONFIDENCE, "confidence")
    c.choices("division_code", _known("industries", "division_code", incoming), "division")
    for number, row in c.table.rows:
        grades = [_number(row.get(g)) for g in ("grade_1", "grade_2", "grade_3")]
        if None not in grades and not grades[0] <= grades[1] <= grades[2]:
            c.add(number, f"grades must rise grade_1 ≤ grade_2 ≤ grade_3, got {grades}")


def _check_thresholds(c: Checker, incoming: dict[str, Table]) -> None:
    known = set((_seed("thresholds") or Table("thresholds", [], [])).column("name"))
    c.required("name", "unit", "meaning", "source")
    c.numbers("value", 0, what="threshold")
    for number, row in c.table.rows:
        if row.get("name") not in known:
            c.add(number, f"threshold {row.get('name')!r} is unknown to the project (a new one needs code that reads it)")
        elif row.get("unit") == "share" and (_number(row.get("value")) or 0) > 1:
            c.add(number, f"{row['name']} is a share: {row['value']} is above 1")


def _check_power_equivalent(c: Checker, incoming: dict[str, Table]) -> None:
    c.years("valid_from_year")
    c.numbers("gce_per_kwh", 200, 450, what="coal consumption of power supply")
    c.numbers("tce_per_10k_kwh", 2, 4.5, what="equivalent value")
    c.no_gaps("valid_from_year", lambda r: ("power_equivalent",), "series")


def _check_energy_types(c: Checker, incoming: dict[str, Table]) -> None:
    units = _known("units", "unit", incoming)
    c.required("energy_code", "energy_name", "canonical_unit", "dimension", "co2_basis")
    c.numbers("tce_per_unit", 0, what="coefficient")
    c.choices("canonical_unit", units, "unit of units.csv")


def _check_units(c: Checker, incoming: dict[str, Table]) -> None:
    c.required("unit", "dimension")
    c.numbers("to_canonical", 0, what="conversion factor")


CHECKS: dict[str, Callable[[Checker, dict[str, Table]], None]] = {
    "emission_factors": _check_emission_factors, "deflators": _check_deflators, "mu_rules": _check_mu_rules,
    "product_energy_limits": _check_product_energy_limits, "thresholds": _check_thresholds,
    "power_equivalent": _check_power_equivalent, "energy_types": _check_energy_types, "units": _check_units,
}


def set_fingerprints(table: Table) -> dict[str, str]:
    """sha256 of each set's rows, as warehouse.reference_sets fingerprints the seeds (the rows as
    strings, written back as CSV), so a set id is compared with its released values."""
    import polars as pl

    column = SET_COLUMNS[table.name]
    header = [h for h in table.header if h != NOTE_COLUMN]  # a note may be reworded under a released id
    frame = pl.DataFrame([{h: row.get(h) for h in header} for _, row in table.rows],
                         schema={h: pl.String for h in header}, orient="row")
    return {f"{table.name}:{set_id}": hashlib.sha256(frame.filter(pl.col(column) == set_id).write_csv().encode()).hexdigest()
            for set_id in frame[column].unique(maintain_order=True).to_list()}


def _check_sets(c: Checker, released: dict[str, str]) -> None:
    """A set id already in the seeds or released by the warehouse must keep its values."""
    if c.table.name not in SET_COLUMNS:
        return
    column = SET_COLUMNS[c.table.name]
    seed = _seed(c.table.name)
    current = set_fingerprints(seed) if seed else {}
    first_row = {}
    for number, row in c.table.rows:
        first_row.setdefault(row.get(column), number)
    for key, fingerprint in set_fingerprints(c.table).items():
        set_id = key.split(":", 1)[1]
        for where, known in (("released", released), ("in the installed reference data", current)):
            if key in known and known[key] != fingerprint:
                c.add(first_row.get(set_id), f"{column} {set_id} is {where} with other values: "
                                             "changed values need a new set id")
                break


def validate_dir(directory: Path, released: dict[str, str] | None = None,
                 seeds_dir: Path = SEEDS_DIR) -> tuple[list[str], list[Problem]]:
    """The reference files of `directory` that were checked, and every problem found
    (`released`: fingerprints of the set ids a warehouse has released)."""
    directory = Path(directory)
    _installed["dir"] = Path(seeds_dir)
    files = sorted(p for p in directory.glob("*.csv") if not p.name.startswith("."))
    problems: list[Problem] = []
    incoming: dict[str, Table] = {}
    for path in files:
        if path.stem not in REFERENCE_FILES:
            problems.append(Problem(path.name, None, f"not a reference file of the project ({', '.join(REFERENCE_FILES)})"))
            continue
        try:
            incoming[path.stem] = Table.read(path)
        except UnicodeDecodeError:
            problems.append(Problem(path.name, None, "not UTF-8 text"))
    for name, table in incoming.items():
        c = Checker(table, f"{name}.csv")
        seed = _seed(name)
        if seed and table.header != seed.header:
            missing = [h for h in seed.header if h not in table.header]
            extra = [h for h in table.header if h not in seed.header]
            c.add(1, "columns differ from the installed file: "
                     + "; ".join(filter(None, [f"missing {', '.join(missing)}" if missing else "",
                                               f"unknown {', '.join(extra)}" if extra else "",
                                               "order differs" if not (missing or extra) else ""])))
            problems += c.problems
            continue
        # no alias, and no due-date override, are valid tables
        if not table.rows and name not in ("green_aliases", "due_date_overrides"):
            c.add(None, "no rows")
        for number, row in table.rows:
            if "__extra__" in row:
                c.add(number, "more cells than columns (a comma inside a value must be quoted)")
        if name in CHECKS:
            CHECKS[name](c, incoming)
        _check_sets(c, released or {})
        problems += c.problems
    return [p.name for p in files], sorted(set(problems), key=lambda p: (p.file, p.row or 0, p.reason))


def load_dir(directory: Path, loaded_by: str, now: datetime | None = None, seeds_dir: Path = SEEDS_DIR) -> list[dict]:
    """Install the (validated) files of `directory` into the seeds: new set ids of a versioned
    table are appended (the latest set id is the one a run uses unless a var names another),
    other files replace the seed. Returns the records written to the load log."""
    now = now or datetime.now(UTC)
    records = []
    for path in sorted(Path(directory).glob("*.csv")):
        table = Table.read(path)
        target = Path(seeds_dir) / path.name
        if table.name in SET_COLUMNS and target.exists():
            installed = set(Table.read(target).column(SET_COLUMNS[table.name]))
            new_rows = [(n, r) for n, r in table.rows if r.get(SET_COLUMNS[table.name]) not in installed]
            _append_rows(target, table.header, new_rows)
            set_ids = sorted({r[SET_COLUMNS[table.name]] for _, r in new_rows})
        else:
            target.write_bytes(path.read_bytes().removeprefix(b"\xef\xbb\xbf"))
            new_rows, set_ids = table.rows, []
        records.append({"loaded_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "loaded_by": loaded_by, "file": path.name,
                        "set_ids": ";".join(set_ids), "rows": len(new_rows),
                        "sha256": hashlib.sha256(target.read_bytes()).hexdigest()})
    _log(Path(seeds_dir).parent / LOAD_LOG.name, records)
    return records


def _append_rows(target: Path, header: list[str], rows: list[tuple[int, dict[str, str]]]) -> None:
    if not rows:
        return
    data = target.read_bytes()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for _, row in rows:
        writer.writerow([row.get(h) or "" for h in header])
    target.write_bytes(data + (b"" if data.endswith(b"\n") else b"\n") + buffer.getvalue().encode("utf-8"))


def _log(log: Path, records: list[dict]) -> None:
    new = not log.exists()
    with log.open("a", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, LOAD_LOG_HEADER, lineterminator="\n")
        if new:
            writer.writeheader()
        writer.writerows(records)
