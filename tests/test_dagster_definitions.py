"""The Dagster definitions as a data engineer reads them in the UI: every asset in a group named
by its layer and described, every check described, no SQL dump, the run's settings in the
launchpad, the sensor and the schedule described."""

import dagster as dg

from data_contracts import published_tables, source_contract, table_contract

LAYERS = {"raw", "reference", "staging", "intermediate", "marts", "release"}


def _graph():
    from orchestration.definitions import defs

    return defs, defs.resolve_asset_graph()


def test_every_asset_is_in_a_layer_group_and_described():
    _, graph = _graph()
    groups = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        groups.setdefault(node.group_name, set()).add(key.path[-1])
        assert node.description and node.description.strip(), key
        assert "Raw SQL" not in node.description and "```sql" not in node.description, key
    assert set(groups) == LAYERS, groups
    assert set(published_tables()) <= groups["marts"]
    assert {"candidate_release", "release"} == groups["release"]
    assert {"energy_reports", "mu_evaluations", "carbon_codes", "enterprise_register", "green_manufacturing",
            "product_energy", "va_growth", "quarantine", "ingest_ledger"} == groups["raw"]


def test_descriptions_come_from_the_contracts():
    _, graph = _graph()
    nodes = [graph.get(k) for k in graph.get_all_asset_keys()]
    by_name = {n.key.path[-1]: n for n in nodes if n.group_name == "marts"}
    for table in published_tables():
        c = table_contract(table)
        text = by_name[table].description
        assert c.label_zh in text, table
        for col in c.mart_columns:
            assert f"`{col.name}` ({col.physical_type})" in text, (table, col.name)
    raw = {n.key.path[-1]: n for n in nodes if n.group_name == "raw"}
    assert source_contract("mu_evaluations").label_zh in raw["mu_evaluations"].description


def test_every_check_is_described():
    _, graph = _graph()
    checks = list(graph.asset_check_keys)
    assert len(checks) > 50
    for key in checks:
        description = graph.get(key).description
        assert description and description.strip(), key
    names = {k.name: graph.get(k).description for k in checks}
    assert names["totals_across_levels"].startswith("Quality gate totals_across_levels: Per year")
    assert "dbt test contract on target_progress: not null (scope_code, " in names["contract_target_progress"]
    assert "status in ['on_track', 'at_risk', 'behind']" in names["contract_target_progress"]


def test_launchpad_sets_landing_and_as_of_and_automation_is_described():
    defs, _ = _graph()
    resource = defs.resources["warehouse"]
    fields = type(resource).model_fields
    for name in ("landing", "warehouse", "as_of", "keep_releases"):
        assert name in fields and fields[name].description, name
    assert defs.resolve_schedule_def("monthly_release").description
    assert defs.resolve_sensor_def("landing_sensor").description
    job = defs.resolve_job_def("hzcarbon_job")
    assert job.description
    # the run config the launchpad offers carries the fields
    config_fields = job.run_config_schema.config_type.fields["resources"].config_type.fields["warehouse"] \
        .config_type.fields["config"].config_type.fields
    assert {"landing", "as_of"} <= set(config_fields)
    assert isinstance(resource, dg.ConfigurableResource)
