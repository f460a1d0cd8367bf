"""`hzcarbon serve` (the portal) and `hzcarbon users add|disable|reset` (its accounts)."""

import getpass
import os
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from orchestration.exit_codes import EXIT_USAGE

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)
users_app = typer.Typer(add_completion=False, no_args_is_help=True,
                        help="Portal accounts: roles statistician, admin or district:<code>.")

WarehouseOption = Annotated[Optional[Path], typer.Option(help="warehouse directory (or HZCARBON_WAREHOUSE)")]


def _warehouse(warehouse: Path | None) -> Path:
    path = warehouse or (Path(os.environ["HZCARBON_WAREHOUSE"]) if os.environ.get("HZCARBON_WAREHOUSE") else None)
    if path is None or not path.is_dir():
        err.print(f"[red]warehouse directory {path} does not exist (give --warehouse)[/]")
        raise typer.Exit(EXIT_USAGE)
    return path


def serve(
    warehouse: WarehouseOption = None,
    landing: Annotated[Optional[Path], typer.Option(help="landing directory for uploads (or HZCARBON_LANDING); none: uploads off")] = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    root_path: Annotated[str, typer.Option("--root-path", help="path prefix behind a reverse proxy, e.g. /carbon")] = "",
    upload_max_mb: Annotated[float, typer.Option(help="largest upload accepted")] = 50.0,
    secure_cookies: Annotated[bool, typer.Option(help="session cookie only over HTTPS (behind a TLS proxy)")] = False,
):
    """Serve the portal over the warehouse's published releases."""
    import uvicorn

    from portal.app import create_app

    wh = _warehouse(warehouse)
    landing = landing or (Path(os.environ["HZCARBON_LANDING"]) if os.environ.get("HZCARBON_LANDING") else None)
    if landing is not None and not landing.is_dir():
        err.print(f"[red]landing directory {landing} does not exist[/]")
        raise typer.Exit(EXIT_USAGE)
    app = create_app(wh, landing=landing.resolve() if landing else None, root_path=root_path.rstrip("/"),
                     upload_max_mb=upload_max_mb, secure_cookies=secure_cookies)
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=True)


def report_charts(
    out: Annotated[Path, typer.Option("--out", help="directory for the chart files")],
    warehouse: WarehouseOption = None,
    release: Annotated[Optional[str], typer.Option(help="release id (default: latest)")] = None,
    lang: Annotated[str, typer.Option(help="zh | en")] = "zh",
    fmt: Annotated[str, typer.Option("--format", help="png (Debian's chromium through playwright) | svg (no browser)")] = "png",
):
    """Every chart of the target-progress report as PNG or SVG files. Every release already holds
    its charts as SVG (charts/); this draws them again, as PNG, in English, or for an older release."""
    if fmt not in ("png", "svg") or lang not in ("zh", "en"):
        err.print("[red]--format is png or svg, --lang zh or en[/]")
        raise typer.Exit(EXIT_USAGE)
    wh = _warehouse(warehouse)
    if fmt == "svg":
        from portal.chart_svg import write_report_svgs
        from portal.releases import NotAvailable, Warehouse

        try:
            files = write_report_svgs(Warehouse(wh).release(release), out, lang=lang)
        except NotAvailable as exc:
            err.print(f"[red]{exc}[/]")
            raise typer.Exit(EXIT_USAGE) from None
    else:
        from portal.charts import export_chart_pngs

        files = export_chart_pngs(wh, out, release_id=release, lang=lang)
    for f in files:
        print(f)


def _password(password: str | None) -> str:
    if password is not None:
        return password
    env = os.environ.get("HZCARBON_USER_PASSWORD")
    if env:
        return env
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        err.print("[red]the passwords differ[/]")
        raise typer.Exit(EXIT_USAGE)
    return first


def _accounts(warehouse: Path | None):
    from portal.accounts import Accounts

    return Accounts(_warehouse(warehouse))


def _run(action) -> None:
    from portal.accounts import AccountError

    try:
        action()
    except AccountError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(EXIT_USAGE) from None


@users_app.command("add")
def users_add(username: str, role: Annotated[str, typer.Option(help="statistician | admin | district:<code>")],
              warehouse: WarehouseOption = None,
              password: Annotated[Optional[str], typer.Option(help="else HZCARBON_USER_PASSWORD, else asked")] = None):
    """Create an account."""
    accounts = _accounts(warehouse)
    _run(lambda: accounts.check_new(username, role))
    _run(lambda: accounts.add(username, role, _password(password)))
    out.print(f"user {username} added with role {role}")


@users_app.command("disable")
def users_disable(username: str, warehouse: WarehouseOption = None):
    """Disable an account (its sessions end at their next request)."""
    accounts = _accounts(warehouse)
    _run(lambda: accounts.disable(username))
    out.print(f"user {username} disabled")


@users_app.command("reset")
def users_reset(username: str, warehouse: WarehouseOption = None,
                password: Annotated[Optional[str], typer.Option(help="else HZCARBON_USER_PASSWORD, else asked")] = None):
    """Set a new password (and enable the account)."""
    accounts = _accounts(warehouse)
    _run(lambda: accounts.reset(username, _password(password)))
    out.print(f"password of {username} reset")


@users_app.command("list")
def users_list(warehouse: WarehouseOption = None):
    """List accounts."""
    for u in _accounts(warehouse).list():
        out.print(f"{u.username}\t{u.role}\t{'disabled' if u.disabled else 'enabled'}")


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command("report-charts")(report_charts)
    app.add_typer(users_app, name="users")
