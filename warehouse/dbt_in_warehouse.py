"""dbt's command line, started in the directory HZCARBON_DBT_WORKDIR names (the warehouse).

The orchestration runs ``python warehouse/dbt_in_warehouse.py <dbt arguments>`` with
HZCARBON_WAREHOUSE=".": the profile's DuckDB path and the sources' Parquet locations are then
the same text for every warehouse, so dbt's partial parse (``python -m warehouse.dbt_plan
prepare`` leaves one beside the manifest, once per code version) is valid in a new warehouse
too, instead of a full parse of the project in every first build (docs/design.md, "dbt").
dagster-dbt starts dbt in the project folder and has no setting for another one.
"""

import os
import sys

if __name__ == "__main__":
    # This file's folder comes first on sys.path when run as a script: its modules must not
    # shadow what dbt imports.
    sys.path.pop(0)
    os.chdir(os.environ["HZCARBON_DBT_WORKDIR"])
    from dbt.cli.main import cli

    sys.exit(cli())
