"""A small, typed view over the ODCS contracts (the YAML stays the source of truth)."""

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from open_data_contract_standard.model import OpenDataContractStandard, SchemaProperty

CONTRACTS_DIR = Path(__file__).parent / "contracts"

# libyaml's parser builds the same documents as PyYAML's pure-Python one (same SafeLoader
# constructors and resolver) about ten times faster; every process parses every contract.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# The three exports, in the order the specs list them.
SOURCES = ("energy_reports", "mu_evaluations", "carbon_codes", "enterprise_register", "va_growth")

# The published tables, in the order of specs/outputs.md (open/ first, then restricted/).
PUBLISHED_TABLES = (
    "city_year", "district_year", "district_industry_year", "city_industry_year",
    "target_progress", "carbon_grade_distribution", "mu_class_distribution",
    "city_month", "district_month", "key_group_month", "intensity_monthly",
    "enterprise_year", "key_energy_users", "high_consumption_low_efficiency",
    "source_reconciliation", "quarantine", "data_quality",
    "reporting_status", "reporting_summary", "reporting_reminders",
)

# Shared field definitions merged into table contracts that declare `sharedFields: _fields`.
# Files whose name starts with "_" are not contracts of their own.
SHARED_FIELDS_KEY = "sharedFields"
# Attributes that belong to a table, never taken from a shared field definition.
_TABLE_ONLY_ATTRS = ("required", "primaryKey", "primaryKeyPosition")


def _custom(props: list | None) -> dict[str, Any]:
    return {p.property: p.value for p in (props or [])}


@dataclass(frozen=True)
class Column:
    name: str
    label_zh: str
    description: str
    logical_type: str
    physical_type: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    unit: str | None = None
    parse: str | None = None  # how ingestion parses it (uscc, district, money, ...)
    origin: str = "source"  # source | derived
    enum_forms: dict[str, Any] = field(default_factory=dict)  # written form -> canonical value
    source: str | None = None  # where a published column comes from
    primary_key: bool = False
    primary_key_position: int | None = None

    @property
    def header_names(self) -> tuple[str, ...]:
        """Every header a person may have written for this column: the label, then aliases."""
        return (self.label_zh, *self.aliases)


@dataclass(frozen=True)
class Contract:
    id: str
    name: str
    label_zh: str
    purpose: str
    columns: tuple[Column, ...]
    custom: dict[str, Any]
    limitations: str | None = None

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def source_columns(self) -> tuple[Column, ...]:
        """Columns read from the export (not derived by the pipeline)."""
        return tuple(c for c in self.columns if c.origin == "source")

    @property
    def primary_key(self) -> list[str]:
        """Primary-key columns, by primaryKeyPosition (column order where it is not given)."""
        keyed = [(c.primary_key_position or 10_000 + i, c.name)
                 for i, c in enumerate(self.columns) if c.primary_key]
        return [n for _, n in sorted(keyed)]

    # Published-table properties (contract-level customProperties of table_*.yaml).
    @property
    def layer(self) -> str | None:
        """`open` or `restricted` for a published table (None for a source contract)."""
        return self.custom.get("layer")

    @property
    def district_extract(self) -> bool:
        """True when the table goes, filtered to one district, into districts/<code>/."""
        return bool(self.custom.get("districtExtract", False))

    @property
    def grain(self) -> str | None:
        """Human-readable grain, e.g. 'district_code × year'."""
        return self.custom.get("grain")

    @property
    def labels_zh(self) -> dict[str, str]:
        """Column name -> Chinese label."""
        return {c.name: c.label_zh for c in self.columns}


def _column(p: SchemaProperty) -> Column:
    custom = _custom(p.customProperties)
    forms: dict[str, Any] = {}
    for e in p.enum or []:
        for form in _custom(e.customProperties).get("forms", [e.value]):
            forms[str(form)] = e.value
    return Column(
        name=p.name,
        label_zh=p.businessName or p.name,
        description=p.description or "",
        logical_type=p.logicalType or "string",
        physical_type=p.physicalType or "VARCHAR",
        required=bool(p.required),
        aliases=tuple(s.synonym for s in (p.synonyms or []) if s.synonym),
        unit=custom.get("unit"),
        parse=custom.get("parse"),
        origin=custom.get("origin", "source"),
        enum_forms=forms,
        source=custom.get("source"),
        primary_key=bool(p.primaryKey),
        primary_key_position=p.primaryKeyPosition,
    )


