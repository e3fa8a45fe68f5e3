"""`relabel`: make a fake source give one code another label, in its metadata and in its data alike.

The fakes serve what their fixtures say; a test of the meaning checks (fetchers.meaning) changes one label and
expects exactly that mismatch. Works on FakePxWebApi (SSB), FakeFhi and FakeUdir.
"""

from __future__ import annotations

import copy
from typing import Any

from support.fake_fhi import FakeFhi
from support.fake_pxwebapi import FakePxWebApi
from support.fake_udir import FakeUdir

UDIR_ROW_LABEL = {"TrinnID": ("TrinnKode", "Trinnnavn"), "SpoersmaalID": ("Spoersmaalgruppekode", "Spoersmaalgruppe")}


def _set_label(document: dict[str, Any], dimension: str, code: str, label: str) -> None:
    category = document["dimension"][dimension]["category"]
    category.setdefault("label", {})[code] = label


def relabel(server: FakePxWebApi, table: str, dimension: str, code: str, label: str) -> None:
    """From now on the fake labels `code` of `dimension` in `table` as `label` (metadata, /dimension and data)."""
    if isinstance(server, FakeUdir):
        values = server.filter_values(table)
        for entry in values[dimension]:
            if str(entry["kode"]) == code:
                entry["navn"] = label
        server.set_filter_values(table, values)
        code_column, label_column = UDIR_ROW_LABEL[dimension]
        rows = server.rows(table)
        for row in rows:
            if str(row.get(code_column)) == code:
                row[label_column] = label
        server.set_rows(table, rows)
        return
    if isinstance(server, FakeFhi):
        cube = server.cube(table)
        _set_label(cube, dimension, code, label)
        server.set_cube(table, cube)
        document = server.dimensions(table)
        for entry in document["dimensions"]:
            if entry.get("code") == dimension:
                for category in entry.get("categories") or []:
                    if category.get("value") == code:
                        category["label"] = label
        server.set_dimensions(table, document)
        return
    with server._lock:  # the fake keeps no public getter of the metadata document
        metadata = copy.deepcopy(server._get(table).metadata)
    if metadata is not None:
        _set_label(metadata, dimension, code, label)
        server.set_metadata(table, metadata)
    data = server.data(table)
    _set_label(data, dimension, code, label)
    server.set_data(table, data)


def restate_unit(server: FakePxWebApi, table: str, code: str, base: str) -> None:
    """From now on the fake SSB states `base` as the unit of ContentsCode `code` in `table` (metadata and data)."""
    with server._lock:
        metadata = copy.deepcopy(server._get(table).metadata)
    for document, store in ((metadata, server.set_metadata), (server.data(table), server.set_data)):
        if document is not None:
            document["dimension"]["ContentsCode"]["category"]["unit"][code]["base"] = base
            store(table, document)
