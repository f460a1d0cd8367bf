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

# The exports, in the order the specs list them (enterprise_register, va_growth: docs/monthly.md;
# green_manufacturing and product_energy: docs/green.md).
SOURCES = ("energy_reports", "mu_evaluations", "carbon_codes", "enterprise_register", "green_manufacturing",
           "product_energy", "va_growth")

# Layers of a published table (contract-level customProperty `layer`), in publication order;
# "district" is not a layer of its own but the tables with `districtExtract: true`.
LAYERS = ("open", "restricted")

# Shared field definitions merged into table contracts that declare `sharedFields: _fields`.
# Files whose name starts with "_" are not contracts of their own.
SHARED_FIELDS_KEY = "sharedFields"
# Attributes that belong to a table, never taken from a shared field definition.
_TABLE_ONLY_ATTRS = ("required", "primaryKey", "primaryKeyPosition")


def _custom(props: list | None) -> dict[str, Any]:
    _declared_once([p.property for p in (props or [])])
    return {p.property: p.value for p in (props or [])}


def _declared_once(names: list[str]) -> None:
    """A customProperty given twice in one list would silently keep the last value."""
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"customProperties declared more than once: {', '.join(repeated)}")


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
    allowed_values: tuple[Any, ...] | None = None  # the ODCS enum's values, where one is given
    minimum: float | None = None  # logicalTypeOptions minimum / maximum (inclusive)
    maximum: float | None = None
    stage: str = "mart"  # "candidate": added after dbt, by disclosure control (suppressed, ...)

    @property
    def range(self) -> tuple[float | None, float | None] | None:
        """(minimum, maximum), either may be None; None when the contract gives neither."""
        if self.minimum is None and self.maximum is None:
            return None
        return (self.minimum, self.maximum)
    value_labels_zh: dict[str, str] = field(default_factory=dict)  # code -> Chinese (valueLabelsZh)
    definition_zh: str | None = None  # the definition in Chinese, for clerks (definitionZh)
    # False: left out of the district workbook's sheets, kept in the district's Parquet
    # (districtWorkbook: false; docs/outputs.md, "District workbooks")
    in_district_workbook: bool = True

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
    quality: tuple[dict[str, Any], ...] = ()  # the schema object's ODCS quality rules, as dicts

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
    def order(self) -> int:
        """Position of a published table within its layer (customProperty `order`; a table
        without one comes after those that have one, by name)."""
        return int(self.custom.get("order", 10_000))

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def mart_columns(self) -> tuple[Column, ...]:
        """The columns the dbt mart of a published table holds (those added by disclosure
        control when the candidate is written are not among them)."""
        return tuple(c for c in self.columns if c.stage == "mart")

    def dbt_rules(self) -> list[dict[str, Any]]:
        """The table's rules that dbt runs as they are written (ODCS quality with engine dbt:
        tests across tables or against reference seeds), each an ``implementation`` dict."""
        return [dict(q["implementation"]) for q in self.quality
                if q.get("engine") == "dbt" and isinstance(q.get("implementation"), dict)]

    def not_null_in_mart(self) -> list[Any]:
        """Columns never null in the mart although the published table may null them (ODCS
        library rule nullValues = 0 with ``arguments.columns``; an item may be
        ``{name, where}``)."""
        out: list[Any] = []
        for q in self.quality:
            if q.get("metric") == "nullValues" and q.get("mustBe") == 0:
                out += (q.get("arguments") or {}).get("columns", [])
        return out

    @property
    def district_extract_column(self) -> str:
        """The column that decides which district's extract a row goes to (customProperty
        ``districtExtractColumn``; ``district_code`` where none is given)."""
        return self.custom.get("districtExtractColumn") or "district_code"

    @property
    def license(self) -> str | None:
        """SPDX id of the licence an open table is published under (customProperty ``license``)."""
        return self.custom.get("license")

    @property
    def grain(self) -> str | None:
        """Human-readable grain, e.g. 'district_code × year'."""
        return self.custom.get("grain")

    @property
    def short_name_zh(self) -> str:
        """Short Chinese name of a published table: the snapshot's ``zh`` view and the workbook
        sheet (customProperty ``shortNameZh``; the table label where none is given)."""
        return self.custom.get("shortNameZh") or self.label_zh

    @property
    def purpose_zh(self) -> str:
        """What the table holds, in Chinese, for the sheet list of a workbook (customProperty
        ``purposeZh``; the English purpose where none is given)."""
        return self.custom.get("purposeZh") or self.purpose

    @property
    def labels_zh(self) -> dict[str, str]:
        """Column name -> Chinese label."""
        return {c.name: c.label_zh for c in self.columns}


def _column(p: SchemaProperty) -> Column:
    custom = _custom(p.customProperties)
    forms: dict[str, Any] = {}
    options = p.logicalTypeOptions or {}
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
        allowed_values=tuple(e.value for e in p.enum) if p.enum else None,
        minimum=options.get("minimum"),
        maximum=options.get("maximum"),
        stage=custom.get("stage", "mart"),
        value_labels_zh={str(k): str(v) for k, v in (custom.get("valueLabelsZh") or {}).items()},
        definition_zh=custom.get("definitionZh"),
        in_district_workbook=custom.get("districtWorkbook", True) is not False,
    )


def _merge_custom(shared: list | None, own: list | None) -> list:
    _declared_once([c["property"] for c in own or []])
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


def shared_column(name: str, fields_file: str = "_fields") -> Column:
    """A shared field as a Column, for text about the field itself (its Chinese definition and
    value labels) where no one table is meant."""
    return _column(SchemaProperty(**shared_fields(fields_file)[name]))


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
        quality=tuple(q.model_dump(exclude_none=True) for q in obj.quality or []),
    )


def source_contract(source: str) -> Contract:
    return load_contract(f"source_{source}")


def table_contract(table: str) -> Contract:
    return load_contract(f"table_{table}")


def all_contracts() -> list[Contract]:
    """Every contract (files starting with "_", like _fields.yaml, are not contracts)."""
    return [load_contract(p.stem) for p in sorted(CONTRACTS_DIR.glob("*.yaml"))
            if not p.name.startswith("_")]


@cache
def _published() -> tuple[str, ...]:
    contracts = [load_contract(p.stem) for p in CONTRACTS_DIR.glob("table_*.yaml")]
    for c in contracts:
        if c.layer not in LAYERS:
            raise ValueError(f"table_{c.name}.yaml: layer must be one of {LAYERS}, got {c.layer!r}")
    contracts.sort(key=lambda c: (LAYERS.index(c.layer), c.order, c.name))
    return tuple(c.name for c in contracts)


def published_tables() -> list[str]:
    """Every table with a contract file (contracts/table_<name>.yaml): open/ first, then
    restricted/, each by its contract's `order`. A new contract file is a new published table."""
    return list(_published())


def tables_in_layer(layer: str) -> list[str]:
    """The published tables of ``layer``: "open", "restricted", or "district" (the tables a
    district bureau receives filtered to its own district)."""
    if layer == "district":
        return [t for t in _published() if table_contract(t).district_extract]
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}; known: {', '.join(LAYERS)}, district")
    return [t for t in _published() if table_contract(t).layer == layer]


def layer_of(table: str) -> str:
    """"open" or "restricted": the folder of the table in a release."""
    return table_contract(table).layer


def __getattr__(name: str):
    # PUBLISHED_TABLES is read from the contract files on first use, not at import.
    if name == "PUBLISHED_TABLES":
        return _published()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
