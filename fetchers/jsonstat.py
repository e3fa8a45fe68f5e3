"""JSON-stat normaliser: one dataset (2.0, or a 1.x bundle/2.0 collection of one) to tidy cells, fast."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import product, repeat
from typing import Any, NamedTuple

__all__ = ["Cell", "Dataset", "JsonStatError", "parse_dataset"]

VALUE, STATUS = "value", "status"


class JsonStatError(ValueError):
    """The input is not a JSON-stat dataset we can read; the message says what is wrong."""


class Cell(NamedTuple):
    """One cell: its category code per dimension, its value and its status symbol (verbatim)."""

    codes: tuple[str, ...]
    value: float | None
    status: str | None


@dataclass(frozen=True)
class Dataset:
    """A normalised dataset. `values`/`statuses` are flat and row-major (last dimension fastest)."""

    ids: tuple[str, ...]
    sizes: tuple[int, ...]
    codes: tuple[tuple[str, ...], ...]  # category ids per dimension, in index order, always str
    labels: dict[str, dict[str, str]]  # dim id -> code -> label (the code itself when unlabelled)
    values: list[float | None] = field(repr=False)
    statuses: list[str | None] = field(repr=False)
    roles: dict[str, list[str]] = field(default_factory=dict)  # a null role becomes []
    dimension_labels: dict[str, str] = field(default_factory=dict)
    units: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # dim id -> code -> unit
    label: str | None = None
    source: str | None = None
    updated: str | None = None
    notes: tuple[str, ...] = ()
    extension: dict[str, Any] = field(default_factory=dict)
    version: str | None = None  # "2.0"; None for a 1.x bundle

    @property
    def n_cells(self) -> int:
        """Number of cells (0 for a metadata-only dataset)."""
        return len(self.values)

    @property
    def metadata_only(self) -> bool:
        """True when `value` was empty but the dimensions are not (read with allow_empty=True)."""
        return not self.values and math.prod(self.sizes) > 0

    def cells(self) -> Iterator[Cell]:
        """All cells in row-major order; nothing for a metadata-only dataset."""
        if not self.values:
            return iter(())
        return map(tuple.__new__, repeat(Cell), zip(product(*self.codes), self.values, self.statuses))

    def columns(self) -> dict[str, list[Any]]:
        """The fast path: {<dim id>: code per cell, ..., "value": values, "status": statuses}.

        "value" and "status" are the dataset's own lists, not copies (that is part of the speed):
        copy them before changing them.
        """
        if {VALUE, STATUS} & set(self.ids):
            raise JsonStatError(f"dimension ids {self.ids} clash with the value/status columns")
        n = len(self.values)
        out: dict[str, list[Any]] = {}
        block = n  # cells per category of the previous dimension
        for dim_id, dim_codes in zip(self.ids, self.codes):
            inner = block // len(dim_codes) if n else 0
            one_block: list[str] = []
            for code in dim_codes if n else ():
                one_block += [code] * inner
            out[dim_id] = one_block * (n // block) if n else []
            block = inner
        out[VALUE] = self.values
        out[STATUS] = self.statuses
        return out

    def to_rows(self) -> list[dict[str, Any]]:
        """Tidy rows {<dim id>: code, ..., "value": float | None, "status": str | None}."""
        columns = self.columns()
        return [dict(zip(columns, row)) for row in zip(*columns.values())]

    def cell(self, **codes: str) -> Cell:
        """The cell at the given codes, e.g. ds.cell(Region="0301", Tid="2023"); size-1 dims may be left out."""
        flat = 0
        key: list[str] = []
        for dim_id, dim_codes in zip(self.ids, self.codes):
            code = codes.pop(dim_id, dim_codes[0] if len(dim_codes) == 1 else None)
            if code not in dim_codes:
                raise KeyError(f"dimension {dim_id!r}: no code given or unknown code {code!r}")
            flat, key = flat * len(dim_codes) + dim_codes.index(code), [*key, code]
        if codes or not self.values:
            raise KeyError(f"unknown dimension(s) {sorted(codes)}" if codes else "metadata-only dataset")
        return Cell(tuple(key), self.values[flat], self.statuses[flat])


def parse_dataset(data: bytes | str | dict[str, Any], *, allow_empty: bool = False) -> Dataset:
    """Read one JSON-stat dataset from a response body (bytes/str) or an already decoded dict.

    Accepts a 2.0 dataset, a 1.x bundle holding exactly one dataset and a 2.0 collection
    embedding exactly one. Values become float (JSON ints included) or None; a string value
    that is not a number becomes None with the string as the cell's status (unless it has one).
    An empty `value` array with a non-zero size product (PxWebApi 2 /metadata) raises
    JsonStatError unless allow_empty=True, which gives a `metadata_only` dataset without cells.
    """
    if isinstance(data, dict):
        ds, version = _select(data)
        raw_value = ds.get("value")
        raw_value = list(raw_value) if isinstance(raw_value, list) else raw_value  # never alias the caller's list
    else:
        ds, version = _select(_load(data))
        raw_value = ds.get("value")  # JSON integers were parsed as float, see _load
        ds = _whole_numbers({key: item for key, item in ds.items() if key not in (VALUE, STATUS)}) | {
            STATUS: ds.get(STATUS)
        }
    ids, sizes, dims = _structure(ds)
    n = math.prod(sizes)
    codes, labels, dimension_labels, units = [], {}, {}, {}
    for dim_id, size in zip(ids, sizes):
        dim_codes, labels[dim_id], dim_units = _dimension(dim_id, dims[dim_id], size)
        codes.append(dim_codes)
        if isinstance(dims[dim_id].get("label"), str):
            dimension_labels[dim_id] = dims[dim_id]["label"]
        if dim_units:
            units[dim_id] = dim_units
    if raw_value == [] and n > 0 and not allow_empty:
        raise JsonStatError(
            f"value is empty but the size product is {n}: a metadata-only response"
            " (e.g. PxWebApi 2 /metadata); pass allow_empty=True to read its dimensions"
        )
    values, symbols = ([], {}) if raw_value == [] and n > 0 else _values(raw_value, n)
    statuses = _statuses(ds.get(STATUS), len(values), symbols)
    extension = ds.get("extension")
    return Dataset(
        ids=ids,
        sizes=sizes,
        codes=tuple(codes),
        labels=labels,
        values=values,
        statuses=statuses,
        roles=_roles(ds["role"] if "role" in ds else dims.get("role"), ids),
        dimension_labels=dimension_labels,
        units=units,
        label=_opt_str(ds.get("label")),
        source=_opt_str(ds.get("source")),
        updated=_opt_str(ds.get("updated")),
        notes=(ds["note"],) if isinstance(ds.get("note"), str) else tuple(map(str, ds.get("note") or ())),
        extension=extension if isinstance(extension, dict) else {},
        version=version,
    )


def _load(data: bytes | bytearray | str) -> dict[str, Any]:
    if isinstance(data, str):
        data = data.removeprefix("\ufeff")
    elif not isinstance(data, (bytes, bytearray)):
        raise JsonStatError(f"expected bytes, str or dict, got {type(data).__name__}")
    try:  # integers as float: the values need no conversion pass; _whole_numbers restores the metadata
        doc = json.loads(data, parse_int=float)
    except json.JSONDecodeError as exc:
        head = data[:60].decode("utf-8", "replace") if isinstance(data, (bytes, bytearray)) else data[:60]
        kind = "HTML, not JSON" if head.lstrip().startswith("<") else "truncated or malformed JSON"
        raise JsonStatError(f"body is {kind}: {exc.msg} at char {exc.pos} of {len(data)}; starts {head!r}") from None
    except UnicodeDecodeError as exc:
        raise JsonStatError(f"body is not UTF-8/16/32 text: {exc}") from None
    if not isinstance(doc, dict):
        raise JsonStatError(f"not a JSON-stat dataset: the top-level JSON value is a {type(doc).__name__}")
    return doc


def _whole_numbers(obj: Any) -> Any:
    """Metadata parsed with parse_int=float, back to int (JSON itself does not tell 2 from 2.0)."""
    if isinstance(obj, float) and obj.is_integer() and abs(obj) < 2**53:
        return int(obj)
    if isinstance(obj, dict):
        return {key: _whole_numbers(item) for key, item in obj.items()}
    if isinstance(obj, list):
        return [_whole_numbers(item) for item in obj]
    return obj


def _select(doc: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The single dataset in doc, and its version ("2.0"; None for 1.x)."""
    klass = doc.get("class")
    if klass == "dataset":
        return doc, _opt_str(doc.get("version"))
    if klass == "collection":
        link = doc.get("link")
        items = (link.get("item") or []) if isinstance(link, dict) else []
        embedded = [it for it in items if isinstance(it, dict) and it.get("class") == "dataset" and "dimension" in it]
        if len(embedded) != 1:
            raise JsonStatError(f"collection with {len(items)} items, {len(embedded)} embedded datasets: expected one")
        return embedded[0], _opt_str(embedded[0].get("version", doc.get("version")))
    if klass is not None:
        raise JsonStatError(f"not a JSON-stat 2.0 dataset: class {klass!r}")
    if "dimension" not in doc and ("error" in doc or {"title", "status"} <= doc.keys()):
        body = json.dumps(_whole_numbers(doc), ensure_ascii=False)[:200]
        raise JsonStatError(f"not a JSON-stat dataset but an error body: {body}")
    if "dimension" in doc and "value" in doc:  # a dataset without "class": tolerated
        return doc, _opt_str(doc.get("version"))
    bundled = [key for key, value in doc.items() if isinstance(value, dict) and "dimension" in value]
    if not bundled:
        raise JsonStatError(f"not a JSON-stat dataset: no 'class' and no dataset in it (keys: {list(doc)[:8]})")
    if len(bundled) > 1:
        raise JsonStatError(f"1.x bundle with {len(bundled)} datasets ({', '.join(bundled)}): expected exactly one")
    return doc[bundled[0]], None


