"""A local fake of SSB's PxWebApi 2.0 (``https://data.ssb.no/api/pxwebapi/v2``) over real HTTP.

Used by the fetcher's integration tests and by ``bench/``. Standard library only: a
``ThreadingHTTPServer`` in a background thread, bound to a loopback address and an ephemeral port::

    with FakePxWebApi("tests/fixtures/ssb-v2", calls=30, window=60, now=now) as server:
        httpx.get(f"{server.base_url}/tables/01222/data", params={...})
        server.inject("/tables/01222/data", "http500", times=1)
        server.set_table_updated("01222", datetime(2026, 11, 28, 7, tzinfo=UTC))

Standalone (manual use, benchmarks)::

    python -m tests.support.fake_pxwebapi --fixtures tests/fixtures/ssb-v2 --port 8765

Importable as ``tests.support.fake_pxwebapi`` from the repository root (``tests`` is a namespace package:
there is deliberately no ``tests/__init__.py``, which would change how pytest puts ``tests/`` on sys.path)
and as ``support.fake_pxwebapi`` from inside pytest (pytest puts ``tests/`` on sys.path).
Pick one name per process: the two names are two module objects.

Fixture directory layout::

    config.json                  GET /config (limits may be overridden by the constructor)
    <table>/table.json           GET /tables/{id}: a v2 Table object (id, label, updated, firstPeriod,
                                 lastPeriod, discontinued, timeUnit, …); also the /tables list entries
    <table>/metadata.json        GET /tables/{id}/metadata: json-stat2 with "value": [] (optional:
                                 derived from data.json when missing)
    <table>/data.json            the full json-stat2 cube that /data requests are sliced from
    codelists/<codelist>.json    optional, GET /codelists/{id}; when present, restricts the value codes
                                 valid with ``codelist[Var]=<codelist>`` to its ``values[].code``

See ``FakePxWebApi`` for the API and ``FAULTS`` for the fault names.
"""

from __future__ import annotations

import argparse
import copy
import fnmatch
import itertools
import json
import math
import re
import signal
import socket
import struct
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

DEFAULT_FIXTURES = Path(__file__).parent.parent / "fixtures" / "ssb-v2"
DEFAULT_BASE_PATH = "/api/pxwebapi/v2"
DEFAULT_PAGE_SIZE = 20  # PxWebApi's configured PageSize (SSB and SCB both page by 20)

#: Fault names accepted by ``FakePxWebApi.inject`` and their parameters (all optional).
FAULTS: dict[str, str] = {
    "delay": "seconds=2.0: sleep before answering normally (to trigger client read timeouts)",
    "http500": "500 application/problem+json (body=, headers= override)",
    "http502": "502 text/html, like a proxy's Bad Gateway page (body=, headers=)",
    "http503": "503 text/html Service Unavailable (body=, headers=, retry_after=None)",
    "reset": "close the socket with a TCP RST and no response at all",
    "truncate": "mode='content_length' (default: announce the full Content-Length, send half, close) "
    "or mode='half' (a well-formed response whose JSON body is cut in half)",
    "html": "200 text/html maintenance page instead of JSON (body=)",
    "http429": "429 problem+json with Retry-After (retry_after=1)",
    "http403_cells": "403 problem+json 'too many cells' (detail=)",
    "http400_problem": "400 problem+json (title=, detail=)",
    "empty": "the normal json-stat2 response with the time dimension emptied: size 0, value []",
    "no_status": "the normal json-stat2 response without its `status` object (JSON-stat allows it): a cell "
    "SSB marks with a symbol is then a bare null",
    "changed_dimension": "rename={old: new} and/or drop={dim: [codes]} in the normal response; "
    "default: rename the first non-time, non-contents dimension X to XNy",
}

JSON_TYPE = "application/json; charset=UTF-8"
PROBLEM_TYPE = "application/problem+json; charset=UTF-8"
HTML_TYPE = "text/html; charset=UTF-8"
TOO_MANY_CELLS = "The query resulted in cell that exceeds the number of allowed"
MAINTENANCE_HTML = (
    "<!DOCTYPE html>\n<html lang=\"no\"><head><meta charset=\"utf-8\"><title>Vedlikehold - SSB</title></head>\n"
    "<body><h1>Statistikkbanken er midlertidig utilgjengelig</h1>\n"
    "<p>Vi oppdaterer statistikkbanken. Prøv igjen om litt.</p></body></html>\n"
)
BAD_GATEWAY_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
UNAVAILABLE_HTML = (
    "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\"\"http://www.w3.org/TR/html4/strict.dtd\">\r\n"
    "<HTML><HEAD><TITLE>Service Unavailable</TITLE></HEAD>\r\n"
    "<BODY><h2>Service Unavailable</h2>\r\n<hr><p>HTTP Error 503. The service is unavailable.</p>\r\n"
    "</BODY></HTML>\r\n"
)


# --------------------------------------------------------------------------------------------
# Small value types
# --------------------------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    """One request as the server saw it. ``path`` is relative to the base path ("/tables/01222/data")."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any  # parsed JSON, or the raw text if it was not JSON, or None
    raw_path: str  # the full request target, base path and query string included
    at: float  # the server clock (monotonic seconds) when it arrived
    status: int | None = None  # None: no HTTP response was sent (reset, or the client went away)
    fault: str | None = None  # the injected fault that hit this request, if any


@dataclass
class Fault:
    """An injected fault; ``remaining`` None means until cleared."""

    pattern: str
    kind: str
    remaining: int | None
    method: str | None
    params: dict[str, Any]
    hits: int = 0


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)
    dataset: dict[str, Any] | None = None  # set when the body is a json-stat2 dataset we may transform


