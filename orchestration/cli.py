"""hzcarbon command line: a face over the Dagster job and the libraries (docs/outputs.md).

Exit codes of `run`: 0 built (a candidate awaiting approval, or published) or nothing new;
3 blocked by a quality gate (latest unchanged); 2 bad usage or unreadable configuration;
1 anything else (including a warehouse held by another run).
"""

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from orchestration.exit_codes import EXIT_ERROR, EXIT_USAGE
from orchestration.settings import SettingsError, load_settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
GENERATE_MANIFEST = "generate_manifest.json"  # written by `generate` beside the source folders
# Wide enough for the summary table when output goes to a file or a CI log.
out = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 160)


def _year_range(text: str) -> tuple[int, int]:
    try:
        first, _, last = text.partition("-")
        years = (int(first), int(last or first))
    except ValueError:
        raise typer.BadParameter(f"years must look like 2020-2025, got {text!r}") from None
    if years[0] > years[1] or years[0] < 2020:
        raise typer.BadParameter(f"years must be an increasing range from 2020 on, got {text!r}")
    return years


@app.command()
def generate(
    out_dir: Annotated[Path, typer.Option("--out", help="landing directory to write")],
    enterprises: Annotated[int, typer.Option(min=1)] = 500,
    years: Annotated[str, typer.Option(help="first-last year, e.g. 2020-2025")] = "2020-2025",
    seed: int = 0,
    messy: Annotated[bool, typer.Option(help="render every export variant and add rows to quarantine")] = False,
    formats: Annotated[str, typer.Option(help="mixed | csv-utf8")] = "mixed",
):
    """Write sample landing files in the formats of docs/sources.md (deterministic for a seed)."""
    from sample_data import generate_landing

    if formats not in ("mixed", "csv-utf8"):
        raise typer.BadParameter("formats must be mixed or csv-utf8")
    summary = generate_landing(out_dir, enterprises=enterprises, years=_year_range(years), seed=seed,
                               messy=messy, formats=formats)
    # The file list and the rest of the summary go to a file beside the source folders, where
    # ingestion does not look (it reads only <source>/ and the folders below).
    manifest = Path(out_dir) / GENERATE_MANIFEST
    manifest.write_text(json.dumps(summary, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8")
    files = {source: len(names) for source, names in summary["files"].items()}
    typer.echo(f"wrote {sum(files.values())} files ({', '.join(f'{s} {n}' for s, n in files.items())}), "
               f"{summary['enterprises']:,} enterprises {summary['years'][0]}–{summary['years'][1]}, "
               f"{sum(summary['rows_written'].values()):,} data rows to {out_dir}; file list: {manifest}")


@app.command()
def run(
    landing: Annotated[Optional[Path], typer.Option(help="landing directory")] = None,
    warehouse: Annotated[Optional[Path], typer.Option(help="warehouse directory")] = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="YYYY-MM treated as now")] = None,
    keep_releases: Annotated[Optional[int], typer.Option(help="releases to keep (default all)")] = None,
    auto_approve_by: Annotated[Optional[str], typer.Option(
        "--auto-approve-by", help="approve a release that passes the gates as this named account")] = None,
):
    """Ingest new landing files, build all models, run all checks; a release that passes every gate
    is a candidate until a named person approves it (or --auto-approve-by NAME approves it)."""
    cli = {"landing": landing, "warehouse": warehouse, "as_of": as_of, "keep_releases": keep_releases,
           "auto_approve_by": auto_approve_by}
    try:
        settings = load_settings(cli)
    except SettingsError as exc:
        err.print(f"[red]configuration error:[/] {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    if not settings.landing_dir.is_dir():
        err.print(f"[red]landing directory {settings.landing_dir} does not exist[/]")
        raise typer.Exit(EXIT_USAGE)
    from orchestration.runner import run_job

    raise typer.Exit(run_job(settings, out, err))


@app.command()
def diff(old: Path, new: Path, as_json: Annotated[bool, typer.Option("--json")] = False,
         lang: Annotated[str, typer.Option("--lang", help="en | zh (Chinese labels)")] = "en"):
    """What changed between two releases, and why (inputs, revisions, reference changes)."""
    from warehouse.diff import diff_releases, render_diff

    if lang not in ("en", "zh"):
        raise typer.BadParameter("--lang must be en or zh")

    for p in (old, new):
        if not (p / "manifest.json").exists():
            err.print(f"[red]{p} is not a release directory (no manifest.json)[/]")
            raise typer.Exit(EXIT_USAGE)
    d = diff_releases(old, new)
    # plain text, never wrapped: the Markdown tables must survive a redirect to a file or a pipe
    typer.echo(json.dumps(d, ensure_ascii=False, indent=1, default=str) if as_json else render_diff(d, lang).rstrip("\n"))


@app.command()
def dictionary():
    """Print the data dictionary generated from data_contracts/."""
    from data_contracts.dictionary import render_dictionary

    typer.echo(render_dictionary().rstrip("\n"))  # plain text, never wrapped (Markdown tables)


from orchestration.cli_release import rebuild, release_app, withdraw  # noqa: E402 - the commands above come first in --help

app.add_typer(release_app, name="release")
app.command()(withdraw)
app.command()(rebuild)

from orchestration import cli_portal  # noqa: E402  (hzcarbon serve, hzcarbon users)

cli_portal.register(app)


from orchestration.cli_reference import app as reference_app  # noqa: E402

app.add_typer(reference_app, name="reference")


def main() -> None:
    try:
        app()
    except SystemExit:
        raise
    except Exception as exc:  # anything unexpected: exit 1 with the reason, not a traceback wall
        err.print(f"[red]error:[/] {type(exc).__name__}: {exc}")
        sys.exit(EXIT_ERROR)


if __name__ == "__main__":
    main()
