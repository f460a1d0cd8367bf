"""The settings are one typed object (pydantic-settings) whose precedence is command line (or the
warehouse resource's run config) > HZCARBON_* > hzcarbon.toml > defaults."""

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from data_contracts.reference import thresholds
from orchestration.resources import WarehouseResource
from orchestration.settings import Settings, SettingsError, load_settings


def _config(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "hzcarbon.toml"
    path.write_text(text, encoding="utf-8")
    return {"HZCARBON_CONFIG": str(path)}


def test_each_level_beats_the_ones_below(tmp_path):
    env = _config(tmp_path, 'landing = "from-toml"\nwarehouse = "wh-toml"\nas_of = "2024-01"\nkeep_releases = 9\n'
                            "[thresholds]\nsdc_min_count = 4\nquarantine_block_share = 0.2\n")
    env |= {"HZCARBON_WAREHOUSE": "wh-env", "HZCARBON_AS_OF": "2024-02", "HZCARBON_SDC_MIN_COUNT": "6"}
    s = load_settings({"as_of": "2024-03", "keep_releases": None}, env=env)
    assert isinstance(s, Settings)
    assert s.as_of == "2024-03"  # command line > environment > file
    assert s.warehouse_dir == Path("wh-env").resolve()  # environment > file
    assert s.landing_dir == Path("from-toml").resolve()  # file > default
    assert s.keep_releases == 9  # a None option is no option
    assert s.thresholds["sdc_min_count"] == 6.0 and s.thresholds["quarantine_block_share"] == 0.2
    assert s.thresholds["sdc_dominance_share"] == float(thresholds()["sdc_dominance_share"])  # default
    with pytest.raises(ValidationError):
        s.as_of = "2030-01"  # frozen: one object for the whole run


def test_invalid_values_are_settings_errors(tmp_path):
    for cli in ({"as_of": "2024-13"}, {"keep_releases": 0}, {"fault_injection": "everything"}):
        with pytest.raises(SettingsError):
            load_settings(cli, env={})
    with pytest.raises(SettingsError, match="sdc_min_count must be a number"):
        load_settings({}, env={"HZCARBON_SDC_MIN_COUNT": "many"})


def test_run_config_is_the_command_line_level(tmp_path):
    """The launchpad's fields (the CLI fills the same) beat the environment."""
    resource = WarehouseResource(landing=str(tmp_path / "in"), as_of="2025-05")
    before = dict(os.environ)
    os.environ["HZCARBON_AS_OF"] = "2020-01"
    try:
        s = resource.settings
    finally:
        os.environ.clear()
        os.environ.update(before)
    assert s.as_of == "2025-05" and s.landing_dir == (tmp_path / "in").resolve()