def _structure(ds: dict[str, Any]) -> tuple[tuple[str, ...], tuple[int, ...], dict[str, Any]]:
    dims = ds.get("dimension")
    if not isinstance(dims, dict):
        raise JsonStatError("dataset has no 'dimension' object")
    ids, sizes = ds.get("id", dims.get("id")), ds.get("size", dims.get("size"))
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids) or len(set(ids)) != len(ids):
        raise JsonStatError(f"'id' must be a list of distinct dimension ids, got {ids!r}")
    if not isinstance(sizes, list) or not all(type(s) is int and s >= 0 for s in sizes):
        raise JsonStatError(f"'size' must be a list of non-negative integers, got {sizes!r}")
    if len(ids) != len(sizes):
        raise JsonStatError(f"'id' names {len(ids)} dimensions but 'size' has {len(sizes)} entries")
    for dim_id in ids:
        if not isinstance(dims.get(dim_id), dict):
            raise JsonStatError(f"dimension {dim_id!r} is listed in 'id' but missing from 'dimension'")
    return tuple(ids), tuple(sizes), dims


def _dimension(dim_id: str, dim: dict[str, Any], size: int) -> tuple[tuple[str, ...], dict[str, str], dict[str, Any]]:
    category = dim.get("category")
    if not isinstance(category, dict):
        raise JsonStatError(f"dimension {dim_id!r}: no 'category' object")
    index, label = category.get("index"), category.get("label") or {}
    if not isinstance(label, dict):
        raise JsonStatError(f"dimension {dim_id!r}: category.label must be an object")
    if isinstance(index, list):
        codes = tuple(map(str, index))
    elif isinstance(index, dict):
        if set(index.values()) != set(range(len(index))) or any(type(p) is not int for p in index.values()):
            raise JsonStatError(f"dimension {dim_id!r}: category.index positions are not 0..{len(index) - 1}")
        codes = tuple(sorted(index, key=index.__getitem__))
    elif index is None and size == 1 and len(label) == 1:
        codes = (str(next(iter(label))),)
    elif index is None:
        raise JsonStatError(f"dimension {dim_id!r}: category.index missing on a dimension of size {size}")
    else:
        raise JsonStatError(f"dimension {dim_id!r}: category.index must be an array or an object")
    if len(codes) != size or len(set(codes)) != size:
        raise JsonStatError(f"dimension {dim_id!r}: {len(set(codes))} distinct categories but size says {size}")
    labels = {code: code if label.get(code) is None else str(label[code]) for code in codes}
    unit = category.get("unit")
    return codes, labels, unit if isinstance(unit, dict) else {}


