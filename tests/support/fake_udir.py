"""A local fake of Udir's statistikkbank export API v2 (``https://api.statistikkbanken.udir.no/api/rest/v2``).

Real HTTP on ``127.0.0.1`` and an ephemeral port, built on ``support.fake_pxwebapi.FakePxWebApi`` (its server,
call limit with 429 + Retry-After, request log and fault machinery); only the routes and the error
bodies are Udir's::

    with FakeUdir(calls=60, window=60) as server:
        httpx.get(f"{server.base_url}/Eksport/150/data", params={"filter": "TidID(202212)_EnhetID(-1132)"})
        server.inject("/Eksport/150/data", "http503", times=1)

Endpoints (docs/fhi-udir.md §3.1): ``GET /Eksport``, ``/Eksport/{id}/filterVerdier``,
``/Eksport/{id}/filterStatus?filterId=EnhetID&filtre=…`` (``{"EnhetID": [id, …]}``: the units with rows for the filter),
``/Eksport/{id}/sideData?filter=…`` (``[{"JSONSider": n}]``) and ``/Eksport/{id}/data?filter=…&sideNummer=n&format=0``
(one page of flat rows, with ``Sidenummer``, ``RaderSide`` and ``RaderTotalt`` added). The filter syntax is
the real one: ``Name(v1_v2)_Name2(v)``; ids are looked up in the table's filterVerdier (``TidID`` by the
school-year name, ``EnhetID`` by level and number, the others by ``kode``); output columns such as
``EnhetNivaa(3)`` filter on the row's value. No filter gives 400 "Filter må oppgis!", commas give 400 "Feil
format på filtrene!", a missing TidID gives 400. Leaving KjoennID/EierformID out returns every combination,
like the real API. A page past the last returns the last page again (a real quirk).

Fixture directory layout (``tests/fixtures/udir-api``; every file is constructed, see its PROVENANCE.md)::

    eksport.json                 GET /Eksport
    <id>/filterVerdier.json      GET /Eksport/{id}/filterVerdier
    <id>/rows.json               every row the table serves, without the paging columns

Importable as ``support.fake_udir`` inside pytest (``tests/`` is on sys.path there).
"""

from __future__ import annotations

import copy
import json
import math
import re
from pathlib import Path
from typing import Any

from .fake_pxwebapi import FakePxWebApi, Fault, Problem, _Reply

DEFAULT_FIXTURES = Path(__file__).parent.parent / "fixtures" / "udir-api"
BASE_PATH = "/api/rest/v2"
JSON_TYPE = "application/json; charset=utf-8"

#: Fault names accepted by ``FakeUdir.inject`` and their parameters (all optional).
FAULTS: dict[str, str] = {
    "delay": "seconds=2.0: sleep before answering normally (to trigger client read timeouts)",
    "http500": "500 with Udir's JSON error body",
    "http502": "502 text/html, like a proxy's Bad Gateway page",
    "http503": "503 text/html Service Unavailable (retry_after=None)",
    "reset": "close the socket with a TCP RST and no response at all",
    "truncate": "mode='content_length' (announce the full length, send half, close) or mode='half' (JSON cut in half)",
    "html": "200 text/html maintenance page instead of JSON",
    "http429": "429 with Retry-After (retry_after=1)",
    "http400": "400 with Udir's error body (melding='Feil format på filtrene!')",
    "empty": "200 with an empty JSON array",
    "changed_column": "rename={old: new} on every row, or on filterVerdier's filters (default AndelMobbet → AndelMobbetProsent)",
}
_FILTER = re.compile(r"([A-Za-z]+)\(([^()]*)\)")
LEVEL_COLUMNS = {1: "Nasjonaltkode", 2: "Fylkekode", 3: "Kommunekode", 4: "Organisasjonsnummer"}
CODE_COLUMNS = {"TrinnID": "TrinnKode", "SpoersmaalID": "Spoersmaalkode", "KjoennID": "KjoennKode", "EierformID": "Eierformkode"}


