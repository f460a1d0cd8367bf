"""Parts of an xlsx file (a zip archive) by name, and a copy of a workbook with some of its parts
taken as they are from another workbook.

A district workbook's table sheet is a part (``xl/worksheets/sheetN.xml``) that depends only on
the table's rows, its sheet name and the district: rust_xlsxwriter writes a constant-memory sheet
with inline strings (no index into the workbook's sharedStrings.xml) and with style indices into
styles.xml. ``replace_parts`` copies such parts from the previous release's workbook byte for byte
(compressed data, CRC and sizes), so the result is the zip rust_xlsxwriter writes for the full
workbook: the same deflate output of the same XML (docs/outputs.md, "What a new release reuses").
"""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path

LOCAL = struct.Struct("<IHHHHHIIIHH")  # signature … name length, extra length
CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")  # signature … local header offset
EOCD = struct.Struct("<IHHHHIIH")
LOCAL_SIG, CENTRAL_SIG, EOCD_SIG = 0x04034B50, 0x02014B50, 0x06054B50
DATA_DESCRIPTOR_FLAG = 0x08
ZIP64_MARK = 0xFFFFFFFF
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """{sheet name: zip part of its XML} of an open xlsx (xl/workbook.xml and its relationships)."""
    targets = {r.get("Id"): r.get("Target") for r in ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
               .iter(f"{_PKG_REL}Relationship")}
    out = {}
    for sheet in ET.fromstring(zf.read("xl/workbook.xml")).iter(f"{_MAIN}sheet"):
        target = targets[sheet.get(f"{_REL}id")]
        out[sheet.get("name")] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return out


@dataclass(frozen=True)
class _Entry:
    central: bytes  # the central directory record, name, extra field and comment included
    local_header: bytes  # the local file header with its name and extra field
    data: bytes  # compressed data
    crc: int
    compressed: int
    size: int


def _entries(buf: bytes) -> tuple[dict[str, _Entry], list[str], bytes] | None:
    """The entries of a zip in central-directory order and its end record; None for what this
    copier does not handle (zip64, data descriptors, a comment or bytes after the end record)."""
    end = buf.rfind(struct.pack("<I", EOCD_SIG))
    if end < 0 or end + EOCD.size != len(buf):
        return None
    _, _, _, _, count, cd_size, cd_offset, _ = EOCD.unpack_from(buf, end)
    if ZIP64_MARK in (cd_size, cd_offset) or count == 0xFFFF:
        return None
    entries, order, pos = {}, [], cd_offset
    for _ in range(count):
        fields = CENTRAL.unpack_from(buf, pos)
        if fields[0] != CENTRAL_SIG:
            return None
        flag, crc, csize, usize, nlen, elen, clen, offset = (fields[3], fields[7], fields[8], fields[9],
                                                            fields[10], fields[11], fields[12], fields[16])
        name = buf[pos + CENTRAL.size: pos + CENTRAL.size + nlen].decode("utf-8")
        record_end = pos + CENTRAL.size + nlen + elen + clen
        local = LOCAL.unpack_from(buf, offset)
        if local[0] != LOCAL_SIG or flag & DATA_DESCRIPTOR_FLAG or ZIP64_MARK in (csize, usize, offset):
            return None
        data_start = offset + LOCAL.size + local[9] + local[10]
        entries[name] = _Entry(buf[pos:record_end], buf[offset:data_start], buf[data_start:data_start + csize],
                               crc, csize, usize)
        order.append(name)
        pos = record_end
    return entries, order, buf[end:]


def replace_parts(path: Path, source: Path, parts: dict[str, str]) -> bool:
    """Rewrite the zip ``path`` with each part ``new`` of ``parts`` ({new: old}) replaced by part
    ``old`` of ``source`` as it is stored there; every other byte as in ``path`` (headers patched
    for the CRC, sizes and offsets). False, ``path`` untouched, when either zip has a layout this
    copier does not handle or a part is missing: the caller writes the parts itself."""
    new, old = _entries(Path(path).read_bytes()), _entries(Path(source).read_bytes())
    if new is None or old is None or not all(n in new[0] and o in old[0] for n, o in parts.items()):
        return False
    entries, order, end = new
    out, central = bytearray(), bytearray()
    for name in order:
        e = entries[name]
        if name in parts:
            src = old[0][parts[name]]
            e = _Entry(e.central, e.local_header, src.data, src.crc, src.compressed, src.size)
        offset = len(out)
        local = bytearray(e.local_header)
        struct.pack_into("<III", local, 14, e.crc, e.compressed, e.size)
        out += local + e.data
        record = bytearray(e.central)
        struct.pack_into("<III", record, 16, e.crc, e.compressed, e.size)
        struct.pack_into("<I", record, 42, offset)
        central += record
    record = bytearray(end)
    struct.pack_into("<II", record, 12, len(central), len(out))
    Path(path).write_bytes(bytes(out + central + record))
    return True