def _values(raw: Any, n: int) -> tuple[list[float | None], dict[int, str]]:
    """Flat float|None values, plus the symbols found where a value was a non-numeric string."""
    if isinstance(raw, dict):
        values: list[Any] = [None] * n
        for key, value in raw.items():
            values[_flat_index(key, n, VALUE)] = value
    elif isinstance(raw, list):
        if len(raw) != n:
            raise JsonStatError(f"value has {len(raw)} cells, size product is {n}")
        values = raw
    else:
        raise JsonStatError(f"'value' must be an array or an object, got {type(raw).__name__}")
    types = set(map(type, values))
    if types <= {float, type(None)}:  # the fast path: parsed from bytes/str, nothing to convert
        return values, {}
    if types <= {float, int, type(None)}:
        return [v if v is None else float(v) for v in values], {}
    out: list[float | None] = []
    symbols: dict[int, str] = {}
    for i, v in enumerate(values):
        if v is not None and (type(v) is bool or not isinstance(v, (int, float, str))):
            raise JsonStatError(f"value[{i}] is {v!r}; expected a number, null or a string")
        try:
            out.append(v if v is None else float(v))
        except ValueError:  # a symbol such as ".." where the number should be
            out.append(None)
            symbols[i] = str(v)
    return out, symbols


