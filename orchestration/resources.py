"""Dagster resources. Settings come from orchestration.settings (env + hzcarbon.toml + defaults)."""

import json
from pathlib import Path
from typing import Any, Optional

import dagster as dg
from pydantic import Field, PrivateAttr

from orchestration.lock import WarehouseLock
from orchestration.settings import Settings, load_settings


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse a run writes. Holding it means holding the warehouse's run lock, so a
    second run (CLI, schedule, sensor or UI) fails at once instead of interleaving writes.

    Its config is the run's command-line level of the settings (orchestration/settings.py): the
    CLI passes its options here as run config, and the launchpad of the UI can set the same
    fields; what is left empty comes from HZCARBON_* variables, hzcarbon.toml, then defaults."""

    landing: Optional[str] = Field(default=None, description="Landing directory (default: settings, data/landing).")
    warehouse: Optional[str] = Field(default=None, description="Warehouse directory (default: settings, data/warehouse).")
    as_of: Optional[str] = Field(default=None, description="YYYY-MM treated as now (default: settings, this month).")
    keep_releases: Optional[int] = Field(default=None, description="Releases to keep (default: settings, all).")
    auto_approve_by: Optional[str] = Field(default=None, description=(
        "Named account that approves a release passing the gates (default: settings, none: a person "
        "approves with `hzcarbon release approve`)."))

    _settings: Settings | None = PrivateAttr(default=None)
    _lock: WarehouseLock | None = PrivateAttr(default=None)

    def cli_settings(self) -> dict[str, Any]:
        return {"landing": self.landing, "warehouse": self.warehouse, "as_of": self.as_of,
                "keep_releases": self.keep_releases, "auto_approve_by": self.auto_approve_by}

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._settings = load_settings(self.cli_settings())
        run_id = context.run_id if context.run_id else "unknown"
        self._lock = WarehouseLock(self._settings.warehouse_dir, run_id)
        self._lock.acquire()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._lock is not None:
            self._lock.release()

    @property
    def settings(self) -> Settings:
        if self._settings is None:  # used outside a run (e.g. a sensor): no lock needed
            self._settings = load_settings(self.cli_settings())
        return self._settings

    def run_state_dir(self, run_id: str) -> Path:
        """Per-run scratch: check results that go into the manifest."""
        d = self.settings.warehouse_dir / "run_state" / run_id
        (d / "checks").mkdir(parents=True, exist_ok=True)
        return d

    def record_check(self, run_id: str, name: str, result: dict) -> None:
        path = self.run_state_dir(run_id) / "checks" / f"{name}.json"
        path.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str), encoding="utf-8")

    def take_fingerprint(self, run_id: str) -> tuple[dict, str | None]:
        """The run's build fingerprint, taken once when the run starts (before ingestion) and kept
        in run_state, and the release already built from it, if any (nothing new)."""
        from warehouse.provenance import Fingerprint, build_fingerprint, unchanged_release

        path = self.run_state_dir(run_id) / "fingerprint.json"
        if path.exists():
            taken = json.loads(path.read_text(encoding="utf-8"))
        else:
            s = self.settings
            fp = build_fingerprint(s.landing_dir, s.warehouse_dir, s.as_manifest())
            taken = {"sha256": fp.sha256, "parts": fp.parts}
            path.write_text(json.dumps(taken, ensure_ascii=False, default=str), encoding="utf-8")
        return taken, unchanged_release(self.settings.warehouse_dir, Fingerprint(taken["sha256"], taken["parts"]))

    def recorded_checks(self, run_id: str) -> list[dict]:
        checks_dir = self.run_state_dir(run_id) / "checks"
        return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(checks_dir.glob("*.json"))]
