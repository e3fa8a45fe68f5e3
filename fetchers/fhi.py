"""The FHI Statistikk Open API client (https://statistikk-data.fhi.no/api/open/v1/): sources, tables, data.

Endpoints (folkehelseinstituttet/Fhi.Statistikk.OpenAPI README, "Endpoints"; the C#, Angular and Python samples):

- ``GET Common/source``: ``[{id, title, description, aboutUrl}]``; ``id`` is the sourceId (``nokkel``: Kommunehelsa).
- ``GET {sourceId}/Table[?modifiedAfter=YYYY-MM-DD]``: ``[{tableId, title, publishedAt, modifiedAt}]``.
  "Modified" covers data, metadata and labels; ``publishedAt`` is also what a data response calls ``updated``.
- ``GET {sourceId}/Table/{tableId}``: one such object.
- ``GET …/Table/{tableId}/dimension``: ``{dimensions: [{code, label, categories: [{value, label, children}]}]}``
  (categories form a tree: GEO is land → fylke → kommune → bydel).
- ``GET …/Table/{tableId}/metadata`` (``{name, paragraphs: [{header, content}]}``), ``…/flag``
  (``[{title, text}]``, the symbols of values that cannot be shown) and ``…/query`` (a data request for everything).
- ``POST …/Table/{tableId}/data`` with ``{dimensions: [{code, filter, values}], response: {format, maxRowCount}}``.

Path segments are case-insensitive at FHI (its samples use both ``Table`` and ``table``); this client always sends
``Table``. FHI documents no rate limit, so the SSB default the throttle keeps below (30 calls per 60 s) applies.
Errors: FHI answers 400 for a bad request and 404 for data that does not exist, "with details in the status field of
the response" (README "Status codes"); the body's shape is not documented (UNVERIFIED), so the message takes the
words from an RFC 7807 body (title/detail), from a string ``status`` and from ASP.NET's ``errors`` map alike.
"""

from __future__ import annotations

from datetime import date
from typing import Any


from fetchers.http import JsonApiClient, Limits, load_json
from monitor.core.errors import FetchError

__all__ = ["FhiClient", "Limits", "data_request"]

FORMAT = "json-stat2"
MAX_ROWS = 50_000  # the value FHI's own samples send; a larger result is refused, not truncated


def data_request(dimensions: list[tuple[str, str, list[str]]], *, max_rows: int = MAX_ROWS) -> dict[str, Any]:
    """A data request body: one (code, filter, values) per dimension, in json-stat2."""
    return {
        "dimensions": [{"code": code, "filter": kind, "values": list(values)} for code, kind, values in dimensions],
        "response": {"format": FORMAT, "maxRowCount": max_rows},
    }


class FhiClient(JsonApiClient):
    """FHI Statistikk's open endpoints, throttled and retried by JsonApiClient."""

    label = "FHI"

    def sources(self) -> list[dict[str, Any]]:
        """GET Common/source: every source that publishes through the API."""
        return self._get_list("/Common/source", what="kildelisten (Common/source)")

    def tables(self, source_id: str, modified_after: date | None = None) -> list[dict[str, Any]]:
        """GET {sourceId}/Table: the source's tables, or only those modified after a date."""
        params, what = None, f"tabellisten for {source_id}"
        if modified_after is not None:
            params = {"modifiedAfter": modified_after.isoformat()}
            what += f" (modifiedAfter={modified_after.isoformat()})"
        return self._get_list(f"/{source_id}/Table", what=what, params=params)

    def table(self, source_id: str, table_id: str) -> dict[str, Any]:
        """GET {sourceId}/Table/{tableId}: title, publishedAt, modifiedAt."""
        return self.get_json(f"/{source_id}/Table/{table_id}", what=f"tabell {source_id}/{table_id} (tabellinfo)")

    def dimensions(self, source_id: str, table_id: str) -> dict[str, Any]:
        """GET …/dimension: every dimension and its category tree."""
        return self.get_json(f"/{source_id}/Table/{table_id}/dimension", what=f"tabell {source_id}/{table_id} (dimensjoner)")

    def metadata(self, source_id: str, table_id: str) -> dict[str, Any]:
        """GET …/metadata: the editor's description, one paragraph per section."""
        return self.get_json(f"/{source_id}/Table/{table_id}/metadata", what=f"tabell {source_id}/{table_id} (metadata)")

    def flags(self, source_id: str, table_id: str) -> list[dict[str, Any]]:
        """GET …/flag: the symbols used where a value cannot be shown."""
        return self._get_list(f"/{source_id}/Table/{table_id}/flag", what=f"tabell {source_id}/{table_id} (flagg)")

    def query(self, source_id: str, table_id: str) -> dict[str, Any]:
        """GET …/query: a data request selecting every category of every dimension."""
        return self.get_json(f"/{source_id}/Table/{table_id}/query", what=f"tabell {source_id}/{table_id} (spørring)")

    def data(self, source_id: str, table_id: str, body: dict[str, Any]) -> bytes:
        """POST …/data: the raw json-stat2 response bytes."""
        response = self.request(
            "POST", f"/{source_id}/Table/{table_id}/data", json=body, what=f"tabell {source_id}/{table_id}",
        )
        return response.content

    # -- helpers ------------------------------------------------------------------------------------

    def _get_list(self, path: str, *, what: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """GET a JSON array of objects (FHI's lists are bare arrays); anything else is a FetchError."""
        body = load_json(self.request("GET", path, params=params, what=what).content, what)
        if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
            raise FetchError(f"{what}: svaret er ikke en JSON-liste av objekter")
        return body

    def _error_detail(self, body: dict[str, Any]) -> str:
        return _fhi_detail(body)


def _fhi_detail(body: dict[str, Any]) -> str:
    """FHI's words beyond title/detail: a string `status`, or ASP.NET's `errors` map (field → messages)."""
    parts: list[str] = []
    if isinstance(body.get("status"), str) and body["status"].strip():
        parts.append(body["status"].strip())
    errors = body.get("errors")
    if isinstance(errors, dict):
        for field, messages in errors.items():
            listed = messages if isinstance(messages, list) else [messages]
            parts.append(f"{field}: {'; '.join(map(str, listed))}")
    return " – ".join(parts)[:300]
