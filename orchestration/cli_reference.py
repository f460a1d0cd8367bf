"""`hzcarbon reference validate|load`: reference data the bureau maintains (docs/reference_data.md)."""

import json
import os
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from orchestration.exit_codes import EXIT_ERROR, EXIT_USAGE

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Check and install new reference data (factors, deflators, rule sets, limits, thresholds).")
out = Console(highlight=False, width=160)


def _released(warehouse: Optional[Path]) -> dict[str, str]:
    """Fingerprints of the set ids the warehouse has released ({} without a warehouse)."""
    from warehouse.reference_sets import REGISTRY_FILE

    warehouse = warehouse or (Path(os.environ["HZCARBON_WAREHOUSE"]) if os.environ.get("HZCARBON_WAREHOUSE") else None)
    path = warehouse / REGISTRY_FILE if warehouse else None
    return json.loads(path.read_text(encoding="utf-8")) if path and path.exists() else {}


def _check(directory: Path, warehouse: Optional[Path]) -> bool:
    from data_contracts.reference_check import validate_dir

    if not directory.is_dir():
        out.print(f"{directory}: not a directory")
        raise typer.Exit(EXIT_USAGE)
    files, problems = validate_dir(directory, _released(warehouse))
    if not files:
        out.print(f"{directory}: no .csv file to check")
        raise typer.Exit(EXIT_USAGE)
    for problem in problems:
        out.print(f"✘ {problem}", markup=False)
    out.print(f"{len(files)} file(s) checked: {', '.join(files)}; "
              + (f"{len(problems)} problem(s)" if problems else "no problem found"), markup=False)
    return not problems


@app.command()
def validate(
    directory: Annotated[Path, typer.Argument(help="folder with the new reference CSVs")],
    warehouse: Annotated[Optional[Path], typer.Option(help="warehouse whose released set ids must keep their values")] = None,
):
    """Check new reference files: columns, units, ranges, years, released set ids. Exit 1 on any problem."""
    if not _check(directory, warehouse):
        raise typer.Exit(EXIT_ERROR)


@app.command()
def load(
    directory: Annotated[Path, typer.Argument(help="folder with the new reference CSVs")],
    by: Annotated[str, typer.Option("--by", help="who loads them (recorded)")],
    warehouse: Annotated[Optional[Path], typer.Option(help="warehouse whose released set ids must keep their values")] = None,
):
    """Validate, then install the files for the next run (new set ids are added; other files replace the installed ones)."""
    from data_contracts.reference_check import load_dir

    if not by.strip():
        raise typer.BadParameter("--by must name the person loading the files")
    if not _check(directory, warehouse):
        out.print("nothing loaded: fix the problems first")
        raise typer.Exit(EXIT_ERROR)
    for record in load_dir(directory, by.strip()):
        sets = f" (new set {record['set_ids']})" if record["set_ids"] else ""
        out.print(f"loaded {record['file']}: {record['rows']} row(s){sets}", markup=False)
    out.print("the next `hzcarbon run` uses them; its manifest records every reference file's sha256", markup=False)