class Problem(Exception):
    """An RFC 7807 error the fake answers with (``application/problem+json``)."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        type_: str = "Parameter error",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type_
        self.headers = headers or {}

    def body(self, instance: str) -> dict[str, Any]:
        problem: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail is not None:
            problem["detail"] = self.detail
        problem["instance"] = instance
        return problem


@dataclass
class _Table:
    table: dict[str, Any]
    metadata: dict[str, Any] | None
    data: dict[str, Any] | None


# --------------------------------------------------------------------------------------------
# json-stat2 helpers
# --------------------------------------------------------------------------------------------


def category_codes(dimension: dict[str, Any]) -> list[str]:
    """The category codes of a json-stat2 dimension, in index order (index as array, object, or absent)."""
    category = dimension.get("category", {})
    index = category.get("index")
    if index is None:  # allowed for a constant dimension: the single label key is the code
        return list(category.get("label", {}))
    if isinstance(index, list):
        return [str(code) for code in index]
    return [code for code, _ in sorted(index.items(), key=lambda item: item[1])]


def _strides(sizes: list[int]) -> list[int]:
    strides = [1] * len(sizes)
    for i in range(len(sizes) - 2, -1, -1):
        strides[i] = strides[i + 1] * sizes[i + 1]
    return strides


def _filter_code_map(mapping: Any, all_codes: set[str], keep: list[str]) -> Any:
    """Filter a {code: …} mapping to ``keep`` if all its keys are category codes; else leave it alone."""
    if isinstance(mapping, dict) and mapping and set(mapping) <= all_codes:
        return {code: mapping[code] for code in keep if code in mapping}
    return mapping


def _slice_dimension(dimension: dict[str, Any], keep: list[str]) -> dict[str, Any]:
    out = copy.deepcopy(dimension)
    all_codes = set(category_codes(dimension))
    category = out.setdefault("category", {})
    index = category.get("index")
    if isinstance(index, list):
        category["index"] = list(keep)
    else:
        category["index"] = {code: position for position, code in enumerate(keep)}
    for key in ("label", "unit", "note", "coordinates"):
        if key in category:
            category[key] = _filter_code_map(category[key], all_codes, keep)
    if "child" in category:
        kept = set(keep)
        category["child"] = {
            parent: [c for c in children if c in kept]
            for parent, children in category["child"].items()
            if parent in kept and any(c in kept for c in children)
        }
        if not category["child"]:
            del category["child"]
    extension = out.get("extension")
    if isinstance(extension, dict):
        for key, value in list(extension.items()):
            extension[key] = _filter_code_map(value, all_codes, keep)
    return out


def slice_dataset(
    dataset: dict[str, Any],
    picks: dict[str, list[int]],
    order: list[str],
) -> dict[str, Any]:
    """Cut a json-stat2 cube down to ``picks`` and lay it out in ``order``.

    ``picks`` gives, for every dimension of ``dataset``, the source positions to use. Dimensions in
    ``order`` are kept (in that order, transposing if needed); the others are eliminated: a single pick
    selects that slice, several are summed (a null anywhere makes the sum null, with that cell's status).
    ``value`` comes out as an array; ``status`` keeps its form (sparse object, array or string),
    re-indexed. Everything else at the root is copied.
    """
    ids: list[str] = list(dataset["id"])
    sizes: list[int] = list(dataset["size"])
    stride = dict(zip(ids, _strides(sizes), strict=True))
    values = dataset.get("value", [])
    status = dataset.get("status")

    def value_at(i: int) -> Any:
        if isinstance(values, dict):
            return values.get(str(i))
        return values[i] if i < len(values) else None

    def status_at(i: int) -> Any:
        if isinstance(status, dict):
            return status.get(str(i))
        if isinstance(status, list):
            return status[i] if i < len(status) else None
        return None

    collapsed = [d for d in ids if d not in order]
    collapsed_offsets = [
        sum(p * stride[d] for d, p in zip(collapsed, combo, strict=True))
        for combo in itertools.product(*(picks[d] for d in collapsed))
    ]
    flat = [0]  # the source flat index of every output cell, row-major in ``order``
    for d in order:
        offsets = [p * stride[d] for p in picks[d]]
        flat = [b + o for b in flat for o in offsets]
    out_values: list[Any]
    out_status: dict[str, Any] = {}
    out_status_list: list[Any] = []
    if len(collapsed_offsets) == 1:  # nothing to sum: a straight gather
        if collapsed_offsets[0]:
            flat = [i + collapsed_offsets[0] for i in flat]
        if isinstance(values, list) and len(values) == math.prod(sizes):
            out_values = [values[i] for i in flat]
        else:
            out_values = [value_at(i) for i in flat]
        if isinstance(status, dict):
            position = {source: n for n, source in enumerate(flat)} if status else {}
            found = sorted((position[int(k)], mark) for k, mark in status.items() if int(k) in position)
            out_status = {str(n): mark for n, mark in found}
        elif isinstance(status, list):
            out_status_list = [status_at(i) for i in flat]
    else:
        out_values = []
        for n, base in enumerate(flat):
            parts = [(value_at(base + off), status_at(base + off)) for off in collapsed_offsets]
            if all(v is not None for v, _ in parts):
                total = sum(v for v, _ in parts)
                value = round(total, 10) if isinstance(total, float) else total
                mark = next((s for _, s in parts if s is not None), None)
            else:
                value = None
                mark = next((s for v, s in parts if v is None and s is not None), None)
            out_values.append(value)
            out_status_list.append(mark)
            if mark is not None:
                out_status[str(n)] = mark

    out: dict[str, Any] = {}
    for key, item in dataset.items():
        if key in ("id", "size", "dimension", "value", "status"):
            continue
        out[key] = copy.deepcopy(item)
    out["id"] = list(order)
    out["size"] = [len(picks[d]) for d in order]
    out["dimension"] = {}
    for d in order:
        codes = category_codes(dataset["dimension"][d])
        out["dimension"][d] = _slice_dimension(dataset["dimension"][d], [codes[p] for p in picks[d]])
    if "role" in out and isinstance(out["role"], dict):
        out["role"] = {
            role: [d for d in dims if d in order] if isinstance(dims, list) else dims
            for role, dims in out["role"].items()
        }
    px = out.get("extension", {}).get("px") if isinstance(out.get("extension"), dict) else None
    if isinstance(px, dict):
        for key in ("heading", "stub"):
            if isinstance(px.get(key), list):
                px[key] = [d for d in px[key] if d in order]
    out["value"] = out_values
    if isinstance(status, dict):
        if out_status:  # like SSB: no status key when no cell has a symbol
            out["status"] = out_status
    elif isinstance(status, list):
        out["status"] = out_status_list
    elif status is not None:
        out["status"] = status
    # keep the usual key order: ... id, size, dimension, (extension), value, status
    for key in ("value", "status"):
        if key in out:
            out[key] = out.pop(key)
    return out


def _time_dimension(dataset: dict[str, Any]) -> str | None:
    times = (dataset.get("role") or {}).get("time") or []
    if times:
        return times[0]
    for candidate in ("Tid", "Time", "tid"):
        if candidate in dataset.get("dimension", {}):
            return candidate
    return None


def _metric_dimension(dataset: dict[str, Any]) -> str | None:
    metrics = (dataset.get("role") or {}).get("metric") or []
    if metrics:
        return metrics[0]
    return "ContentsCode" if "ContentsCode" in dataset.get("dimension", {}) else None


def _split_top_level(text: str) -> list[str]:
    """Split a GET valueCodes list on commas outside parentheses: "a,range(x,y),top(3)"."""
    parts, depth, current = [], 0, []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _parse_time(text: str) -> datetime:
    """Parse an ISO 8601 ``updated`` tolerantly (Z, offsets, fractions of any length, date only)."""
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    match = re.match(r"^(.*T\d\d:\d\d:\d\d)\.(\d+)(.*)$", text)
    if match:
        text = f"{match[1]}.{match[2][:6].ljust(6, '0')}{match[3]}"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _format_time(when: datetime) -> str:
    if when.tzinfo is None:
        raise ValueError("the fake wants timezone-aware datetimes")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------------------------
# Value expressions
# --------------------------------------------------------------------------------------------

_TOP = re.compile(r"^(top|bottom)\(([1-9]\d*)(?:,(\d+))?\)$", re.IGNORECASE)
_FROM_TO = re.compile(r"^(from|to)\(([^,()]+)\)$", re.IGNORECASE)
_RANGE = re.compile(r"^range\(([^,()]+),([^,()]+)\)$", re.IGNORECASE)


def expand_expression(expression: str, codes: list[str], *, is_time: bool, variable: str) -> list[str]:
    """Expand one PxWebApi 2 value expression against ``codes`` (in table order), like PxWebApi does.

    Plain codes (case-insensitive), ``*``, ``x*``, ``*x``, ``*x*``, ``?`` masks, ``top(n[,offset])``,
    ``bottom(n[,offset])``, ``from(x)``, ``to(x)``, ``range(a,b)``. For the time variable ``top`` takes the
    latest periods and ``bottom`` the earliest; for other variables ``top`` takes the first values and
    ``bottom`` the last. Raises ``Problem`` (400) for an unknown code or a malformed expression.
    """
    lower = {code.lower(): code for code in codes}

    def position(code: str) -> int:
        found = lower.get(code.strip().lower())
        if found is None:
            raise Problem(
                400,
                "Illegal selection expression",
                f"Value {code.strip()} in expression {expression} is not a valid value code for variable {variable}",
            )
        return codes.index(found)

    if expression.lower() in lower:
        return [lower[expression.lower()]]
    head = expression.split("(", 1)[0].lower()
    if head in ("top", "bottom"):
        match = _TOP.match(expression)
        if not match:
            raise Problem(400, "Illegal selection expression", f"{expression} is not a valid selection expression")
        count, offset = int(match[2]), int(match[3] or 0)
        latest_first = (head == "top") == is_time  # time: top = latest; other: bottom = last
        ordered = list(reversed(codes)) if latest_first else list(codes)
        chosen = set(ordered[offset : offset + count])
        return [c for c in codes if c in chosen]
    if head in ("from", "to"):
        match = _FROM_TO.match(expression)
        if not match:
            raise Problem(400, "Illegal selection expression", f"{expression} is not a valid selection expression")
        at = position(match[2])
        return codes[at:] if head == "from" else codes[: at + 1]
    if head == "range":
        match = _RANGE.match(expression)
        if not match:
            raise Problem(400, "Illegal selection expression", f"{expression} is not a valid selection expression")
        first, last = sorted((position(match[1]), position(match[2])))
        return codes[first : last + 1]
    if "*" in expression:
        stars = expression.count("*")
        if expression == "*":
            return list(codes)
        core = expression.strip("*").lower()
        valid = (stars == 1 and (expression.startswith("*") or expression.endswith("*"))) or (
            stars == 2 and expression.startswith("*") and expression.endswith("*")
        )
        if not valid:
            raise Problem(400, "Illegal selection expression", f"{expression} is not a valid selection expression")
        if stars == 2:
            return [c for c in codes if core in c.lower()]
        if expression.startswith("*"):
            return [c for c in codes if c.lower().endswith(core)]
        return [c for c in codes if c.lower().startswith(core)]
    if "?" in expression:
        pattern = re.compile("^" + re.escape(expression).replace("\\?", ".") + "$", re.IGNORECASE)
        return [c for c in codes if pattern.match(c)]
    raise Problem(400, "Non-existent value", f"Value {expression} is not a valid value code for variable {variable}")


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = False  # so server_close() joins every handler thread: nothing leaks
    block_on_close = True
    allow_reuse_address = True


class FakePxWebApi:
    """A fake PxWebApi 2.0 on ``127.0.0.1`` (loopback only), serving a fixture directory.

    Constructor (all keyword arguments optional):

    - ``fixtures_dir``: the fixture directory (default ``tests/fixtures/ssb-v2``).
    - ``calls`` / ``window``: ``maxCallsPerTimeWindow`` / ``timeWindow`` (seconds) to announce in
      /config *and enforce*; default: config.json's values (30 / 60 if it has none).
    - ``max_cells``: ``maxDataCells`` (default config.json's, else 800 000).
    - ``now``: the server's "now" (timezone-aware) for ``pastDays``; None = the real clock.
    - ``host`` (a loopback address), ``port`` (0 = ephemeral), ``base_path``.
    - ``clock``: monotonic seconds for the call limit (inject a fake clock to test without sleeping).
    - ``too_many_cells_status``: 403 (the OpenAPI spec/SSB guide) or 400 (what PxWebApi's code returns).
    - ``rate_limit_body``: "problem" (problem+json) or "text" (AspNetCoreRateLimit's plain text body).
    - ``exempt_config``: don't count GET /config against the limit (PxWebApi's default appsettings do).
    - ``max_url_length``: answer 414 to longer request targets (None: no limit).
    - ``verbose``: log every request to stderr.

    Attributes tests may read or set while it runs: ``calls``, ``window``, ``max_cells``, ``now``,
    ``base_url``, ``url`` (scheme://host:port), ``port``; counters ``total_requests``, ``count_429``
    (every 429 sent, limiter or injected), ``rate_limited`` (429s from the limiter only),
    ``path_counts`` (Counter of relative paths), ``requests`` (list of ``RecordedRequest``),
    ``errors`` (internal errors of the fake itself: tests should assert it stays empty).
    """

    def __init__(
        self,
        fixtures_dir: str | Path = DEFAULT_FIXTURES,
        *,
        calls: int | None = None,
        window: float | None = None,
        max_cells: int | None = None,
        now: datetime | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        base_path: str = DEFAULT_BASE_PATH,
        clock: Callable[[], float] = time.monotonic,
        too_many_cells_status: int = 403,
        rate_limit_body: str = "problem",
        exempt_config: bool = False,
        max_url_length: int | None = None,
        verbose: bool = False,
    ) -> None:
        if host == "localhost":
            host = "127.0.0.1"
        try:
            loopback = ip_address(host).is_loopback and ip_address(host).version == 4
        except ValueError:
            loopback = False
        if not loopback:
            raise ValueError(f"FakePxWebApi binds to IPv4 loopback addresses only, not {host!r}")
        if too_many_cells_status not in (400, 403):
            raise ValueError("too_many_cells_status must be 400 or 403")
        if rate_limit_body not in ("problem", "text"):
            raise ValueError("rate_limit_body must be 'problem' or 'text'")
        self.fixtures_dir = Path(fixtures_dir)
        self.host = host
        self.requested_port = port
        self.base_path = "/" + base_path.strip("/") if base_path.strip("/") else ""
        self.clock = clock
        self.too_many_cells_status = too_many_cells_status
        self.rate_limit_body = rate_limit_body
        self.exempt_config = exempt_config
        self.max_url_length = max_url_length
        self.verbose = verbose
        self.now = now

        self._lock = threading.RLock()
        self._config, self._tables, self._codelists = self._load(self.fixtures_dir)
        self.calls: int = int(calls if calls is not None else self._config.get("maxCallsPerTimeWindow", 30))
        self.window: float = float(window if window is not None else self._config.get("timeWindow", 60))
        self.max_cells: int = int(max_cells if max_cells is not None else self._config.get("maxDataCells", 800_000))

        self._faults: list[Fault] = []
        self._accepted: deque[float] = deque()
        self.total_requests = 0
        self.count_429 = 0
        self.rate_limited = 0
        self.path_counts: Counter[str] = Counter()
        self.requests: list[RecordedRequest] = []
        self.errors: list[str] = []

        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self.port: int | None = None

    @property
    def now(self) -> datetime | None:
        """The server's "now" for ``pastDays`` (timezone-aware); None follows the real clock."""
        return self._now

    @now.setter
    def now(self, value: datetime | None) -> None:
        if value is not None and value.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        self._now = value

    # ---- lifecycle ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("the server is not running")
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.url + self.base_path

    def start(self) -> FakePxWebApi:
        if self._httpd is not None:
            raise RuntimeError("already running")
        handler = type("_BoundHandler", (_Handler,), {"fake": self})
        self._stopping.clear()
        self._httpd = _HTTPServer((self.host, self.requested_port), handler)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, name=f"fake-pxwebapi-{self.port}"
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop open keep-alive connections, join every thread."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        with self._lock:
            self._stopping.set()
            connections = list(self._connections)
        httpd.shutdown()
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        httpd.server_close()  # joins the handler threads
        if thread is not None:
            thread.join()
        self._httpd = self._thread = None
        self.port = None

    def __enter__(self) -> FakePxWebApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- fixtures -------------------------------------------------------------------------

    @staticmethod
    def _load(directory: Path) -> tuple[dict[str, Any], dict[str, _Table], dict[str, dict[str, Any]]]:
        if not directory.is_dir():
            raise FileNotFoundError(f"fixture directory {directory} does not exist")
        config_path = directory / "config.json"
        config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.exists() else {}
        tables: dict[str, _Table] = {}
        for table_path in sorted(directory.glob("*/table.json")):
            folder = table_path.parent
            table = json.loads(table_path.read_text(encoding="utf-8"))
            table_id = str(table.get("id") or folder.name)
            table.setdefault("id", table_id)

            def maybe(name: str, folder: Path = folder) -> dict[str, Any] | None:
                path = folder / name
                return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None

            tables[table_id.lower()] = _Table(table, maybe("metadata.json"), maybe("data.json"))
        codelists: dict[str, dict[str, Any]] = {}
        for path in sorted((directory / "codelists").glob("*.json")):
            codelists[path.stem.lower()] = json.loads(path.read_text(encoding="utf-8"))
        return config, tables, codelists

    def _get(self, table_id: str) -> _Table:
        entry = self._tables.get(table_id.lower())
        if entry is None:
            raise Problem(404, "Non-existent table", f"Table {table_id} does not exist", headers={})
        return entry

    def table_ids(self) -> list[str]:
        with self._lock:
            return sorted(t.table["id"] for t in self._tables.values())

    def table(self, table_id: str) -> dict[str, Any]:
        """A copy of the Table object served for ``table_id``."""
        with self._lock:
            return copy.deepcopy(self._get(table_id).table)

    def data(self, table_id: str) -> dict[str, Any]:
        """A copy of the full cube ``table_id``'s data requests are sliced from."""
        with self._lock:
            entry = self._get(table_id)
            if entry.data is None:
                raise KeyError(f"table {table_id} has no data.json")
            return copy.deepcopy(entry.data)

    def add_table(
        self,
        table: dict[str, Any],
        *,
        metadata: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Add (or replace) a table: a Table object with at least ``id`` and ``updated``."""
        with self._lock:
            self._tables[str(table["id"]).lower()] = _Table(
                copy.deepcopy(table), copy.deepcopy(metadata), copy.deepcopy(data)
            )

    def remove_table(self, table_id: str) -> None:
        """Make ``table_id`` disappear: every endpoint answers 404 for it from now on."""
        with self._lock:
            self._get(table_id)
            del self._tables[table_id.lower()]

    def update_table(self, table_id: str, **fields: Any) -> None:
        """Patch Table-object fields, e.g. ``discontinued=True, lastPeriod="2026K3"``."""
        with self._lock:
            self._get(table_id).table.update(copy.deepcopy(fields))

    def set_table_updated(self, table_id: str, when: datetime) -> None:
        """Set ``updated`` (timezone-aware) on the Table object, the metadata and the data cube."""
        stamp = _format_time(when)
        with self._lock:
            entry = self._get(table_id)
            entry.table["updated"] = stamp
            for doc in (entry.metadata, entry.data):
                if doc is not None:
                    doc["updated"] = stamp

    def set_data(self, table_id: str, dataset: dict[str, Any], *, updated: datetime | None = None) -> None:
        """Replace the full cube (e.g. "SSB published new figures"); optionally also bump ``updated``."""
        with self._lock:
            entry = self._get(table_id)
            entry.data = copy.deepcopy(dataset)
            if updated is not None:
                self.set_table_updated(table_id, updated)
            elif "updated" in entry.table:
                entry.data["updated"] = entry.table["updated"]

    def set_metadata(self, table_id: str, metadata: dict[str, Any]) -> None:
        with self._lock:
            self._get(table_id).metadata = copy.deepcopy(metadata)

    # ---- faults and counters --------------------------------------------------------------

    def inject(
        self,
        pattern: str,
        fault: str,
        *,
        times: int | None = 1,
        method: str | None = None,
        **params: Any,
    ) -> Fault:
        """Make the next ``times`` requests whose path matches ``pattern`` fail with ``fault``.

        ``pattern`` is an fnmatch pattern on the path relative to the base path
        ("/tables/01222/data", "/tables/*/data", "*"); a pattern that starts with the base path is
        accepted too. ``times=None`` keeps the fault until ``clear_faults()``. ``method`` ("GET"/"POST")
        restricts it. Fault names and their ``params`` are listed in ``FAULTS``. Each request takes at
        most one fault, the oldest matching; requests refused by the call limit take none.
        """
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {', '.join(sorted(FAULTS))}")
        if times is not None and times < 1:
            raise ValueError("times must be >= 1 or None")
        if self.base_path and pattern.startswith(self.base_path + "/"):
            pattern = pattern[len(self.base_path) :]
        entry = Fault(pattern, fault, times, method.upper() if method else None, dict(params))
        with self._lock:
            self._faults.append(entry)
        return entry

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending_faults(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def reset_counters(self) -> None:
        """Zero the counters, forget the request log and the call-limit window."""
        with self._lock:
            self.total_requests = 0
            self.count_429 = 0
            self.rate_limited = 0
            self.path_counts.clear()
            self.requests.clear()
            self._accepted.clear()

    def calls_in_window(self) -> int:
        with self._lock:
            self._expire(self.clock())
            return len(self._accepted)

    def _expire(self, now: float) -> None:
        while self._accepted and self._accepted[0] <= now - self.window:
            self._accepted.popleft()

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for entry in self._faults:
                if entry.method and entry.method != method:
                    continue
                if fnmatch.fnmatchcase(path, entry.pattern):
                    entry.hits += 1
                    if entry.remaining is not None:
                        entry.remaining -= 1
                        if entry.remaining == 0:
                            self._faults.remove(entry)
                    return entry
        return None

    # ---- request handling -----------------------------------------------------------------

    def _handle(self, handler: _Handler, method: str) -> None:
        split = urlsplit(handler.path)
        body_bytes = handler.read_body()
        path = split.path
        if self.base_path and (path == self.base_path or path.startswith(self.base_path + "/")):
            rel = path[len(self.base_path) :] or "/"
        elif self.base_path:
            rel = None
        else:
            rel = path
        pairs = parse_qsl(split.query, keep_blank_values=True)
        query: dict[str, list[str]] = {}
        for key, value in pairs:
            query.setdefault(key, []).append(value)
        body: Any = None
        if body_bytes:
            text = body_bytes.decode("utf-8", errors="replace")
            try:
                body = json.loads(text)
            except ValueError:
                body = text
        shown = (rel if rel is not None else path).rstrip("/") or "/"
        record = RecordedRequest(method, shown, query, body, handler.path, self.clock())
        with self._lock:
            self.total_requests += 1
            self.path_counts[shown] += 1
            self.requests.append(record)
            limited = self._rate_limit(method, shown, record.at)
        if limited is not None:
            record.status = 429
            self._send(handler, limited)
            return
        fault = self._take_fault(method, shown) if rel is not None else None
        if fault is not None:
            record.fault = fault.kind
            early = self._early_fault(fault, handler)
            if early == "reset":
                return
            if isinstance(early, _Reply):
                record.status = early.status
                self._send(handler, early)
                return
        try:
            if rel is None:
                raise Problem(404, "Not found", f"No endpoint at {path}; the API is under {self.base_path}")
            if self.max_url_length is not None and len(handler.path) > self.max_url_length:
                raise Problem(414, "URI Too Long", f"The request target has {len(handler.path)} characters")
            reply = self._route(method, shown, pairs, body_bytes, body)
        except Problem as problem:
            reply = self._problem_reply(problem, handler.path)
        except Exception as error:  # a bug in the fake, not a simulated failure
            message = f"{type(error).__name__}: {error} ({method} {handler.path})"
            with self._lock:
                self.errors.append(message)
            reply = self._problem_reply(Problem(500, "Internal error in FakePxWebApi", message), handler.path)
        if fault is not None:
            reply = self._late_fault(fault, reply)
        if reply.status == 429:
            with self._lock:
                self.count_429 += 1
        record.status = reply.status
        truncate = fault.params.get("mode", "content_length") if fault and fault.kind == "truncate" else None
        if not self._send(handler, reply, truncate=truncate):
            record.status = None

    def _rate_limit(self, method: str, path: str, now: float) -> _Reply | None:
        if self.exempt_config and method == "GET" and path == "/config":
            return None
        self._expire(now)
        if len(self._accepted) < self.calls:
            self._accepted.append(now)
            return None
        retry_after = max(1, math.ceil(self._accepted[0] + self.window - now))
        self.count_429 += 1
        self.rate_limited += 1
        headers = {"Retry-After": str(retry_after)}
        window = f"{self.window:g}"
        if self.rate_limit_body == "text":
            text = f"API calls quota exceeded! maximum admitted {self.calls} per {window}s."
            return _Reply(429, text.encode(), "text/plain", headers)
        problem = Problem(
            429,
            "Too many requests",
            f"Too many requests. The limit is {self.calls} request per {window} seconds.",
            type_="Too many requests",
            headers=headers,
        )
        return self._problem_reply(problem, self.base_path + path)

    def _early_fault(self, fault: Fault, handler: _Handler) -> _Reply | str | None:
        params, kind = fault.params, fault.kind
        instance = handler.path
        if kind == "delay":
            self._stopping.wait(float(params.get("seconds", 2.0)))
            return None
        if kind == "reset":
            handler.reset_connection()
            return "reset"
        if kind in ("http500", "http502", "http503"):
            status = int(kind[4:])
            headers = dict(params.get("headers", {}))
            if params.get("retry_after") is not None:
                headers["Retry-After"] = str(params["retry_after"])
            if "body" in params:
                return _Reply(status, str(params["body"]).encode(), params.get("content_type", HTML_TYPE), headers)
            if status == 500:
                reply = self._problem_reply(
                    Problem(500, "An error occurred while processing your request.", type_="Internal Server Error"),
                    instance,
                )
                reply.headers.update(headers)
                return reply
            page = BAD_GATEWAY_HTML if status == 502 else UNAVAILABLE_HTML
            return _Reply(status, page.encode(), HTML_TYPE, headers)
        if kind == "html":
            return _Reply(200, str(params.get("body", MAINTENANCE_HTML)).encode(), HTML_TYPE)
        if kind == "http429":
            with self._lock:
                self.count_429 += 1
            problem = Problem(
                429,
                "Too many requests",
                f"Too many requests. The limit is {self.calls} request per {self.window:g} seconds.",
                type_="Too many requests",
                headers={"Retry-After": str(params.get("retry_after", 1))},
            )
            return self._problem_reply(problem, instance)
        if kind == "http403_cells":
            return self._problem_reply(
                Problem(403, "Too many cells selected", params.get("detail", TOO_MANY_CELLS)), instance
            )
        if kind == "http400_problem":
            return self._problem_reply(
                Problem(
                    400,
                    params.get("title", "Parameter error"),
                    params.get("detail", "The request has an error (injected by FakePxWebApi)"),
                ),
                instance,
            )
        return None  # the others transform the normal response

    def _late_fault(self, fault: Fault, reply: _Reply) -> _Reply:
        if reply.dataset is None or reply.status != 200:
            return reply
        if fault.kind == "no_status":
            dataset = copy.deepcopy(reply.dataset)
            dataset.pop("status", None)
            return self._json_reply(dataset, dataset=True)
        if fault.kind == "empty":
            dataset = copy.deepcopy(reply.dataset)
            time_dim = _time_dimension(dataset) or dataset["id"][-1]
            if time_dim in dataset["id"]:
                category = dataset["dimension"][time_dim].setdefault("category", {})
                category["index"] = [] if isinstance(category.get("index"), list) else {}
                category["label"] = {}
                dataset["size"][dataset["id"].index(time_dim)] = 0
            dataset["value"] = []
            dataset.pop("status", None)
            return self._json_reply(dataset, dataset=True)
        if fault.kind == "changed_dimension":
            dataset = copy.deepcopy(reply.dataset)
            rename: dict[str, str] | None = fault.params.get("rename")
            drop: dict[str, list[str]] | None = fault.params.get("drop")
            if rename is None and drop is None:
                special = {_time_dimension(dataset), _metric_dimension(dataset)}
                target = next((d for d in dataset["id"] if d not in special), dataset["id"][0])
                rename = {target: target + "Ny"}
            if drop:
                picks = {}
                for d in dataset["id"]:
                    codes = category_codes(dataset["dimension"][d])
                    gone = set(drop.get(d, []))
                    picks[d] = [i for i, c in enumerate(codes) if c not in gone]
                dataset = slice_dataset(dataset, picks, list(dataset["id"]))
            for old, new in (rename or {}).items():
                if old not in dataset["dimension"]:
                    continue
                dataset["id"] = [new if d == old else d for d in dataset["id"]]
                dataset["dimension"] = {(new if k == old else k): v for k, v in dataset["dimension"].items()}
                for role, dims in (dataset.get("role") or {}).items():
                    if isinstance(dims, list):
                        dataset["role"][role] = [new if d == old else d for d in dims]
                px = (dataset.get("extension") or {}).get("px")
                if isinstance(px, dict):
                    for key in ("heading", "stub"):
                        if isinstance(px.get(key), list):
                            px[key] = [new if d == old else d for d in px[key]]
            return self._json_reply(dataset, dataset=True)
        return reply

    # ---- routing --------------------------------------------------------------------------

    def _route(
        self, method: str, path: str, pairs: list[tuple[str, str]], body_bytes: bytes, body: Any
    ) -> _Reply:
        params = {key.lower(): value for key, value in pairs}  # last one wins, case-insensitive names
        parts = [p for p in path.split("/") if p]
        with self._lock:
            self._check_lang(params)
            if parts == ["config"]:
                self._only(method, "GET")
                return self._json_reply(self._served_config())
            if parts == ["tables"]:
                self._only(method, "GET")
                return self._json_reply(self._tables_page(params, pairs))
            if len(parts) == 2 and parts[0] == "tables":
                self._only(method, "GET")
                return self._json_reply(copy.deepcopy(self._get(parts[1]).table))
            if len(parts) == 3 and parts[0] == "tables" and parts[2] == "metadata":
                self._only(method, "GET")
                return self._json_reply(self._metadata(self._get(parts[1])), dataset=True)
            if len(parts) == 3 and parts[0] == "tables" and parts[2] == "data":
                self._only(method, "GET", "POST")
                entry = self._get(parts[1])
                if method == "POST":
                    if not isinstance(body, dict):
                        raise Problem(400, "Parameter error", "The POST body must be a JSON object with 'selection'")
                    selection, placement = self._post_selection(body)
                else:
                    selection, placement = self._get_selection(pairs)
                return self._json_reply(self._data(entry, params, selection, placement), dataset=True)
            if len(parts) == 2 and parts[0] == "codelists":
                self._only(method, "GET")
                codelist = self._codelists.get(parts[1].lower())
                if codelist is None:
                    raise Problem(404, "Non-existent codelist", f"Codelist {parts[1]} does not exist")
                return self._json_reply(copy.deepcopy(codelist))
        raise Problem(404, "Not found", f"No endpoint {path} in FakePxWebApi")

    @staticmethod
    def _only(method: str, *allowed: str) -> None:
        if method not in allowed:
            allow = {"Allow": ", ".join(allowed)}
            raise Problem(405, "Method not allowed", f"{method} is not allowed here", headers=allow)

    def _check_lang(self, params: dict[str, str]) -> None:
        lang = params.get("lang")
        languages = [lang_["id"] for lang_ in self._config.get("languages", []) if "id" in lang_]
        if lang and languages and lang not in languages:
            raise Problem(400, "Unsupported language", f"Language {lang} is not supported; use one of {languages}")

    def _served_config(self) -> dict[str, Any]:
        config = copy.deepcopy(self._config)
        config["maxDataCells"] = self.max_cells
        config["maxCallsPerTimeWindow"] = self.calls
        config["timeWindow"] = int(self.window) if float(self.window).is_integer() else self.window
        return config

    def _language(self, params: dict[str, str]) -> str:
        return params.get("lang") or self._config.get("defaultLanguage", "no")

    def _tables_page(self, params: dict[str, str], pairs: list[tuple[str, str]]) -> dict[str, Any]:
        def integer(name: str, default: int | None, minimum: int) -> int | None:
            raw = params.get(name.lower())
            if raw in (None, ""):
                return default
            try:
                value = int(raw)
            except ValueError:
                raise Problem(400, "Parameter error", f"{name} must be an integer, not {raw}") from None
            if value < minimum:
                raise Problem(400, "Parameter error", f"{name} must be at least {minimum}")
            return value

        past_days = integer("pastDays", None, 1)
        page_size = integer("pageSize", DEFAULT_PAGE_SIZE, 1) or DEFAULT_PAGE_SIZE
        page_number = integer("pageNumber", 1, 1) or 1
        include_discontinued = params.get("includediscontinued", "false").lower() == "true"
        query = params.get("query", "").strip().lower()
        now = self.now or datetime.now(UTC)
        selected = []
        for entry in sorted(self._tables.values(), key=lambda t: str(t.table["id"])):
            table = entry.table
            if table.get("discontinued") and not include_discontinued:
                continue
            if past_days is not None:
                updated = table.get("updated")
                if not updated or _parse_time(updated) < now - timedelta(days=past_days):
                    continue
            if query:
                haystack = f"{table.get('id', '')} {table.get('label', '')}".lower()
                if not all(term in haystack for term in query.split()):
                    continue
            listed = copy.deepcopy(table)
            listed.pop("language", None)
            selected.append(listed)
        total = len(selected)
        pages = math.ceil(total / page_size)
        if page_number > max(pages, 1):
            raise Problem(404, "Non-existent page", "Non-existent page")
        lang = self._language(params)
        kept = [(k, v) for k, v in pairs if k.lower() not in ("pagenumber", "pagesize", "lang")]

        def link(rel: str, number: int) -> dict[str, str]:
            query_string = urlencode([("lang", lang), *kept, ("pageSize", str(page_size)), ("pageNumber", str(number))])
            return {"rel": rel, "hreflang": lang, "href": f"{self.base_url}/tables?{query_string}"}

        page_links = []
        if page_number > 1:
            page_links.append(link("previous", page_number - 1))
        if page_number < pages:
            page_links += [link("next", page_number + 1), link("last", pages)]
        start = (page_number - 1) * page_size
        return {
            "language": lang,
            "tables": selected[start : start + page_size],
            "page": {
                "pageNumber": page_number,
                "pageSize": page_size,
                "totalElements": total,
                "totalPages": pages,
                "links": page_links,
            },
            "links": [link("self", page_number)],
        }

    def _metadata(self, entry: _Table) -> dict[str, Any]:
        if entry.metadata is not None:
            return copy.deepcopy(entry.metadata)
        if entry.data is None:
            raise Problem(500, "Fixture missing", f"Table {entry.table['id']} has neither metadata.json nor data.json")
        derived = copy.deepcopy(entry.data)
        derived["value"] = []
        derived.pop("status", None)
        return derived

    # ---- data -----------------------------------------------------------------------------

    @staticmethod
    def _get_selection(pairs: list[tuple[str, str]]) -> tuple[list[dict[str, Any]], dict[str, list[str]] | None]:
        bracket = re.compile(r"^(valuecodes|codelist|outputvalues)\[(.+)\]$", re.IGNORECASE)
        selection: dict[str, dict[str, Any]] = {}
        placement: dict[str, list[str]] = {}
        for key, value in pairs:
            match = bracket.match(key)
            if match:
                kind, variable = match[1].lower(), match[2]
                item = selection.setdefault(variable.lower(), {"variableCode": variable, "valueCodes": []})
                if kind == "valuecodes":
                    item["valueCodes"] += _split_top_level(value)
                elif kind == "codelist":
                    item["codelist"] = value
                else:
                    item["outputValues"] = value
            elif key.lower() in ("heading", "stub"):
                placement[key.lower()] = _split_top_level(value)
        return list(selection.values()), placement or None

    @staticmethod
    def _post_selection(body: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, list[str]] | None]:
        raw = body.get("selection")
        if raw is None:
            raw = []
        if not isinstance(raw, list) or not all(isinstance(s, dict) and "variableCode" in s for s in raw):
            raise Problem(400, "Parameter error", "selection must be a list of {variableCode, valueCodes}")
        merged: dict[str, dict[str, Any]] = {}
        for item in raw:
            codes = item.get("valueCodes") or []
            if not isinstance(codes, list):
                raise Problem(400, "Parameter error", f"valueCodes of {item['variableCode']} must be a list")
            target = merged.setdefault(
                str(item["variableCode"]).lower(), {"variableCode": str(item["variableCode"]), "valueCodes": []}
            )
            target["valueCodes"] += [str(c) for c in codes]
            for key in ("codelist", "outputValues"):
                if item.get(key):
                    target[key] = item[key]
        placement = body.get("placement")
        if placement is not None and not isinstance(placement, dict):
            raise Problem(400, "Illegal placment", "placement must be an object with heading and stub")
        return list(merged.values()), placement

    def _data(
        self,
        entry: _Table,
        params: dict[str, str],
        selection: list[dict[str, Any]],
        placement: dict[str, list[str]] | None,
    ) -> dict[str, Any]:
        table_id = entry.table["id"]
        output_format = params.get("outputformat") or self._config.get("defaultDataFormat", "json-stat2")
        if output_format.lower() != "json-stat2":
            raise Problem(
                400,
                "Unsupported output format",
                f"Unsupported output format {output_format} (the fake serves json-stat2 only)",
            )
        cube = entry.data
        if cube is None:
            raise Problem(500, "Fixture missing", f"Table {table_id} has no data.json")
        metadata = entry.metadata or cube
        dims: list[str] = list(cube["id"])
        by_lower = {d.lower(): d for d in dims}
        time_dim = _time_dimension(cube)
        metric_dim = _metric_dimension(cube)
        if not selection:
            raise Problem(
                400,
                "Missing selection for mandantory variable",
                "No selection: the fake does not implement the default selection; select every mandatory variable",
            )

        def meta_dim(d: str) -> dict[str, Any]:
            return (metadata.get("dimension") or {}).get(d) or cube["dimension"][d]

        def eliminable(d: str) -> bool:
            if d in (time_dim, metric_dim):
                return False
            return bool((meta_dim(d).get("extension") or {}).get("elimination", False))

        chosen: dict[str, list[str]] = {}
        for item in selection:
            code = str(item["variableCode"])
            variable = by_lower.get(code.lower())
            if variable is None and code.lower() == "time" and time_dim:
                variable = time_dim
            if variable is None:
                raise Problem(
                    400, "Non-existent variable", f"Variable {code} is not a valid variable code for table {table_id}"
                )
            valid = self._valid_codes(cube, metadata, variable, item.get("codelist"))
            output_values = item.get("outputValues")
            if output_values is not None and str(output_values).lower() not in ("aggregated", "single"):
                raise Problem(
                    400,
                    "Parameter error",
                    f"outputValues for {variable} must be aggregated or single, not {output_values}",
                )
            picked: set[str] = set()
            for expression in item.get("valueCodes", []):
                picked.update(expand_expression(expression, valid, is_time=variable == time_dim, variable=variable))
            chosen[variable] = [c for c in category_codes(cube["dimension"][variable]) if c in picked]

        for d in dims:
            if not chosen.get(d) and not eliminable(d):
                raise Problem(
                    400,
                    "Missing selection for mandantory variable",
                    f"Variable {d} is mandatory and must be selected (with at least one value) in table {table_id}",
                )
        kept = [d for d in dims if chosen.get(d)]
        cells = math.prod(len(chosen[d]) for d in kept)
        if cells > self.max_cells:
            raise Problem(
                self.too_many_cells_status,
                "Too many cells selected",
                f"{TOO_MANY_CELLS} ({cells} cells selected, at most {self.max_cells})",
            )
        picks: dict[str, list[int]] = {}
        for d in dims:
            codes = category_codes(cube["dimension"][d])
            if chosen.get(d):
                wanted = set(chosen[d])
                picks[d] = [i for i, c in enumerate(codes) if c in wanted]
                continue
            code = (meta_dim(d).get("extension") or {}).get("eliminationValueCode")
            picks[d] = [codes.index(code)] if code in codes else list(range(len(codes)))
        order = self._placement_order(kept, placement)
        result = slice_dataset(cube, picks, order)
        if placement:
            px = result.setdefault("extension", {}).setdefault("px", {})
            heading = [d for d in order if d in self._resolve_names(placement.get("heading") or [], kept)]
            px["heading"] = heading
            px["stub"] = [d for d in order if d not in heading]
        if "updated" in entry.table:
            result["updated"] = entry.table["updated"]
        return result

    def _valid_codes(
        self, cube: dict[str, Any], metadata: dict[str, Any], variable: str, codelist: str | None
    ) -> list[str]:
        """The value codes a request may use for ``variable`` (with ``codelist`` applied), in cube order."""
        cube_codes = category_codes(cube["dimension"][variable])
        meta = (metadata.get("dimension") or {}).get(variable)
        default = set(category_codes(meta)) if meta else set(cube_codes)
        if not codelist:
            narrowed = [c for c in cube_codes if c in default]
            return narrowed or cube_codes
        if not (codelist.startswith("agg_") or codelist.startswith("vs_")):
            raise Problem(400, "Non-existent codelist", f"Codelist {codelist} does not exist for variable {variable}")
        listed = [c.get("id") for c in ((meta or {}).get("extension") or {}).get("codelists", []) or []]
        if listed and codelist not in listed:
            raise Problem(400, "Non-existent codelist", f"Codelist {codelist} does not exist for variable {variable}")
        members = self._codelists.get(codelist.lower())
        if members is not None:
            allowed = {str(v.get("code")) for v in members.get("values", [])}
            return [c for c in cube_codes if c in allowed]
        outside = [c for c in cube_codes if c not in default]
        return outside or cube_codes

    @staticmethod
    def _resolve_names(names: list[str], dims: list[str]) -> list[str]:
        by_lower = {d.lower(): d for d in dims}
        return [by_lower[n.lower()] for n in names if n.lower() in by_lower]

    def _placement_order(self, kept: list[str], placement: dict[str, list[str]] | None) -> list[str]:
        if not placement:
            return kept
        heading = placement.get("heading") or []
        stub = placement.get("stub") or []
        if not isinstance(heading, list) or not isinstance(stub, list):
            raise Problem(400, "Illegal placment", "heading and stub must be lists of variable codes")
        known = {d.lower() for d in kept}
        unknown = [n for n in [*heading, *stub] if str(n).lower() not in known]
        if unknown:
            raise Problem(400, "Illegal placment", f"Unknown or eliminated variables in placement: {unknown}")
        stub_dims = self._resolve_names(stub, kept)
        heading_dims = self._resolve_names(heading, kept)
        rest = [d for d in kept if d not in stub_dims and d not in heading_dims]
        return [*stub_dims, *rest, *heading_dims]

    # ---- replies --------------------------------------------------------------------------

    @staticmethod
    def _json_reply(document: dict[str, Any], *, dataset: bool = False) -> _Reply:
        body = json.dumps(document, ensure_ascii=False).encode("utf-8")
        return _Reply(200, body, JSON_TYPE, dataset=document if dataset else None)

    @staticmethod
    def _problem_reply(problem: Problem, instance: str) -> _Reply:
        instance = urlsplit(instance).path
        body = json.dumps(problem.body(instance), ensure_ascii=False).encode("utf-8")
        return _Reply(problem.status, body, PROBLEM_TYPE, dict(problem.headers))

    def _send(self, handler: _Handler, reply: _Reply, *, truncate: str | None = None) -> bool:
        """Write ``reply``; False if the client had gone away."""
        body = reply.body
        length = len(body)
        if truncate == "half":
            body = body[: len(body) // 2]
            length = len(body)
        elif truncate is not None:
            body = body[: len(body) // 2]
        try:
            handler.send_response(reply.status)
            handler.send_header("Content-Type", reply.content_type)
            handler.send_header("Content-Length", str(length))
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            if truncate is not None and truncate != "half":
                handler.send_header("Connection", "close")
                handler.close_connection = True
            handler.end_headers()
            handler.wfile.write(body)
            handler.wfile.flush()
            return True
        except (ConnectionError, OSError):
            handler.close_connection = True
            return False

    # ---- connection bookkeeping (for a clean stop) ----------------------------------------

    def _register(self, conn: socket.socket) -> bool:
        with self._lock:
            if self._stopping.is_set():
                return False
            self._connections.add(conn)
            return True

    def _unregister(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.discard(conn)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakePxWebApi/1.0"
    sys_version = ""
    timeout = 30  # an idle keep-alive connection is dropped after this long (stop() drops it at once)
    disable_nagle_algorithm = True  # no 40 ms Nagle/delayed-ACK stall per request
    wbufsize = -1  # buffered: headers and body leave in one write (flushed explicitly)
    fake: FakePxWebApi

    def setup(self) -> None:
        super().setup()
        if not self.fake._register(self.connection):
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def finish(self) -> None:
        self.fake._unregister(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError, OSError):
            self.close_connection = True
        except ValueError:  # the final flush of a stream the "reset" fault closed
            if not self.wfile.closed:
                raise
            self.close_connection = True

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.fake._handle(self, "GET")

    def do_POST(self) -> None:  # noqa: N802
        self.fake._handle(self, "POST")

    def do_PUT(self) -> None:  # noqa: N802
        self.fake._handle(self, "PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self.fake._handle(self, "DELETE")

    def read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reset_connection(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0) and no HTTP response."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.fake._unregister(self.connection)
        for stream in (self.rfile, self.wfile):
            try:
                stream.close()
            except OSError:
                pass
        self.connection.close()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's signature)
        if self.fake.verbose:
            super().log_message(format, *args)


# --------------------------------------------------------------------------------------------
# pytest helper and command line
# --------------------------------------------------------------------------------------------


def running(fixtures_dir: str | Path = DEFAULT_FIXTURES, **kwargs: Any) -> Iterator[FakePxWebApi]:
    """Generator for a pytest fixture: ``yield from running(path, calls=30, window=60)``."""
    with FakePxWebApi(fixtures_dir, **kwargs) as server:
        yield server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.fake_pxwebapi", description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES, help="fixture directory")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (0 = any free one; default 8765)")
    parser.add_argument("--base-path", default=DEFAULT_BASE_PATH)
    parser.add_argument("--calls", type=int, help="maxCallsPerTimeWindow to enforce (default: config.json)")
    parser.add_argument("--window", type=float, help="timeWindow in seconds (default: config.json)")
    parser.add_argument("--max-cells", type=int, help="maxDataCells (default: config.json)")
    parser.add_argument("--now", help="the server's 'now' for pastDays, ISO 8601 with offset (default: real time)")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    server = FakePxWebApi(
        args.fixtures,
        host=args.host,
        port=args.port,
        base_path=args.base_path,
        calls=args.calls,
        window=args.window,
        max_cells=args.max_cells,
        now=_parse_time(args.now) if args.now else None,
        verbose=args.verbose,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with server:
        print(
            f"FakePxWebApi: {len(server.table_ids())} tables from {args.fixtures} at {server.base_url} "
            f"({server.calls} calls / {server.window:g} s, {server.max_cells} cells); Ctrl-C stops",
            flush=True,
        )
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    print(f"FakePxWebApi: stopped after {server.total_requests} requests ({server.count_429} answered 429)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
