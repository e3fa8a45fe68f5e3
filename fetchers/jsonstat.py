"""JSON-stat normaliser: one dataset (2.0, or a 1.x bundle/2.0 collection of one) to tidy cells, fast."""

from __future__ import annotations

import json
import math
import re
import reprlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import product, repeat
from typing import Any, NamedTuple

__all__ = ["Cell", "Dataset", "JsonStatError", "parse_dataset"]

VALUE, STATUS = "value", "status"
ECHO = 80  # at most this many characters of the input are echoed in an error message
_PLAIN_NUMBER = re.compile(r"[ \t\n\r]*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[ \t\n\r]*")
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxtuple, _REPR.maxstring, _REPR.maxother = 2, 4, 3, 4, 2 * ECHO, ECHO


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
            raise JsonStatError(f"dimension ids {_echo(self.ids)} clash with the value/status columns")
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
    written as a plain ASCII decimal number ("12.5") becomes that float, any other string that
    is not a number becomes None with the string as the cell's status (unless it has one; ""
    gives no status). Values that are not finite ("NaN", "-Infinity", NaN, 1e999) and strings
    with number forms Python reads but JSON-stat does not ("١٢", "1_000") raise JsonStatError
    naming the cell. A null value without a status stays (None, None): no symbol is invented.
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
    values, symbols = ([], {}) if raw_value == [] and n > 0 else _values(raw_value, ids, codes)
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
        raise JsonStatError(f"body is {kind}: {exc.msg} at char {exc.pos} of {len(data)}; starts {_echo(head)}") from None
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
        raise JsonStatError(f"not a JSON-stat 2.0 dataset: class {_echo(klass)}")
    if "dimension" not in doc and ("error" in doc or {"title", "status"} <= doc.keys()):
        body = _clip(json.dumps(_whole_numbers(doc), ensure_ascii=False))
        raise JsonStatError(f"not a JSON-stat dataset but an error body: {body}")
    if "dimension" in doc and "value" in doc:  # a dataset without "class": tolerated
        return doc, _opt_str(doc.get("version"))
    bundled = [key for key, value in doc.items() if isinstance(value, dict) and "dimension" in value]
    if not bundled:
        raise JsonStatError(f"not a JSON-stat dataset: no 'class' and no dataset in it (keys: {_echo(list(doc))})")
    if len(bundled) > 1:
        raise JsonStatError(f"1.x bundle with {len(bundled)} datasets ({_clip(', '.join(bundled))}): expected exactly one")
    return doc[bundled[0]], None


def _structure(ds: dict[str, Any]) -> tuple[tuple[str, ...], tuple[int, ...], dict[str, Any]]:
    dims = ds.get("dimension")
    if not isinstance(dims, dict):
        raise JsonStatError("dataset has no 'dimension' object")
    ids, raw_sizes = ds.get("id", dims.get("id")), ds.get("size", dims.get("size"))
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise JsonStatError(f"'id' must be a list of distinct dimension ids, got {_echo(ids)}")
    if len(set(ids)) != len(ids):
        raise JsonStatError(f"duplicate dimension id {_echo(_first_duplicate(ids))} in 'id'")
    sizes = [s for s in map(_size, raw_sizes) if s is not None] if isinstance(raw_sizes, list) else []
    if not isinstance(raw_sizes, list) or len(sizes) != len(raw_sizes):
        raise JsonStatError(f"'size' must be a list of non-negative integers, got {_echo(raw_sizes)}")
    if len(ids) != len(sizes):
        raise JsonStatError(f"'id' names {len(ids)} dimensions but 'size' has {len(sizes)} entries")
    for dim_id in ids:
        if not isinstance(dims.get(dim_id), dict):
            raise JsonStatError(f"dimension {_echo(dim_id)} is listed in 'id' but missing from 'dimension'")
    return tuple(ids), tuple(sizes), dims


def _size(raw: Any) -> int | None:
    """A dimension size as producers write it: 12, 12.0 or "12" (CSO Ireland); None if it is none of these."""
    if type(raw) is int:
        return raw if raw >= 0 else None
    if type(raw) is float:
        return int(raw) if raw.is_integer() and raw >= 0 else None
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 18:  # int() refuses 4301 digits
        return int(raw)
    return None


def _first_duplicate(items: list[str] | tuple[str, ...]) -> str | None:
    seen: set[str] = set()
    for item in items:
        if item in seen:
            return item
        seen.add(item)
    return None


