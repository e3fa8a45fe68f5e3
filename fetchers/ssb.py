"""The SSB PxWebApi v2 client: /config's limits, the change listing, metadata and data."""

from __future__ import annotations

from typing import Any

from fetchers.http import (
    DEFAULT_CALLS,
    DEFAULT_CELLS,
    DEFAULT_WINDOW,
    JsonApiClient,
    Limits,
    Throttle,
)

__all__ = ["Limits", "SsbClient", "Throttle"]


class SsbClient(JsonApiClient):
    """SSB's PxWebApi 2.0 endpoints."""

    # -- endpoints ----------------------------------------------------------------------------------

    def load_config(self) -> Limits:
        """GET /config and adopt its call limit, window and cell limit (SSB's defaults where absent)."""
        body = self.get_json("/config", what="konfigurasjonen (/config)")
        self.limits = Limits(
            calls=int(body.get("maxCallsPerTimeWindow") or DEFAULT_CALLS),
            window=float(body.get("timeWindow") or DEFAULT_WINDOW),
            max_cells=int(body.get("maxDataCells") or DEFAULT_CELLS),
        )
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