def _statuses(raw: Any, n: int, symbols: dict[int, str]) -> list[str | None]:
    """Flat status per cell; "" means no status; other symbols are kept verbatim."""
    if raw is None or raw == "" or raw == [] or raw == {}:
        statuses: list[str | None] = [None] * n
    elif isinstance(raw, str):
        statuses = [raw] * n
    elif isinstance(raw, list) and len(raw) == 1:
        statuses = [_status(raw[0], 0)] * n
    elif isinstance(raw, list) and len(raw) == n:
        statuses = [_status(symbol, i) for i, symbol in enumerate(raw)]
    elif isinstance(raw, list):
        raise JsonStatError(f"status array has {len(raw)} entries; expected 1 or {n} (one per cell)")
    elif isinstance(raw, dict):  # sparse: only the listed cells are touched
        statuses = [None] * n
        for key, symbol in raw.items():
            statuses[_flat_index(key, n, STATUS)] = _status(symbol, key)
    else:
        raise JsonStatError(f"'status' must be a string, an array or an object, got {type(raw).__name__}")
    for i, symbol in symbols.items():
        if statuses[i] is None:
            statuses[i] = symbol
    return statuses


def _status(symbol: Any, where: int | str) -> str | None:
    if symbol is None or symbol == "":
        return None
    if not isinstance(symbol, str):
        raise JsonStatError(f"status[{where}] is {symbol!r}; expected a string")
    return symbol


def _flat_index(key: str, n: int, what: str) -> int:
    try:
        i = int(key)
    except ValueError:
        raise JsonStatError(f"{what} object key {key!r} is not a cell index") from None
    if not 0 <= i < n:
        raise JsonStatError(f"{what} object key {key!r} is outside 0..{n - 1}")
    return i


def _roles(raw: Any, ids: tuple[str, ...]) -> dict[str, list[str]]:
    if not isinstance(raw, (dict, type(None))):
        raise JsonStatError(f"'role' must be an object, got {type(raw).__name__}")
    roles = {role: [] if members is None else members for role, members in (raw or {}).items()}
    for role, members in roles.items():
        if not isinstance(members, list) or any(m not in ids for m in members):
            raise JsonStatError(f"role {role!r} must list dimension ids from 'id', got {members!r}")
    return {role: list(members) for role, members in roles.items()}


def _opt_str(raw: Any) -> str | None:
    return raw if isinstance(raw, str) else None