def _dimension(dim_id: str, dim: dict[str, Any], size: int) -> tuple[tuple[str, ...], dict[str, str], dict[str, Any]]:
    category = dim.get("category")
    if not isinstance(category, dict):
        raise JsonStatError(f"dimension {_echo(dim_id)}: no 'category' object")
    index, label = category.get("index"), category.get("label") or {}
    if not isinstance(label, dict):
        raise JsonStatError(f"dimension {_echo(dim_id)}: category.label must be an object")
    if isinstance(index, list):
        codes = tuple(map(str, index))
    elif isinstance(index, dict):
        positions = set(index.values())
        if positions != set(range(len(index))) or not all(type(p) is int or type(p) is float for p in positions):
            raise JsonStatError(f"dimension {_echo(dim_id)}: category.index positions are not 0..{len(index) - 1}")
        codes = tuple(sorted(index, key=index.__getitem__))
    elif index is None and size == 1 and len(label) == 1:
        codes = (str(next(iter(label))),)
    elif index is None:
        raise JsonStatError(f"dimension {_echo(dim_id)}: category.index missing on a dimension of size {size}")
    else:
        raise JsonStatError(f"dimension {_echo(dim_id)}: category.index must be an array or an object")
    if len(set(codes)) != len(codes):
        raise JsonStatError(f"duplicate category id {_echo(_first_duplicate(codes))} in dimension {_echo(dim_id)}")
    if len(codes) != size:
        raise JsonStatError(f"dimension {_echo(dim_id)}: {len(set(codes))} distinct categories but size says {size}")
    labels = {code: code if label.get(code) is None else str(label[code]) for code in codes}
    unit = category.get("unit")
    return codes, labels, unit if isinstance(unit, dict) else {}


def _values(raw: Any, ids: tuple[str, ...], codes: list[tuple[str, ...]]) -> tuple[list[float | None], dict[int, str]]:
    """Flat float|None values, plus the symbols found where a value was a non-numeric string."""
    n = math.prod(map(len, codes))
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
    if types <= {float, type(None)} and _all_finite(values):  # the fast path: parsed from bytes/str
        return values, {}
    if types <= {float, int, type(None)}:
        try:
            floats = [v if v is None else float(v) for v in values]
        except OverflowError:  # an int too large for a float: the loop below names the cell
            pass
        else:
            if _all_finite(floats):
                return floats, {}
    out: list[float | None] = []
    symbols: dict[int, str] = {}
    for i, v in enumerate(values):
        if v is None:
            out.append(None)
            continue
        if type(v) is bool or not isinstance(v, (int, float, str)):
            raise _bad_cell(i, v, ids, codes, "expected a number, null or a string")
        if isinstance(v, str) and not v.isascii() and any(c.isdecimal() and not c.isascii() for c in v):
            raise _bad_cell(i, v, ids, codes, "digits that are not ASCII")
        try:
            number = float(v)
        except OverflowError:  # int
            number = math.inf
        except ValueError:  # a symbol such as ".." where the number should be; "" is no symbol
            out.append(None)
            if v:
                symbols[i] = str(v)
            continue
        if not math.isfinite(number):
            raise _bad_cell(i, v, ids, codes, "not a finite number")
        if isinstance(v, str) and not _PLAIN_NUMBER.fullmatch(v):  # "1_000", "\u200912": Python reads them, JSON does not
            raise _bad_cell(i, v, ids, codes, "not a plain decimal number")
        out.append(number)
    return out, symbols


def _all_finite(values: list[float | None]) -> bool:
    """No NaN or infinity among the floats (a sum overflowing to inf gives False: then the slow path checks each)."""
    return math.isfinite(sum(filter(None, values)))


def _bad_cell(i: int, value: Any, ids: tuple[str, ...], codes: list[tuple[str, ...]], why: str) -> JsonStatError:
    """The error for the value of cell i, naming the cell by its index and its category per dimension."""
    where: list[str] = []
    rest = i
    for dim_id, dim_codes in zip(reversed(ids), reversed(codes)):  # row-major: the last dimension is fastest
        rest, k = divmod(rest, len(dim_codes))
        where.append(f"{dim_id}={dim_codes[k]}")
    at = f" ({_clip(', '.join(reversed(where)))})" if where else ""
    return JsonStatError(f"value[{i}] is {_echo(value)}{at}: {why}")


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
        raise JsonStatError(f"status[{where}] is {_echo(symbol)}; expected a string")
    return symbol


def _flat_index(key: Any, n: int, what: str) -> int:
    if type(key) is int:  # a dict from the caller
        i = key
    elif isinstance(key, str) and key.isascii() and key.isdigit():  # not "٣", " 3" or "3_0", which int() reads
        i = int(key)
    else:
        raise JsonStatError(f"{what} object key {_echo(key)} is not a cell index")
    if not 0 <= i < n:
        raise JsonStatError(f"{what} object key {_echo(key)} is outside 0..{n - 1}")
    return i


def _roles(raw: Any, ids: tuple[str, ...]) -> dict[str, list[str]]:
    if not isinstance(raw, (dict, type(None))):
        raise JsonStatError(f"'role' must be an object, got {type(raw).__name__}")
    roles = {role: [] if members is None else members for role, members in (raw or {}).items()}
    for role, members in roles.items():
        if not isinstance(members, list) or any(m not in ids for m in members):
            raise JsonStatError(f"role {_echo(role)} must list dimension ids from 'id', got {_echo(members)}")
    return {role: list(members) for role, members in roles.items()}


def _opt_str(raw: Any) -> str | None:
    return raw if isinstance(raw, str) else None


def _echo(obj: Any) -> str:
    """repr(obj) for an error message: never a whole array or object, at most about ECHO characters."""
    return _clip(_REPR.repr(obj))


def _clip(text: str) -> str:
    return text if len(text) <= ECHO else text[: ECHO - 3] + "..."
