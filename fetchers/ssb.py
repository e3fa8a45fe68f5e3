"""The SSB PxWebApi v2 client: /config's limits, the change listing, metadata and data."""

from __future__ import annotations

import logging
from typing import Any

from fetchers.http import (
    DEFAULT_CALLS,
    DEFAULT_CELLS,
    DEFAULT_WINDOW,
    JsonApiClient,
    Limits,
    Throttle,
)
from monitor.core.errors import FetchError, SourceUnreachable

log = logging.getLogger(__name__)

__all__ = ["Limits", "SsbClient", "Throttle"]


class SsbClient(JsonApiClient):
    """SSB's PxWebApi 2.0 endpoints."""

    label = "SSB"
    config_fallback: str | None = None  # why /config could not be used, when it could not

    # -- endpoints ----------------------------------------------------------------------------------

    def load_config(self) -> Limits:
        """GET /config and adopt its call limit, window and cell limit (SSB's defaults where absent).

        A bad answer (HTML, empty, an error status, nonsense numbers) is not a reason to stop: the run goes on with
        SSB's documented limits (30 calls per 60 s, 800 000 cells), logs the fallback and keeps it in
        `config_fallback`. Only a source that cannot be reached at all fails the run here.
        """
        self.config_fallback = None
        try:
            body = self.get_json("/config", what="konfigurasjonen (/config)")
            limits = Limits(
                calls=int(body.get("maxCallsPerTimeWindow") or DEFAULT_CALLS),
                window=float(body.get("timeWindow") or DEFAULT_WINDOW),
                max_cells=int(body.get("maxDataCells") or DEFAULT_CELLS),
            )
            if limits.calls < 1 or limits.window <= 0 or limits.max_cells < 1:
                raise ValueError(f"urimelige grenser {limits}")
        except SourceUnreachable:
            raise
        except (FetchError, ValueError, TypeError) as exc:
            self.config_fallback = f"{exc}"
            log.warning("SSB /config kunne ikke brukes (%s); bruker SSBs dokumenterte grenser %s", exc, Limits())
            limits = Limits()
        self.limits = limits
        self.throttle.adopt(self.limits)
        return self.limits

    def updated_tables(self, past_days: int) -> list[dict[str, Any]]:
        """GET /tables?pastDays=N (all pages): the tables updated in the last N days."""
        tables: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self.get_json(
                "/tables",
                params={"lang": "no", "pastDays": past_days, "includeDiscontinued": "true",
                        "pageSize": 1000, "pageNumber": page},
                what=f"tabellisten (pastDays={past_days})",
            )
            tables.extend(body.get("tables") or [])
            total_pages = int((body.get("page") or {}).get("totalPages") or 1)
            if page >= total_pages:
                return tables
            page += 1

    def metadata(self, table: str) -> bytes:
        """GET /tables/{id}/metadata: the json-stat2 metadata (value: [])."""
        return self.request("GET", f"/tables/{table}/metadata", params={"lang": "no"}, what=f"tabell {table} (metadata)").content

    def data(self, table: str, body: dict[str, Any]) -> bytes:
        """POST /tables/{id}/data in json-stat2: the raw response bytes."""
        response = self.request(
            "POST", f"/tables/{table}/data", params={"lang": "no", "outputFormat": "json-stat2"},
            json=body, what=f"tabell {table}",
        )
        return response.content

