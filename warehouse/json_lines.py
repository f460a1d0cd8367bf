"""The append-only JSON-lines logs of the warehouse (approvals, withdrawals, the raw archive's
catalog and ingest runs): one record a line, appended and fsynced by their writers."""

import json
from pathlib import Path


def read_json_lines(path: Path) -> list[dict]:
    """Every record of a log, oldest first; none when it does not exist. A last line cut short
    by a crash is not a record."""
    path = Path(path)
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records
