"""A local fake of Miljødirektoratet's download address for the emissions workbook.

Real HTTP on ``127.0.0.1`` and an ephemeral port, built on ``support.fake_pxwebapi.FakePxWebApi`` (its server, call
limit, request log and fault machinery: reset, delay, http500/502/503, http429, truncate, html); only the route and
the answer are Miljødirektoratet's. ``base_url`` is the whole download address, as MONITOR_MILJODIR_URL holds it:
``/sharepoint/downloaditem/?id=01FM3LD2WOT7QL4D6Y5FC3JYADXGI6A3FA`` (open-sources.md §1.11). It serves the workbook
set with ``serve`` (bytes, Content-Type); ``html_error_page()`` makes it answer like the old globalassets address does
today: 200 OK with Miljødirektoratet's HTML error page («Side for feilmelding på Miljødirektoratet.no»; the page's
body is constructed, only its title was seen). Any other path is 404::

    with FakeMiljodir(workbook_bytes) as server:
        httpx.get(server.base_url)
        server.html_error_page()
        server.inject("/", "http503", times=1)

Importable as ``support.fake_miljodir`` inside pytest (``tests/`` is on sys.path there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .fake_pxwebapi import FakePxWebApi, Problem, _Reply

DEFAULT_FIXTURES = Path(__file__).parent.parent / "fixtures" / "miljodir"
BASE_PATH = "/sharepoint/downloaditem"
ITEM = "01FM3LD2WOT7QL4D6Y5FC3JYADXGI6A3FA"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ERROR_PAGE = (
    "<!DOCTYPE html>\n<html lang=\"nb\"><head><title>Side for feilmelding på Miljødirektoratet.no</title></head>"
    "<body><h1>Beklager, noe gikk galt</h1><p>Siden du leter etter finnes ikke.</p></body></html>\n"
).encode("utf-8")


class FakeMiljodir(FakePxWebApi):
    """The fake download address: one answer (status, Content-Type, body) for `?id=<ITEM>`, 404 otherwise."""

    def __init__(self, body: bytes | None = None, *, calls: int = 60, window: float = 60, **kwargs: Any) -> None:
        super().__init__(DEFAULT_FIXTURES, calls=calls, window=window, base_path=BASE_PATH, **kwargs)
        self.serve(body if body is not None else (DEFAULT_FIXTURES / "utslippsstatistikk_alle_kommuner.xlsx").read_bytes())

    @property
    def base_url(self) -> str:
        """The download address, as MONITOR_MILJODIR_URL would hold it."""
        return f"{self.url}{BASE_PATH}/?id={ITEM}"

    def serve(self, body: bytes, *, content_type: str = XLSX_TYPE, status: int = 200) -> None:
        """Answer every later request with this."""
        with self._lock:
            self.answer = _Reply(status, body, content_type)

    def html_error_page(self) -> None:
        """Answer as the moved address does: 200 OK, text/html, Miljødirektoratet's error page."""
        self.serve(ERROR_PAGE, content_type="text/html; charset=utf-8")

    def _route(self, method: str, path: str, pairs: list[tuple[str, str]], body_bytes: bytes, body: Any) -> _Reply:
        self._only(method, "GET")
        if path == "/" and dict(pairs).get("id") == ITEM:
            with self._lock:
                return self.answer
        raise Problem(404, "Not Found", f"Ingen fil på {path}")
