"""FHI tables found by title: the catalogue may name a table "<sourceId>/<name>" with a `title` instead of its id.

Some FHI tables' ids are not known in advance (the successor of Kommunehelsa's old `stonad` cube was never seen in
public use), so the catalogue gives a part of the table's title and the fetch looks the id up on every run in the
source's table list (``GET {sourceId}/Table``: ``[{tableId, title, publishedAt, modifiedAt}]``, TableOpenResponse
in FHI's C# sample). The list is read once per source per run (`TableListing`) and serves every title the run
resolves as well as the tables' ``modifiedAt``.

A table matches when the catalogue's title part is a case-insensitive, whitespace-normalised part of its title (the
same comparison as the label checks, fetchers.meaning). Exactly one table must match: none, or several, is a
FetchError in one bokmål sentence naming the title, and that table (its indicator) fails alone. The id it resolved to
is logged, kept as the table's label in the run log and printed by `monitor validate --online`, so that ops can pin
it (``table: nokkel/<id>``, no `title`).
"""

from __future__ import annotations

from typing import Any

from fetchers.fhi import FhiClient
from fetchers.meaning import matches
from monitor.core.errors import FetchError


class TableListing:
    """Each source's whole table list, read at most once per run and shared by everything that needs it."""

    def __init__(self, client: FhiClient) -> None:
        self.client = client
        self._entries: dict[str, list[dict[str, Any]]] = {}

    def read(self, source_id: str) -> bool:
        """Whether this run has read the source's list already."""
        return source_id in self._entries

    def entries(self, source_id: str) -> list[dict[str, Any]]:
        """GET {sourceId}/Table (the first time only)."""
        if source_id not in self._entries:
            self._entries[source_id] = self.client.tables(source_id)
        return self._entries[source_id]

    def resolve(self, source_id: str, title: str) -> dict[str, Any]:
        """The one table of the source whose title contains `title` (see `resolve_title`)."""
        return resolve_title(self.entries(source_id), source_id, title)


def titled(entries: list[dict[str, Any]], title: str) -> list[dict[str, Any]]:
    """The listed tables whose title contains `title` (case-insensitive, whitespace normalised) and that have an id."""
    return [
        entry for entry in entries
        if isinstance(entry.get("title"), str) and entry.get("tableId") is not None and matches(title, entry["title"])
    ]


def resolve_title(entries: list[dict[str, Any]], source_id: str, title: str) -> dict[str, Any]:
    """The one listed table whose title contains `title`; a FetchError (one bokmål sentence) for none or several."""
    found = titled(entries, title)
    if len(found) == 1:
        return found[0]
    if not found:
        raise FetchError(
            f"ingen tabell i FHIs tabelliste for {source_id} har «{title}» i tittelen "
            f"({len(entries)} tabeller lest), så tabellen kan ikke hentes"
        )
    named = ", ".join(f"{entry['tableId']} «{entry['title']}»" for entry in found)
    raise FetchError(
        f"{len(found)} tabeller i FHIs tabelliste for {source_id} har «{title}» i tittelen ({named}); "
        f"fest den riktige i katalogen med table: {source_id}/<id>"
    )


def resolved_note(owner: str, table: str, source_id: str, title: str, entry: dict[str, Any]) -> str:
    """One bokmål line saying which table a title resolved to, so ops can pin it in the catalogue."""
    return (
        f"FHI {table}: {owner}: tittelen «{title}» er tabell {source_id}/{entry['tableId']} («{entry.get('title')}»); "
        f"kan festes med table: {source_id}/{entry['tableId']}"
    )
