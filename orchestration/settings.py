"""Effective settings: command-line options, then environment variables, then an optional
hzcarbon.toml, then defaults (policy numbers default to reference/thresholds.csv).

The CLI turns its options into HZCARBON_* environment variables before it runs the job, so the
Dagster UI, schedules, sensors and the CLI all resolve settings the same way, here.
"""

import os
import tomllib
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from data_contracts.reference import thresholds as reference_thresholds
from warehouse.faults import FAULTS

ENV_PREFIX = "HZCARBON_"
CONFIG_FILE_ENV = "HZCARBON_CONFIG"
DEFAULT_CONFIG_FILE = "hzcarbon.toml"
DEFAULT_LANDING = "data/landing"
DEFAULT_WAREHOUSE = "data/warehouse"
# Test-only switches (warehouse/faults.py): they break a published total on purpose.
FAULT_INJECTIONS = ("none", *FAULTS)


class SettingsError(ValueError):
    """Unreadable or invalid configuration (CLI exit code 2)."""


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    warehouse_dir: Path
    as_of: str  # YYYY-MM: "now" for every rule that needs it
    keep_releases: int | None
    thresholds: dict[str, float] = field(default_factory=dict)
    fault_injection: str = "none"
    config_file: str | None = None
    # The named account that approves a release that passed the gates (None: a person approves
    # with `hzcarbon release approve`; README, "Governance").
    auto_approve_by: str | None = None

    def as_manifest(self) -> dict[str, Any]:
        d = asdict(self)
        d["landing_dir"] = str(self.landing_dir)
        d["warehouse_dir"] = str(self.warehouse_dir)
        return d

    @property
    def working_db(self) -> Path:
        return self.warehouse_dir / "hzcarbon.duckdb"

    @property
    def candidate_dir(self) -> Path:
        return self.warehouse_dir / "candidate"


def current_month() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m")


def _validate_month(value: str) -> str:
    try:
        datetime.strptime(value, "%Y-%m")
    except ValueError as exc:
        raise SettingsError(f"as_of must be YYYY-MM, got {value!r}") from exc
    if value > current_month():
        raise SettingsError(f"as_of {value} is after the current month {current_month()}: "
                            "no report can be dated in the future")
    return value


def _read_config_file(env: dict[str, str]) -> tuple[dict[str, Any], str | None]:
    path = Path(env.get(CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE))
    if not path.exists():
        if CONFIG_FILE_ENV in env:
            raise SettingsError(f"configuration file {path} (from {CONFIG_FILE_ENV}) does not exist")
        return {}, None
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")), str(path)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"cannot read configuration file {path}: {exc}") from exc


def _pick(name: str, cli: dict[str, Any], env: dict[str, str], toml: dict[str, Any], default: Any) -> Any:
    if cli.get(name) is not None:
        return cli[name]
    if f"{ENV_PREFIX}{name.upper()}" in env:
        return env[f"{ENV_PREFIX}{name.upper()}"]
    if name in toml:
        return toml[name]
    return default


def _number(name: str, value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"setting {name} must be a number, got {value!r}") from exc


def load_settings(cli: dict[str, Any] | None = None, env: dict[str, str] | None = None) -> Settings:
    cli = cli or {}
    env = dict(os.environ if env is None else env)
    toml, config_file = _read_config_file(env)
    toml_thresholds = toml.get("thresholds", {})
    thresholds = {
        name: _number(name, _pick(name, cli, env, toml_thresholds, default))
        for name, default in reference_thresholds().items()
    }
    unknown = set(toml_thresholds) - set(thresholds)
    if unknown:
        raise SettingsError(f"unknown thresholds in {config_file}: {sorted(unknown)}")
    keep = _pick("keep_releases", cli, env, toml, None)
    if keep not in (None, "", "all"):
        keep = int(_number("keep_releases", keep))
        if keep < 1:
            raise SettingsError("keep_releases must be at least 1")
    else:
        keep = None
    fault = str(_pick("fault_injection", cli, env, toml, "none"))
    if fault not in FAULT_INJECTIONS:
        raise SettingsError(f"fault_injection must be one of {FAULT_INJECTIONS}, got {fault!r}")
    return Settings(
        landing_dir=Path(_pick("landing", cli, env, toml, DEFAULT_LANDING)).resolve(),
        warehouse_dir=Path(_pick("warehouse", cli, env, toml, DEFAULT_WAREHOUSE)).resolve(),
        as_of=_validate_month(str(_pick("as_of", cli, env, toml, current_month()))),
        keep_releases=keep,
        thresholds=thresholds,
        fault_injection=fault,
        config_file=config_file,
        auto_approve_by=str(_pick("auto_approve_by", cli, env, toml, "")).strip() or None,
    )


def export_to_env(cli: dict[str, Any]) -> None:
    """Put command-line options into the environment so every part of the run sees them."""
    for name, value in cli.items():
        if value is not None:
            os.environ[f"{ENV_PREFIX}{name.upper()}"] = str(value)