def _merge_custom(shared: list | None, own: list | None) -> list:
    merged = {c["property"]: c for c in (shared or [])}
    for c in own or []:
        merged[c["property"]] = c  # the table's own value wins
    return list(merged.values())


def _read_yaml(path: Path) -> Any:
    """A contract file parsed once. ``OpenDataContractStandard.from_file`` is
    ``cls(**yaml.safe_load(text))``; validating this same document instead of calling it spares
    a second parse of every file (pydantic copies its input, so the document stays unchanged)."""
    if not path.exists():
        raise FileNotFoundError(f"The file '{path}' does not exist.")
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)


@cache
def shared_fields(name: str = "_fields") -> dict[str, dict[str, Any]]:
    """Shared field definitions (raw ODCS property dicts by name) from contracts/<name>.yaml."""
    path = CONTRACTS_DIR / f"{name}.yaml"
    doc = _read_yaml(path)
    OpenDataContractStandard(**doc)  # it is a valid ODCS document itself
    fields: dict[str, dict[str, Any]] = {}
    for prop in doc["schema"][0]["properties"]:
        if prop["name"] in fields:
            raise ValueError(f"{path.name}: field {prop['name']!r} declared twice")
        fields[prop["name"]] = {k: v for k, v in prop.items() if k not in _TABLE_ONLY_ATTRS}
    return fields


def resolve_shared_fields(doc: dict[str, Any]) -> dict[str, Any]:
    """The contract document with its properties completed from the shared field definitions
    it names (contract customProperty `sharedFields`); unchanged when it names none."""
    custom = {c.get("property"): c.get("value") for c in doc.get("customProperties") or []}
    fields_file = custom.get(SHARED_FIELDS_KEY)
    if not fields_file:
        return doc
    fields = shared_fields(fields_file)
    doc = dict(doc)
    schema = []
    for obj in doc.get("schema") or []:
        obj = dict(obj)
        props = []
        for prop in obj.get("properties") or []:
            base = fields.get(prop.get("name"))
            if base is not None:
                merged = {**base, **prop}
                if "customProperties" in base or "customProperties" in prop:
                    merged["customProperties"] = _merge_custom(
                        base.get("customProperties"), prop.get("customProperties"))
                prop = merged
            props.append(prop)
        obj["properties"] = props
        schema.append(obj)
    doc["schema"] = schema
    return doc


@cache
def load_odcs(file_stem: str) -> OpenDataContractStandard:
    """The validated ODCS model of contracts/<file_stem>.yaml, shared fields merged in."""
    path = CONTRACTS_DIR / f"{file_stem}.yaml"
    doc = _read_yaml(path)
    OpenDataContractStandard(**doc)  # the file as written is valid ODCS
    return OpenDataContractStandard(**resolve_shared_fields(doc))


@cache
def load_contract(file_stem: str) -> Contract:
    odcs = load_odcs(file_stem)
    obj = odcs.schema_[0]
    desc = odcs.description
    return Contract(
        id=odcs.id,
        name=odcs.name,
        label_zh=obj.businessName or odcs.name,
        purpose=(desc.purpose if desc else "") or "",
        columns=tuple(_column(p) for p in obj.properties or []),
        custom=_custom(odcs.customProperties),
        limitations=desc.limitations if desc else None,
    )


def source_contract(source: str) -> Contract:
    return load_contract(f"source_{source}")


def table_contract(table: str) -> Contract:
    return load_contract(f"table_{table}")


def all_contracts() -> list[Contract]:
    """Every contract (files starting with "_", like _fields.yaml, are not contracts)."""
    return [load_contract(p.stem) for p in sorted(CONTRACTS_DIR.glob("*.yaml"))
            if not p.name.startswith("_")]


def published_tables() -> list[str]:
    """Names of the published tables, in the order of specs/outputs.md."""
    return list(PUBLISHED_TABLES)