class FakeUdir(FakePxWebApi):
    """The fake export API. ``page_size`` rows per data page (the real size is unknown; tests set it small)."""

    def __init__(
        self, fixtures_dir: str | Path = DEFAULT_FIXTURES, *, calls: int = 60, window: float = 60, page_size: int = 1000,
        **kwargs: Any,
    ) -> None:
        super().__init__(fixtures_dir, calls=calls, window=window, base_path=BASE_PATH, **kwargs)
        directory = Path(fixtures_dir)
        self.page_size = page_size
        self._eksport: list[dict[str, Any]] = json.loads((directory / "eksport.json").read_text(encoding="utf-8"))
        self._udir: dict[str, dict[str, Any]] = {}
        for path in sorted(directory.glob("*/filterVerdier.json")):
            table = path.parent.name
            rows_path = path.parent / "rows.json"
            self._udir[table] = {
                "filters": json.loads(path.read_text(encoding="utf-8")),
                "rows": json.loads(rows_path.read_text(encoding="utf-8")) if rows_path.exists() else [],
            }

    # ---- test helpers ---------------------------------------------------------------------

    def rows(self, table: str) -> list[dict[str, Any]]:
        """A copy of every row the table serves."""
        with self._lock:
            return copy.deepcopy(self._udir[table]["rows"])

    def set_rows(self, table: str, rows: list[dict[str, Any]]) -> None:
        """Replace the table's rows (e.g. "Udir published a new school year")."""
        with self._lock:
            self._udir[table]["rows"] = copy.deepcopy(rows)

    def filter_values(self, table: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._udir[table]["filters"])

    def set_filter_values(self, table: str, values: dict[str, Any]) -> None:
        with self._lock:
            self._udir[table]["filters"] = copy.deepcopy(values)

    def inject(self, pattern: str, fault: str, *, times: int | None = 1, method: str | None = None, **params: Any) -> Fault:
        """Like ``FakePxWebApi.inject``, with Udir's fault names (``FAULTS``)."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {', '.join(sorted(FAULTS))}")
        if times is not None and times < 1:
            raise ValueError("times must be >= 1 or None")
        if pattern.startswith(self.base_path + "/"):
            pattern = pattern[len(self.base_path):]
        entry = Fault(pattern, fault, times, method.upper() if method else None, dict(params))
        with self._lock:
            self._faults.append(entry)
        return entry

    # ---- routes ---------------------------------------------------------------------------

    def _route(self, method: str, path: str, pairs: list[tuple[str, str]], body_bytes: bytes, body: Any) -> _Reply:
        params = dict(pairs)
        parts = [p for p in path.split("/") if p]
        self._only(method, "GET")
        with self._lock:
            if parts == ["Eksport"]:
                return self._json(self._eksport)
            if len(parts) == 3 and parts[0] == "Eksport":
                table = self._udir.get(parts[1])
                if table is None:
                    raise Problem(404, "Ikke funnet", f"Eksport {parts[1]} finnes ikke")
                if parts[2] == "filterVerdier":
                    return self._json(table["filters"])
                if parts[2] == "filterStatus":
                    return self._json(self._status(table, params.get("filterId"), params.get("filtre")))
                if parts[2] in ("sideData", "data"):
                    rows = self._select(table, params.get("filter"))
                    pages = math.ceil(len(rows) / self.page_size)
                    if parts[2] == "sideData":
                        return self._json([{"JSONSider": pages}])
                    if params.get("format", "0") != "0":
                        raise Problem(400, "Feil i forespørselen", "Bare format=0 (JSON) finnes i denne falske tjenesten")
                    number = min(max(1, int(params.get("sideNummer") or 1)), max(1, pages))
                    page = rows[(number - 1) * self.page_size: number * self.page_size]
                    extra = {"Sidenummer": number, "RaderSide": len(page), "RaderTotalt": len(rows)}
                    return self._json([{**row, **extra} for row in page])
        raise Problem(404, "Ikke funnet", f"Ingen tjeneste på {path}")

    def _status(self, table: dict[str, Any], name: str | None, text: str | None) -> dict[str, list[int]]:
        """filterStatus: the ids of `name` (only EnhetID here) that have rows for the filter."""
        if name != "EnhetID":
            raise Problem(400, "Feil i forespørselen", "Bare filterId=EnhetID finnes i denne falske tjenesten")
        rows = self._select(table, text)
        units = [entry for entry in table["filters"]["EnhetID"] if entry.get("nivaa") != 0]
        return {"EnhetID": [entry["id"] for entry in units if any(_id_test(name, [entry])(row) for row in rows)]}

    def _select(self, table: dict[str, Any], text: str | None) -> list[dict[str, Any]]:
        if not text:
            raise Problem(400, "Feil i forespørselen", "Filter må oppgis!")
        parts = _FILTER.findall(text)
        if "_".join(f"{name}({values})" for name, values in parts) != text or any("," in v for _, v in parts):
            raise Problem(400, "Feil i forespørselen", "Feil format på filtrene!")
        chosen = {name: [v for v in values.split("_") if v] for name, values in parts}
        if "TidID" not in chosen:
            raise Problem(400, "Feil i forespørselen", "TidID må oppgis!")
        filters: dict[str, list[dict[str, Any]]] = table["filters"]
        rows: list[dict[str, Any]] = table["rows"]
        tests = []
        for name, values in chosen.items():
            if name in filters:
                by_id = {str(entry["id"]): entry for entry in filters[name]}
                unknown = [v for v in values if v not in by_id]
                if unknown:
                    raise Problem(400, "Feil i forespørselen", f"Ukjent verdi for {name}: {', '.join(unknown)}")
                tests.append(_id_test(name, [by_id[v] for v in values]))
            elif rows and name in rows[0]:
                tests.append(lambda row, name=name, values=values: str(row.get(name)) in values)
            else:
                raise Problem(400, "Feil i forespørselen", f"Ukjent filter: {name}")
        return [row for row in rows if all(test(row) for test in tests)]

    # ---- Udir's answers -------------------------------------------------------------------

    @staticmethod
    def _json(document: Any) -> _Reply:
        return _Reply(200, json.dumps(document, ensure_ascii=False).encode("utf-8"), JSON_TYPE)

    @staticmethod
    def _problem_reply(problem: Problem, instance: str) -> _Reply:
        body = {"kode": problem.status, "feiltype": problem.title, "melding": problem.detail or problem.title,
                "tilleggsinfo": "Se dokumentasjonen: /swagger"}
        return _Reply(problem.status, json.dumps(body, ensure_ascii=False).encode("utf-8"), JSON_TYPE, dict(problem.headers))

    def _early_fault(self, fault: Fault, handler: Any) -> _Reply | str | None:
        if fault.kind == "http400":
            melding = str(fault.params.get("melding", "Feil format på filtrene!"))
            return self._problem_reply(Problem(400, "Feil i forespørselen", melding), handler.path)
        return super()._early_fault(fault, handler)

    def _late_fault(self, fault: Fault, reply: _Reply) -> _Reply:
        if reply.status != 200 or fault.kind not in ("empty", "changed_column"):
            return reply
        if fault.kind == "empty":
            return self._json([])
        document = json.loads(reply.body)
        rename: dict[str, str] = fault.params.get("rename") or {"AndelMobbet": "AndelMobbetProsent"}
        if isinstance(document, list):
            document = [{rename.get(key, key): value for key, value in row.items()} for row in document]
        elif isinstance(document, dict):  # filterVerdier: a filter renamed
            document = {rename.get(key, key): value for key, value in document.items()}
        return self._json(document)


def _id_test(name: str, entries: list[dict[str, Any]]) -> Any:
    """Whether a row belongs to one of the chosen filter values."""
    if name == "TidID":
        years = {entry["navn"] for entry in entries}
        return lambda row: row.get("Skoleaarnavn") in years
    if name == "EnhetID":
        if any(entry.get("nivaa") == 0 for entry in entries):
            return lambda row: True
        units = {(entry.get("nivaa"), str(entry["kode"])) for entry in entries}
        return lambda row: (row.get("EnhetNivaa"), str(row.get(LEVEL_COLUMNS.get(row.get("EnhetNivaa"), ""), ""))) in units
    if any(entry["id"] == -10 and entry.get("kode") == "Alle" for entry in entries):
        return lambda row: True  # "Alle spørsmålgrupper": no restriction
    column = CODE_COLUMNS.get(name, name)
    codes = {str(entry["kode"]) for entry in entries}
    return lambda row: str(row.get(column)) in codes
