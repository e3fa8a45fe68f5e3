"""SSB as a pipeline source: one PxWebApi v2 POST per table, split by time when SSB finds it too large."""

from __future__ import annotations

import json
from typing import Any

from fetchers.jsonstat import Dataset, parse_dataset
from fetchers.ssb import SsbClient, TooManyCells
from fetchers.ssb_extract import extract
from fetchers.ssb_query import Selection, build_selections, selection_body, split_selection
from monitor.core.fetchspec import CatalogueView, Municipality
from monitor.core.errors import FetchError
from monitor.core.model import Series, TableMeta


class SsbSource:
    """The SourceAdapter for SSB."""

    source = "ssb"
    label = "SSB"

    def __init__(self, client: SsbClient, catalogue: CatalogueView) -> None:
        self.client = client
        self.catalogue = catalogue
        self.selections = build_selections(catalogue)

    @property
    def requests(self) -> int:
        """HTTP requests made so far."""
        return self.client.requests

    def start(self) -> None:
        """GET /config: the limits the throttle keeps below."""
        self.client.load_config()

    def changed_since(self, days: int, tables: list[str]) -> list[TableMeta] | None:
        """One GET /tables?pastDays=N for every table SSB updated lately."""
        wanted = set(tables)
        return [
            TableMeta(
                self.source, entry["id"], label=entry.get("label"), updated=entry.get("updated"),
                first_period=entry.get("firstPeriod"), last_period=entry.get("lastPeriod"),
                discontinued=bool(entry.get("discontinued")),
            )
            for entry in self.client.updated_tables(days)
            if entry.get("id") in wanted
        ]

    def fetch(self, table: str) -> list[bytes]:
        """The table's data, in one POST or, if SSB finds it too large, in parts split by time."""
        return self._fetch(self.selections[table])

    def _fetch(self, selection: Selection, *, split: bool = False) -> list[bytes]:
        """`split`: the selection already names its time codes (a half of an earlier split), so a part
        SSB still refuses when it holds a single period fails instead of starting over from the metadata."""
        try:
            return [self.client.data(selection.table, selection_body(selection))]
        except TooManyCells:
            halves = split_selection(selection)
            if halves is None and not split:
                # The first query names time by an expression such as from(2019); the metadata has the codes.
                try:
                    metadata = json.loads(self.client.metadata(selection.table))
                except ValueError as exc:
                    raise FetchError(f"tabell {selection.table}: metadata er ikke gyldig JSON ({exc})") from exc
                explicit = build_selections(self.catalogue, {selection.table: metadata})[selection.table]
                halves = split_selection(explicit)
            if halves is None:
                raise
            return [body for half in halves for body in self._fetch(half, split=True)]

    def parse(self, body: bytes) -> Dataset:
        """JSON-stat2 to a dataset."""
        return parse_dataset(body)

    def extract(self, dataset: Dataset, series: Any, municipality: Municipality) -> Series:
        """The series' points from an SSB dataset."""
        return extract(dataset, series.table, series, municipality)

    def table_meta(self, table: str, dataset: Dataset, listed: TableMeta | None) -> TableMeta:
        """updated, periods, next update and discontinued, from the response and the listing."""
        extension = dataset.extension
        px = extension.get("px") if isinstance(extension.get("px"), dict) else {}
        return TableMeta(
            self.source, table,
            label=dataset.label or (listed.label if listed else None),
            updated=dataset.updated or (listed.updated if listed else None),
            first_period=extension.get("firstPeriod") or (listed.first_period if listed else None),
            last_period=extension.get("lastPeriod") or (listed.last_period if listed else None),
            next_update=(px or {}).get("nextUpdate"),
            discontinued=bool(extension.get("discontinued")) or bool(listed and listed.discontinued),
        )
