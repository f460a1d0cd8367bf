"""Effective settings: command-line options, then environment variables, then an optional
hzcarbon.toml, then defaults (policy numbers default to reference/thresholds.csv).

The CLI hands its options to the job as run config of the warehouse resource (the launchpad sets
the same fields), so the Dagster UI, schedules, sensors and the CLI all resolve settings the same
way, here, and nothing is passed through os.environ.
"""

import os
import tomllib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from data_contracts.reference import thresholds as reference_thresholds
from warehouse.faults import FAULTS

ENV_PREFIX = "HZCARBON_"
CONFIG_FILE_ENV = "HZCARBON_CONFIG"
DEFAULT_CONFIG_FILE = "hzcarbon.toml"
DEFAULT_LANDING = "data/landing"
DEFAULT_WAREHOUSE = "data/warehouse"
# Test-only switches (warehouse/faults.py): they break a published total on purpose.
FAULT_INJECTIONS = ("none", *FAULTS)
# Setting name (CLI option, HZCARBON_<NAME>, hzcarbon.toml key) -> field of Settings.
NAMES = {"landing": "landing_dir", "warehouse": "warehouse_dir", "as_of": "as_of",
         "keep_releases": "keep_releases", "fault_injection": "fault_injection",
         "auto_approve_by": "auto_approve_by"}


class SettingsError(ValueError):
    """Unreadable or invalid configuration (CLI exit code 2)."""


def current_month() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m")


class Settings(BaseSettings):
    """The effective settings of a run, typed and validated (pydantic-settings). Built by
    ``load_settings``, whose sources give the precedence: command line > HZCARBON_* >
    hzcarbon.toml > defaults (thresholds: reference thresholds.csv)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    landing_dir: Path = Path(DEFAULT_LANDING)
    warehouse_dir: Path = Path(DEFAULT_WAREHOUSE)
    as_of: str = Field(default_factory=current_month)  # YYYY-MM: "now" for every rule that needs it
    keep_releases: int | None = None
    thresholds: dict[str, float] = Field(default_factory=dict)
    fault_injection: str = "none"
    config_file: str | None = None
    # The named account that approves a release that passed the gates (None: a person approves
    # with `hzcarbon release approve`; README, "Governance").
    auto_approve_by: str | None = None

    @field_validator("landing_dir", "warehouse_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return Path(value).resolve()

    @field_validator("as_of", mode="before")
    @classmethod
    def _month(cls, value: Any) -> str:
        try:
            datetime.strptime(str(value), "%Y-%m")
        except ValueError:
            raise ValueError(f"as_of must be YYYY-MM, got {value!r}") from None
        if str(value) > current_month():
            raise ValueError(f"as_of {value} is after the current month {current_month()}: "
                             "no report can be dated in the future")
        return str(value)

    @field_validator("auto_approve_by", mode="before")
    @classmethod
    def _approver(cls, value: Any) -> str | None:
        return str(value).strip() or None if value is not None else None

    @field_validator("keep_releases", mode="before")
    @classmethod
    def _keep(cls, value: Any) -> int | None:
        if value in (None, "", "all"):
            return None
        try:
            keep = int(float(value))
        except (TypeError, ValueError):
            raise ValueError(f"keep_releases must be a number or 'all', got {value!r}") from None
        if keep < 1:
            raise ValueError("keep_releases must be at least 1")
        return keep

    @field_validator("fault_injection", mode="before")
    @classmethod
    def _fault(cls, value: Any) -> str:
        if str(value) not in FAULT_INJECTIONS:
            raise ValueError(f"fault_injection must be one of {FAULT_INJECTIONS}, got {value!r}")
        return str(value)

    @field_validator("thresholds", mode="before")
    @classmethod
    def _thresholds(cls, value: dict) -> dict[str, float]:
        known = reference_thresholds()
        unknown = sorted(set(value) - set(known))
        if unknown:
            raise ValueError(f"unknown thresholds: {unknown}")
        out = {}
        for name in known:
            try:
                out[name] = float(value.get(name, known[name]))
            except (TypeError, ValueError):
                raise ValueError(f"setting {name} must be a number, got {value[name]!r}") from None
        return out

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        # Only what load_settings hands over (its own sources, merged in precedence order).
        return (init_settings,)

    def as_manifest(self) -> dict[str, Any]:
        d = self.model_dump()
        d["landing_dir"] = str(self.landing_dir)
        d["warehouse_dir"] = str(self.warehouse_dir)
        return d

    @property
    def working_db(self) -> Path:
        return self.warehouse_dir / "hzcarbon.duckdb"

    @property
    def candidate_dir(self) -> Path:
        return self.warehouse_dir / "candidate"


class _Level(PydanticBaseSettingsSource):
    """One level of the precedence: setting name -> value (thresholds by their own names)."""

    def __init__(self, settings_cls, values: dict[str, Any]):
        super().__init__(settings_cls)
        self.values = values

    def get_field_value(self, field, field_name):  # not used: __call__ gives the whole level
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        known = reference_thresholds()
        out: dict[str, Any] = {NAMES[k]: v for k, v in self.values.items() if k in NAMES and v is not None}
        thresholds = {k: v for k, v in self.values.items() if k in known and v is not None}
        if thresholds:
            out["thresholds"] = thresholds
        return out


def _env_level(env: dict[str, str]) -> dict[str, Any]:
    names = [*NAMES, *reference_thresholds()]
    return {n: env[f"{ENV_PREFIX}{n.upper()}"] for n in names if f"{ENV_PREFIX}{n.upper()}" in env}


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


def _toml_level(toml: dict[str, Any], config_file: str | None) -> dict[str, Any]:
    thresholds = toml.get("thresholds", {})
    unknown = sorted(set(thresholds) - set(reference_thresholds()))
    if unknown:
        raise SettingsError(f"unknown thresholds in {config_file}: {unknown}")
    return {**{k: v for k, v in toml.items() if k != "thresholds"}, **thresholds}


def load_settings(cli: dict[str, Any] | None = None, env: dict[str, str] | None = None) -> Settings:
    """The settings from the command line (``cli``: landing, warehouse, as_of, keep_releases, ...),
    then HZCARBON_* variables of ``env`` (default os.environ), then hzcarbon.toml (or the file
    named by HZCARBON_CONFIG), then the defaults."""
    env = dict(os.environ if env is None else env)
    toml, config_file = _read_config_file(env)
    levels = [_Level(Settings, cli or {}), _Level(Settings, _env_level(env)),
              _Level(Settings, _toml_level(toml, config_file))]
    merged: dict[str, Any] = {}
    for level in reversed(levels):  # lowest first, each higher level on top
        values = level()
        merged = {**merged, **values, "thresholds": {**merged.get("thresholds", {}), **values.get("thresholds", {})}}
    try:
        return Settings(**merged, config_file=config_file)
    except ValidationError as exc:
        raise SettingsError("; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())) from None
