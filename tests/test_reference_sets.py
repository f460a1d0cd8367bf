"""A released factor or rule set id is immutable: reusing it with other values blocks publication."""

import json

from warehouse.gates import GATES
from warehouse.reference_sets import REGISTRY_FILE, changed_released_sets, register_released_sets, set_fingerprints


def test_unchanged_sets_pass_and_changed_values_under_a_released_id_are_caught(tmp_path):
    assert changed_released_sets(tmp_path) == []  # nothing released yet
    register_released_sets(tmp_path)
    assert changed_released_sets(tmp_path) == []  # the same values again
    registry = json.loads((tmp_path / REGISTRY_FILE).read_text())
    factor_set = next(k for k in registry if k.startswith("emission_factors:"))
    # The warehouse released this id with other values (say an older grid factor) before.
    registry[factor_set] = "0" * 64
    (tmp_path / REGISTRY_FILE).write_text(json.dumps(registry))
    assert changed_released_sets(tmp_path) == [factor_set]
    # The blocking gate reads the registry of the warehouse its candidate lives in.
    gate = GATES["reference_sets"](tmp_path / "candidate", {}, {})
    assert not gate.passed and factor_set in gate.message


def test_every_set_id_is_fingerprinted():
    keys = set_fingerprints()
    assert any(k.startswith("emission_factors:HZ-EF-") for k in keys)
    assert any(k.startswith("mu_rules:HZ-MU-") for k in keys)
    assert any(k.startswith("classification_rules:HZ-CE-") for k in keys)
