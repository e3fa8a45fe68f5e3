"""A local fake of barnehagefakta.no's API (``https://www.barnehagefakta.no/api``): the kommune answer only.

Real HTTP on ``127.0.0.1`` and an ephemeral port, built on ``support.fake_pxwebapi.FakePxWebApi`` (its server, call
limit, request log and fault machinery: reset, delay, http500/502/503, http429, truncate, html); only the route and
the answers are barnehagefakta.no's::

    with FakeBarnehagefakta() as server:
        httpx.get(f"{server.base_url}/Kommune/3203")
        server.set_kommune("3203", {...})          # "Udir published a new year"
        server.inject("/Kommune/*", "http503", times=1)

``GET /Kommune/{knr}`` answers the JSON of ``<fixtures>/kommune-{knr}.json`` (one object: ``navn``, ``kommune``,
``indikatorDataKommune``, ``indikatorDataNasjonalt``, ``urlTilSoknadOmBarnehageplass``; the shape public code reads,
values constructed: tests/fixtures/PROVENANCE.md «barnehagefakta/»); an unknown number is 404. Importable as
``support.fake_barnehagefakta`` inside pytest (``tests/`` is on sys.path there).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from .fake_pxwebapi import FakePxWebApi, Problem, _Reply

DEFAULT_FIXTURES = Path(__file__).parent.parent / "fixtures" / "barnehagefakta"
BASE_PATH = "/api"
JSON_TYPE = "application/json; charset=utf-8"


class FakeBarnehagefakta(FakePxWebApi):
    """The fake kommune API; every ``kommune-{knr}.json`` in the fixture folder is served."""

    def __init__(self, fixtures_dir: str | Path = DEFAULT_FIXTURES, *, calls: int = 60, window: float = 60,
                 **kwargs: Any) -> None:
        super().__init__(fixtures_dir, calls=calls, window=window, base_path=BASE_PATH, **kwargs)
        self._kommuner: dict[str, dict[str, Any]] = {
            path.stem.removeprefix("kommune-"): json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(Path(fixtures_dir).glob("kommune-*.json"))
        }

    def kommune(self, code: str) -> dict[str, Any]:
        """A copy of the answer for a kommune number."""
        with self._lock:
            return copy.deepcopy(self._kommuner[code])

    def set_kommune(self, code: str, document: dict[str, Any]) -> None:
        """Replace the answer for a kommune number."""
        with self._lock:
            self._kommuner[code] = copy.deepcopy(document)

    def _route(self, method: str, path: str, pairs: list[tuple[str, str]], body_bytes: bytes, body: Any) -> _Reply:
        parts = [p for p in path.split("/") if p]
        self._only(method, "GET")
        with self._lock:
            if len(parts) == 2 and parts[0].lower() == "kommune":
                document = self._kommuner.get(parts[1])
                if document is None:
                    raise Problem(404, "Not Found", f"Fant ikke kommune {parts[1]}")
                return _Reply(200, json.dumps(document, ensure_ascii=False).encode("utf-8"), JSON_TYPE)
        raise Problem(404, "Not Found", f"Ingen tjeneste på {path}")
