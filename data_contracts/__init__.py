"""Data contracts: the one place where each source's and each published table's columns are declared.

Contracts are Open Data Contract Standard (ODCS v3) YAML files in ``contracts/``, parsed and
validated with the ``open-data-contract-standard`` pydantic model. Readers, checks, Parquet
column metadata and the data dictionary are generated from the small view defined here.
"""

from typing import TYPE_CHECKING

__all__ = [
    "Column", "Contract", "load_contract", "source_contract", "table_contract", "all_contracts",
    "SOURCES", "PUBLISHED_TABLES", "published_tables", "load_odcs", "tables_in_layer", "layer_of",
    "LAYERS",
]

if TYPE_CHECKING:
    from data_contracts.model import (
        LAYERS, PUBLISHED_TABLES, SOURCES, Column, Contract, all_contracts, layer_of, load_contract,
        load_odcs, published_tables, source_contract, table_contract, tables_in_layer,
    )


def __getattr__(name: str):
    # The view (data_contracts.model) is loaded on first use, not with the package: the ODCS
    # pydantic model costs ~0.4 s, and the CLI imports data_contracts.reference (thresholds
    # for its settings) before any command needs a contract.
    if name in __all__:
        from data_contracts import model

        return getattr(model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
