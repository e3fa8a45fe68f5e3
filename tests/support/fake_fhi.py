"""A local fake of the FHI Statistikk Open API (``https://statistikk-data.fhi.no/api/open/v1``) over real HTTP.

Built on ``FakePxWebApi`` (tests/support/fake_pxwebapi.py): the same ThreadingHTTPServer on a loopback address and an
ephemeral port, the same call limit (429 + Retry-After), request log, counters and fault injection (``FAULTS``:
delay, http500/502/503, reset, truncate, html, http429, http400_problem, empty, changed_dimension); only the routes
and the fixtures are FHI's::

    with FakeFhi(calls=30, window=60) as server:
        httpx.post(f"{server.base_url}/nokkel/Table/369/data", json=body)
        server.inject("/nokkel/Table/369/data", "http500", times=1)
        server.set_modified("nokkel/369", datetime(2026, 11, 28, 7, tzinfo=UTC))

Standalone (manual use)::

    python -m tests.support.fake_fhi --fixtures tests/fixtures/fhi-api --port 8766

Importable as ``tests.support.fake_fhi`` from the repository root and as ``support.fake_fhi`` inside pytest, like fake_pxwebapi.

Routes (path segments case-insensitive, as at FHI):

- ``GET /Common/source``                         sources.json
- ``GET /{sourceId}/Table[?modifiedAfter=…]``     {sourceId}/tables.json, only tables with modifiedAt after the date
  (a table the catalogue finds by title, e.g. nokkel/999 for stonad_livsopphold, is one of its entries;
  ``set_title`` renames one, ``list_table`` adds one)
- ``GET /{sourceId}/Table/{tableId}``             that table's entry of tables.json
- ``GET /{sourceId}/Table/{tableId}/dimension|metadata|flag|query``  {sourceId}/{tableId}/<name>.json
- ``POST /{sourceId}/Table/{tableId}/data``       sliced from {sourceId}/{tableId}/data.json (the full cube); a GET is 405

The data POST honours FHI's request body: every dimension of the table must have exactly one filter (400 otherwise,
as a third-party note measured); ``item`` (exact codes; an unknown code is 400), ``top`` (the first n), ``bottom``
(the last n; undocumented but used), ``all`` (``*`` wildcards); ``response.format`` json-stat2 only;
``response.maxRowCount`` (400 when the result has more rows). An empty selection is 404 ("the data does not exist").
The response keeps FHI's shape: ``role`` with null time/geo, ``index`` as an array, ``status: ""`` when no cell has
a symbol (a sparse ``{"<cell>": ":"}`` object otherwise; FHI's own form is UNVERIFIED).
Error bodies are RFC 7807 problem+json (FHI documents only "details in the status field": UNVERIFIED).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .fake_pxwebapi import FAULTS, FakePxWebApi, Problem, _parse_time, _Reply, category_codes, slice_dataset

__all__ = ["DEFAULT_FIXTURES", "FAULTS", "FakeFhi", "answer_data"]

DEFAULT_FIXTURES = Path(__file__).parent.parent / "fixtures" / "fhi-api"
DEFAULT_BASE_PATH = "/api/open/v1"
FILTERS = ("item", "top", "bottom", "all")
ROOT_ORDER = ("class", "version", "href", "label", "updated", "source", "id", "size", "role", "dimension", "value", "status")


@dataclass
class FhiTable:
    """One table of the fake: its listing entry and the documents served for it (None: not in the fixtures)."""

    info: dict[str, Any]
    dimension: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    flag: list[dict[str, Any]] | None = None
    query: dict[str, Any] | None = None
    data: dict[str, Any] | None = None


def _pick(dimension: str, kind: Any, values: Any, codes: list[str]) -> list[int]:
    """The positions one filter selects (in the dimension's order); Problem(400) for a malformed filter."""
    if kind not in FILTERS:
        raise Problem(400, "Bad Request", f"Filter {kind!r} on dimension {dimension} is not one of {', '.join(FILTERS)}")
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise Problem(400, "Bad Request", f"Dimension {dimension}: 'values' must be a non-empty list of strings")
    if kind == "item":
        unknown = [v for v in values if v not in codes]
        if unknown:
            raise Problem(400, "Bad Request", f"Category {', '.join(unknown)} does not exist in dimension {dimension}")
        wanted = set(values)
        return [i for i, code in enumerate(codes) if code in wanted]
    if kind in ("top", "bottom"):
        if len(values) != 1 or not values[0].isdigit() or int(values[0]) < 1:
            raise Problem(400, "Bad Request", f"Filter {kind} on dimension {dimension} takes one integer of 1 or more")
        count = int(values[0])
        positions = list(range(len(codes)))
        return positions[:count] if kind == "top" else positions[-count:]
    patterns = [re.compile("^" + ".*".join(map(re.escape, v.split("*"))) + "$") for v in values]
    return [i for i, code in enumerate(codes) if any(p.match(code) for p in patterns)]


def answer_data(cube: dict[str, Any], body: Any) -> dict[str, Any]:
    """FHI's json-stat2 answer to a data request body, sliced from the full cube; Problem for a bad request."""
    if not isinstance(body, dict) or not isinstance(body.get("dimensions"), list):
        raise Problem(400, "Bad Request", "The request body must be a JSON object with a 'dimensions' list")
    response = body.get("response") or {}
    if not isinstance(response, dict):
        raise Problem(400, "Bad Request", "'response' must be an object with 'format' and 'maxRowCount'")
    fmt = response.get("format", "json-stat2")
    if fmt != "json-stat2":
        raise Problem(400, "Bad Request", f"Response format {fmt!r}: the fake serves json-stat2 only")
    ids: list[str] = list(cube["id"])
    filters: dict[str, dict[str, Any]] = {}
    for item in body["dimensions"]:
        if not isinstance(item, dict) or not isinstance(item.get("code"), str):
            raise Problem(400, "Bad Request", "Every entry of 'dimensions' must be an object with 'code', 'filter', 'values'")
        code = item["code"]
        if code not in ids:
            raise Problem(400, "Bad Request", f"Dimension {code} does not exist in the table (has {', '.join(ids)})")
        if code in filters:
            raise Problem(400, "Bad Request", f"Dimension {code} has more than one filter")
        filters[code] = item
    missing = [d for d in ids if d not in filters]
    if missing:
        raise Problem(400, "Bad Request", f"Every dimension must be filtered; missing: {', '.join(missing)}")
    picks = {
        d: _pick(d, filters[d].get("filter"), filters[d].get("values"), category_codes(cube["dimension"][d]))
        for d in ids
    }
    rows = math.prod(len(p) for p in picks.values())
    if rows == 0:
        raise Problem(404, "Not Found", "The requested data does not exist (the filters select no category)")
    max_rows = response.get("maxRowCount")
    if max_rows is not None and (not isinstance(max_rows, int) or rows > max_rows):
        raise Problem(400, "Bad Request", f"The result has {rows} rows, more than maxRowCount {max_rows}")
    sliced = slice_dataset(cube, picks, ids)
    sliced["status"] = sliced.get("status") or ""  # slice_dataset drops an emptied sparse status; FHI then sends ""
    first = [key for key in ROOT_ORDER if key in sliced]
    return {key: sliced[key] for key in first + [key for key in sliced if key not in ROOT_ORDER]}


class FakeFhi(FakePxWebApi):
    """A fake FHI Statistikk Open API on 127.0.0.1, serving tests/fixtures/fhi-api (see the module docstring).

    Attributes and counters are FakePxWebApi's (``total_requests``, ``count_429``, ``path_counts``, ``requests``,
    ``errors``, ``base_url`` …); ``calls``/``window`` is the enforced call limit (FHI documents none: 30/60 default).
    """

    def __init__(
        self,
        fixtures_dir: str | Path = DEFAULT_FIXTURES,
        *,
        calls: int = 30,
        window: float = 60,
        host: str = "127.0.0.1",
        port: int = 0,
        base_path: str = DEFAULT_BASE_PATH,
        clock: Callable[[], float] | None = None,
        verbose: bool = False,
    ) -> None:
        extra: dict[str, Any] = {"clock": clock} if clock is not None else {}
        super().__init__(
            fixtures_dir, calls=calls, window=window, host=host, port=port, base_path=base_path, verbose=verbose, **extra
        )
        self._sources, self._fhi = self._load_fhi(Path(fixtures_dir))

    # ---- fixtures -------------------------------------------------------------------------

    @staticmethod
    def _load(directory: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        return {}, {}, {}  # FakePxWebApi's SSB fixtures: none here

    @staticmethod
    def _load_fhi(directory: Path) -> tuple[list[dict[str, Any]], dict[str, dict[str, FhiTable]]]:
        if not directory.is_dir():
            raise FileNotFoundError(f"fixture directory {directory} does not exist")

        def read(path: Path) -> Any:
            return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None

        sources = read(directory / "sources.json") or []
        tables: dict[str, dict[str, FhiTable]] = {}
        for listing in sorted(directory.glob("*/tables.json")):
            source_id = listing.parent.name.lower()
            tables[source_id] = {}
            for info in read(listing):
                folder = listing.parent / str(info["tableId"])
                tables[source_id][str(info["tableId"])] = FhiTable(
                    info, read(folder / "dimension.json"), read(folder / "metadata.json"), read(folder / "flag.json"),
                    read(folder / "query.json"), read(folder / "data.json"),
                )
        return sources, tables

    def _table(self, source_id: str, table_id: str) -> FhiTable:
        source = self._fhi.get(source_id.lower())
        if source is None:
            raise Problem(404, "Not Found", f"Source {source_id} does not exist")
        entry = source.get(table_id)
        if entry is None:
            raise Problem(404, "Not Found", f"Table {table_id} does not exist in source {source_id}")
        return entry

    def _entry(self, table: str) -> FhiTable:
        source_id, table_id = table.split("/")
        return self._table(source_id, table_id)

    # ---- what tests change ----------------------------------------------------------------

    def table_info(self, table: str) -> dict[str, Any]:
        """A copy of the listing entry of "sourceId/tableId"."""
        with self._lock:
            return copy.deepcopy(self._entry(table).info)

    def cube(self, table: str) -> dict[str, Any]:
        """A copy of the full cube data requests are sliced from."""
        with self._lock:
            data = self._entry(table).data
            if data is None:
                raise KeyError(f"table {table} has no data.json")
            return copy.deepcopy(data)

    def dimensions(self, table: str) -> dict[str, Any]:
        """A copy of the /dimension document."""
        with self._lock:
            return copy.deepcopy(self._entry(table).dimension or {})

    def set_modified(self, table: str, when: datetime, *, published: bool = False) -> None:
        """FHI changed the table: ``modifiedAt`` (and with ``published`` also publishedAt and the data's updated)."""
        stamp = _format(when)
        with self._lock:
            entry = self._entry(table)
            entry.info["modifiedAt"] = stamp
            if published:
                entry.info["publishedAt"] = stamp
                if entry.data is not None:
                    entry.data["updated"] = stamp

    def set_cube(self, table: str, cube: dict[str, Any], *, modified: datetime | None = None) -> None:
        """Replace the full cube (FHI republished the series); optionally bump modifiedAt/publishedAt too."""
        with self._lock:
            self._entry(table).data = copy.deepcopy(cube)
        if modified is not None:
            self.set_modified(table, modified, published=True)

    def set_title(self, table: str, title: str) -> None:
        """FHI renamed the table in its table list (what a catalogue title is matched against)."""
        with self._lock:
            self._entry(table).info["title"] = title

    def list_table(self, source_id: str, info: dict[str, Any]) -> None:
        """One more table in the source's list (listing entry only: no dimension, data or other document)."""
        with self._lock:
            self._fhi[source_id.lower()][str(info["tableId"])] = FhiTable(copy.deepcopy(info))

    def set_dimensions(self, table: str, document: dict[str, Any]) -> None:
        """Replace the /dimension document (e.g. a category code FHI renamed)."""
        with self._lock:
            self._entry(table).dimension = copy.deepcopy(document)

    # ---- routing --------------------------------------------------------------------------

    def _route(self, method: str, path: str, pairs: list[tuple[str, str]], body_bytes: bytes, body: Any) -> _Reply:
        params = {key.lower(): value for key, value in pairs}
        parts = [p for p in path.split("/") if p]
        lowered = [p.lower() for p in parts]
        with self._lock:
            if lowered == ["common", "source"]:
                self._only(method, "GET")
                return self._json_reply(copy.deepcopy(self._sources))  # type: ignore[arg-type]
            if len(parts) >= 2 and lowered[1] == "table":
                source_id = parts[0]
                if len(parts) == 2:
                    self._only(method, "GET")
                    return self._json_reply(self._listing(source_id, params.get("modifiedafter")))  # type: ignore[arg-type]
                entry = self._table(source_id, parts[2])
                if len(parts) == 3:
                    self._only(method, "GET")
                    return self._json_reply(copy.deepcopy(entry.info))
                if len(parts) == 4 and lowered[3] == "data":
                    self._only(method, "POST")
                    if entry.data is None:
                        raise Problem(404, "Not Found", f"Table {parts[2]} has no data")
                    if body is None and body_bytes:
                        raise Problem(400, "Bad Request", "The request body is not valid JSON")
                    return self._json_reply(answer_data(entry.data, body), dataset=True)
                if len(parts) == 4 and lowered[3] in ("dimension", "metadata", "flag", "query"):
                    self._only(method, "GET")
                    document = getattr(entry, lowered[3])
                    if document is None:
                        raise Problem(404, "Not Found", f"Table {parts[2]} has no {lowered[3]}")
                    return self._json_reply(copy.deepcopy(document))
        raise Problem(404, "Not Found", f"No endpoint {path} in FakeFhi")

    def _listing(self, source_id: str, modified_after: str | None) -> list[dict[str, Any]]:
        source = self._fhi.get(source_id.lower())
        if source is None:
            raise Problem(404, "Not Found", f"Source {source_id} does not exist")
        after: datetime | None = None
        if modified_after:
            try:
                after = _parse_time(modified_after)
            except ValueError:
                raise Problem(400, "Bad Request", f"modifiedAfter {modified_after!r} is not a date") from None
        return [
            copy.deepcopy(t.info) for t in source.values()
            if after is None or (t.info.get("modifiedAt") and _parse_time(t.info["modifiedAt"]) > after)
        ]

    def _late_fault(self, fault: Any, reply: _Reply) -> _Reply:
        if fault.kind == "empty" and reply.dataset is not None and reply.status == 200:
            dataset = copy.deepcopy(reply.dataset)
            dataset["size"][dataset["id"].index("AAR")] = 0
            dataset["dimension"]["AAR"]["category"] = {"index": [], "label": {}}
            dataset["value"], dataset["status"] = [], ""
            return self._json_reply(dataset, dataset=True)
        return super()._late_fault(fault, reply)


def _format(when: datetime) -> str:
    """A stamp the way FHI writes them: 7 fractional digits and +00:00 (README example)."""
    if when.tzinfo is None:
        raise ValueError("the fake wants timezone-aware datetimes")
    utc = when.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond:06d}0+00:00"


def running(fixtures_dir: str | Path = DEFAULT_FIXTURES, **kwargs: Any) -> Iterator[FakeFhi]:
    """Generator for a pytest fixture: ``yield from running(calls=30, window=60)``."""
    with FakeFhi(fixtures_dir, **kwargs) as server:
        yield server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.fake_fhi", description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES, help="fixture directory")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8766, help="port (0 = any free one; default 8766)")
    parser.add_argument("--calls", type=int, default=30, help="calls per window to enforce (default 30)")
    parser.add_argument("--window", type=float, default=60, help="window in seconds (default 60)")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    server = FakeFhi(args.fixtures, host=args.host, port=args.port, calls=args.calls, window=args.window,
                     verbose=args.verbose)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with server:
        print(f"FakeFhi: {args.fixtures} at {server.base_url}; Ctrl-C stops", flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    print(f"FakeFhi: stopped after {server.total_requests} requests ({server.count_429} answered 429)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
