"""Data contracts: the one place where each source's and each published table's columns are declared.

Contracts are Open Data Contract Standard (ODCS v3) YAML files in ``contracts/``, parsed and
validated with the ``open-data-contract-standard`` pydantic model. Readers, checks, Parquet
column metadata and the data dictionary are generated from the small view defined here.
"""

from data_contracts.model import (
    Column, Contract, load_contract, source_contract, table_contract, all_contracts, SOURCES,
    PUBLISHED_TABLES, published_tables, load_odcs,
)

__all__ = [
    "Column", "Contract", "load_contract", "source_contract", "table_contract", "all_contracts",
    "SOURCES", "PUBLISHED_TABLES", "published_tables", "load_odcs",
]
